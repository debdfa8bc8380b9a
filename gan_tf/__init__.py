"""gan_tf: a GAN on handwritten digits, written to be read, with an encoder and tests.

Read the story in this order; each module is short and builds on the ones before it:

  data      MNIST as a tf.data pipeline of images in [-1, 1], with the noise of each batch
  models    the generator, the discriminator and the encoder: three keras.Sequential models
  losses    what each network minimises, as pure functions of logits
  step      one train step: the discriminator, then the generator, then the encoder
  train     the training loop: epochs, progress frames, logs, checkpoints
  generate  using a trained run: sample, reconstruct, interpolate
  evaluate  the judge classifier, and (metrics) the figures it gives

config holds every hyperparameter with its reason, images draws grids and GIFs, and __main__ is the
command line. runtime/ is the machinery behind the story (resuming, saving, speed, several devices),
and tools/ holds the benchmark against TensorFlow's DCGAN tutorial.
"""

__version__ = "0.2.0"

"""gan_tf: a GAN that learns to draw, MNIST's handwritten digits first, written to be read, with an encoder and tests.

Read the story in this order; each module is short and builds on the ones before it:

  data      pictures (MNIST, a tensorflow-datasets set, a folder) as a tf.data pipeline in [-1, 1], with noise
  models    the generator, the discriminator and the encoder: three keras.Sequential models
  losses    what each network minimises, as pure functions of logits
  step      one train step: the discriminator, then the generator, then the encoder
  train     the training loop: epochs, progress frames, logs, checkpoints
  generate  using a trained run: sample, reconstruct, interpolate
  evaluate  the judge classifier, and (metrics) the figures it gives

config holds every setting of a run with its reason, mnist what is special to MNIST's digits, images
draws grids and GIFs, commands holds one function per command and __main__ is the command line over
them. runtime/ is the machinery behind the story, the same for every kind of run (settings, resuming,
saving, speed, several devices), and tools/ holds the benchmark and the GAN lab's comparison.
"""

__version__ = "0.3.0"

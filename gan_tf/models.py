"""The three networks, each a keras.Sequential, with an assert documenting every block's shape.

Conventions kept everywhere in gan_tf: images are float32 (28, 28, 1), channels last, in [-1, 1];
latent vectors are standard normal of shape (latent_dim,); labels are the digits 0..9, int32; the
discriminator returns one logit per image (real = 1, fake = 0), never a probability.

A conditional run (config.conditional "on", the default) tells the generator which digit to draw
and shows the discriminator which digit an image claims to be, as in Mirza & Osindero (2014) and
keras-io's "Conditional GAN" example. Each network stays a Sequential with one input: the label is
appended to that input, by generator_inputs() and discriminator_inputs(). The encoder then reads
both halves back from an image: the latent vector and the digit (encoder_outputs()).
"""

import keras
import tensorflow as tf

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def conditional(config):
    return config.conditional == "on"


def generator_inputs(config, latent_vectors, labels):
    """What the generator reads: z, and in a conditional run z with the one-hot digit appended.

    Args:
      latent_vectors: float32 (B, latent_dim); labels: int (B,), the digits to draw.
    Returns:
      float32 (B, latent_dim + 10) in a conditional run, else latent_vectors itself.
    """
    if not conditional(config):
        return latent_vectors
    return tf.concat([latent_vectors, tf.one_hot(labels, NUM_CLASSES, dtype=latent_vectors.dtype)], axis=-1)


def discriminator_inputs(config, images, labels):
    """What the discriminator reads: the images, and in a conditional run ten more channels that are
    the one-hot digit at every pixel, so its first convolution can match strokes to the claimed digit.

    Args:
      images: float (B, 28, 28, 1); labels: int (B,).
    Returns:
      float (B, 28, 28, 11) in a conditional run, else images itself.
    """
    if not conditional(config):
        return images
    one_hot = tf.one_hot(labels, NUM_CLASSES, dtype=images.dtype)[:, tf.newaxis, tf.newaxis, :]  # (B, 1, 1, 10)
    return tf.concat([images, tf.ones_like(images) * one_hot], axis=-1)  # Broadcast over the 28x28 pixels.


def encoder_outputs(config, codes):
    """Splits the encoder's output into (latent vectors (B, latent_dim), digit logits (B, 10) or None)."""
    if not conditional(config):
        return codes, None
    return codes[:, :config.latent_dim], codes[:, config.latent_dim:]


def build_generator(config):
    """generator_inputs() (None, latent_dim [+ 10]) -> image (None, 28, 28, 1) in [-1, 1].

    DCGAN's recipe: a Dense layer makes a small 7x7 feature map, and each strided Conv2DTranspose
    doubles its size (7 -> 14 -> 28) while halving the channels. BatchNormalization keeps the
    activations well scaled; tanh maps the output into the images' range. The last layer computes in
    float32 even under mixed precision, so the digits and the losses keep full precision.
    """
    filters, kernel = config.generator_filters, config.kernel_size
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(config.latent_dim + (NUM_CLASSES if conditional(config) else 0),)))

    # Project the noise to a 7x7 map. No bias: BatchNormalization's offset does its job.
    model.add(keras.layers.Dense(7 * 7 * config.projection_filters, use_bias=False))
    add_normalized_activation(model, config)
    model.add(keras.layers.Reshape((7, 7, config.projection_filters)))

    if config.refine_7x7 == "on":  # TensorFlow's tutorial refines the 7x7 map before upsampling it.
        model.add(keras.layers.Conv2DTranspose(2 * filters, kernel, strides=1, padding="same", use_bias=False))
        add_normalized_activation(model, config)
        assert model.output_shape == (None, 7, 7, 2 * filters)

    # 7x7 -> 14x14.
    model.add(keras.layers.Conv2DTranspose(filters, kernel, strides=2, padding="same", use_bias=False))
    add_normalized_activation(model, config)
    assert model.output_shape == (None, 14, 14, filters)

    # 14x14 -> 28x28, one channel, squashed into [-1, 1].
    model.add(keras.layers.Conv2DTranspose(1, kernel, strides=2, padding="same", use_bias=False))
    model.add(keras.layers.Activation("tanh", dtype="float32"))
    assert model.output_shape == (None,) + IMAGE_SHAPE
    return model


def add_normalized_activation(model, config):
    """Appends BatchNormalization and LeakyReLU, the generator's pair after each layer but the last."""
    add_batchnorm(model, config)
    model.add(keras.layers.LeakyReLU(negative_slope=config.leaky_slope))


def add_batchnorm(model, config):
    """Appends BatchNormalization; built under a strategy of several replicas, it is synchronized.

    synchronized=True makes it use the statistics of the global batch when a tf.distribute strategy
    splits the batch over several devices. It is left off on one device, where it would only cost
    time: it replaces TensorFlow's fused batch-normalization kernel with separate operations.
    """
    synchronized = tf.distribute.get_strategy().num_replicas_in_sync > 1
    model.add(keras.layers.BatchNormalization(momentum=config.batchnorm_momentum, synchronized=synchronized))


def build_discriminator(config):
    """discriminator_inputs() (None, 28, 28, 1 [+ 10]) -> one logit (None, 1): > 0 means "looks real".

    Two strided convolutions halve the image twice, then one Dense layer scores it. As in DCGAN, the
    second convolution is batch-normalised (config.discriminator_batchnorm): real and fake images go
    through D in separate calls, so each batch is normalised with its own statistics. D is only ever
    used in training mode, so its moving statistics are never used.
    """
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input(shape=IMAGE_SHAPE[:2] + (1 + (NUM_CLASSES if conditional(config) else 0),)))
    add_downsampling_blocks(model, config.discriminator_filters, config, dropout=config.discriminator_dropout,
                            batchnorm=config.discriminator_batchnorm == "on")
    # A logit, in float32: the losses apply the sigmoid themselves, stably.
    model.add(keras.layers.Dense(1, dtype="float32"))
    assert model.output_shape == (None, 1)
    return model


def build_encoder(config):
    """Image (None, 28, 28, 1) in [-1, 1] -> latent vector (None, latent_dim) [+ digit logits (None, 10)].

    The generator's mirror image: it learns to find the z (and in a conditional run, the digit) that
    G would turn into a given image, which is what makes reconstruction and interpolation between
    real digits possible. encoder_outputs() splits the two.
    """
    model = keras.Sequential(name="encoder")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    add_downsampling_blocks(model, config.encoder_filters, config)
    # Linear, in float32: latent vectors are unbounded normals, and the digit's logits feed a softmax.
    size = config.latent_dim + (NUM_CLASSES if conditional(config) else 0)
    model.add(keras.layers.Dense(size, dtype="float32"))
    assert model.output_shape == (None, size)
    return model


def add_downsampling_blocks(model, filters, config, dropout=0.0, batchnorm=False):
    """Appends 28x28 -> 14x14 -> 7x7 strided convolutions and a Flatten to `model`.

    The discriminator and the encoder both read an image this way; only their last layer differs.
    With `batchnorm`, the second convolution is normalised as in DCGAN (never the first, which sees pixels).
    """
    for size, channels in [(14, filters), (7, 2 * filters)]:
        normalized = batchnorm and size == 7
        model.add(keras.layers.Conv2D(channels, config.kernel_size, strides=2, padding="same", use_bias=not normalized))
        if normalized:
            add_batchnorm(model, config)
        model.add(keras.layers.LeakyReLU(negative_slope=config.leaky_slope))
        if dropout:
            model.add(keras.layers.Dropout(dropout))
        assert model.output_shape == (None, size, size, channels)

    model.add(keras.layers.Flatten())
    assert model.output_shape == (None, 7 * 7 * 2 * filters)

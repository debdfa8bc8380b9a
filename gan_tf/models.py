"""The three networks, each a keras.Sequential, with an assert documenting every block's shape.

Conventions kept everywhere in gan_tf: images are float32 (28, 28, 1), channels last, in [-1, 1];
latent vectors are standard normal of shape (latent_dim,); the discriminator returns one logit
per image (real = 1, fake = 0), never a probability.
"""

import keras
import tensorflow as tf

IMAGE_SHAPE = (28, 28, 1)


def build_generator(config):
    """Latent vector (None, latent_dim) -> image (None, 28, 28, 1) in [-1, 1].

    DCGAN's recipe: a Dense layer makes a small 7x7 feature map, and each strided Conv2DTranspose
    doubles its size (7 -> 14 -> 28) while halving the channels. BatchNormalization keeps the
    activations well scaled; tanh maps the output into the images' range. The last layer computes in
    float32 even under mixed precision, so the digits and the losses keep full precision.
    """
    filters, kernel = config.generator_filters, config.kernel_size
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(config.latent_dim,)))

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
    """Image (None, 28, 28, 1) in [-1, 1] -> one logit (None, 1): > 0 means "looks real".

    Two strided convolutions halve the image twice, then one Dense layer scores it. As in DCGAN, the
    second convolution is batch-normalised (config.discriminator_batchnorm): real and fake images go
    through D in separate calls, so each batch is normalised with its own statistics. D is only ever
    used in training mode, so its moving statistics are never used.
    """
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    add_downsampling_blocks(model, config.discriminator_filters, config, dropout=config.discriminator_dropout,
                            batchnorm=config.discriminator_batchnorm == "on")
    # A logit, in float32: the losses apply the sigmoid themselves, stably.
    model.add(keras.layers.Dense(1, dtype="float32"))
    assert model.output_shape == (None, 1)
    return model


def build_encoder(config):
    """Image (None, 28, 28, 1) in [-1, 1] -> latent vector (None, latent_dim).

    The generator's mirror image: it learns to find the z that G would turn into a given image,
    which is what makes reconstruction and interpolation between real digits possible.
    """
    model = keras.Sequential(name="encoder")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    add_downsampling_blocks(model, config.encoder_filters, config)
    # Linear, in float32: latent vectors are unbounded normals.
    model.add(keras.layers.Dense(config.latent_dim, dtype="float32"))
    assert model.output_shape == (None, config.latent_dim)
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

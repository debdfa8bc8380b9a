"""The three networks, each a keras.Sequential, with an assert documenting every block's shape.

Conventions kept everywhere in gan_tf: images are float32 (28, 28, 1), channels last, in [-1, 1];
latent vectors are standard normal of shape (latent_dim,); the discriminator returns one logit
per image (real = 1, fake = 0), never a probability.
"""

import keras

IMAGE_SHAPE = (28, 28, 1)


def build_generator(config):
    """Latent vector (None, latent_dim) -> image (None, 28, 28, 1) in [-1, 1].

    DCGAN's recipe: a Dense layer makes a small 7x7 feature map, and each strided Conv2DTranspose
    doubles its size (7 -> 14 -> 28) while halving the channels. BatchNormalization keeps the
    activations well scaled; tanh maps the output into the images' range.
    """
    filters = config.generator_filters
    momentum = config.batchnorm_momentum
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(config.latent_dim,)))

    # Project the noise to a 7x7 map. No bias: BatchNormalization's offset does its job.
    model.add(keras.layers.Dense(7 * 7 * 2 * filters, use_bias=False))
    model.add(keras.layers.BatchNormalization(momentum=momentum))
    model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    model.add(keras.layers.Reshape((7, 7, 2 * filters)))
    assert model.output_shape == (None, 7, 7, 2 * filters)

    # 7x7 -> 14x14. A 4x4 kernel with stride 2 covers every output pixel equally (no checkerboard).
    model.add(keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization(momentum=momentum))
    model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    assert model.output_shape == (None, 14, 14, filters)

    # 14x14 -> 28x28, one channel, squashed into [-1, 1].
    model.add(keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"))
    assert model.output_shape == (None,) + IMAGE_SHAPE
    return model


def build_discriminator(config):
    """Image (None, 28, 28, 1) in [-1, 1] -> one logit (None, 1): > 0 means "looks real".

    Two strided convolutions halve the image twice, then one Dense layer scores it. There is no
    BatchNormalization here: it would mix the statistics of real and fake batches and behave
    differently in training and inference.
    """
    filters = config.discriminator_filters
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    add_downsampling_blocks(model, filters)
    model.add(keras.layers.Dense(1))  # A logit: the losses apply the sigmoid themselves, stably.
    assert model.output_shape == (None, 1)
    return model


def build_encoder(config):
    """Image (None, 28, 28, 1) in [-1, 1] -> latent vector (None, latent_dim).

    The generator's mirror image: it learns to find the z that G would turn into a given image,
    which is what makes reconstruction and interpolation between real digits possible.
    """
    filters = config.encoder_filters
    model = keras.Sequential(name="encoder")
    model.add(keras.Input(shape=IMAGE_SHAPE))
    add_downsampling_blocks(model, filters)
    model.add(keras.layers.Dense(config.latent_dim))  # Linear: latent vectors are unbounded normals.
    assert model.output_shape == (None, config.latent_dim)
    return model


def add_downsampling_blocks(model, filters):
    """Appends 28x28 -> 14x14 -> 7x7 strided convolutions and a Flatten to `model`.

    The discriminator and the encoder both read an image this way; only their last layer differs.
    """
    model.add(keras.layers.Conv2D(filters, 4, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    assert model.output_shape == (None, 14, 14, filters)

    model.add(keras.layers.Conv2D(2 * filters, 4, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    assert model.output_shape == (None, 7, 7, 2 * filters)

    model.add(keras.layers.Flatten())
    assert model.output_shape == (None, 7 * 7 * 2 * filters)

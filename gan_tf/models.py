"""The three networks, each a keras.Sequential, with an assert documenting every block's shape.

Conventions kept everywhere in gan_tf: images are float32 (H, W, C), channels last, in [-1, 1] -- MNIST's
digits are (28, 28, 1), and image_shape(config) says what a run's are; latent vectors are standard normal
of shape (latent_dim,); labels are the classes 0..L-1 (the digits 0..9), int32; the discriminator returns
one logit per image (real = 1, fake = 0), never a probability.

The networks grow with the pictures: the generator starts from a small map (7x7 for 28-pixel digits,
4x4 for 32 and 64 pixels) and doubles it once per block until it is the image; the discriminator and
the encoder halve the image as many times (doublings()).

A conditional run (config.conditional "on", the default) tells the generator which class to draw
(which digit, on MNIST) and shows the discriminator which class an image claims to be, as in Mirza &
Osindero (2014) and keras-io's "Conditional GAN" example. Each network stays a Sequential with one
input: the label is appended to that input, by generator_inputs() and discriminator_inputs(). The
encoder then reads both halves back from an image: the latent vector and the class (encoder_outputs()).
With --class-conditioning projection (colour pictures' default), the label goes on from that input to
every block of G and to D's verdict (class_conditioning.py), so that it shapes the picture.

An unconditional run (--conditional off) learns from the images alone. With --clusters K it still
trains like a conditional one, on labels it finds itself: the K clusters of the training images
(clusters.py), which G is told to draw from and D to check, as in the self-conditioned GANs of
Liu et al. (2020). num_labels() is how many labels a run's networks read: the classes, K clusters, or none.

Two architectures (--architecture): "dcgan", convolutions as in Radford et al. (2016), and "mlp",
the fully connected GAN of Goodfellow et al. (2014) in its common MNIST form. The encoder is the
same convolutional network in both.
"""

import keras
import numpy as np
import tensorflow as tf

from gan_tf import class_conditioning

SMALLEST_START = 7  # The generator's first map is at most this big (7x7 for digits, 4x4 for 32 and 64 pixels).


def class_projection(config):
    """Whether the label reaches every layer of G and D's verdict (--class-conditioning projection, in
    class_conditioning.py), rather than their inputs alone."""
    return config.reads_class_projection() and num_labels(config) > 0


def conditional(config):
    """Whether the run's labels are the pictures' classes, so that it can be asked for one."""
    return config.conditional == "on"


def num_labels(config):
    """How many labels the networks read: the classes (10 for digits) when conditional, the --clusters K, or 0."""
    return len(config.class_names) if conditional(config) else config.clusters


def image_shape(config):
    """The run's images: (size, size, channels), (28, 28, 1) for MNIST."""
    return (config.image_size, config.image_size, config.channels)


def doublings(config):
    """How many times G doubles its first map to reach the image (and D and E halve the image):
    config.doublings, or when 0, until the first map is SMALLEST_START or smaller: 2 for 28 pixels
    (7x7), 3 for 32 (4x4), 4 for 64 (4x4)."""
    if config.doublings:
        return config.doublings
    count = 1
    while config.image_size % 2 ** (count + 1) == 0 and config.image_size // 2**count > SMALLEST_START:
        count += 1
    return count


def start_size(config):
    """The side of the generator's first map: 7 for MNIST."""
    return config.image_size // 2 ** doublings(config)


def generator_inputs(config, latent_vectors, labels):
    """What the generator reads: z, with the one-hot label appended when the run has labels.

    Args:
      latent_vectors: float32 (B, latent_dim); labels: int (B,), the classes (or clusters) to draw.
    Returns:
      float32 (B, latent_dim + num_labels(config)).
    """
    if not num_labels(config):
        return latent_vectors
    return tf.concat([latent_vectors, tf.one_hot(labels, num_labels(config), dtype=latent_vectors.dtype)], axis=-1)


def discriminator_inputs(config, images, labels):
    """What the discriminator reads: the images, and with labels, the label beside them (label_code()).

    The convolutional D gets the code as more channels, the same at every pixel, so its first
    convolution can match strokes to the claimed label; the MLP gets the flattened image with the
    code appended.

    Args:
      images: float (B, H, W, C); labels: int (B,).
    Returns:
      dcgan: float (B, H, W, C + L); mlp: float (B, H * W * C + L), where L = label_code_size(config).
    """
    flat = config.architecture == "mlp"
    if flat:
        images = tf.reshape(images, (-1, int(np.prod(image_shape(config)))))
    if not num_labels(config):
        return images
    code = label_code(config, labels, images.dtype)
    if flat:
        return tf.concat([images, code], axis=-1)
    code = code[:, tf.newaxis, tf.newaxis, :]  # (B, 1, 1, C)
    return tf.concat([images, tf.ones_like(images[..., :1]) * code], axis=-1)  # Broadcast over the pixels.


# Beyond this many labels, D reads a code of this many channels instead of a one-hot.
LABEL_CODE_SIZE = 16


def label_code_size(config):
    """How many numbers D reads for a label: one-hot up to LABEL_CODE_SIZE labels, else a code of that many."""
    return min(num_labels(config), LABEL_CODE_SIZE)


def label_code(config, labels, dtype):
    """The label as the discriminator reads it: float (B, label_code_size(config)).

    Up to LABEL_CODE_SIZE classes (the ten digits) are one-hot. The --clusters K of an unconditional run (100 by default) would make a
    one-hot of 100 channels at each pixel, and D's first convolution costs in proportion to
    its channels (a D step with 100 takes nearly twice as long as one with ten), so each cluster gets a
    code of LABEL_CODE_SIZE signs instead, +1 or -1: the bits of a number of its own, drawn without
    replacement, so no two clusters share a code. D's layers learn to tell the codes apart as they
    would the one-hot labels.
    """
    count = num_labels(config)
    if count <= LABEL_CODE_SIZE:
        return tf.one_hot(labels, count, dtype=dtype)
    numbers = np.random.default_rng(count).choice(2**LABEL_CODE_SIZE, size=count, replace=False)
    codes = 2.0 * ((numbers[:, np.newaxis] >> np.arange(LABEL_CODE_SIZE)) & 1) - 1.0  # (count, LABEL_CODE_SIZE)
    return tf.gather(tf.constant(codes, dtype), labels)


def encoder_outputs(config, codes):
    """Splits the encoder's output into (latent vectors (B, latent_dim), label logits (B, L) or None)."""
    if not num_labels(config):
        return codes, None
    return codes[:, : config.latent_dim], codes[:, config.latent_dim :]


def discriminate(discriminator, inputs, training=True):
    """D's logits and the features of its last hidden layer, from discriminator_inputs().

    The same computation as discriminator(inputs), layer by layer, so that feature matching can see
    the layer before the last (the "intermediate features" of Salimans et al. 2016).
    Returns:
      (logits float32 (B, 1), features (B, F)).
    """
    features = inputs
    for layer in discriminator.layers[:-1]:
        features = layer(features, training=training)
    logits = discriminator.layers[-1](features)
    if isinstance(discriminator.layers[-1], class_conditioning.ClassProjection):  # The label carried beside them.
        features, _ = class_conditioning.split(features, discriminator.layers[-1].label_size)
    return logits, features


def class_logits(config, discriminator, features):
    """Which label D reads in a picture, from its features (discriminate()): float32 (B, L), L = num_labels(config).

    The projection discriminator's class term, logit = embed(y) . phi(x), asked of every label y at once, so that
    D's own embedding of the labels doubles as a classifier (--class-loss)."""
    codes = label_code(config, tf.range(num_labels(config)), features.dtype)  # (L, code size)
    return tf.cast(discriminator.layers[-1].class_logits(features, codes), tf.float32)


def build_generator(config):
    """generator_inputs() (None, latent_dim [+ L]) -> image (None, H, W, C) in [-1, 1].

    DCGAN's recipe: a Dense layer makes a small map (7x7 for digits), and each strided Conv2DTranspose
    doubles its size (7 -> 14 -> 28) while halving the channels, to `generator_filters` before the last.
    BatchNormalization keeps the activations well scaled; tanh maps the output into the images' range.
    The last layer computes in float32 even under mixed precision, so the images and the losses keep
    full precision.
    """
    if config.architecture == "mlp":
        return build_mlp_generator(config)
    filters, kernel, blocks = config.generator_filters, config.kernel_size, doublings(config)
    size = start_size(config)
    carried = num_labels(config) if class_projection(config) else 0  # The label passed along beside each map.
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(config.latent_dim + num_labels(config),)))

    # Project the noise to the first map. No bias: BatchNormalization's offset does its job.
    first_map = keras.layers.Dense(size * size * config.projection_filters, use_bias=False)
    first_map_shape = keras.layers.Reshape((size, size, config.projection_filters))
    add_block(model, [first_map, *normalized_activation(config, carried), first_map_shape], carried)

    if config.refine_first_map == "on":  # TensorFlow's tutorial refines its first map before upsampling it.
        channels = filters * 2 ** (blocks - 1)
        refine = keras.layers.Conv2DTranspose(channels, kernel, strides=1, padding="same", use_bias=False)
        add_block(model, [refine, *normalized_activation(config, carried)], carried)
        assert model.output_shape == (None, size, size, channels + carried)

    # Each block doubles the map and halves the channels: for digits, 7x7 -> 14x14 with `filters` channels.
    for block in range(blocks - 1):
        size, channels = 2 * size, filters * 2 ** (blocks - 2 - block)
        upsample = keras.layers.Conv2DTranspose(channels, kernel, strides=2, padding="same", use_bias=False)
        add_block(model, [upsample, *normalized_activation(config, carried)], carried)
        assert model.output_shape == (None, size, size, channels + carried)

    # The last doubling makes the image (14x14 -> 28x28, one channel for digits), squashed into [-1, 1].
    last = keras.layers.Conv2DTranspose(config.channels, kernel, strides=2, padding="same", use_bias=False)
    add_block(model, [last], carried, keep_label=False)
    model.add(keras.layers.Activation("tanh", dtype="float32"))
    assert model.output_shape == (None,) + image_shape(config)
    return model


def build_mlp_generator(config):
    """generator_inputs() (None, latent_dim [+ L]) -> image (None, H, W, C) in [-1, 1], fully connected.

    The MLP GAN that many MNIST tutorials start from: Dense 256 -> 512 -> 1024, each followed by
    LeakyReLU(0.2), then every pixel (784 for digits) through tanh, reshaped into an image. No BatchNormalization.
    """
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(config.latent_dim + num_labels(config),)))
    for units in MLP_GENERATOR_UNITS:
        model.add(keras.layers.Dense(units))
        model.add(keras.layers.LeakyReLU(negative_slope=0.2))
    model.add(keras.layers.Dense(int(np.prod(image_shape(config)))))
    model.add(keras.layers.Activation("tanh", dtype="float32"))
    model.add(keras.layers.Reshape(image_shape(config), dtype="float32"))
    assert model.output_shape == (None,) + image_shape(config)
    return model


MLP_GENERATOR_UNITS = (256, 512, 1024)
MLP_DISCRIMINATOR_UNITS = (512, 256)


def add_block(model, layers, carried=0, keep_label=True):
    """Appends `layers` to `model`; with a label carried beside the features (`carried` numbers, under
    --class-conditioning projection), as one block that sees the features alone (class_conditioning.WithLabel)."""
    if carried:
        model.add(class_conditioning.WithLabel(layers, carried, keep_label))
    else:
        for layer in layers:
            model.add(layer)


def normalized_activation(config, carried=0):
    """BatchNormalization and LeakyReLU, the generator's pair after each layer but the last; with a carried
    label, the normalisation's gain and offset are the class's (class_conditioning.py)."""
    if carried:
        normalization = class_conditioning.ClassBatchNormalization(carried, config.batchnorm_momentum, synchronized())
    else:
        normalization = batch_normalization(config)
    return [normalization, keras.layers.LeakyReLU(negative_slope=config.leaky_slope)]


def batch_normalization(config):
    """A BatchNormalization layer; built under a strategy of several replicas, it is synchronized.

    synchronized=True makes it use the statistics of the global batch when a tf.distribute strategy
    splits the batch over several devices. It is left off on one device, where it would only cost
    time: it replaces TensorFlow's fused batch-normalization kernel with separate operations.
    """
    return keras.layers.BatchNormalization(momentum=config.batchnorm_momentum, synchronized=synchronized())


def synchronized():
    """Whether batch normalisation must gather the statistics of several replicas (batch_normalization())."""
    return tf.distribute.get_strategy().num_replicas_in_sync > 1


def build_discriminator(config):
    """discriminator_inputs() (None, H, W, C [+ L]) -> one logit (None, 1): > 0 means "looks real".

    Strided convolutions halve the image (twice for digits: 28 -> 14 -> 7), then one Dense layer scores
    it. As in DCGAN, every convolution after the first is batch-normalised (config.discriminator_batchnorm): real and fake images go
    through D in separate calls, so each batch is normalised with its own statistics. D is only ever
    used in training mode, so its moving statistics are never used.
    """
    if config.architecture == "mlp":
        return build_mlp_discriminator(config)
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input(shape=image_shape(config)[:2] + (config.channels + label_code_size(config),)))
    # With a projection, the blocks read the picture alone, and the label goes around them to the verdict.
    blocks = keras.Sequential([keras.Input(image_shape(config))], name="blocks") if class_projection(config) else model
    add_downsampling_blocks(
        blocks,
        config.discriminator_filters,
        config,
        dropout=config.discriminator_dropout,
        batchnorm=config.discriminator_batchnorm == "on",
        spectral_norm=config.spectral_norm == "on",
    )
    # A logit, in float32: the losses apply the sigmoid themselves, stably.
    score = normalized(keras.layers.Dense(1, dtype="float32"), config.spectral_norm == "on")
    if class_projection(config):
        model.add(class_conditioning.WithLabel([blocks], label_code_size(config)))
        score = class_conditioning.ClassProjection(label_code_size(config), score, dtype="float32")
    model.add(score)
    assert model.output_shape == (None, 1)
    return model


def build_mlp_discriminator(config):
    """discriminator_inputs() (None, H * W * C [+ L]) -> one logit (None, 1), fully connected.

    784 (for digits) -> 512 -> 256 -> 1 with LeakyReLU(0.2), the MLP GAN's discriminator; --discriminator-dropout
    and --spectral-norm apply to it as to the convolutional one.
    """
    model = keras.Sequential(name="discriminator")
    model.add(keras.Input(shape=(int(np.prod(image_shape(config))) + label_code_size(config),)))
    for units in MLP_DISCRIMINATOR_UNITS:
        model.add(normalized(keras.layers.Dense(units), config.spectral_norm == "on"))
        model.add(keras.layers.LeakyReLU(negative_slope=0.2))
        if config.discriminator_dropout:
            model.add(keras.layers.Dropout(config.discriminator_dropout))
    model.add(normalized(keras.layers.Dense(1, dtype="float32"), config.spectral_norm == "on"))
    assert model.output_shape == (None, 1)
    return model


def normalized(layer, spectral_norm):
    """`layer`, wrapped in Keras's SpectralNormalization when `spectral_norm`.

    Miyato et al. (2018): each weight matrix is divided by its largest singular value, estimated by
    one power iteration per training call, so no layer can stretch its input by more than a factor
    of 1 and D's verdict changes smoothly with the image. Keras's wrapper writes the normalised kernel
    back into the layer in training mode and keeps the power iteration's vector as a weight.
    """
    # The wrapper computes in the layer's own precision (float32 for the last layer under mixed precision).
    return keras.layers.SpectralNormalization(layer, dtype=layer.dtype_policy) if spectral_norm else layer


def build_encoder(config):
    """Image (None, H, W, C) in [-1, 1] -> latent vector (None, latent_dim) [+ label logits (None, L)].

    The generator's mirror image: it learns to find the z (and in a conditional run, the class) that
    G would turn into a given image, which is what makes reconstruction and interpolation between
    real pictures possible. encoder_outputs() splits the two.
    """
    model = keras.Sequential(name="encoder")
    model.add(keras.Input(shape=image_shape(config)))
    add_downsampling_blocks(model, config.encoder_filters, config)
    # Linear, in float32: latent vectors are unbounded normals, and the class logits feed a softmax.
    size = config.latent_dim + num_labels(config)
    model.add(keras.layers.Dense(size, dtype="float32"))
    assert model.output_shape == (None, size)
    return model


def add_downsampling_blocks(model, filters, config, dropout=0.0, batchnorm=False, spectral_norm=False):
    """Appends strided convolutions that halve the image doublings(config) times, doubling the channels
    from `filters` (28x28 -> 14x14 -> 7x7 for digits), and a Flatten to `model`.

    The discriminator and the encoder both read an image this way; only their last layer differs.
    With `batchnorm`, every convolution but the first is normalised as in DCGAN (never the first, which sees pixels).
    """
    size = config.image_size
    for block in range(doublings(config)):
        size, channels = size // 2, filters * 2**block
        batch_normalized = batchnorm and block > 0
        convolution = keras.layers.Conv2D(
            channels, config.kernel_size, strides=2, padding="same", use_bias=not batch_normalized
        )
        model.add(normalized(convolution, spectral_norm))
        if batch_normalized:
            model.add(batch_normalization(config))
        model.add(keras.layers.LeakyReLU(negative_slope=config.leaky_slope))
        if dropout:
            model.add(keras.layers.Dropout(dropout))
        assert model.output_shape == (None, size, size, channels)

    model.add(keras.layers.Flatten())
    assert model.output_shape == (None, size * size * channels)

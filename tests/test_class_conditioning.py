"""--class-conditioning projection: the class-conditional batch normalisation and the projection
discriminator, against hand-computed values, and the networks built with them."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import class_conditioning
from gan_tf import config as config_lib
from gan_tf import models

PROJECTION = dataclasses.replace(config_lib.PRESETS["tiny"], class_conditioning="projection")


def labelled(features, labels, count):
    """Features (B, ..., F) with the one-hot of `labels` appended at every position, as the networks carry it."""
    return class_conditioning.join(tf.constant(features, tf.float32), tf.one_hot(labels, count))


def test_a_labelled_tensor_splits_back_into_its_features_and_code():
    maps = np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(2, 3, 3, 4)
    joined = labelled(maps, [2, 0], 3)
    assert joined.shape == (2, 3, 3, 7)
    features, code = class_conditioning.split(joined, 3)
    np.testing.assert_array_equal(features, maps)
    np.testing.assert_array_equal(code, np.eye(3)[[2, 0]])


def test_with_label_applies_its_layers_to_the_features_and_passes_the_code_on():
    dense = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    layer = class_conditioning.WithLabel([dense, keras.layers.ReLU()], 3)
    outputs = layer(labelled([[1.0, 2.0], [3.0, -4.0]], [1, 2], 3)).numpy()
    np.testing.assert_array_equal(outputs, [[3, 3, 0, 1, 0], [0, 0, 0, 0, 1]])  # The sums through ReLU, then the code.
    assert layer.compute_output_shape((None, 5)) == (None, 5)
    last = class_conditioning.WithLabel([keras.layers.Dense(2)], 3, keep_label=False)
    assert last(labelled([[1.0, 2.0]], [0], 3)).shape == (1, 2)


def test_class_batch_normalization_takes_each_class_gain_and_offset():
    layer = class_conditioning.ClassBatchNormalization(2, momentum=0.9)
    features = np.array([[1.0, 10.0], [3.0, 30.0], [5.0, 20.0], [7.0, 40.0]], np.float32)
    layer.build((None, 2))
    layer.gains.assign([[1.0, 0.0], [-0.5, 2.0]])  # Class 0 doubles channel 0; class 1 halves it, triples channel 1.
    layer.offsets.assign([[0.0, 5.0], [1.0, 0.0]])
    code = tf.one_hot([0, 1, 0, 1], 2)
    outputs = layer(features, code, training=True).numpy()
    epsilon = layer.normalization.epsilon
    normalized = (features - features.mean(0)) / np.sqrt(features.var(0) + epsilon)
    gain = np.array([[2.0, 1.0], [0.5, 3.0], [2.0, 1.0], [0.5, 3.0]])
    offset = np.array([[0.0, 5.0], [1.0, 0.0], [0.0, 5.0], [1.0, 0.0]])
    np.testing.assert_allclose(outputs, gain * normalized + offset, rtol=1e-4, atol=1e-4)
    fresh = class_conditioning.ClassBatchNormalization(2, momentum=0.9)  # Gains and offsets start at zero: plain BN.
    np.testing.assert_allclose(fresh(features, code, training=True), normalized, rtol=1e-4, atol=1e-4)
    block = class_conditioning.WithLabel([class_conditioning.ClassBatchNormalization(2, momentum=0.9)], 2)
    block.build((None, 4))  # Inside a block, it reads the code carried beside the features.
    block.sublayers[0].offsets.assign([[0.0, 5.0], [1.0, 0.0]])
    np.testing.assert_allclose(
        block(labelled(features, [0, 1, 0, 1], 2), training=True)[:, :2], normalized + offset, rtol=1e-4, atol=1e-4
    )


def test_the_projection_adds_the_class_embedding_times_the_features():
    score = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    layer = class_conditioning.ClassProjection(2, score)
    layer.build((None, 5))
    layer.embeddings.assign([[1.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    features = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], np.float32)
    logits = layer(labelled(features, [0, 1], 2)).numpy()
    np.testing.assert_allclose(logits, [[6.0 + 1.0], [6.0 - 6.0]])  # w . phi + embed(y) . phi.


def test_class_logits_are_the_projection_asked_of_every_label():
    layer = class_conditioning.ClassProjection(2, keras.layers.Dense(1))
    layer.build((None, 5))
    layer.embeddings.assign([[1.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    features = tf.constant([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    np.testing.assert_allclose(layer.class_logits(features, tf.eye(2)), [[1.0, -6.0], [0.0, 2.0]])
    # A run of 40 clusters reads 16-number codes: its class logits still have a column per cluster.
    clusters = dataclasses.replace(PROJECTION, conditional="off", clusters=40)
    discriminator = models.build_discriminator(clusters)
    labels = tf.constant([0, 39, 7])
    inputs = models.discriminator_inputs(clusters, tf.random.uniform((3, 28, 28, 1), -1, 1), labels)
    logits, features = models.discriminate(discriminator, inputs)
    class_logits = models.class_logits(clusters, discriminator, features)
    assert class_logits.shape == (3, 40) and class_logits.dtype == tf.float32
    plain = discriminator.layers[-1].score(features)  # The verdict's class term is the asked label's logit.
    np.testing.assert_allclose(
        tf.gather(class_logits, labels, batch_dims=1), (logits - plain)[:, 0], rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3)])
def test_projection_networks_keep_their_inputs_and_outputs(size, channels):
    config = dataclasses.replace(PROJECTION, image_size=size, channels=channels)
    concatenated = dataclasses.replace(config, class_conditioning="concatenate")
    for build in (models.build_generator, models.build_discriminator, models.build_encoder):
        network, plain = build(config), build(concatenated)
        assert isinstance(network, keras.Sequential)
        assert (network.input_shape, network.output_shape) == (plain.input_shape, plain.output_shape)
    discriminator = models.build_discriminator(config)
    inputs = models.discriminator_inputs(config, tf.random.uniform((4, size, size, channels), -1, 1), tf.range(4))
    logits, features = models.discriminate(discriminator, inputs, training=False)
    np.testing.assert_allclose(logits, discriminator(inputs, training=False), rtol=1e-5)
    blocks = models.doublings(config)  # The flattened last map, phi(x), without the code beside it:
    assert features.shape == (4, (size // 2**blocks) ** 2 * 2 ** (blocks - 1) * config.discriminator_filters)


def test_the_class_changes_the_picture_once_the_gains_are_learned():
    keras.utils.set_random_seed(0)
    generator = models.build_generator(PROJECTION)
    latent_vectors = tf.repeat(tf.random.normal((1, PROJECTION.latent_dim)), 2, axis=0)
    inputs = models.generator_inputs(PROJECTION, tf.concat([latent_vectors] * 2, 0), tf.constant([0, 0, 3, 3]))
    pictures = generator(inputs, training=False).numpy()
    np.testing.assert_allclose(pictures[0], pictures[2], atol=1e-6)  # Zero gains and offsets: every class alike.
    normalizations = [
        layer
        for block in generator.layers
        if isinstance(block, class_conditioning.WithLabel)
        for layer in block.sublayers
        if isinstance(layer, class_conditioning.ClassBatchNormalization)
    ]
    assert len(normalizations) == models.doublings(PROJECTION)  # After the Dense and each block but the last.
    for layer in normalizations:
        layer.offsets.assign(tf.random.normal(layer.offsets.shape))
    pictures = generator(inputs, training=False).numpy()
    np.testing.assert_allclose(pictures[0], pictures[1], atol=1e-6)  # The same class and noise: the same picture.
    assert np.abs(pictures[0] - pictures[2]).mean() > 0.05


def test_without_labels_projection_changes_nothing():
    config = dataclasses.replace(PROJECTION, conditional="off")
    assert not models.class_projection(config)
    assert not any(isinstance(layer, class_conditioning.WithLabel) for layer in models.build_generator(config).layers)

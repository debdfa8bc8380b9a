"""Each network's input and output shapes and ranges, at the tiny and the default sizes, with and
without the digit labels."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import models


@pytest.mark.parametrize(
    "preset, conditional", [("tiny", "on"), ("tiny", "off"), ("default", "on"), ("tutorial", "off")]
)
def test_shapes(preset, conditional):
    config = dataclasses.replace(config_lib.PRESETS[preset], conditional=conditional)
    generator = models.build_generator(config)
    discriminator = models.build_discriminator(config)
    encoder = models.build_encoder(config)
    labels = tf.constant([0, 7, 9])
    fake_images = generator(
        models.generator_inputs(config, tf.random.normal((3, config.latent_dim)), labels), training=False
    )
    assert fake_images.shape == (3, 28, 28, 1)
    assert discriminator(models.discriminator_inputs(config, fake_images, labels)).shape == (3, 1)
    latent_vectors, digit_logits = models.encoder_outputs(config, encoder(fake_images))
    assert latent_vectors.shape == (3, config.latent_dim)
    assert (digit_logits is None) == (conditional == "off")
    if digit_logits is not None:
        assert digit_logits.shape == (3, 10)
    assert all(isinstance(model, tf.keras.Sequential) for model in (generator, discriminator, encoder))


def test_the_label_is_a_one_hot_beside_z_and_ten_constant_channels_beside_the_image():
    config = config_lib.PRESETS["tiny"]
    latent_vectors = tf.reshape(tf.range(2 * config.latent_dim, dtype=tf.float32), (2, config.latent_dim))
    inputs = models.generator_inputs(config, latent_vectors, tf.constant([3, 0])).numpy()
    np.testing.assert_array_equal(inputs[:, : config.latent_dim], latent_vectors)
    np.testing.assert_array_equal(inputs[:, config.latent_dim :], np.eye(10)[[3, 0]])

    images = tf.random.uniform((2, 28, 28, 1), -1, 1)
    with_labels = models.discriminator_inputs(config, images, tf.constant([3, 0])).numpy()
    assert with_labels.shape == (2, 28, 28, 11)
    np.testing.assert_array_equal(with_labels[..., :1], images)
    np.testing.assert_array_equal(
        with_labels[..., 1:], np.broadcast_to(np.eye(10)[[3, 0]][:, None, None, :], (2, 28, 28, 10))
    )

    unconditional = dataclasses.replace(config, conditional="off")
    assert models.generator_inputs(unconditional, latent_vectors, None) is latent_vectors
    assert models.discriminator_inputs(unconditional, images, None) is images


def test_generator_output_is_in_image_range():
    config = config_lib.PRESETS["tiny"]
    inputs = models.generator_inputs(config, tf.random.normal((8, config.latent_dim)) * 10, tf.range(8))
    images = models.build_generator(config)(inputs, training=True).numpy()
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_default_sizes_are_the_documented_ones():
    config = config_lib.Config()
    assert models.build_generator(config).count_params() == pytest.approx(0.62e6, rel=0.05)
    assert models.build_discriminator(config).count_params() == pytest.approx(0.15e6, rel=0.05)
    assert np.prod(models.build_encoder(config).output_shape[1:]) == config.latent_dim + 10


@pytest.mark.parametrize("conditional", ["on", "off"])
def test_the_mlp_gan_has_the_tutorial_layers(conditional):
    config = dataclasses.replace(config_lib.PRESETS["default"], architecture="mlp", conditional=conditional)
    labels = 10 if conditional == "on" else 0
    generator, discriminator = models.build_generator(config), models.build_discriminator(config)
    dense_units = [layer.units for layer in generator.layers if isinstance(layer, tf.keras.layers.Dense)]
    assert dense_units == [256, 512, 1024, 784]
    assert [layer.units for layer in discriminator.layers if isinstance(layer, tf.keras.layers.Dense)] == [512, 256, 1]
    # Weights and biases, counted by hand: z (and the one-hot label) in, 784 pixels out.
    assert generator.count_params() == ((64 + labels) * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (
        1024 * 784 + 784
    )
    assert discriminator.count_params() == ((784 + labels) * 512 + 512) + (512 * 256 + 256) + (256 + 1)
    images = generator(
        models.generator_inputs(config, tf.random.normal((3, 64)), tf.constant([1, 2, 3])), training=True
    )
    assert images.shape == (3, 28, 28, 1) and np.abs(images.numpy()).max() <= 1.0
    assert discriminator(models.discriminator_inputs(config, images, tf.constant([1, 2, 3]))).shape == (3, 1)


def test_clusters_are_labels_like_the_digits():
    config = dataclasses.replace(config_lib.PRESETS["tiny"], conditional="off", clusters=7)
    assert models.num_labels(config) == 7 and not models.conditional(config)
    inputs = models.generator_inputs(config, tf.zeros((2, config.latent_dim)), tf.constant([6, 0])).numpy()
    np.testing.assert_array_equal(inputs[:, config.latent_dim :], np.eye(7)[[6, 0]])
    assert models.discriminator_inputs(config, tf.zeros((2, 28, 28, 1)), tf.constant([6, 0])).shape == (2, 28, 28, 8)
    latent_vectors, cluster_logits = models.encoder_outputs(
        config, models.build_encoder(config)(tf.zeros((2, 28, 28, 1)))
    )
    assert latent_vectors.shape == (2, config.latent_dim) and cluster_logits.shape == (2, 7)


def test_many_clusters_reach_the_discriminator_as_distinct_codes_of_sixteen_signs():
    config = dataclasses.replace(config_lib.PRESETS["tiny"], conditional="off", clusters=100)
    codes = models.label_code(config, tf.range(100), tf.float32).numpy()
    assert codes.shape == (100, 16) and set(np.unique(codes)) == {-1.0, 1.0}
    assert len({tuple(code) for code in codes}) == 100  # No two clusters share a code.
    inputs = models.discriminator_inputs(config, tf.zeros((2, 28, 28, 1)), tf.constant([42, 7])).numpy()
    assert inputs.shape == (2, 28, 28, 17)
    np.testing.assert_array_equal(inputs[:, 13, 5, 1:], codes[[42, 7]])  # The same code at every pixel.
    assert models.build_discriminator(config).input_shape == (None, 28, 28, 17)
    mlp = dataclasses.replace(config, architecture="mlp")
    assert models.discriminator_inputs(mlp, tf.zeros((2, 28, 28, 1)), tf.constant([42, 7])).shape == (2, 784 + 16)
    # G still reads the one-hot cluster: a Dense layer costs no more for it.
    assert models.build_generator(config).input_shape == (None, config.latent_dim + 100)


@pytest.mark.parametrize("architecture", ["dcgan", "mlp"])
def test_spectral_norm_divides_each_discriminator_weight_by_its_largest_singular_value(architecture):
    config = dataclasses.replace(config_lib.PRESETS["tiny"], spectral_norm="on", architecture=architecture)
    keras.utils.set_random_seed(0)  # The same weights and vectors whatever ran before in this process.
    discriminator = models.build_discriminator(config)
    wrapped = [layer for layer in discriminator.layers if isinstance(layer, tf.keras.layers.SpectralNormalization)]
    # Every layer with weights but BatchNormalization: two convolutions and the Dense logit, or three Dense layers.
    assert len(wrapped) == 3
    inputs = models.discriminator_inputs(config, tf.random.uniform((4, 28, 28, 1), -1, 1), tf.constant([0, 1, 2, 3]))
    for _ in range(100):  # Each training call does one power iteration, and writes the normalised kernel back.
        discriminator(inputs, training=True)
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        assert np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0] == pytest.approx(1.0, abs=0.01)


def test_discriminate_is_the_discriminator_layer_by_layer():
    config = config_lib.PRESETS["tiny"]
    discriminator = models.build_discriminator(config)
    inputs = models.discriminator_inputs(config, tf.random.uniform((4, 28, 28, 1), -1, 1), tf.constant([0, 1, 2, 3]))
    logits, features = models.discriminate(discriminator, inputs, training=False)
    np.testing.assert_allclose(logits, discriminator(inputs, training=False), rtol=1e-6)
    assert features.shape == (4, 7 * 7 * 2 * config.discriminator_filters)  # The Flatten before the last Dense.


@pytest.mark.parametrize(
    "size, channels, first_map, blocks",
    [(28, 1, 7, 2), (32, 3, 4, 3), (64, 3, 4, 4), (64, 1, 4, 4)],
)
def test_the_networks_grow_a_block_per_doubling_of_the_pictures(size, channels, first_map, blocks):
    config = dataclasses.replace(
        config_lib.PRESETS["tiny"], image_size=size, channels=channels, class_names=("cat", "dog", "ship")
    )
    assert models.doublings(config) == blocks and models.start_size(config) == first_map
    generator, discriminator, encoder = (
        models.build_generator(config),
        models.build_discriminator(config),
        models.build_encoder(config),
    )
    assert generator.output_shape == (None, size, size, channels)
    assert generator.get_layer(index=3).output.shape[1:3] == (first_map, first_map)  # Dense, BN, ReLU, Reshape.
    transposed = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert len(transposed) == blocks and transposed[-1].filters == channels
    assert discriminator.input_shape == (None, size, size, channels + 3)  # The picture and the one-hot of 3 classes.
    assert encoder.input_shape == (None, size, size, channels) and encoder.output_shape == (None, 8 + 3)
    convolutions = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in convolutions] == [8 * 2**block for block in range(blocks)]
    images = generator(models.generator_inputs(config, tf.zeros((2, 8)), tf.constant([0, 2])), training=False)
    assert discriminator(models.discriminator_inputs(config, images, tf.constant([0, 2]))).shape == (2, 1)


def test_the_tutorial_preset_sizes_its_first_map_to_a_quarter_of_the_picture():
    config = dataclasses.replace(config_lib.PRESETS["tutorial"], image_size=32, channels=3, class_names=())
    generator = models.build_generator(config)
    assert generator.get_layer(index=3).output.shape[1:] == (8, 8, 256) and generator.output_shape == (None, 32, 32, 3)
    convolutions = [
        layer for layer in models.build_discriminator(config).layers if isinstance(layer, keras.layers.Conv2D)
    ]
    assert [layer.output.shape[1:] for layer in convolutions] == [(16, 16, 64), (8, 8, 128)]

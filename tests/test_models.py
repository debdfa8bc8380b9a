"""Each network's input and output shapes and ranges, at the tiny and the default sizes, with and
without the digit labels."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import models


@pytest.mark.parametrize("preset, conditional", [("tiny", "on"), ("tiny", "off"), ("default", "on"), ("tutorial", "off")])
def test_shapes(preset, conditional):
    config = dataclasses.replace(config_lib.PRESETS[preset], conditional=conditional)
    generator = models.build_generator(config)
    discriminator = models.build_discriminator(config)
    encoder = models.build_encoder(config)
    labels = tf.constant([0, 7, 9])
    fake_images = generator(models.generator_inputs(config, tf.random.normal((3, config.latent_dim)), labels),
                            training=False)
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
    np.testing.assert_array_equal(inputs[:, :config.latent_dim], latent_vectors)
    np.testing.assert_array_equal(inputs[:, config.latent_dim:], np.eye(10)[[3, 0]])

    images = tf.random.uniform((2, 28, 28, 1), -1, 1)
    with_labels = models.discriminator_inputs(config, images, tf.constant([3, 0])).numpy()
    assert with_labels.shape == (2, 28, 28, 11)
    np.testing.assert_array_equal(with_labels[..., :1], images)
    np.testing.assert_array_equal(with_labels[..., 1:], np.broadcast_to(np.eye(10)[[3, 0]][:, None, None, :], (2, 28, 28, 10)))

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

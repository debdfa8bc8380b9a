"""Each network's input and output shapes and ranges, at the tiny and the default sizes."""

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import models


@pytest.mark.parametrize("preset", ["tiny", "default"])
def test_shapes(preset):
    config = config_lib.PRESETS[preset]
    generator = models.build_generator(config)
    discriminator = models.build_discriminator(config)
    encoder = models.build_encoder(config)
    latent_vectors = tf.random.normal((3, config.latent_dim))
    fake_images = generator(latent_vectors, training=False)
    assert fake_images.shape == (3, 28, 28, 1)
    assert discriminator(fake_images).shape == (3, 1)
    assert encoder(fake_images).shape == (3, config.latent_dim)
    assert all(isinstance(model, tf.keras.Sequential) for model in (generator, discriminator, encoder))


def test_generator_output_is_in_image_range():
    config = config_lib.PRESETS["tiny"]
    images = models.build_generator(config)(tf.random.normal((8, config.latent_dim)) * 10, training=True).numpy()
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_default_sizes_are_the_documented_ones():
    config = config_lib.Config()
    assert models.build_generator(config).count_params() == pytest.approx(0.54e6, rel=0.05)
    assert models.build_discriminator(config).count_params() == pytest.approx(0.14e6, rel=0.05)
    assert np.prod(models.build_encoder(config).output_shape[1:]) == config.latent_dim

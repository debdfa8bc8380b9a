"""The train step: what each update changes, and the losses it reports."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import data
from gan_tf import losses
from gan_tf import models
from gan_tf import step
from gan_tf import train
from tests.conftest import synthetic_digits


def first_batch(config):
    """The first full batch of an epoch of 40 synthetic digits: (images, labels, latent vectors)."""
    batches, _ = data.epoch_batches(data.digit_dataset(synthetic_digits(40)), config.batch_size, config.seed, 0,
                                    config.latent_dim)[0]
    return next(iter(batches))


def values(model, trainable_only=False):
    return [variable.numpy() for variable in (model.trainable_variables if trainable_only else model.weights)]


def same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("conditional", ["on", "off"])
def test_the_gan_update_reports_the_losses_of_the_models_it_was_given(tiny_config, conditional):
    config = dataclasses.replace(tiny_config, conditional=conditional)
    state = train.build_state(config)
    real_images, labels, latent_vectors = first_batch(config)
    # By hand, before the update: D's logits for the real batch and for G's fakes.
    fake_images = state.generator(models.generator_inputs(config, latent_vectors, labels), training=True)
    real_logits = state.discriminator(models.discriminator_inputs(config, real_images, labels), training=True)
    fake_logits = state.discriminator(models.discriminator_inputs(config, fake_images, labels), training=True)
    encoder_before = values(state.encoder)

    _, step_losses = step.gan_update(state, config, real_images, labels, latent_vectors)

    assert float(step_losses["discriminator"]) == pytest.approx(
        float(tf.reduce_mean(losses.non_saturating_discriminator_loss(real_logits, fake_logits))), rel=1e-5)
    assert float(step_losses["generator"]) == pytest.approx(
        float(tf.reduce_mean(losses.non_saturating_generator_loss(fake_logits))), rel=1e-5)
    assert same(values(state.encoder), encoder_before)  # The encoder is not part of the GAN's game.


def test_the_encoder_update_leaves_the_generator_and_discriminator_unchanged(tiny_config):
    state = train.build_state(tiny_config)
    real_images, labels, latent_vectors = first_batch(tiny_config)
    fake_images = state.generator(models.generator_inputs(tiny_config, latent_vectors, labels), training=False)
    generator_before, discriminator_before = values(state.generator), values(state.discriminator)
    encoder_before = values(state.encoder, trainable_only=True)

    encoder_loss = step.encoder_update(state, tiny_config, real_images, labels, latent_vectors, fake_images)

    # Every weight of G and D, BatchNormalization's moving statistics included, is as it was.
    assert same(values(state.generator), generator_before)
    assert same(values(state.discriminator), discriminator_before)
    assert not same(values(state.encoder, trainable_only=True), encoder_before)
    assert np.isfinite(float(encoder_loss))


def test_train_step_runs_the_encoder_update_only_with_an_encoder(tiny_config):
    real_images, labels, latent_vectors = first_batch(tiny_config)
    for encoder, names in [("on", ["discriminator", "encoder", "generator"]), ("off", ["discriminator", "generator"])]:
        config = dataclasses.replace(tiny_config, encoder=encoder)
        state = train.build_state(config)
        encoder_before = values(state.encoder)
        assert sorted(step.train_step(state, config, real_images, labels, latent_vectors)) == names
        assert same(values(state.encoder), encoder_before) == (encoder == "off")

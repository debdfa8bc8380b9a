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
    batches, _ = data.epoch_batches(
        data.image_dataset(synthetic_digits(40)), config.batch_size, config.seed, 0, config.latent_dim
    )[0]
    return next(iter(batches))


def values(model, trainable_only=False):
    return [variable.numpy() for variable in (model.trainable_variables if trainable_only else model.weights)]


def same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    "changes",
    [
        {"conditional": "on"},
        {"conditional": "off"},
        {"loss": "least-squares", "label_smoothing": 0.2},
        {"loss": "hinge", "architecture": "mlp"},
        {"feature_matching": 2.0},
        {"conditional": "off", "feature_matching": 0.5},
        {"conditional": "off", "clusters": 3, "feature_matching": 0.5},
        {"class_conditioning": "projection", "class_loss": 0.5},
        {"conditional": "off", "clusters": 3, "class_conditioning": "projection", "class_loss": 2.0},
    ],
)
def test_the_gan_update_reports_the_losses_of_the_models_it_was_given(tiny_config, changes):
    config = dataclasses.replace(tiny_config, **changes).validate()
    state = train.build_state(config)
    real_images, labels, latent_vectors = first_batch(config)
    labels = labels % max(models.num_labels(config), 1)
    # By hand, before the update: D's logits and features for the real batch and for G's fakes.
    fake_images = state.networks["generator"](models.generator_inputs(config, latent_vectors, labels), training=True)
    real_logits, real_features = models.discriminate(
        state.networks["discriminator"], models.discriminator_inputs(config, real_images, labels)
    )
    fake_logits, fake_features = models.discriminate(
        state.networks["discriminator"], models.discriminator_inputs(config, fake_images, labels)
    )
    expected_generator_loss = float(tf.reduce_mean(losses.generator_loss(config.loss, fake_logits)))
    if config.feature_matching:  # W (|mean f(x) - mean f(G(z))|^2 + KL of the encoder's label mixes, with labels).
        extra = float(losses.feature_matching_loss(real_features, fake_features))
        if models.num_labels(config):
            extra += float(
                losses.class_distribution_kl(
                    models.encoder_outputs(config, state.networks["encoder"](real_images))[1],
                    models.encoder_outputs(config, state.networks["encoder"](fake_images))[1],
                )
            )
        expected_generator_loss += config.feature_matching * extra
    expected_discriminator_loss = float(
        tf.reduce_mean(losses.discriminator_loss(config.loss, real_logits, fake_logits, config.label_smoothing))
    )
    if config.class_loss:  # W times the cross-entropy of the label, over D's features times each label's embedding.
        embeddings = state.networks["discriminator"].layers[-1].embeddings.numpy()  # One-hot codes: a row a label.
        expected_discriminator_loss += config.class_loss * cross_entropy(real_features.numpy() @ embeddings.T, labels)
        expected_generator_loss += config.class_loss * cross_entropy(fake_features.numpy() @ embeddings.T, labels)
    encoder_before = values(state.networks["encoder"])

    _, step_losses = step.gan_update(state, config, real_images, labels, latent_vectors)

    assert float(step_losses["discriminator"]) == pytest.approx(expected_discriminator_loss, rel=1e-5)
    assert float(step_losses["generator"]) == pytest.approx(expected_generator_loss, rel=1e-5)
    assert same(values(state.networks["encoder"]), encoder_before)  # The encoder is not part of the GAN's game.


def cross_entropy(logits, labels):
    """The mean of -log softmax(logits)[label], in NumPy."""
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-log_probabilities[np.arange(len(labels)), np.asarray(labels)].mean())


def test_the_wasserstein_critic_loss_adds_the_weighted_gradient_penalty(tiny_config):
    config = dataclasses.replace(tiny_config, loss="wasserstein-gp", gradient_penalty_weight=10.0)
    state = train.build_state(config)
    real_images, labels, latent_vectors = first_batch(config)
    unpenalized = dataclasses.replace(config, gradient_penalty_weight=0.0)
    fake_images = state.networks["generator"](models.generator_inputs(config, latent_vectors, labels), training=True)
    real_logits, _ = models.discriminate(
        state.networks["discriminator"], models.discriminator_inputs(config, real_images, labels)
    )
    fake_logits, _ = models.discriminate(
        state.networks["discriminator"], models.discriminator_inputs(config, fake_images, labels)
    )
    seed = step.step_seed(state, config)
    penalized_loss = step.discriminator_objective(
        state, config, real_images, fake_images, labels, real_logits, fake_logits, seed, tf.reduce_mean
    )
    plain_loss = step.discriminator_objective(
        state, unpenalized, real_images, fake_images, labels, real_logits, fake_logits, seed, tf.reduce_mean
    )
    assert float(plain_loss) == pytest.approx(float(tf.reduce_mean(fake_logits - real_logits)), rel=1e-5)

    def critic(images):
        return state.networks["discriminator"](models.discriminator_inputs(config, images, labels), training=True)

    weights = losses.interpolation_weights(config.batch_size, step.fold(seed, step.PENALTY))
    penalty = float(tf.reduce_mean(losses.gradient_penalty(critic, real_images, fake_images, weights)))
    assert penalty > 0 and float(penalized_loss) == pytest.approx(float(plain_loss) + 10.0 * penalty, rel=1e-4)


def test_critic_steps_update_the_discriminator_that_many_times_per_generator_update(tiny_config):
    config = dataclasses.replace(tiny_config, loss="wasserstein-gp", critic_steps=3, augment="on")
    state = train.build_state(config)
    step.train_step(state, config, *first_batch(config))
    assert int(state.optimizers["discriminator"].iterations) == 3 and int(state.optimizers["generator"].iterations) == 1


def test_the_average_generator_moves_a_step_towards_the_generator(tiny_config):
    config = dataclasses.replace(tiny_config, generator_average=0.999)
    state = train.build_state(config)
    assert same(values(state.kept["average_generator"]), values(state.networks["generator"]))  # It starts as a copy.
    before = values(state.kept["average_generator"])
    step.train_step(state, config, *first_batch(config))
    step.average_generator_update(state, config)  # At step 0 the decay is 1/10, not yet 0.999.
    for average, old, new in zip(values(state.kept["average_generator"]), before, values(state.networks["generator"])):
        np.testing.assert_allclose(average, 0.1 * old + 0.9 * new, rtol=1e-5, atol=1e-6)


def test_the_encoder_update_leaves_the_generator_and_discriminator_unchanged(tiny_config):
    state = train.build_state(tiny_config)
    real_images, labels, latent_vectors = first_batch(tiny_config)
    fake_images = state.networks["generator"](
        models.generator_inputs(tiny_config, latent_vectors, labels), training=False
    )
    generator_before, discriminator_before = (
        values(state.networks["generator"]),
        values(state.networks["discriminator"]),
    )
    encoder_before = values(state.networks["encoder"], trainable_only=True)
    expected_loss = encoder_loss_by_hand(state, tiny_config, real_images, labels, latent_vectors, fake_images)

    encoder_loss = step.encoder_update(state, tiny_config, real_images, labels, latent_vectors, fake_images)

    # Every weight of G and D, BatchNormalization's moving statistics included, is as it was.
    assert same(values(state.networks["generator"]), generator_before)
    assert same(values(state.networks["discriminator"]), discriminator_before)
    assert not same(values(state.networks["encoder"], trainable_only=True), encoder_before)
    assert float(encoder_loss) == pytest.approx(expected_loss, rel=1e-5)


def encoder_loss_by_hand(state, config, real_images, labels, latent_vectors, fake_images):
    """The encoder's loss in NumPy, from its outputs before the update: per digit, the squared error of z
    averaged over its dimensions, plus that of G(E(x)) over the pixels, plus the cross-entropy of the
    label read in the fake and in the real digit; then the mean over the batch."""

    def cross_entropy(logits):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_probabilities[np.arange(len(logits)), labels.numpy()]

    fake_codes = state.networks["encoder"](fake_images).numpy().astype(np.float64)
    real_codes = state.networks["encoder"](real_images).numpy().astype(np.float64)
    latent = config.latent_dim
    redrawn = (
        state.networks["generator"](
            models.generator_inputs(config, real_codes[:, :latent].astype(np.float32), labels), training=False
        )
        .numpy()
        .astype(np.float64)
    )
    per_digit = (
        np.mean((fake_codes[:, :latent] - latent_vectors.numpy()) ** 2, axis=1)
        + np.mean((redrawn - real_images.numpy()) ** 2, axis=(1, 2, 3))
        + cross_entropy(fake_codes[:, latent:])
        + cross_entropy(real_codes[:, latent:])
    )
    return float(np.mean(per_digit))


def test_train_step_runs_the_encoder_update_only_with_an_encoder(tiny_config):
    real_images, labels, latent_vectors = first_batch(tiny_config)
    for encoder, names in [("on", ["discriminator", "encoder", "generator"]), ("off", ["discriminator", "generator"])]:
        config = dataclasses.replace(tiny_config, encoder=encoder)
        state = train.build_state(config)
        encoder_before = values(state.networks["encoder"])
        assert sorted(step.train_step(state, config, real_images, labels, latent_vectors)) == names
        assert same(values(state.networks["encoder"]), encoder_before) == (encoder == "off")

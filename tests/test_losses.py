"""The losses against values computed by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import losses


def softplus(x):
    return math.log1p(math.exp(x))


def mean(per_example):
    """The batch mean of a per-example loss, as the train step takes it on one device."""
    assert per_example.shape.rank == 1
    return float(tf.reduce_mean(per_example))


def test_discriminator_loss_of_a_coin_flip_is_two_log_two():
    zeros = tf.zeros((4, 1))
    assert mean(losses.non_saturating_discriminator_loss(zeros, zeros)) == pytest.approx(2 * math.log(2), rel=1e-6)


def test_discriminator_loss_matches_hand_computed_cross_entropy():
    real_logits = tf.constant([[2.0], [-1.0]])
    fake_logits = tf.constant([[0.5], [-3.0]])
    # -log sigmoid(x) = softplus(-x) for reals (label 1); -log(1 - sigmoid(x)) = softplus(x) for fakes.
    expected = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0)) / 2
    assert mean(losses.non_saturating_discriminator_loss(real_logits, fake_logits)) == pytest.approx(expected, rel=1e-6)


def test_generator_loss_is_minus_log_d_of_fakes():
    fake_logits = tf.constant([[1.0], [-2.0], [0.0]])
    expected = (softplus(-1.0) + softplus(2.0) + softplus(0.0)) / 3
    assert mean(losses.non_saturating_generator_loss(fake_logits)) == pytest.approx(expected, rel=1e-6)


def test_losses_stay_finite_for_confident_logits():
    confident = tf.constant([[100.0], [-100.0]])
    assert np.all(np.isfinite(losses.non_saturating_discriminator_loss(confident, -confident)))
    assert mean(losses.non_saturating_generator_loss(tf.constant([[-100.0]]))) == pytest.approx(100.0, rel=1e-6)


def test_latent_regression_and_reconstruction_are_mean_squared_errors():
    z = tf.constant([[0.0, 1.0], [2.0, -1.0]])
    guess = tf.constant([[1.0, 1.0], [2.0, 1.0]])
    assert losses.latent_regression_loss(z, guess).numpy().tolist() == pytest.approx([1 / 2, 4 / 2])
    real = tf.fill((2, 28, 28, 1), -1.0)
    redrawn = tf.fill((2, 28, 28, 1), 0.5)
    assert losses.reconstruction_loss(real, redrawn).numpy().tolist() == pytest.approx([2.25, 2.25])


def test_digit_loss_is_the_cross_entropy_of_the_true_digit():
    uniform, sure = [0.0] * 10, [0.0] * 10
    sure[4] = 100.0
    values = losses.digit_loss(tf.constant([2, 4, 5]), tf.constant([uniform, sure, sure])).numpy()
    assert values.tolist() == pytest.approx([np.log(10), 0.0, 100.0], abs=1e-5)

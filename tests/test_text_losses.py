"""The text losses against values computed by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.text import losses


def test_the_language_model_loss_leaves_the_pad_out():
    # Two tokens of a vocabulary of 4; the second text's second target is padding.
    logits = tf.constant([[[0.0, 0.0, 0.0, 0.0], [math.log(3.0), 0.0, 0.0, 0.0]]] * 2)
    targets = tf.constant([[1, 3], [2, 0]])
    # Uniform over 4: -log 1/4. Second position of text 0: p(3) = 1 / (3 + 3) = 1/6.
    expected = [(math.log(4) + math.log(6)) / 2, math.log(4)]
    np.testing.assert_allclose(losses.language_model_loss(logits, targets).numpy(), expected, rtol=1e-6)


def test_discounted_returns_by_hand():
    rewards = tf.constant([[1.0, 2.0, 3.0], [1.0, 1.0, 5.0]])
    mask = tf.constant([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # The second text ends after two tokens.
    returns = losses.discounted_returns(rewards, mask, 0.5).numpy()
    # R_2 = 3, R_1 = 2 + 1.5 = 3.5, R_0 = 1 + 1.75 = 2.75; the second: R_1 = 1, R_0 = 1.5, nothing after its end.
    np.testing.assert_allclose(returns, [[2.75, 3.5, 3.0], [1.5, 1.0, 0.0]])


def test_the_policy_gradient_loss_and_its_gradient():
    log_probabilities = tf.Variable([[math.log(0.5), math.log(0.25)]])
    returns, baseline, mask = tf.constant([[2.0, 1.0]]), tf.constant([1.0, 1.0]), tf.constant([[1.0, 1.0]])
    with tf.GradientTape() as tape:
        loss = losses.policy_gradient_loss(log_probabilities, returns, baseline, mask)
    # -(1/2) [(2 - 1) log 0.5 + (1 - 1) log 0.25] = -(1/2) log 0.5.
    assert float(loss[0]) == pytest.approx(-0.5 * math.log(0.5))
    np.testing.assert_allclose(tape.gradient(loss, log_probabilities).numpy(), [[-0.5, 0.0]])  # Only the better token.


def test_kl_divergence_by_hand_and_zero_for_the_same_model():
    logits = tf.constant([[[math.log(0.5), math.log(0.5)]]])
    reference = tf.constant([[[math.log(0.25), math.log(0.75)]]])
    mask = tf.constant([[1.0]])
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(losses.kl_divergence(logits, reference, mask)[0]) == pytest.approx(expected, rel=1e-5)
    assert float(losses.kl_divergence(logits, logits, mask)[0]) == pytest.approx(0.0, abs=1e-7)


def test_the_discriminators_loss_and_the_generators_adversarial_one():
    zeros, mask = tf.zeros((1, 3)), tf.constant([[1.0, 1.0, 0.0]])
    # At logit 0 each position costs log 2 for the real text and log 2 for the fake one.
    assert float(losses.discriminator_loss(zeros, zeros, mask, mask)[0]) == pytest.approx(2 * math.log(2))
    assert float(losses.generator_adversarial_loss(zeros, mask)[0]) == pytest.approx(math.log(2))


def test_feature_matching_of_masked_mean_features():
    features = tf.constant([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])  # The last position is padding.
    mean = losses.masked_mean_features(features, tf.constant([[1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(mean.numpy(), [[2.0, 3.0]])
    assert float(losses.feature_matching_loss(mean, mean + [1.0, 3.0])) == pytest.approx((1 + 9) / 2)

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


def test_class_loss_is_the_cross_entropy_of_the_true_class():
    uniform, sure = [0.0] * 10, [0.0] * 10
    sure[4] = 100.0
    values = losses.class_loss(tf.constant([2, 4, 5]), tf.constant([uniform, sure, sure])).numpy()
    assert values.tolist() == pytest.approx([np.log(10), 0.0, 100.0], abs=1e-5)


# --- The GAN lab's losses (--loss, --label-smoothing, --feature-matching). ---

REAL = tf.constant([[2.0], [-1.0]])
FAKE = tf.constant([[0.5], [-3.0]])


def test_label_smoothing_moves_only_the_real_target():
    # Real targets 0.9: -(0.9 log sigmoid(x) + 0.1 log(1 - sigmoid(x))) = 0.9 softplus(-x) + 0.1 softplus(x).
    expected = [
        0.9 * softplus(-2.0) + 0.1 * softplus(2.0) + softplus(0.5),
        0.9 * softplus(1.0) + 0.1 * softplus(-1.0) + softplus(-3.0),
    ]
    assert losses.non_saturating_discriminator_loss(REAL, FAKE, label_smoothing=0.1).numpy().tolist() == pytest.approx(
        expected, rel=1e-6
    )


def test_least_squares_losses():
    # D: ((D(x) - 1)^2 + D(G(z))^2) / 2; G: (D(G(z)) - 1)^2 / 2.
    assert losses.least_squares_discriminator_loss(REAL, FAKE).numpy().tolist() == pytest.approx(
        [(1.0 + 0.25) / 2, (4.0 + 9.0) / 2]
    )
    assert losses.least_squares_discriminator_loss(REAL, FAKE, label_smoothing=0.2).numpy().tolist() == pytest.approx(
        [(1.2**2 + 0.25) / 2, (1.8**2 + 9.0) / 2]
    )
    assert losses.least_squares_generator_loss(FAKE).numpy().tolist() == pytest.approx([0.25 / 2, 16.0 / 2])


def test_hinge_losses():
    # D: max(0, 1 - D(x)) + max(0, 1 + D(G(z))); G: -D(G(z)).
    assert losses.hinge_discriminator_loss(REAL, FAKE).numpy().tolist() == pytest.approx([0.0 + 1.5, 2.0 + 0.0])
    assert losses.hinge_generator_loss(FAKE).numpy().tolist() == pytest.approx([-0.5, 3.0])


def test_wasserstein_losses():
    assert losses.wasserstein_critic_loss(REAL, FAKE).numpy().tolist() == pytest.approx([0.5 - 2.0, -3.0 + 1.0])
    assert losses.wasserstein_generator_loss(FAKE).numpy().tolist() == pytest.approx([-0.5, 3.0])


def test_the_loss_flag_picks_the_pair():
    for name in losses.LOSSES:
        assert losses.discriminator_loss(name, REAL, FAKE).shape == (2,)
        assert losses.generator_loss(name, FAKE).shape == (2,)
    assert losses.discriminator_loss("hinge", REAL, FAKE).numpy().tolist() == pytest.approx([1.5, 2.0])
    with pytest.raises(ValueError, match="label smoothing"):
        losses.discriminator_loss("wasserstein-gp", REAL, FAKE, label_smoothing=0.1)


def test_gradient_penalty_of_a_linear_critic_is_its_slope_minus_one_squared():
    # D(x) = sum(w * x) has the gradient w at every point: the penalty is (|w| - 1)^2 wherever it is taken.
    w = tf.fill((1, 28, 28, 1), 3.0 / 28.0)  # |w| = sqrt(784 * 9 / 784) = 3.

    def critic(images):
        return tf.reduce_sum(images * w, axis=[1, 2, 3])[:, tf.newaxis]

    real, fake = tf.random.normal((3, 28, 28, 1), seed=1), tf.random.normal((3, 28, 28, 1), seed=2)
    weights = losses.interpolation_weights(3, seed=(0, 0))
    assert losses.gradient_penalty(critic, real, fake, weights).numpy().tolist() == pytest.approx([4.0] * 3, rel=1e-5)


def test_gradient_penalty_is_taken_between_the_real_and_the_fake_image():
    # D(x) = sum(x^2) / 2 has the gradient x: at epsilon x_real + (1 - epsilon) x_fake with a real image of
    # ones and a fake of zeros, that is epsilon everywhere, of norm 28 epsilon.
    def critic(images):
        return tf.reduce_sum(tf.square(images), axis=[1, 2, 3])[:, tf.newaxis] / 2

    weights = tf.constant([0.0, 0.25, 1.0])[:, tf.newaxis, tf.newaxis, tf.newaxis]
    penalty = losses.gradient_penalty(critic, tf.ones((3, 28, 28, 1)), tf.zeros((3, 28, 28, 1)), weights)
    assert penalty.numpy().tolist() == pytest.approx([1.0, (7.0 - 1.0) ** 2, 27.0**2], rel=1e-4)


def test_interpolation_weights_are_uniform_on_zero_one():
    weights = losses.interpolation_weights(20_000, seed=(3, 4)).numpy().ravel()
    assert weights.min() >= 0.0 and weights.max() < 1.0
    assert weights.mean() == pytest.approx(0.5, abs=0.01) and weights.var() == pytest.approx(1 / 12, abs=0.003)
    # Each tenth of [0, 1) holds a tenth of the draws: 2,000 each, within 5 standard deviations (42).
    counts = np.histogram(weights, bins=10, range=(0.0, 1.0))[0]
    assert np.all(np.abs(counts - 2000) < 5 * np.sqrt(20_000 * 0.1 * 0.9)), counts
    # A normal distribution (keras-io's mistake) would put about a third of them below 0 or above 1.
    assert np.array_equal(weights, losses.interpolation_weights(20_000, seed=(3, 4)).numpy().ravel())


def test_feature_matching_compares_the_batch_means():
    real = tf.constant([[1.0, 0.0], [3.0, 2.0]])  # Mean (2, 1).
    fake = tf.constant([[0.0, 1.0], [0.0, 3.0]])  # Mean (0, 2).
    assert float(losses.feature_matching_loss(real, fake)) == pytest.approx((4.0 + 1.0) / 2)
    assert float(losses.feature_matching_loss(real, real[::-1])) == 0.0  # The order within a batch does not count.


def test_class_distribution_kl():
    sure = 50.0
    real = tf.constant([[sure, 0.0], [0.0, sure]])  # Mix (1/2, 1/2).
    fake = tf.constant([[sure, 0.0], [sure, 0.0], [sure, 0.0], [0.0, sure]])  # Mix (3/4, 1/4).
    expected = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
    assert float(losses.class_distribution_kl(real, fake)) == pytest.approx(expected, rel=1e-4)
    assert float(losses.class_distribution_kl(real, real)) == pytest.approx(0.0, abs=1e-6)

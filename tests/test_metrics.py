"""The metrics against hand-computed values: pure functions of numpy arrays."""

import numpy as np
import pytest

from gan_tf import metrics


def test_uniform_predictions_score_one():
    assert metrics.classifier_score(np.full((50, 10), 0.1)) == pytest.approx(1.0, abs=1e-9)


def test_ten_separated_balanced_classes_score_ten():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert metrics.classifier_score(one_hot) == pytest.approx(10.0, rel=1e-6)


def test_one_class_only_scores_one_even_when_confident():
    assert metrics.classifier_score(np.eye(10)[np.zeros(30, int)]) == pytest.approx(1.0, rel=1e-6)


def test_two_balanced_classes_score_two():
    assert metrics.classifier_score(np.eye(10)[np.arange(40) % 2]) == pytest.approx(2.0, rel=1e-6)


def test_the_score_of_a_judge_of_three_classes():
    # Each picture sure of its class, with shares 1/2, 1/4, 1/4: exp(KL) = exp(-sum p log p) = exp(1.5 log 2).
    probabilities = np.eye(3)[[0, 0, 1, 2]]
    assert metrics.classifier_score(probabilities) == pytest.approx(2**1.5, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 6))
    assert metrics.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_grows_with_the_squared_mean_shift():
    features = np.random.default_rng(1).normal(size=(400, 5))
    shift = np.array([3.0, 0.0, -1.0, 0.5, 2.0])
    # Same covariance, so the trace term vanishes and only |shift|^2 = 9 + 1 + 0.25 + 4 remains.
    assert metrics.frechet_distance(features, features + shift) == pytest.approx(14.25, rel=1e-8)


def test_frechet_distance_of_two_gaussians_by_formula():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20_000, 2)) * [1.0, 2.0]
    b = rng.normal(size=(20_000, 2)) * [3.0, 2.0]
    # Diagonal covariances: (1 - 3)^2 + (2 - 2)^2 summed over the standard deviations = 4.
    assert metrics.frechet_distance(a, b) == pytest.approx(4.0, abs=0.15)


def test_class_shares_and_confidence():
    probabilities = np.array([[0.95] + [0.05 / 9] * 9, [0.5, 0.5] + [0.0] * 8, [0.0] * 9 + [1.0], [0.0] * 9 + [1.0]])
    np.testing.assert_allclose(metrics.class_shares(probabilities), [0.5] + [0.0] * 8 + [0.5])
    assert metrics.confident_share(probabilities) == pytest.approx(0.75)
    # Top guesses 0, 0 (argmax of a tie is the first), 9, 9; asked 0, 1, 9, 3: two of four agree.
    assert metrics.asked_class_share(probabilities, [0, 1, 9, 3]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "probabilities, shares",
    [
        # A judge of two classes: two pictures of each, so each class has half, and the least share is 1/2.
        ([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]], [0.5, 0.5]),
        # Of three: guesses 0, 2, 2, 2 and no 1.
        ([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.0, 0.1, 0.9]], [0.25, 0.0, 0.75]),
    ],
)
def test_class_shares_count_the_judges_own_classes(probabilities, shares):
    found = metrics.class_shares(np.array(probabilities))
    assert found.shape == (len(shares),)
    np.testing.assert_allclose(found, shares)


def test_nearest_neighbour_accuracy_by_hand():
    train_features = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    train_labels = np.array([0, 1, 2])
    test_features = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 9.0], [8.0, 0.0]])
    assert metrics.nearest_neighbour_accuracy(train_features, train_labels, test_features, [0, 1, 2, 2]) == 0.75


def test_nearest_finds_each_querys_nearest_reference_and_its_distance():
    references = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    queries = np.array([[3.0, 0.0], [3.0, 5.0], [9.0, 0.0], [0.0, 0.0]])
    indices, distances = metrics.nearest(queries, references, chunk=3)  # Two chunks.
    assert indices.tolist() == [0, 1, 2, 0]
    np.testing.assert_allclose(distances, [3.0, 1.0, 1.0, 0.0], atol=1e-6)


def test_memorisation_compares_generated_distances_with_new_real_ones():
    real = np.arange(1, 101, dtype=np.float64)  # 1, 2, ..., 100: the 1% quantile is 1.99.
    copies = np.array([0.0, 0.5, 1.0, 1.5, 5.0, 50.0, 60.0, 70.0])  # Four nearer than 1.99.
    figures = metrics.memorisation(copies, real)
    assert figures["generated_median"] == pytest.approx(3.25)  # The mean of 1.5 and 5.0.
    assert figures["real_median"] == pytest.approx(50.5)
    assert figures["copy_share_generated"] == pytest.approx(0.5)
    assert figures["copy_share_real"] == pytest.approx(0.01)  # Only the 1.

"""The metrics against hand-computed values, and the judge's failure modes."""

import dataclasses

import numpy as np
import pytest

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import errors
from gan_tf import evaluate
from gan_tf import generate
from gan_tf import train
from tests.conftest import synthetic_digits


def test_uniform_predictions_score_one():
    assert evaluate.mnist_score(np.full((50, 10), 0.1)) == pytest.approx(1.0, abs=1e-9)


def test_ten_separated_balanced_classes_score_ten():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert evaluate.mnist_score(one_hot) == pytest.approx(10.0, rel=1e-6)


def test_one_class_only_scores_one_even_when_confident():
    assert evaluate.mnist_score(np.eye(10)[np.zeros(30, int)]) == pytest.approx(1.0, rel=1e-6)


def test_two_balanced_classes_score_two():
    assert evaluate.mnist_score(np.eye(10)[np.arange(40) % 2]) == pytest.approx(2.0, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 6))
    assert evaluate.frechet_distance(features, features) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_grows_with_the_squared_mean_shift():
    features = np.random.default_rng(1).normal(size=(400, 5))
    shift = np.array([3.0, 0.0, -1.0, 0.5, 2.0])
    # Same covariance, so the trace term vanishes and only |shift|^2 = 9 + 1 + 0.25 + 4 remains.
    assert evaluate.frechet_distance(features, features + shift) == pytest.approx(14.25, rel=1e-8)


def test_frechet_distance_of_two_gaussians_by_formula():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20_000, 2)) * [1.0, 2.0]
    b = rng.normal(size=(20_000, 2)) * [3.0, 2.0]
    # Diagonal covariances: (1 - 3)^2 + (2 - 2)^2 summed over the standard deviations = 4.
    assert evaluate.frechet_distance(a, b) == pytest.approx(4.0, abs=0.15)


def test_class_shares_and_confidence():
    probabilities = np.array([[0.95] + [0.05 / 9] * 9, [0.5, 0.5] + [0.0] * 8, [0.0] * 9 + [1.0], [0.0] * 9 + [1.0]])
    np.testing.assert_allclose(evaluate.class_shares(probabilities), [0.5] + [0.0] * 8 + [0.5])
    assert evaluate.confident_share(probabilities) == pytest.approx(0.75)
    # Top guesses 0, 0 (argmax of a tie is the first), 9, 9; asked 0, 1, 9, 3: two of four agree.
    assert evaluate.asked_digit_share(probabilities, [0, 1, 9, 3]) == pytest.approx(0.5)


def test_nearest_neighbour_accuracy_by_hand():
    train_features = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    train_labels = np.array([0, 1, 2])
    test_features = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 9.0], [8.0, 0.0]])
    assert evaluate.nearest_neighbour_accuracy(train_features, train_labels, test_features, [0, 1, 2, 2]) == 0.75


def test_a_judge_that_cannot_reach_99_percent_is_refused(tmp_path):
    with pytest.raises(errors.UserError, match="judge reached only"):
        evaluate.load_or_train_judge(tmp_path, synthetic_digits(40, 1), synthetic_digits(20, 2), log=lambda line: None)
    assert not (tmp_path / evaluate.JUDGE_FILENAME).exists()


def test_a_saved_judge_is_reused_and_a_corrupt_one_refused(tmp_path):
    evaluate.build_judge().save(tmp_path / evaluate.JUDGE_FILENAME)
    judge, accuracy = evaluate.load_or_train_judge(tmp_path, synthetic_digits(40, 1), synthetic_digits(20, 2))
    assert judge.output_shape == (None, 10) and 0 <= accuracy <= 1
    (tmp_path / evaluate.JUDGE_FILENAME).write_bytes(b"not a keras file")
    with pytest.raises(errors.UserError, match="cannot be loaded.*delete it"):
        evaluate.load_or_train_judge(tmp_path, synthetic_digits(40, 1), synthetic_digits(20, 2))


def test_evaluate_reports_every_figure(tmp_path):
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=1)
    train.train(config, synthetic_digits(40), tmp_path / "c", tmp_path / "o", log=lambda line: None, progress=False)
    config, generator, encoder = generate.restore_models(tmp_path / "c")
    results = evaluate.evaluate(config, generator, encoder, evaluate.build_judge(), synthetic_digits(40, 1),
                                synthetic_digits(20, 2), num=30, seed=0)
    for kind in ("generated", "real"):
        assert 1.0 <= results[kind]["mnist_score"] <= 10.0
        assert sum(results[kind]["class_shares"]) == pytest.approx(1.0, abs=1e-3)
        assert results[kind]["frechet_distance"] >= -1e-6
    assert 0 <= results["encoder"]["nearest_neighbour_accuracy"] <= 1
    assert 0 <= results["encoder"]["reconstruction_error"] <= 4
    # A conditional run was asked for 0..9 in turn; for real digits the "asked" digit is the label.
    assert 0 <= results["generated"]["asked_digit_share"] <= 1 and 0 <= results["encoder"]["digit_accuracy"] <= 1
    assert "judged the asked digit" in evaluate.report(results, 0.5)
    assert "MNIST score" in evaluate.report(results, 0.5)

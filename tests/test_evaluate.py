"""The judge's failure modes, and a run's figures: which numbers come from which model outputs."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import metrics
from gan_tf import mnist
from gan_tf import models
from gan_tf.runtime import errors
from tests.conftest import synthetic_digits


def test_a_judge_that_cannot_reach_99_percent_trains_longer_then_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate, "JUDGE_EXAMPLES", 0)  # Three epochs at least, as on MNIST's 60,000 digits.
    lines = []
    with pytest.raises(errors.UserError, match="judge reached only"):
        evaluate.load_or_train_judge(
            tmp_path, config_lib.Config(), synthetic_digits(40, 1), synthetic_digits(20, 2), log=lines.append
        )
    assert lines[0].startswith("judge: trained for 6 epochs")  # 3, then one at a time up to 6.
    assert not (tmp_path / mnist.DIGITS.judge_file).exists()


def test_a_saved_judge_is_reused_and_a_corrupt_one_refused(tmp_path):
    evaluate.build_judge().save(tmp_path / mnist.DIGITS.judge_file)
    test_digits = synthetic_digits(20, 2)
    judge, accuracy = evaluate.load_or_train_judge(tmp_path, config_lib.Config(), synthetic_digits(40, 1), test_digits)
    probabilities, _ = evaluate.judge_outputs(judge, test_digits.images)  # Measured now, on the test digits.
    assert accuracy == pytest.approx(metrics.asked_class_share(probabilities, test_digits.labels))
    (tmp_path / mnist.DIGITS.judge_file).write_bytes(b"not a keras file")
    with pytest.raises(errors.UserError, match="cannot be loaded.*delete it"):
        evaluate.load_or_train_judge(tmp_path, config_lib.Config(), synthetic_digits(40, 1), synthetic_digits(20, 2))


class FakeGenerator:
    """A generator whose every picture of class c has all its pixels 20 c: what it was asked for can be read off
    its brightness."""

    def __init__(self, config):
        self.config = config

    def __call__(self, inputs, training=False):
        labels = np.argmax(np.asarray(inputs)[:, self.config.latent_dim :], axis=1)
        return tf.constant(np.repeat(labels * 20 / 127.5 - 1, 28 * 28).reshape(-1, 28, 28, 1), tf.float32)


def brightness_judge_outputs(judge, images, batch_size=1000):
    """A judge sure that a picture of brightness 20 c is of class c, whose features are (c, 0)."""
    labels = np.round(np.asarray(images, np.float64).mean(axis=(1, 2, 3)) / 20).astype(int)
    return np.eye(10)[labels], np.stack([labels, np.zeros_like(labels)], axis=1).astype(np.float64)


def test_evaluate_gives_the_figures_of_the_judges_view_by_hand(tiny_run, monkeypatch):
    """Pictures whose class the judge reads off their brightness: every figure computed by hand."""
    monkeypatch.setattr(evaluate, "judge_outputs", brightness_judge_outputs)
    config = tiny_run[0]
    test = brightness_digits(4, 0)._replace(labels=np.array([0, 0, 1, 2], np.int32))
    test = test._replace(images=np.repeat(test.labels * 20, 28 * 28).reshape(4, 28, 28, 1).astype(np.uint8))
    train = brightness_digits(40, 1)._replace(images=np.full((40, 28, 28, 1), 60, np.uint8))  # All of class 3.
    results = evaluate.evaluate(config, FakeGenerator(config), None, None, train, test, num=30, seed=0)

    # Generated: the classes 0..9 in turn, three pictures each, each read as asked with certainty.
    generated = results["generated"]
    assert generated["score"] == pytest.approx(10.0) and generated["class_shares"] == [0.1] * 10
    assert generated["asked_class_share"] == 1.0 and generated["confident_share"] == 1.0
    # Fréchet distance in the features' first dimension (the second is always 0): the classes 0..9 against the
    # test pictures' 0, 0, 1, 2. Means 4.5 and 0.75; variances (ddof 1) 8.25 * 30 / 29 and 0.9166...
    variance_generated, variance_test = np.var(np.arange(10).repeat(3), ddof=1), np.var([0, 0, 1, 2], ddof=1)
    expected = (4.5 - 0.75) ** 2 + variance_generated + variance_test - 2 * np.sqrt(variance_generated * variance_test)
    assert generated["frechet_distance"] == pytest.approx(expected)

    # Real: the test pictures, shares 1/2, 1/4, 1/4: exp(entropy) = 2^1.5; against 30 training pictures of class 3.
    real = results["real"]
    assert real["score"] == pytest.approx(2**1.5) and real["asked_class_share"] == 1.0
    assert real["class_shares"] == [0.5, 0.25, 0.25] + [0.0] * 7
    assert real["frechet_distance"] == pytest.approx((0.75 - 3) ** 2 + variance_test)

    # Memorisation: the distance of a picture of brightness b to the training pictures' 60 is 28 |b - 60| / 255.
    memorisation = results["memorisation"]
    # Generated: |b - 60| is 0 three times, 20, 40 and 60 six times each, 80, 100 and 120 three times each:
    # the 15th and 16th of the 30 are 40 and 60. Real: 60, 60, 40 and 20.
    assert memorisation["generated_median"] == pytest.approx(28 * 50 / 255)
    assert memorisation["real_median"] == pytest.approx(28 * 50 / 255)
    # Nearer than the real distances' 1% quantile, 20.6 (x 28 / 255): the classes 3 (at 0), 2 and 4 (at 20).
    assert memorisation["copy_share_generated"] == pytest.approx(0.3)
    assert results["encoder"] is None

    report = evaluate.report(results, 0.5, config)
    assert f"{'MNIST score (max 10)':28}{10:12.3f}{2**1.5:12.3f}" in report
    assert f"{'share of 0':28}{0.1:12.3f}{0.5:12.3f}" in report and "encoder: none" in report
    # During training (headline_of_state) memorisation is left out.
    figures = evaluate.evaluate(config, FakeGenerator(config), None, None, train, test, 30, 0, memorisation=False)
    assert "memorisation" not in figures
    headline = evaluate.headline(figures)
    assert headline["min_class_share"] == headline["max_class_share"] == 0.1 and np.isnan(headline["class_accuracy"])


class FakeEncoder:
    """An encoder whose output for a digit is chosen by its brightness, which tells its label (see below)."""

    def __init__(self, config, informative_part):
        self.config, self.informative_part = config, informative_part

    def __call__(self, images, training=False):
        labels = np.round((images.numpy().mean(axis=(1, 2, 3)) + 1) * 127.5 / 20).astype(int)
        one_hot = np.eye(10, dtype=np.float32)[labels] * 10
        latent = np.zeros((len(labels), self.config.latent_dim), np.float32)
        if self.informative_part == "latent":
            latent[:, :10], one_hot = one_hot, np.zeros_like(one_hot)
        return tf.constant(np.concatenate([latent, one_hot], axis=1))


def brightness_digits(count, seed):
    """data.Pictures whose every pixel is 20 * label: the label can be read off the brightness."""
    labels = np.random.default_rng(seed).integers(0, 10, count).astype(np.int32)
    images = np.repeat(labels * 20, 28 * 28).reshape(count, 28, 28, 1).astype(np.uint8)
    return data.Pictures(images, labels, mnist.DIGIT_NAMES, "brightness")


def test_the_encoders_nearest_neighbour_figure_reads_the_latent_vectors_alone(tiny_run):
    config = dataclasses.replace(tiny_run[0], latent_dim=16)
    generator = models.build_generator(config)
    train_digits, test_digits = brightness_digits(200, 1), brightness_digits(100, 2)

    # The labels are in the digit logits only: z is the same for every digit, so its nearest
    # neighbour is the first training digit, whatever the label.
    figures = evaluate.encoder_metrics(
        config, generator, FakeEncoder(config, "class logits"), train_digits, test_digits
    )
    assert figures["latent_nearest_neighbour_accuracy"] == pytest.approx(
        float(np.mean(test_digits.labels == train_digits.labels[0]))
    )
    assert figures["class_accuracy"] == 1.0

    # The labels are in z only: 1-NN on z is right every time, and the logits (all 0) always say 0.
    figures = evaluate.encoder_metrics(config, generator, FakeEncoder(config, "latent"), train_digits, test_digits)
    assert figures["latent_nearest_neighbour_accuracy"] == 1.0
    assert figures["class_accuracy"] == pytest.approx(float(np.mean(test_digits.labels == 0)))


@pytest.mark.parametrize(
    "guesses, least, most",
    [([0, 1, 1, 0, 1, 0], 0.5, 0.5), ([0, 1, 2, 2], 0.25, 0.5)],  # A judge of two classes, then of three.
)
def test_the_class_shares_of_a_judge_of_two_or_three_classes(monkeypatch, guesses, least, most):
    classes = max(guesses) + 1
    monkeypatch.setattr(evaluate, "judge_outputs", lambda judge, images: (np.eye(classes)[guesses], None))
    monkeypatch.setattr(evaluate.metrics, "frechet_distance", lambda *features: 0.0)
    figures = evaluate.judge_figures(None, np.zeros((len(guesses), 4, 4, 3), np.uint8), None)
    assert len(figures["class_shares"]) == classes
    headline = evaluate.generated_figures(figures)
    assert (headline["min_class_share"], headline["max_class_share"]) == (least, most)

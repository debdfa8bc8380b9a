"""The judge's failure modes, and a run's figures: which numbers come from which model outputs."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import generate
from gan_tf import metrics
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
    assert not (tmp_path / evaluate.JUDGE_FILENAME).exists()


def test_a_saved_judge_is_reused_and_a_corrupt_one_refused(tmp_path):
    evaluate.build_judge().save(tmp_path / evaluate.JUDGE_FILENAME)
    test_digits = synthetic_digits(20, 2)
    judge, accuracy = evaluate.load_or_train_judge(tmp_path, config_lib.Config(), synthetic_digits(40, 1), test_digits)
    probabilities, _ = evaluate.judge_outputs(judge, test_digits.images)  # Measured now, on the test digits.
    assert accuracy == pytest.approx(metrics.asked_digit_share(probabilities, test_digits.labels))
    (tmp_path / evaluate.JUDGE_FILENAME).write_bytes(b"not a keras file")
    with pytest.raises(errors.UserError, match="cannot be loaded.*delete it"):
        evaluate.load_or_train_judge(tmp_path, config_lib.Config(), synthetic_digits(40, 1), synthetic_digits(20, 2))


def test_evaluate_measures_the_real_digits_with_the_judge(tiny_run):
    """The "real" column is the judge's view of the test digits, and a conditional run's encoder reads digits."""
    config, root = tiny_run
    config, generator, encoder, _ = generate.restore_models(root / "checkpoints")
    judge, train_digits, test_digits = evaluate.build_judge(), synthetic_digits(40, 1), synthetic_digits(20, 2)
    results = evaluate.evaluate(config, generator, encoder, judge, train_digits, test_digits, num=30, seed=0)
    probabilities, _ = evaluate.judge_outputs(judge, test_digits.images)
    assert results["real"]["mnist_score"] == pytest.approx(metrics.mnist_score(probabilities))
    assert results["real"]["asked_digit_share"] == pytest.approx(
        metrics.asked_digit_share(probabilities, test_digits.labels)
    )
    assert results["generated"]["class_shares"] == pytest.approx(
        metrics.class_shares(
            evaluate.judge_outputs(
                judge, generate.generate_digits(generator, generate.new_inputs(config, 30, 0, stream=2))
            )[0]
        )
        .round(4)
        .tolist()
    )
    _, digit_logits = evaluate.encode_digits(config, encoder, test_digits.images)
    assert results["encoder"]["digit_accuracy"] == pytest.approx(
        float(np.mean(np.argmax(digit_logits, axis=1) == test_digits.labels))
    )
    report = evaluate.report(results, 0.5)
    assert "latent 1-NN accuracy (z alone)" in report and "reads the digit right (digit logits)" in report
    # Memorisation: the distances of the 30 digits and of the 20 test digits to their nearest training digit.
    generated = generate.generate_digits(generator, generate.new_inputs(config, 30, 0, stream=2))
    _, generated_distances = metrics.nearest(
        generated.reshape(30, -1) / 255.0, train_digits.images.reshape(40, -1) / 255.0
    )
    _, real_distances = metrics.nearest(
        test_digits.images.reshape(20, -1) / 255.0, train_digits.images.reshape(40, -1) / 255.0
    )
    assert results["memorisation"] == pytest.approx(metrics.memorisation(generated_distances, real_distances))
    assert (
        f"{'nearest training digit':28}{np.median(generated_distances):12.3f}{np.median(real_distances):12.3f}"
        in report
    )
    # During training (headline_of_state) it is left out.
    assert "memorisation" not in evaluate.evaluate(
        config, generator, encoder, judge, train_digits, test_digits, num=30, seed=0, memorisation=False
    )


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
    return data.Pictures(images, labels, data.DIGIT_NAMES, "brightness")


def test_the_encoders_nearest_neighbour_figure_reads_the_latent_vectors_alone(tiny_run):
    config = dataclasses.replace(tiny_run[0], latent_dim=16)
    generator = models.build_generator(config)
    train_digits, test_digits = brightness_digits(200, 1), brightness_digits(100, 2)

    # The labels are in the digit logits only: z is the same for every digit, so its nearest
    # neighbour is the first training digit, whatever the label.
    figures = evaluate.encoder_metrics(
        config, generator, FakeEncoder(config, "digit logits"), train_digits, test_digits
    )
    assert figures["latent_nearest_neighbour_accuracy"] == pytest.approx(
        float(np.mean(test_digits.labels == train_digits.labels[0]))
    )
    assert figures["digit_accuracy"] == 1.0

    # The labels are in z only: 1-NN on z is right every time, and the logits (all 0) always say 0.
    figures = evaluate.encoder_metrics(config, generator, FakeEncoder(config, "latent"), train_digits, test_digits)
    assert figures["latent_nearest_neighbour_accuracy"] == 1.0
    assert figures["digit_accuracy"] == pytest.approx(float(np.mean(test_digits.labels == 0)))

"""Measured sample quality: the judge, a classifier this project trains itself, and a run's figures.

The judge is a small CNN trained on the MNIST training split (never downloaded). Its softmax gives
p(y|x) for the MNIST score and the class shares; its last hidden layer gives the features for the
Fréchet distance (the figures themselves are pure functions in metrics.py). The encoder is judged by
a 1-nearest-neighbour classifier on its latent vectors z alone (the digit logits of a conditional
run are left out: they were trained with labels), by how often a conditional run's encoder reads the
digit right, and by how closely G(E(x)) redraws real test digits.
"""

import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from gan_tf import data
from gan_tf import generate
from gan_tf import losses
from gan_tf import metrics
from gan_tf import models
from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import files

JUDGE_FILENAME = "judge.keras"
JUDGE_MIN_ACCURACY = 0.99  # Below this the judge's verdicts would say more about the judge than the digits.


# --- The judge. ---


def build_judge():
    """Image (None, 28, 28, 1) in [-1, 1] -> class logits (None, 10). The layer named "features" is
    the 128-dimensional representation the Fréchet distance compares."""
    model = keras.Sequential(name="judge")
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(keras.layers.Conv2D(32, 3, activation="relu"))
    model.add(keras.layers.MaxPooling2D())
    model.add(keras.layers.Conv2D(64, 3, activation="relu"))
    model.add(keras.layers.MaxPooling2D())
    assert model.output_shape == (None, 5, 5, 64)
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(128, activation="relu", name="features"))
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Dense(10))
    assert model.output_shape == (None, 10)
    return model


def train_judge(train, test, epochs=3, max_epochs=6, log=print):
    """Trains a judge on the training split and measures it on the test split.

    `epochs` epochs, then one more at a time while its test accuracy is below JUDGE_MIN_ACCURACY, up
    to `max_epochs`: the same seed gives a judge a few hundredths of a percent apart on different
    processors (their float sums differ), and three epochs land just above 99% or just below it.

    Args:
      train, test: data.Digits.
    Returns:
      (judge, test accuracy).
    """
    keras.utils.set_random_seed(0)
    judge = build_judge()
    judge.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    train_images, test_images = data.to_unit_range(train.images).numpy(), data.to_unit_range(test.images).numpy()
    judge.fit(train_images, train.labels, batch_size=128, epochs=epochs, verbose=0)
    _, accuracy = judge.evaluate(test_images, test.labels, batch_size=1000, verbose=0)
    while accuracy < JUDGE_MIN_ACCURACY and epochs < max_epochs:
        judge.fit(train_images, train.labels, batch_size=128, epochs=1, verbose=0)
        _, accuracy = judge.evaluate(test_images, test.labels, batch_size=1000, verbose=0)
        epochs += 1
    log(f"judge: trained for {epochs} epoch{'' if epochs == 1 else 's'}, test accuracy {accuracy:.4f}")
    return judge, float(accuracy)


def load_or_train_judge(directory, train, test, log=print):
    """The judge saved in `directory`, or a new one trained (and saved there) when there is none.

    Returns:
      (judge, test accuracy measured now on `test`).
    Raises:
      UserError: when the saved judge cannot be loaded, or a new one misses JUDGE_MIN_ACCURACY.
    """
    path = pathlib.Path(directory) / JUDGE_FILENAME
    if path.exists():
        try:
            judge = keras.saving.load_model(path, safe_mode=True)  # safe_mode: never run code from the file.
        except Exception as error:  # Keras raises many kinds of error for a damaged file.
            raise errors.UserError(
                f"the judge {path} cannot be loaded ({type(error).__name__}): delete it and a new one will be trained."
            ) from None
        accuracy = float(
            np.mean(
                np.argmax(judge.predict(data.to_unit_range(test.images).numpy(), batch_size=1000, verbose=0), axis=1)
                == test.labels
            )
        )
        return judge, accuracy
    checkpoints.check_directory(path.parent)  # Before a minute of training, not after.
    judge, accuracy = train_judge(train, test, log=log)
    if accuracy < JUDGE_MIN_ACCURACY:
        raise errors.UserError(
            f"the judge reached only {accuracy:.4f} test accuracy (at least {JUDGE_MIN_ACCURACY} "
            f"is needed): is the training data MNIST?"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    judge.save(path)
    return judge, accuracy


def judge_outputs(judge, images, batch_size=1000):
    """The judge's view of uint8 digits (N, 28, 28): (probabilities (N, 10), features (N, 128))."""
    features_model = keras.Model(judge.inputs, [judge.outputs[0], judge.get_layer("features").output])
    logits, features = features_model.predict(data.to_unit_range(images).numpy(), batch_size=batch_size, verbose=0)
    return tf.nn.softmax(logits).numpy(), features


# --- Putting it together. ---


def digit_metrics(judge, digits, reference_features, asked_digits=None):
    """The judge's figures for a set of uint8 digits (N, 28, 28), against real test features.

    Args:
      asked_digits: int (N,), the digit each image was asked to be (its label, for real digits), or
        None: then "asked_digit_share" is None.
    """
    probabilities, features = judge_outputs(judge, digits)
    return {
        "mnist_score": metrics.mnist_score(probabilities),
        "frechet_distance": metrics.frechet_distance(features, reference_features),
        "confident_share": metrics.confident_share(probabilities),
        "asked_digit_share": None if asked_digits is None else metrics.asked_digit_share(probabilities, asked_digits),
        "class_shares": [round(float(share), 4) for share in metrics.class_shares(probabilities)],
    }


def encode_digits(config, encoder, images, batch_size=1000):
    """E(x) of uint8 digits (N, 28, 28): (latent vectors float32 (N, latent_dim), label logits (N, L) or None)."""
    codes = np.concatenate(
        [
            encoder(data.to_unit_range(images[start : start + batch_size]), training=False).numpy()
            for start in range(0, len(images), batch_size)
        ]
    )
    return models.encoder_outputs(config, codes)


def encoder_metrics(config, generator, encoder, train, test):
    """The encoder's figures on the test split.

    Returns:
      {"latent_nearest_neighbour_accuracy": 1-NN accuracy on the latent vectors z alone, training split
         to test split: how well z, learned without labels, separates the digits;
       "digit_accuracy": in a conditional run, how often the encoder's digit logits name a test digit
         right (a classifier trained with labels), else None;
       "reconstruction_error": the mean squared error of G(E(x)) against x, in [-1, 1] units}.
    """
    train_latents, _ = encode_digits(config, encoder, train.images)
    test_latents, label_logits = encode_digits(config, encoder, test.images)
    read_labels = None if label_logits is None else np.argmax(label_logits, axis=1)  # Digits, or clusters.
    errors_sum = 0.0
    for start in range(0, len(test.images), 1000):
        real = data.to_unit_range(test.images[start : start + 1000])
        inputs = models.generator_inputs(
            config,
            test_latents[start : start + 1000],
            None if read_labels is None else read_labels[start : start + 1000],
        )
        redrawn = generator(inputs, training=False)
        errors_sum += float(tf.reduce_sum(losses.reconstruction_loss(real, redrawn)))
    return {
        "latent_nearest_neighbour_accuracy": metrics.nearest_neighbour_accuracy(
            train_latents, train.labels, test_latents, test.labels
        ),
        "digit_accuracy": float(np.mean(read_labels == test.labels)) if models.conditional(config) else None,
        "reconstruction_error": errors_sum / len(test.images),
    }


def write_json(results, path):
    files.write_text(path, json.dumps(results, indent=2) + "\n")


def evaluate(config, generator, encoder, judge, train, test, num, seed, label_shares=None, memorisation=True):
    """All the figures for a trained run, beside the same figures for real digits.

    A conditional run is asked for the digits 0..9 in turn, so each is a tenth of the request; the
    class shares then say how often the judge reads what was asked, and "asked_digit_share" says it directly.

    Args:
      config: the run's Config; generator, encoder: its models; encoder None for a run trained without one.
      judge: the classifier from load_or_train_judge.
      train, test: data.Digits of the two MNIST splits.
      num: how many digits to generate (and real training digits to compare the test digits with).
      seed: seeds the latent vectors and the choice of training digits.
      label_shares: how often the generator draws each cluster, for a run with --clusters.
      memorisation: also measure how near the digits come to the training digits (memorisation_figures).
    Returns:
      A dict, ready for JSON: "generated" and "real" (the judge's figures), "encoder", and with
      `memorisation`, "memorisation". "real" holds the test digits' MNIST score, shares and
      confidence, and the Fréchet distance between `num` training digits and the test digits.
    """
    generated = generate.generate_digits(
        generator, generate.new_inputs(config, num, seed, stream=2, label_shares=label_shares)
    )
    asked_digits = generate.asked_digits(num) if models.conditional(config) else None
    _, test_features = judge_outputs(judge, test.images)
    chosen = np.random.default_rng(seed).choice(len(train.images), size=min(num, len(train.images)), replace=False)
    _, train_features = judge_outputs(judge, train.images[chosen])
    real = digit_metrics(judge, test.images, train_features, asked_digits=test.labels)
    results = {
        "num": num,
        "seed": seed,
        "generated": digit_metrics(judge, generated, test_features, asked_digits),
        "real": real,
        "encoder": None if encoder is None else encoder_metrics(config, generator, encoder, train, test),
    }
    if memorisation:
        results["memorisation"] = memorisation_figures(generated, train.images, test.images, seed)
    return results


MEMORISATION_SAMPLES = 2000  # Generated and held-out digits each compared with every training digit.


def memorisation_figures(generated, train_images, test_images, seed):
    """metrics.memorisation of MEMORISATION_SAMPLES generated digits and as many test digits (chosen by
    `seed`): their Euclidean distances to the nearest training digit, in pixels scaled to [0, 1]."""

    def flat(images):
        return images.reshape(len(images), -1).astype(np.float32) / 255.0

    chosen = np.random.default_rng(seed).choice(
        len(test_images), size=min(MEMORISATION_SAMPLES, len(test_images)), replace=False
    )
    train_pixels = flat(train_images)
    _, generated_distances = metrics.nearest(flat(generated[:MEMORISATION_SAMPLES]), train_pixels)
    _, real_distances = metrics.nearest(flat(test_images[chosen]), train_pixels)
    return metrics.memorisation(generated_distances, real_distances)


def report(results, judge_accuracy):
    """The figures as a small table, one line each."""
    generated, real = results["generated"], results["real"]
    lines = [
        f"judge: test accuracy {judge_accuracy:.4f}",
        f"{'':28}{'generated':>12}{'real':>12}",
        f"{'MNIST score (max 10)':28}{generated['mnist_score']:12.3f}{real['mnist_score']:12.3f}",
        f"{'Frechet distance':28}{generated['frechet_distance']:12.3f}{real['frechet_distance']:12.3f}",
        f"{'confident (p > 0.9)':28}{generated['confident_share']:12.3f}{real['confident_share']:12.3f}",
    ]
    if generated["asked_digit_share"] is not None:  # Real digits: the judge's accuracy on their labels.
        lines.append(
            f"{'judged the asked digit':28}{generated['asked_digit_share']:12.3f}{real['asked_digit_share']:12.3f}"
        )
    for digit in range(10):
        lines.append(
            f"{f'share of {digit}':28}{generated['class_shares'][digit]:12.3f}{real['class_shares'][digit]:12.3f}"
        )
    if "memorisation" in results:  # New real digits are the yardstick: a GAN that copies comes much nearer.
        copied = results["memorisation"]
        lines.append(
            f"{'nearest training digit':28}{copied['generated_median']:12.3f}{copied['real_median']:12.3f}"
            "          (median distance)"
        )
        lines.append(
            f"{'nearer than 99% of real':28}{copied['copy_share_generated']:12.3f}{copied['copy_share_real']:12.3f}"
        )
    encoder = results["encoder"]
    if encoder is None:
        lines.append("encoder: none (the run was trained with --encoder off)")
    else:
        lines.append(f"encoder: latent 1-NN accuracy (z alone) {encoder['latent_nearest_neighbour_accuracy']:.4f}")
        if encoder["digit_accuracy"] is not None:
            lines.append(f"encoder: reads the digit right (digit logits) {encoder['digit_accuracy']:.4f}")
        lines.append(f"encoder: reconstruction error of G(E(x)) {encoder['reconstruction_error']:.4f}")
    return "\n".join(lines)


def headline_of_state(config, state, judge, train, test, num):
    """headline() of a run while it trains (train.TrainingState), with its picture-drawing generator."""
    return headline(
        evaluate(
            config,
            state.drawing_generator(),
            state.encoder,
            judge,
            train,
            test,
            num,
            config.seed,
            state.label_shares(),
            memorisation=False,  # Measured by make evaluate, not after every epoch.
        )
    )


def headline(results):
    """The figures that are followed during training, as a flat dict of floats (summaries.CSV_COLUMNS)."""
    generated = results["generated"]
    encoder = results["encoder"] or {
        "latent_nearest_neighbour_accuracy": float("nan"),
        "digit_accuracy": None,
        "reconstruction_error": float("nan"),
    }
    asked = generated["asked_digit_share"]
    return {
        "mnist_score": generated["mnist_score"],
        "frechet_distance": generated["frechet_distance"],
        "confident_share": generated["confident_share"],
        "asked_digit_share": float("nan") if asked is None else asked,
        "min_class_share": min(generated["class_shares"]),
        "max_class_share": max(generated["class_shares"]),
        "latent_nearest_neighbour_accuracy": encoder["latent_nearest_neighbour_accuracy"],
        "digit_accuracy": float("nan") if encoder["digit_accuracy"] is None else encoder["digit_accuracy"],
        "reconstruction_error": encoder["reconstruction_error"],
    }

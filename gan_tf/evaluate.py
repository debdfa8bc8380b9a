"""Measured sample quality: the judge, a classifier this project trains itself, and a run's figures.

The judge is a small CNN trained on the run's own training pictures (never downloaded): on MNIST, a
digit classifier. Its softmax gives p(y|x) for the score (the MNIST score, on digits) and the class
shares; its last hidden layer gives the features for the Fréchet distance (the figures themselves are
pure functions in metrics.py). Pictures without classes get a judge trained without labels: it
learns which of four rotations a picture was turned by (Gidaris et al. 2018), which it can only tell
by knowing what the pictures look like, and its features serve the Fréchet distance alone. The
encoder is judged by a 1-nearest-neighbour classifier on its latent vectors z alone (the class
logits of a conditional run are left out: they were trained with labels), by how often a
conditional run's encoder reads the class right, and by how closely G(E(x)) redraws real test pictures.
"""

import functools
import hashlib
import json
import math
import pathlib

import keras
import numpy as np
import tensorflow as tf

from gan_tf import data
from gan_tf import generate
from gan_tf import losses
from gan_tf import metrics
from gan_tf import mnist
from gan_tf import models
from gan_tf import train as train_lib
from gan_tf.runtime import errors
from gan_tf.runtime import files

ROTATIONS = 4  # A judge of pictures without classes tells which of 0, 90, 180 and 270 degrees they were turned by.
JUDGE_EXAMPLES = 150_000  # A judge sees at least this many examples (3 epochs of MNIST and of CIFAR-10) ...
JUDGE_MAX_EPOCHS = 60  # ... in at most this many epochs.


# --- The judge. ---


def build_judge(image_shape=(28, 28, 1), num_classes=10):
    """Image (None, H, W, C) in [-1, 1] -> class logits (None, num_classes). The layer named "features" is
    the 128-dimensional representation the Fréchet distance compares.

    Convolution and pooling blocks until the map is 7x7 or smaller: two for digits (28 -> 13 -> 5) and
    32-pixel pictures, three for 64.
    """
    model = keras.Sequential(name="judge")
    model.add(keras.Input(shape=image_shape))
    size, channels = image_shape[0], 32
    while size > 7:
        model.add(keras.layers.Conv2D(channels, 3, activation="relu"))
        model.add(keras.layers.MaxPooling2D())
        size, channels = (size - 2) // 2, 64
    assert model.output_shape == (None, size, size, 64)  # (None, 5, 5, 64) for digits.
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(128, activation="relu", name="features"))
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Dense(num_classes))
    assert model.output_shape == (None, num_classes)
    return model


def judge_classes(config):
    """What the judge tells apart: the pictures' classes, or the ROTATIONS when they have none."""
    return len(config.class_names) or ROTATIONS


def min_accuracy(config):
    """The test accuracy a judge must reach: the bar of the pictures' treatment (99% on digits: below it
    the judge's verdicts would say more about the judge than the digits); on other pictures, half way
    from chance to perfect (0.55 for ten classes, 0.625 for the rotations), as harder pictures get
    less from a small judge trained for minutes."""
    return mnist.treatment(config.data).judge_bar or (1 + 1 / judge_classes(config)) / 2


def judge_path(directory, config):
    """Where the judge of a run's pictures is kept: judge.keras for MNIST, else a name of its pictures'."""
    judge_file = mnist.treatment(config.data).judge_file
    if judge_file:
        return pathlib.Path(directory) / judge_file
    name = pathlib.Path(config.data).name.replace(" ", "_") or "pictures"
    digest = hashlib.sha256(config.data.encode()).hexdigest()[:8]
    return pathlib.Path(directory) / f"judge-{name}-{config.image_size}px-{digest}.keras"


def judge_examples(config, pictures):
    """The images in [-1, 1] and the labels a judge learns: the pictures and their classes, or, without
    classes, each picture turned by 0, 1, 2 and 3 quarter turns, labelled with that count."""
    images = pictures.images
    if config.class_names:
        return data.to_unit_range(images).numpy(), pictures.labels
    rotated = np.concatenate([np.rot90(images, turns, axes=(1, 2)) for turns in range(ROTATIONS)])
    return data.to_unit_range(rotated).numpy(), np.repeat(np.arange(ROTATIONS, dtype=np.int32), len(images))


def train_judge(config, train, test, epochs=3, max_epochs=6, log=print):
    """Trains a judge on the training split and measures it on the test split.

    `epochs` epochs (at least enough to see JUDGE_EXAMPLES examples: a folder of a few hundred pictures
    gets more), then one more at a time while its test accuracy is below min_accuracy(config), up to
    `max_epochs` more than that: the same seed gives a judge a few hundredths of a percent apart on
    different processors (their float sums differ), and three epochs on MNIST land just above 99% or
    just below it.

    Args:
      config: the run's Config (its pictures' shape and classes).
      train, test: data.Pictures.
    Returns:
      (judge, test accuracy).
    """
    keras.utils.set_random_seed(0)
    judge = build_judge(models.image_shape(config), judge_classes(config))
    judge.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    (train_images, train_labels), (test_images, test_labels) = (
        judge_examples(config, train),
        judge_examples(config, test),
    )
    least = min(math.ceil(JUDGE_EXAMPLES / len(train_images)), JUDGE_MAX_EPOCHS)
    max_epochs += max(least - epochs, 0)
    epochs = max(epochs, least)
    judge.fit(train_images, train_labels, batch_size=128, epochs=epochs, verbose=0)
    _, accuracy = judge.evaluate(test_images, test_labels, batch_size=1000, verbose=0)
    while accuracy < min_accuracy(config) and epochs < max_epochs:
        judge.fit(train_images, train_labels, batch_size=128, epochs=1, verbose=0)
        _, accuracy = judge.evaluate(test_images, test_labels, batch_size=1000, verbose=0)
        epochs += 1
    log(f"judge: trained for {epochs} epoch{'' if epochs == 1 else 's'}, test accuracy {accuracy:.4f}")
    return judge, float(accuracy)


def load_or_train_judge(directory, config, train, test, log=print):
    """The judge of the run's pictures saved in `directory`, or a new one trained (and saved there).

    Returns:
      (judge, test accuracy measured now on `test`).
    Raises:
      UserError: when the saved judge cannot be loaded, or a new judge misses the bar of the pictures' treatment.
    """
    path = judge_path(directory, config)
    if path.exists():
        try:
            judge = keras.saving.load_model(path, safe_mode=True)  # safe_mode: never run code from the file.
        except Exception as error:  # Keras raises many kinds of error for a damaged file.
            raise errors.UserError(
                f"the judge {path} cannot be loaded ({type(error).__name__}): delete it and a new one will be trained."
            ) from None
        if judge.input_shape[1:] != models.image_shape(config) or judge.output_shape[-1] != judge_classes(config):
            raise errors.UserError(
                f"the judge {path} was trained on other pictures: delete it and a new one will be trained."
            )
        test_images, test_labels = judge_examples(config, test)
        predicted = np.argmax(judge.predict(test_images, batch_size=1000, verbose=0), axis=1)
        return judge, float(np.mean(predicted == test_labels))
    files.check_directory(path.parent)  # Before a minute of training, not after.
    judge, accuracy = train_judge(config, train, test, log=log)
    bar = mnist.treatment(config.data).judge_bar
    if bar is not None and accuracy < bar:
        raise errors.UserError(
            f"the judge reached only {accuracy:.4f} test accuracy (at least {bar} is needed): is the training data MNIST?"
        )
    if accuracy < min_accuracy(config):  # Few or hard pictures: the judge still compares runs on them.
        log(
            f"judge: below the bar of {min_accuracy(config):.3f} for these pictures (half way from chance to "
            f"perfect): its figures compare runs on them, but say less of the pictures themselves"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    judge.save(path)
    return judge, accuracy


@functools.lru_cache(maxsize=4)
def outputs_model(judge):
    """The judge with its features as a second output: made once per judge, so predict() is traced once."""
    return keras.Model(judge.inputs, [judge.outputs[0], judge.get_layer("features").output])


def judge_outputs(judge, images, batch_size=1000):
    """The judge's view of uint8 pictures (N, H, W, C): (probabilities (N, classes), features (N, 128))."""
    logits, features = outputs_model(judge).predict(
        data.to_unit_range(images).numpy(), batch_size=batch_size, verbose=0
    )
    return tf.nn.softmax(logits).numpy(), features


# --- Putting it together. ---


def judge_figures(judge, pictures, reference_features, asked_classes=None, classes=True):
    """The judge's figures for a set of uint8 pictures (N, H, W, C), against real test pictures' features.

    Args:
      asked_classes: int (N,), the class each picture was asked to be (its label, for real pictures), or
        None: then "asked_class_share" is None.
      classes: whether the judge reads the pictures' classes; a judge of rotations gives the Fréchet
        distance only, and the other figures are None.
    Returns:
      {"score", "frechet_distance", "confident_share", "asked_class_share", "class_shares" (a list, one
       share per class)}.
    """
    probabilities, features = judge_outputs(judge, pictures)
    if not classes:
        return {
            "score": None,
            "frechet_distance": metrics.frechet_distance(features, reference_features),
            "confident_share": None,
            "asked_class_share": None,
            "class_shares": None,
        }
    return {
        "score": metrics.classifier_score(probabilities),
        "frechet_distance": metrics.frechet_distance(features, reference_features),
        "confident_share": metrics.confident_share(probabilities),
        "asked_class_share": None if asked_classes is None else metrics.asked_class_share(probabilities, asked_classes),
        "class_shares": [round(float(share), 4) for share in metrics.class_shares(probabilities)],
    }


def encode_pictures(config, encoder, images, batch_size=1000):
    """E(x) of uint8 pictures (N, H, W, C): (latent vectors float32 (N, latent_dim), label logits (N, L) or None)."""
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
         to test split: how well z, learned without labels, separates the classes (None without classes);
       "class_accuracy": in a conditional run, how often the encoder's class logits name a test picture's
         class right (a classifier trained with labels), else None;
       "reconstruction_error": the mean squared error of G(E(x)) against x, in [-1, 1] units}.
    """
    train_latents, _ = encode_pictures(config, encoder, train.images)
    test_latents, label_logits = encode_pictures(config, encoder, test.images)
    read_labels = None if label_logits is None else np.argmax(label_logits, axis=1)  # Classes, or clusters.
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
        )
        if config.class_names
        else None,
        "class_accuracy": float(np.mean(read_labels == test.labels)) if models.conditional(config) else None,
        "reconstruction_error": errors_sum / len(test.images),
    }


def write_json(results, path):
    files.write_text(path, json.dumps(results, indent=2) + "\n")


def evaluate(config, generator, encoder, judge, train, test, num, seed, label_shares=None, memorisation=True):
    """All the figures for a trained run, beside the same figures for real pictures.

    A conditional run is asked for its classes in turn (the digits 0..9), so each is an equal share of the
    request; the class shares then say how often the judge reads what was asked, and "asked_class_share"
    says it directly.

    Args:
      config: the run's Config; generator, encoder: its models; encoder None for a run trained without one.
      judge: the classifier from load_or_train_judge.
      train, test: data.Pictures of the two splits of the run's pictures (MNIST's by default).
      num: how many pictures to generate (and real training pictures to compare the test pictures with).
      seed: seeds the latent vectors and the choice of training pictures.
      label_shares: how often the generator draws each cluster, for a run with --clusters.
      memorisation: also measure how near the pictures come to the training pictures (memorisation_figures).
    Returns:
      A dict, ready for JSON: "generated" and "real" (judge_figures()), "encoder", and with `memorisation`,
      "memorisation". "real" holds the test pictures' score, shares and confidence, and the Fréchet
      distance between `num` training pictures and the test pictures.
    """
    _, test_features = judge_outputs(judge, test.images)
    generated, generated_figures = judge_generated(config, generator, judge, test_features, num, seed, label_shares)
    chosen = np.random.default_rng(seed).choice(len(train.images), size=min(num, len(train.images)), replace=False)
    _, train_features = judge_outputs(judge, train.images[chosen])
    classes = bool(config.class_names)
    real = judge_figures(judge, test.images, train_features, asked_classes=test.labels, classes=classes)
    results = {
        "num": num,
        "seed": seed,
        "generated": generated_figures,
        "real": real,
        "encoder": None if encoder is None else encoder_metrics(config, generator, encoder, train, test),
    }
    if memorisation:
        results["memorisation"] = memorisation_figures(generated, train.images, test.images, seed)
    return results


def judge_generated(config, generator, judge, test_features, num, seed, label_shares=None):
    """`num` pictures drawn by `generator` (a conditional one asked for each class in turn) and the judge's
    figures for them (judge_figures()) against the test pictures' features: (uint8 pictures, figures)."""
    generated = generate.draw(generator, generate.new_inputs(config, num, seed, stream=2, label_shares=label_shares))
    asked = generate.asked_labels(config, num) if models.conditional(config) else None
    return generated, judge_figures(judge, generated, test_features, asked, classes=bool(config.class_names))


MEMORISATION_SAMPLES = 2000  # Generated and held-out pictures each compared with every training picture.


def memorisation_figures(generated, train_images, test_images, seed):
    """metrics.memorisation of MEMORISATION_SAMPLES generated pictures and as many test pictures (chosen by
    `seed`): their Euclidean distances to the nearest training picture, in pixels scaled to [0, 1]."""

    def flat(images):
        return images.reshape(len(images), -1).astype(np.float32) / 255.0

    chosen = np.random.default_rng(seed).choice(
        len(test_images), size=min(MEMORISATION_SAMPLES, len(test_images)), replace=False
    )
    train_pixels = flat(train_images)
    _, generated_distances = metrics.nearest(flat(generated[:MEMORISATION_SAMPLES]), train_pixels)
    _, real_distances = metrics.nearest(flat(test_images[chosen]), train_pixels)
    return metrics.memorisation(generated_distances, real_distances)


def report(results, judge_accuracy, config):
    """The figures as a small table, one line each, in the words of the pictures' treatment (mnist.py)."""
    generated, real = results["generated"], results["real"]
    treatment = mnist.treatment(config.data)

    def row(label, generated_value, real_value, note=""):
        return f"{label:28}{generated_value:12.3f}{real_value:12.3f}{note}"

    lines = [f"judge: test accuracy {judge_accuracy:.4f}", f"{'':28}{'generated':>12}{'real':>12}"]
    if generated["score"] is not None:
        lines.append(row(f"{treatment.score_name} (max {len(config.class_names)})", generated["score"], real["score"]))
    lines.append(row("Frechet distance", generated["frechet_distance"], real["frechet_distance"]))
    if generated["confident_share"] is not None:
        lines.append(row("confident (p > 0.9)", generated["confident_share"], real["confident_share"]))
    if generated["asked_class_share"] is not None:  # Real pictures: the judge's accuracy on their labels.
        asked = f"judged the asked {treatment.class_word}"
        lines.append(row(asked, generated["asked_class_share"], real["asked_class_share"]))
    for index, name in enumerate(config.class_names if generated["class_shares"] is not None else ()):
        lines.append(row(f"share of {name}"[:27], generated["class_shares"][index], real["class_shares"][index]))
    if "memorisation" in results:  # New real pictures are the yardstick: a GAN that copies comes much nearer.
        copied = results["memorisation"]
        median = "          (median distance)"
        nearest = f"nearest training {treatment.picture}"
        lines.append(row(nearest, copied["generated_median"], copied["real_median"], median))
        lines.append(row("nearer than 99% of real", copied["copy_share_generated"], copied["copy_share_real"]))
    encoder = results["encoder"]
    if encoder is None:
        lines.append("encoder: none (the run was trained with --encoder off)")
    else:
        if encoder["latent_nearest_neighbour_accuracy"] is not None:
            lines.append(f"encoder: latent 1-NN accuracy (z alone) {encoder['latent_nearest_neighbour_accuracy']:.4f}")
        if encoder["class_accuracy"] is not None:
            kind = treatment.class_word
            lines.append(f"encoder: reads the {kind} right ({kind} logits) {encoder['class_accuracy']:.4f}")
        lines.append(f"encoder: reconstruction error of G(E(x)) {encoder['reconstruction_error']:.4f}")
    return "\n".join(lines)


# --- Measuring a run while it trains. ---


def during_training(config, judge_directory, train, test, log=print):
    """The function train.train calls every --eval-every epochs: the headline() of the run's state, measured
    with the judge of its pictures (loaded from, or trained and saved into, judge_directory)."""
    judge, judge_accuracy = load_or_train_judge(judge_directory, config, train, test, log=log)
    log(f"judge: test accuracy {judge_accuracy:.4f}")

    def evaluation(state):
        return headline_of_state(config, state, judge, train, test, config.eval_samples)

    return evaluation


def headline_of_state(config, state, judge, train, test, num):
    """headline() of a run while it trains (its runtime.state.TrainingState), with its picture-drawing generator."""
    results = evaluate(
        config,
        train_lib.drawing_generator(state),
        state.networks["encoder"] if config.encoder == "on" else None,
        judge,
        train,
        test,
        num,
        config.seed,
        train_lib.label_shares(state),
        memorisation=False,  # Measured by make evaluate, not after every epoch.
    )
    return headline(results)


def generated_figures(generated):
    """The judge's figures of generated pictures (judge_figures()) as one number each: the class shares as
    their least and greatest; None where the judge measures none (a judge of rotations reads no classes)."""
    shares = generated["class_shares"]
    return {
        "score": generated["score"],
        "frechet_distance": generated["frechet_distance"],
        "confident_share": generated["confident_share"],
        "asked_class_share": generated["asked_class_share"],
        "min_class_share": min(shares) if shares else None,
        "max_class_share": max(shares) if shares else None,
    }


def headline(results):
    """The figures followed during training, as a flat dict of floats for TensorBoard and metrics.csv: the
    generated pictures' (generated_figures()) and the encoder's, NaN where a run has none."""
    encoder = results["encoder"] or {}
    figures = {
        **generated_figures(results["generated"]),
        "latent_nearest_neighbour_accuracy": encoder.get("latent_nearest_neighbour_accuracy"),
        "class_accuracy": encoder.get("class_accuracy"),
        "reconstruction_error": encoder.get("reconstruction_error"),
    }
    return {name: float("nan") if value is None else value for name, value in figures.items()}

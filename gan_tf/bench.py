"""`make bench`: how fast the train step runs, against TensorFlow's DCGAN tutorial, and how soon the
default run draws good digits.

Both train steps are timed in the same process, after warm-up, over several timed windows; the
median window is reported, because timings on a shared machine are noisy.
"""

import dataclasses
import resource
import statistics
import tempfile
import time

import keras
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import train

TUTORIAL_BATCH = 256
TUTORIAL_NOISE_DIM = 100


# --- TensorFlow's DCGAN tutorial (tensorflow/docs, tutorials/generative/dcgan), as written there. ---

def tutorial_generator():
    """The tutorial's generator: 100-d noise -> 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28x1 (tanh)."""
    model = keras.Sequential(name="tutorial_generator")
    model.add(keras.Input(shape=(TUTORIAL_NOISE_DIM,)))
    model.add(keras.layers.Dense(7 * 7 * 256, use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Reshape((7, 7, 256)))
    model.add(keras.layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"))
    assert model.output_shape == (None, 28, 28, 1)
    return model


def tutorial_discriminator():
    """The tutorial's discriminator: two 5x5 strided convolutions with dropout, then one logit."""
    model = keras.Sequential(name="tutorial_discriminator")
    model.add(keras.Input(shape=(28, 28, 1)))
    model.add(keras.layers.Conv2D(64, 5, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Conv2D(128, 5, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(1))
    assert model.output_shape == (None, 1)
    return model


def tutorial_train_step():
    """The tutorial's train step (Adam 1e-4 for both, noise sized to the batch), compiled with tf.function."""
    generator, discriminator = tutorial_generator(), tutorial_discriminator()
    generator_optimizer, discriminator_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([TUTORIAL_BATCH, TUTORIAL_NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = (cross_entropy(tf.ones_like(real_output), real_output)
                         + cross_entropy(tf.zeros_like(fake_output), fake_output))
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
        return gen_loss

    return train_step


# --- Measuring. ---

def steps_per_second(train_step, batch, warmup_steps=5, windows=5, window_seconds=4.0):
    """The median, over `windows` timed windows, of compiled steps per second on one fixed batch."""
    for _ in range(warmup_steps):  # The first call traces and compiles; the next ones settle the caches.
        train_step(batch)
    rates = []
    for _ in range(windows):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < window_seconds:
            result = train_step(batch)
            steps += 1
        tf.nest.map_structure(lambda tensor: tensor.numpy(), result)  # Wait until the last step has finished.
        rates.append(steps / (time.perf_counter() - start))
    return statistics.median(rates)


class TrialOver(Exception):
    """Raised from the evaluation hook to end the time-to-quality trial."""


def time_to_quality(train_digits, test_digits, judge, target, minutes, log=print):
    """Trains the default configuration, measuring the MNIST score after every epoch, until the score
    first reaches `target` or `minutes` of training have passed.

    Returns:
      (training seconds until the target or the end, the scores as (epoch, training seconds, score)).
      Training seconds leave out the time spent evaluating.
    """
    config = dataclasses.replace(config_lib.PRESETS["default"], epochs=10_000, eval_every=1, eval_samples=2000)
    start = time.perf_counter()
    evaluation_seconds = 0.0
    scores = []

    def evaluation(state):
        nonlocal evaluation_seconds
        evaluation_start = time.perf_counter()
        figures = evaluate.headline(evaluate.evaluate(state.generator, state.encoder, judge, train_digits, test_digits,
                                                      config.eval_samples, config.seed))
        evaluation_seconds += time.perf_counter() - evaluation_start
        training_seconds = time.perf_counter() - start - evaluation_seconds
        scores.append((int(state.epoch), training_seconds, figures["mnist_score"]))
        if figures["mnist_score"] >= target or training_seconds >= minutes * 60:
            raise TrialOver
        return figures

    with tempfile.TemporaryDirectory() as directory:
        try:
            train.train(config, train_digits.images, f"{directory}/checkpoints", f"{directory}/outputs", log=log,
                        progress=False, evaluation=evaluation)
        except TrialOver:
            pass
    return scores


def run(train_digits, test_digits, judge_directory, target=9.0, trial_minutes=10.0, log=print):
    """The whole benchmark; prints its report through `log`."""
    default_config = config_lib.PRESETS["default"]
    images = data.to_unit_range(train_digits.images[:TUTORIAL_BATCH])
    ours_batch = images[:default_config.batch_size]

    ours = train.make_train_step(train.build_state(default_config), default_config)
    tutorial = tutorial_train_step()
    ours_rate = steps_per_second(ours, ours_batch)
    tutorial_rate = steps_per_second(tutorial, images)
    ours_images = ours_rate * default_config.batch_size
    tutorial_images = tutorial_rate * TUTORIAL_BATCH
    log(f"train step, default configuration (batch {default_config.batch_size}, with the encoder): "
        f"{ours_rate:.2f} steps/s, {ours_images:.0f} images/s")
    log(f"train step, TensorFlow DCGAN tutorial (batch {TUTORIAL_BATCH}, its own step, no encoder): "
        f"{tutorial_rate:.2f} steps/s, {tutorial_images:.0f} images/s")
    log(f"ratio, default / tutorial: {ours_images / tutorial_images:.2f}x images/s")

    judge, judge_accuracy = evaluate.load_or_train_judge(judge_directory, train_digits, test_digits, log=log)
    log(f"time to quality: default configuration, MNIST score on 2,000 samples after each epoch (judge test "
        f"accuracy {judge_accuracy:.4f}), until {target} or {trial_minutes:g} min of training")
    scores = time_to_quality(train_digits, test_digits, judge, target, trial_minutes, log=log)
    for epoch, seconds, score in scores:
        log(f"  epoch {epoch}: {seconds:.0f} s of training, MNIST score {score:.3f}")
    reached = [seconds for _, seconds, score in scores if score >= target]
    if reached:
        log(f"time to MNIST score {target}: {reached[0]:.0f} s of training")
    else:
        best = max(scores, key=lambda entry: entry[2]) if scores else (0, 0.0, float("nan"))
        log(f"time to MNIST score {target}: not reached in {scores[-1][1] if scores else 0:.0f} s of training "
            f"(best {best[2]:.3f} at epoch {best[0]})")
    log(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (maximum resident set size)")

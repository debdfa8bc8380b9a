"""Training: the networks of a run, and the epoch loop.

The story of one run, top to bottom:
  1. build the networks, their optimizers and what the run keeps (build_state);
  2. compile the train step of step.py;
  3. for each epoch: train on its shuffled batches, draw a progress frame from fixed noise, evaluate if
     asked, log and save;
  4. animate the frames into a GIF.
Resuming, saving, Ctrl-C, failed writes and the loop over one epoch's batches are runtime.run.TrainingRun's
job; speed and several devices are runtime.compiled's.
"""

import functools
import math
import time

import keras
import tensorflow as tf

from gan_tf import clusters
from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import generate
from gan_tf import images
from gan_tf import mnist
from gan_tf import models
from gan_tf import step as step_lib
from gan_tf.runtime import compiled
from gan_tf.runtime import errors
from gan_tf.runtime import run as run_lib
from gan_tf.runtime import speed as speed_lib
from gan_tf.runtime import state as state_lib

NETWORKS = ("generator", "discriminator", "encoder")
LEARNING_RATES = {name: f"{name}_learning_rate" for name in NETWORKS}  # Each optimizer's setting.


def build_state(config, mixed_precision="off"):
    """New networks, optimizers and counters for `config`, initialised from config.seed (runtime/state.py).

    The state keeps, besides the three networks: with --generator-average, the moving average of G's weights
    ("average_generator"), which draws the pictures; with --clusters K, the centroids of the clusters that
    label the training pictures, float32 (K, F), and the share of them each holds, float32 (K,).

    Args:
      mixed_precision: "off", "bfloat16" or "float16": what the networks compute in. Their weights, and
        so the checkpoints, are float32 either way.
    """
    keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow: the initial weights.
    with speed_lib.dtype_policy(mixed_precision):
        networks = {
            "generator": models.build_generator(config),
            "discriminator": models.build_discriminator(config),
            "encoder": models.build_encoder(config),
        }
        kept = {}
        if config.generator_average:  # Starts as a copy of G.
            kept["average_generator"] = models.build_generator(config)
            kept["average_generator"].set_weights(networks["generator"].get_weights())
    optimizers = {
        name: keras.optimizers.Adam(learning_rate=getattr(config, LEARNING_RATES[name]), beta_1=config.adam_beta_1)
        for name in NETWORKS
    }
    loss_names = NETWORKS if config.encoder == "on" else NETWORKS[:2]
    state = state_lib.new_state(networks, optimizers, loss_names, kept)
    if config.clusters:
        features = clusters.feature_size(config.image_size, config.channels)
        state.kept["cluster_centroids"] = tf.Variable(tf.zeros((config.clusters, features)), trainable=False)
        state.kept["cluster_shares"] = tf.Variable(tf.zeros(config.clusters), trainable=False)
    return state


def drawing_generator(state):
    """The generator that draws the run's pictures: the average of G's weights, when the run keeps one."""
    return state.kept.get("average_generator", state.networks["generator"])


def label_shares(state):
    """How often G draws each label, float32 (K,), for a run with --clusters; None otherwise."""
    shares = state.kept.get("cluster_shares")
    return None if shares is None else shares.numpy()


def gan_step(config):
    """step.py's train step for `config`, as runtime/compiled.py calls it: (state, *batch, average) -> losses."""

    def step(state, real_images, labels, latent_vectors, average):
        return step_lib.train_step(state, config, real_images, labels, latent_vectors, average)

    return step


def after_step(config):
    """What follows each step outside the replicas: the moving average of G's weights, with --generator-average."""
    return functools.partial(step_lib.average_generator_update, config=config) if config.generator_average else None


def compile_gan_step(state, config, speed, strategy=None, remapping=False):
    """gan_step(config) on `state`, compiled for `speed` (runtime/compiled.py), as a run trains it."""
    return compiled.compile_train_step(gan_step(config), state, speed, strategy, after_step(config), remapping)


def with_cluster_labels(state, config, pictures, new_run, log=print):
    """`pictures` labelled by their clusters, for a run with --clusters K; else `pictures` themselves.

    A new run finds the clusters (clusters.fit) and keeps their centroids and shares in the state; a
    resumed run has them from its checkpoint and gives each picture its nearest cluster (clusters.assign).
    """
    if not config.clusters:
        return pictures
    if config.clusters > len(pictures.images):
        raise errors.UserError(
            f"--clusters {config.clusters} is more than the {len(pictures.images)} training "
            f"images: ask for fewer clusters."
        )
    deskew = mnist.treatment(config.data).deskew
    if not new_run:
        centroids = state.kept["cluster_centroids"].numpy()
        return pictures._replace(labels=clusters.assign(pictures.images, centroids, deskew))
    start = time.perf_counter()
    centroids, labels = clusters.fit(pictures.images, config.clusters, config.seed, deskew)
    state.kept["cluster_centroids"].assign(centroids)
    state.kept["cluster_shares"].assign(clusters.shares(labels, config.clusters))
    log(
        f"clusters: {config.clusters} k-means clusters of the {len(pictures.images):,} training images "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return pictures._replace(labels=labels)


def frame_inputs(config, label_shares=None):
    """The generator's inputs for every progress frame: the same for the whole run, drawn from config.seed.

    In a conditional run each row is one z, one style, and column c draws the class c mod L: with the
    default grid of ten, every row writes the digits 0 to 9 in its own handwriting. A run with --clusters
    draws its clusters in proportion to label_shares, each picture with a z of its own.
    """
    grid = config.frame_grid
    if not models.conditional(config):
        latent_vectors = tf.random.stateless_normal((grid * grid, config.latent_dim), seed=(config.seed, 0))
        return models.generator_inputs(
            config, latent_vectors, generate.labels_to_draw(grid * grid, models.num_labels(config), label_shares)
        )
    styles = tf.random.stateless_normal((grid, config.latent_dim), seed=(config.seed, 0))
    classes = tf.range(grid * grid) % grid % models.num_labels(config)
    return models.generator_inputs(config, tf.repeat(styles, grid, axis=0), classes)


def open_run(checkpoint_dir, output_dir, fresh=False, resume_from=None, strategy=None, log=print):
    """The runtime.run.TrainingRun of a run in checkpoint_dir, its frames and logs in output_dir: every input about
    where it lives checked, nothing changed yet.

    Args:
      fresh: delete the run already in checkpoint_dir (and its frames and logs) and start over.
      resume_from: the name of a checkpoint to resume from (e.g. "ckpt-4690"); None: the latest.
      strategy: a tf.distribute.Strategy (see distribute.make_strategy); default: one device.
      log: called with each line of the training log.
    """
    return run_lib.TrainingRun(checkpoint_dir, output_dir, fresh, resume_from, strategy, log)


def train(config, pictures, run, progress=True, evaluation=None, on_gpu=False, stop=None):
    """Trains a run to config.epochs epochs, resuming from its checkpoint.

    Writes, under the run's output directory: frames/epoch_NNNN.png after each epoch, training.gif at the
    end, and logs/ (TensorBoard, and metrics.csv with evaluations); only the chief of a multi-worker
    strategy writes.

    Args:
      config: the run's Config, complete with its pictures' facts (config.resolve).
      pictures: data.Pictures, the pictures to learn from (a conditional run uses their labels).
      run: where the run lives (open_run()).
      progress: show a progress bar during each epoch.
      evaluation: None, or a function of the state returning a dict of quality figures, called every
        config.eval_every epochs (evaluate.during_training).
      on_gpu: whether the work runs on a GPU, for the "auto" speed settings.
      stop: None, or a function of the state called after every compiled call and after every epoch:
        True saves and ends the run there.
    Returns:
      The run's runtime.state.TrainingState at the end.
    Raises:
      UserError: bad checkpoints (nothing changed), a loss not finite, a file not written.
    """
    config_lib.refuse_other_pictures(config, data.facts(pictures, config.data))  # Networks fit for them.
    require_a_batch(pictures, config.batch_size)
    speed = speed_lib.resolve(config, on_gpu)
    build = functools.partial(build_state, config, speed.mixed_precision)
    state, train_steps = run.prepare(
        config, build, gan_step(config), speed, after_step(config), LEARNING_RATES, "images"
    )
    pictures = with_cluster_labels(state, config, pictures, new_run=run.new, log=run.log)
    run.start()

    inputs_of_frames = frame_inputs(config, label_shares(state))
    image_dataset = data.image_dataset(pictures, cache=speed.cache_dataset)
    with run.saving_on_interrupt():
        for epoch in run.epochs_to_train():
            skip = int(state.epoch_examples.numpy())  # A resumed epoch skips what it trained on.
            batches = data.epoch_batches(
                image_dataset, config.batch_size, config.seed, epoch - 1, config.latent_dim, skip, speed.prefetch
            )
            if not run.train_epoch(train_steps, batches, speed.steps_per_call, progress, stop):
                break

            # The epoch's progress frame, from the same inputs every epoch; its evaluation, if asked.
            drawn = generate.draw(drawing_generator(state), inputs_of_frames)
            frame = images.Frame(images.grid(drawn, config.frame_grid))
            figures = evaluation(state) if evaluation and config.eval_every and epoch % config.eval_every == 0 else None
            run.end_epoch(epoch, frame, figures)
            if figures is not None:
                run.log("  quality: " + describe_figures(figures, mnist.treatment(config.data)))
            if stop is not None and stop(state):
                break
    run.finish(images.write_training_gif)
    return state


def require_a_batch(pictures, batch_size):
    """Raises UserError when there are fewer training pictures than one batch."""
    if len(pictures.images) < batch_size:
        raise errors.UserError(
            f"only {len(pictures.images)} training pictures, fewer than one batch of {batch_size}: "
            f"add pictures, or lower --batch-size."
        )


def describe_figures(figures, treatment=mnist.DIGITS):
    """The quality line of the training log, from evaluate.headline()'s figures, in the words of the
    pictures' treatment (mnist.py); the figures a run has not (missing, or NaN: no classes, no asked class,
    no encoder) are left out."""
    nan = float("nan")
    score, frechet = figures.get("score", nan), figures.get("frechet_distance", nan)
    least, most = figures.get("min_class_share", nan), figures.get("max_class_share", nan)
    asked, nearest = figures.get("asked_class_share", nan), figures.get("latent_nearest_neighbour_accuracy", nan)
    parts = [
        (treatment.score_name, score, f"{score:.3f}"),
        ("Frechet distance", frechet, f"{frechet:.2f}"),
        ("class shares", least, f"{least:.3f}-{most:.3f}"),
        (f"asked {treatment.class_word}", asked, f"{asked:.3f}"),
        ("encoder latent 1-NN", nearest, f"{nearest:.4f}"),
    ]
    return "  ".join(f"{name} {text}" for name, value, text in parts if not math.isnan(value))

"""Training: the state of a run, and the epoch loop.

The story of one run, top to bottom:
  1. build the models, their optimizers and the run's counters (TrainingState);
  2. compile the train step of step.py;
  3. for each epoch: train on its shuffled batches, draw a progress frame from fixed noise, log,
     evaluate if asked, save a checkpoint;
  4. animate the frames into a GIF.
Resuming, saving, Ctrl-C and failed writes are runtime.run.TrainingRun's job; speed and several
devices are runtime.compiled's.
"""

import dataclasses
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
from gan_tf import models
from gan_tf.runtime import compiled
from gan_tf.runtime import distribute
from gan_tf.runtime import errors
from gan_tf.runtime import run as run_lib
from gan_tf.runtime import speed as speed_lib

LOSS_NAMES = ("generator", "discriminator", "encoder")


@dataclasses.dataclass
class TrainingState:
    """Everything a checkpoint saves: together, enough to continue a run exactly where it stopped.

    There is no random state to save: the noise of every step is a function of (seed, epoch, position
    in the epoch), drawn by the input pipeline (data.epoch_batches).
    """

    generator: keras.Sequential
    discriminator: keras.Sequential
    encoder: keras.Sequential
    generator_optimizer: keras.optimizers.Optimizer
    discriminator_optimizer: keras.optimizers.Optimizer
    encoder_optimizer: keras.optimizers.Optimizer
    epoch: tf.Variable  # Epochs completed.
    step: tf.Variable  # Train steps completed, over all epochs.
    epoch_images: tf.Variable  # Images of the current epoch already trained on (a resume skips them).
    # Loss name -> the sum of its per-step means over the current epoch, so that the epoch's mean loss
    # in the log covers the whole epoch even when it was interrupted and resumed.
    epoch_loss_sums: dict
    # With --generator-average: the moving average of the generator's weights, which draws the pictures.
    average_generator: keras.Sequential = None
    # With --clusters K: the centroids of the clusters that label the training images, float32 (K, F)
    # (clusters.feature_size: 784 for digits),
    # and the share of the training images each holds, float32 (K,): how often G draws each cluster.
    cluster_centroids: tf.Variable = None
    cluster_shares: tf.Variable = None

    def trackables(self):
        """name -> object, for tf.train.Checkpoint.

        Besides the fields, the states of Keras's random-seed generators (Dropout draws its masks from
        one each), when the models have any: a resumed run then draws the masks it would have drawn.
        """
        trackables = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if getattr(self, field.name) is not None
        }
        seed_states = [
            layer.seed_generator.state
            for model in (self.generator, self.discriminator, self.encoder)
            for layer in model.layers
            if getattr(layer, "seed_generator", None) is not None
        ]
        if seed_states:
            trackables["seed_states"] = seed_states
        return trackables

    def label_shares(self):
        """How often G draws each label, float32 (K,), for a run with --clusters; None otherwise."""
        return None if self.cluster_shares is None else self.cluster_shares.numpy()

    def mean_losses(self, steps_in_epoch):
        """Loss name -> its mean over the epoch's steps_in_epoch steps."""
        return {name: float(total.numpy()) / steps_in_epoch for name, total in self.epoch_loss_sums.items()}

    def drawing_generator(self):
        """The generator that draws the run's pictures: the average of G's weights, when the run keeps one."""
        return self.average_generator if self.average_generator is not None else self.generator


def build_state(config, mixed_precision="off"):
    """New models, optimizers and counters for `config`, initialised from config.seed.

    Call it inside strategy.scope() to train under a tf.distribute strategy.

    Args:
      mixed_precision: "off", "bfloat16" or "float16": what the models compute in. Their weights, and
        so the checkpoints, are float32 either way.
    """
    keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow: the initial weights.
    with speed_lib.dtype_policy(mixed_precision):
        generator = models.build_generator(config)
        discriminator = models.build_discriminator(config)
        encoder = models.build_encoder(config)
        average_generator = None
        if config.generator_average:  # Starts as a copy of G.
            average_generator = models.build_generator(config)
            average_generator.set_weights(generator.get_weights())

    def adam(model, learning_rate):
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=config.adam_beta_1)
        # Create Adam's moment variables now, so a checkpoint can restore them before the first step.
        optimizer.build(model.trainable_variables)
        return optimizer

    def counter():
        return tf.Variable(0, dtype=tf.int64, trainable=False)

    loss_names = LOSS_NAMES if config.encoder == "on" else LOSS_NAMES[:2]
    return TrainingState(
        generator,
        discriminator,
        encoder,
        adam(generator, config.generator_learning_rate),
        adam(discriminator, config.discriminator_learning_rate),
        adam(encoder, config.encoder_learning_rate),
        epoch=counter(),
        step=counter(),
        epoch_images=counter(),
        epoch_loss_sums={name: tf.Variable(0.0, dtype=tf.float64, trainable=False) for name in loss_names},
        average_generator=average_generator,
        cluster_centroids=tf.Variable(
            tf.zeros((config.clusters, clusters.feature_size(config.image_size, config.channels))), trainable=False
        )
        if config.clusters
        else None,
        cluster_shares=tf.Variable(tf.zeros(config.clusters), trainable=False) if config.clusters else None,
    )


def with_cluster_labels(state, config, train_digits, new_run, log=print):
    """train_digits labelled by their clusters, for a run with --clusters K; else train_digits itself.

    A new run finds the clusters (clusters.fit) and keeps their centroids and shares in the state; a
    resumed run has them from its checkpoint and gives each image its nearest cluster (clusters.assign).
    """
    if not config.clusters:
        return train_digits
    if config.clusters > len(train_digits.images):
        raise errors.UserError(
            f"--clusters {config.clusters} is more than the {len(train_digits.images)} training "
            f"images: ask for fewer clusters."
        )
    digits = config_lib.digits(config.data)  # Digits are deskewed first.
    if not new_run:
        centroids = state.cluster_centroids.numpy()
        return train_digits._replace(labels=clusters.assign(train_digits.images, centroids, digits))
    start = time.perf_counter()
    centroids, labels = clusters.fit(train_digits.images, config.clusters, config.seed, digits)
    state.cluster_centroids.assign(centroids)
    state.cluster_shares.assign(clusters.shares(labels, config.clusters))
    log(
        f"clusters: {config.clusters} k-means clusters of the {len(train_digits.images):,} training images "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return train_digits._replace(labels=labels)


def frame_inputs(config, label_shares=None):
    """The generator's inputs for every progress frame: the same for the whole run, drawn from config.seed.

    In a conditional run each row is one z, one handwriting style, and column c draws the class
    c mod L: with the default grid of ten, every row writes the digits 0 to 9 in its own style. A run with
    --clusters draws its clusters in proportion to label_shares, each digit with a z of its own.
    """
    grid = config.frame_grid
    if not models.conditional(config):
        latent_vectors = tf.random.stateless_normal((grid * grid, config.latent_dim), seed=(config.seed, 0))
        return models.generator_inputs(
            config, latent_vectors, generate.labels_to_draw(grid * grid, models.num_labels(config), label_shares)
        )
    styles = tf.random.stateless_normal((grid, config.latent_dim), seed=(config.seed, 0))
    digits = tf.range(grid * grid) % grid % models.num_labels(config)
    return models.generator_inputs(config, tf.repeat(styles, grid, axis=0), digits)


def train(
    config,
    train_digits,
    checkpoint_dir,
    output_dir,
    fresh=False,
    log=print,
    progress=True,
    evaluation=None,
    strategy=None,
    on_gpu=False,
    resume_from=None,
    stop=None,
):
    """Trains a run to config.epochs epochs, resuming from the latest checkpoint in checkpoint_dir.

    Writes, under output_dir: frames/epoch_NNNN.png after each epoch, training.gif at the end, and logs/
    (TensorBoard, and metrics.csv with evaluations); only the chief of a multi-worker strategy writes.

    Args:
      config: the run's Config (see config.resolve for how a resumed run gets it).
      train_digits: data.Pictures, the pictures (digits) to learn from (a conditional run uses their labels).
      fresh: delete the run already in checkpoint_dir (and its frames and logs) and start over.
      log: called with each line of the training log.
      progress: show a progress bar during each epoch.
      evaluation: None, or a function of the TrainingState returning a dict of quality figures
        (summaries.CSV_COLUMNS), called every config.eval_every epochs.
      strategy: a tf.distribute.Strategy (see distribute.make_strategy); default: one device.
      on_gpu: whether the work runs on a GPU, for the "auto" speed settings.
      resume_from: the name of a checkpoint to resume from (e.g. "ckpt-4690"); None: the latest.
      stop: None, or a function of the TrainingState called after every compiled call and after every
        epoch: True saves and ends the run there.
    Returns:
      The TrainingState at the end.
    Raises:
      UserError: bad directories or checkpoints (nothing changed), a loss not finite, a file not written.
    """
    config = config_lib.with_pictures(config, train_digits)  # The networks' shapes come from the pictures.
    strategy = strategy or tf.distribute.get_strategy()
    speed = speed_lib.resolve(config, on_gpu)
    run = run_lib.TrainingRun(config, checkpoint_dir, output_dir, fresh, resume_from, strategy, log)
    require_a_batch(train_digits, config.batch_size)
    state, train_steps = start_run(run, speed, strategy)
    train_digits = with_cluster_labels(state, config, train_digits, new_run=run.resume_path is None, log=log)
    run.start()

    inputs_of_frames = frame_inputs(config, state.label_shares())
    image_dataset = data.image_dataset(train_digits, cache=speed.cache_dataset)
    batches_of_epoch = functools.partial(data.epoch_batches, image_dataset, config.batch_size, config.seed)
    with run.saving_on_interrupt():
        for epoch in range(run.epoch + 1, config.epochs + 1):
            start, images_before = time.perf_counter(), int(state.epoch_images.numpy())
            batches = batches_of_epoch(epoch - 1, config.latent_dim, images_before, prefetch=speed.prefetch)
            if not train_epoch(run, train_steps, batches, strategy, speed.steps_per_call, progress and run.chief, stop):
                run.save()  # Stopped early: keep what was trained; the epoch has no frame.
                break
            seconds = time.perf_counter() - start
            images_per_second = (len(train_digits.images) - images_before) / max(seconds, 1e-9)
            mean_losses = state.mean_losses(data.steps_per_epoch(len(train_digits.images), config.batch_size))

            # Draw the progress frame and log the epoch; evaluate it if asked; then count it and save.
            picture = images.grid(
                generate.generate_digits(state.drawing_generator(), inputs_of_frames), config.frame_grid
            )
            run.write_epoch(epoch, mean_losses, images_per_second, picture)
            figures = None
            if evaluation is not None and config.eval_every and epoch % config.eval_every == 0:
                figures = evaluation(state)
                run.write_evaluation(epoch, figures)
            run.end_epoch(epoch)
            log(describe_epoch(epoch, config.epochs, mean_losses, seconds, images_per_second))
            if figures is not None:
                log("  quality: " + describe_figures(figures))
            if stop is not None and stop(state):
                break
    run.finish()
    return state


def require_a_batch(pictures, batch_size):
    """Raises UserError when there are fewer training pictures than one batch."""
    if len(pictures.images) < batch_size:
        raise errors.UserError(
            f"only {len(pictures.images)} training pictures, fewer than one batch of {batch_size}: "
            f"add pictures, or lower --batch-size."
        )


def start_run(run, speed, strategy):
    """The run's state, restored when it resumes, and its compiled train step: (TrainingState, train_steps)."""
    # Keras numbers layer names in the order layers are made (conv2d, conv2d_1, ...); the names reach
    # the graph's ops, and how TensorFlow's graph optimiser (Grappler) rewrites the graph, down to the
    # last bits of the weights, depends on them. From Keras's blank state every run has the same
    # names, so it trains bitwise the same in any process (docs/guarantees.md).
    keras.backend.clear_session(free_memory=False)
    with strategy.scope():
        state = build_state(run.config, speed.mixed_precision)
        run.restore(state)
        train_steps = compiled.compile_train_step(state, run.config, speed, strategy)
    run.log(f"speed: {speed.describe()}; strategy: {distribute.describe(strategy)}")
    return state, train_steps


def train_epoch(run, train_steps, batches, strategy, steps_per_call, progress, stop=None):
    """Trains on the rest of one epoch's batches, steps_per_call steps a compiled call.

    Args:
      batches: data.epoch_batches(): the full batches, then the short last one, each a dataset.
      progress: show a Keras progress bar with the epoch's running mean losses.
      stop: as in train().
    Returns:
      True when the epoch is done, False when `stop` ended it early.
    """
    state = run.state
    steps_left = sum(part_steps for _, part_steps in batches)
    steps_before = int(state.epoch_images.numpy()) // run.config.batch_size  # Steps a resumed epoch already did.
    progress_bar = keras.utils.Progbar(steps_left, verbose=1 if progress else 0, unit_name="batch")
    steps_trained = 0
    for part, part_steps in batches:
        iterator = iter(strategy.experimental_distribute_dataset(part))
        while part_steps:
            call_steps = min(steps_per_call, part_steps)
            call_losses = {name: float(value) for name, value in train_steps(iterator, call_steps).items()}
            run.check_finite(call_losses, call_steps)
            part_steps -= call_steps
            steps_left -= call_steps
            steps_trained += call_steps
            if progress:  # The epoch's running means (Keras 3's Progbar shows values as given).
                progress_bar.update(
                    steps_trained,
                    [
                        (name, float(total.numpy()) / (steps_before + steps_trained))
                        for name, total in state.epoch_loss_sums.items()
                    ],
                )
            if steps_left:  # The epoch's last call is saved by run.end_epoch, after the epoch's frame.
                run.maybe_save()
                if stop is not None and stop(state):
                    return False
    return True


def describe_epoch(epoch, epochs, mean_losses, seconds, images_per_second):
    """The training log's line for an epoch."""
    losses = "  ".join(f"{name} {value:.3f}" for name, value in mean_losses.items())
    return f"epoch {epoch}/{epochs}  {losses}  {seconds:.1f} s  {images_per_second:.0f} images/s"


def describe_figures(figures):
    """The quality line of the training log, from evaluate.headline()'s figures; those a run has not
    (NaN: no classes, no asked class, no encoder) are left out."""
    shares = f"{figures['min_class_share']:.3f}-{figures['max_class_share']:.3f}"
    parts = [
        ("MNIST score", figures["mnist_score"], f"{figures['mnist_score']:.3f}"),
        ("Frechet distance", figures["frechet_distance"], f"{figures['frechet_distance']:.2f}"),
        ("class shares", figures["min_class_share"], shares),
        ("asked digit", figures["asked_digit_share"], f"{figures['asked_digit_share']:.3f}"),
        ("encoder latent 1-NN", figures["latent_nearest_neighbour_accuracy"],
         f"{figures['latent_nearest_neighbour_accuracy']:.4f}"),
    ]  # fmt: skip
    return "  ".join(f"{name} {text}" for name, value, text in parts if not math.isnan(value))

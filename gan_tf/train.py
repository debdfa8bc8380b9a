"""Training: the state of a run, the compiled train step, and the epoch loop with its checkpoints.

The story of one run, top to bottom:
  1. build the models, optimizers and counters (TrainingState), restoring the latest checkpoint;
  2. compile one train step that updates the discriminator, the generator and the encoder;
  3. loop over epochs: train on shuffled batches, draw a progress frame from fixed noise, save;
  4. animate the frames into a GIF.
"""

import dataclasses
import shutil
import tempfile
import time

import keras
import tensorflow as tf

from gan_tf import checkpoints
from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import distribute
from gan_tf import generate
from gan_tf import images as images_lib
from gan_tf import losses
from gan_tf import models
from gan_tf import speed as speed_lib
from gan_tf import summaries


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

    def trackables(self):
        """name -> object, for tf.train.Checkpoint."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


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
    optimizers = []
    for model, learning_rate in [(generator, config.generator_learning_rate),
                                 (discriminator, config.discriminator_learning_rate),
                                 (encoder, config.encoder_learning_rate)]:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=config.adam_beta_1)
        # Create Adam's moment variables now, so a checkpoint can restore them before the first step.
        optimizer.build(model.trainable_variables)
        optimizers.append(optimizer)

    def counter():
        return tf.Variable(0, dtype=tf.int64, trainable=False)

    return TrainingState(generator, discriminator, encoder, *optimizers, epoch=counter(), step=counter(),
                         epoch_images=counter())


def make_train_step(state, config, speed=None, strategy=None):
    """One compiled step that trains all three networks on a batch of real images and their noise.

    Under a tf.distribute strategy each replica runs the step on its share of the batch. Every loss is
    averaged over the global batch (tf.nn.compute_average_loss), and the optimizers add the replicas'
    gradients, so the update is the one a single device would make on the whole batch.

    Args:
      speed: a speed.Speed (default: float32, no XLA); strategy: default: the current one.
    Returns:
      train_step(real_images float32 (B, 28, 28, 1) in [-1, 1], latent_vectors float32 (B, latent_dim))
        -> dict of scalar losses, each the mean over the batch, summed over the replicas.
    """
    speed = speed or speed_lib.resolve(config, on_gpu=False)
    strategy = strategy or tf.distribute.get_strategy()
    generator, discriminator, encoder = state.generator, state.discriminator, state.encoder
    train_encoder = config.encoder == "on"

    def optimizer_for(model, optimizer):
        """The optimizer the step uses: under float16, Keras's loss scaling around the saved Adam.

        The wrapper scales each loss up before the gradients and the gradients back down before the
        update. It is not saved: a resumed run starts again from its initial scale.
        """
        if not speed.loss_scaling:
            return optimizer
        with strategy.scope():
            wrapped = keras.optimizers.LossScaleOptimizer(optimizer)
            wrapped.build(model.trainable_variables)
        return wrapped

    generator_optimizer = optimizer_for(generator, state.generator_optimizer)
    discriminator_optimizer = optimizer_for(discriminator, state.discriminator_optimizer)
    encoder_optimizer = optimizer_for(encoder, state.encoder_optimizer)

    def replica_step(real_images, latent_vectors):
        batch_size = tf.shape(real_images)[0]
        global_batch_size = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, batch_size)

        def average(per_example_loss):
            return tf.nn.compute_average_loss(per_example_loss, global_batch_size=global_batch_size)

        def scaled(loss, optimizer):
            # Under float16 the loss is scaled up inside the tape, and the optimizer scales the gradients down.
            return optimizer.scale_loss(loss) if speed.loss_scaling else loss

        # (1) and (2): one forward pass serves both players. D sees a real and a fake batch;
        # G's loss asks how real D found its fakes.
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_images = generator(latent_vectors, training=True)
            real_logits = discriminator(real_images, training=True)
            fake_logits = discriminator(fake_images, training=True)
            # (1) D: maximise log D(x) + log(1 - D(G(z))).
            discriminator_loss = average(losses.non_saturating_discriminator_loss(real_logits, fake_logits))
            # (2) G: maximise log D(G(z)).
            generator_loss = average(losses.non_saturating_generator_loss(fake_logits))
            updates = [(discriminator_tape, scaled(discriminator_loss, discriminator_optimizer), discriminator,
                        discriminator_optimizer),
                       (generator_tape, scaled(generator_loss, generator_optimizer), generator, generator_optimizer)]
        results = {"generator": generator_loss, "discriminator": discriminator_loss}

        if train_encoder:
            # (3) E: learn to invert G. Fakes come with their true z; real digits have none, so E is
            # judged by how well G redraws them from E(x). G is frozen here (inference mode, and only
            # E's weights are updated): the encoder must not pull the generator away from the GAN game.
            with tf.GradientTape() as encoder_tape:
                encoded_fakes = encoder(tf.stop_gradient(fake_images), training=True)
                reconstructions = generator(encoder(real_images, training=True), training=False)
                encoder_loss = average(
                    losses.latent_regression_loss(latent_vectors, encoded_fakes)
                    + config.reconstruction_weight * losses.reconstruction_loss(real_images, reconstructions))
                updates.append((encoder_tape, scaled(encoder_loss, encoder_optimizer), encoder, encoder_optimizer))
            results["encoder"] = encoder_loss

        for tape, loss, model, optimizer in updates:
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        results["images"] = batch_size
        return results

    if speed.jit_compile:
        # XLA compiles the replica's step as a whole: once per batch shape (the short last batch is a second).
        replica_step = tf.function(replica_step, jit_compile=True, reduce_retracing=True)

    def train_step(real_images, latent_vectors):
        results = strategy.run(replica_step, args=(real_images, latent_vectors))
        results = {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for name, value in results.items()}
        state.step.assign_add(1)
        state.epoch_images.assign_add(tf.cast(results.pop("images"), tf.int64))
        return results

    return train_step


def make_multi_step(train_step):
    """Compiles `steps` train steps into one call: train_steps(iterator, steps) -> dict of summed losses.

    One call per step costs a few hundred microseconds of Python and dispatch; on a GPU that is as
    long as the step itself, so several steps run inside one tf.function (Keras's steps_per_execution).
    The loop is not inside the XLA-compiled step because XLA cannot compile the iterator.
    """
    @tf.function
    def train_steps(iterator, steps):
        totals = train_step(*next(iterator))
        for _ in tf.range(steps - 1):
            step_losses = train_step(*next(iterator))
            totals = {name: totals[name] + step_losses[name] for name in totals}
        return totals

    return train_steps


@tf.function
def start_next_epoch(epoch, epoch_images):
    """Counts an epoch as done. One compiled call changes both counters, so Ctrl-C cannot come between them."""
    epoch.assign_add(1)
    epoch_images.assign(0)


def fixed_noise(config):
    """The latent vectors of every progress frame: the same for the whole run, drawn from config.seed."""
    return tf.random.stateless_normal((config.frame_grid ** 2, config.latent_dim), seed=(config.seed, 0))


def train(config, train_images, checkpoint_dir, output_dir, fresh=False, log=print, progress=True, evaluation=None,
          strategy=None, on_gpu=False):
    """Trains a run to config.epochs epochs, resuming from the latest checkpoint in checkpoint_dir.

    Writes, under output_dir: frames/epoch_NNNN.png after each epoch, training.gif at the end, and
    logs/ (TensorBoard summaries, and metrics.csv when there are evaluations). Under a multi-worker
    strategy only the chief writes; the other workers save their checkpoints to a scratch directory.
    Ctrl-C saves a checkpoint of the step it stopped at, then re-raises KeyboardInterrupt.

    Args:
      config: the run's Config (see config.resolve for how a resumed run gets it).
      train_images: uint8 numpy array (N, 28, 28), the digits to learn from.
      fresh: delete the run already in checkpoint_dir (and its frames) and start over.
      log: called with each line of the training log.
      progress: show a progress bar during each epoch.
      evaluation: None, or a function of the TrainingState returning a dict of quality figures
        (summaries.CSV_COLUMNS), called every config.eval_every epochs.
      strategy: a tf.distribute.Strategy (see distribute.make_strategy); default: one device.
      on_gpu: whether the work runs on a GPU, for the "auto" speed settings.
    Returns:
      The TrainingState at the end.
    """
    strategy = strategy or tf.distribute.get_strategy()
    chief = distribute.is_chief(strategy)
    speed = speed_lib.resolve(config, on_gpu)
    checkpoint_dir = checkpoints.prepare_directory(checkpoint_dir)
    frames_dir = checkpoints.prepare_directory(output_dir) / "frames"
    logs_dir = frames_dir.parent / "logs"
    if chief:
        frames_dir.mkdir(exist_ok=True)
        if fresh:
            checkpoints.remove_run(checkpoint_dir)
            for old_file in [*images_lib.frame_paths(frames_dir), *logs_dir.glob("events.out.tfevents.*"),
                             logs_dir / summaries.CSV_FILENAME]:
                old_file.unlink(missing_ok=True)
        run_log = summaries.RunLog(logs_dir)
        config_lib.save(config, checkpoint_dir)
    # A worker that is not the chief must still take part in each save (it may involve collective
    # operations), but into a scratch directory of its own: only the chief's files are kept.
    save_dir = checkpoint_dir if chief else tempfile.mkdtemp(prefix="gan_tf_worker_")

    with strategy.scope():
        state = build_state(config, speed.mixed_precision)
        manager = checkpoints.make_manager(state.trackables(), save_dir, config.keep_checkpoints)
        latest = tf.train.latest_checkpoint(str(checkpoint_dir))
        if latest:
            checkpoints.restore(state.trackables(), latest)
            # Learning rates are training settings: the ones asked for now win over the saved ones.
            state.generator_optimizer.learning_rate = config.generator_learning_rate
            state.discriminator_optimizer.learning_rate = config.discriminator_learning_rate
            state.encoder_optimizer.learning_rate = config.encoder_learning_rate
            log(f"resumed {latest}: epoch {int(state.epoch.numpy())}, step {int(state.step.numpy())}")
        train_steps = make_multi_step(make_train_step(state, config, speed, strategy))
    log(f"speed: {speed.describe()}; strategy: {distribute.describe(strategy)}")

    frame_noise = fixed_noise(config)
    image_dataset = data.image_dataset(train_images, cache=speed.cache_dataset)
    num_images = len(train_images)
    last_saved_step = int(state.step.numpy()) if latest else None

    def save():
        nonlocal last_saved_step
        if int(state.step.numpy()) != last_saved_step:
            manager.save(checkpoint_number=int(state.step.numpy()))
            last_saved_step = int(state.step.numpy())

    if int(state.epoch.numpy()) >= config.epochs:
        log(f"already trained for {int(state.epoch.numpy())} epochs: raise --epochs to train more.")
    try:
        for epoch in range(int(state.epoch.numpy()), config.epochs):
            skip_images = int(state.epoch_images.numpy())
            batches = data.epoch_batches(image_dataset, config.batch_size, config.seed, epoch, config.latent_dim,
                                         skip_images, prefetch=speed.prefetch)
            iterator = iter(strategy.experimental_distribute_dataset(batches))
            steps_left = data.steps_per_epoch(num_images - skip_images, config.batch_size)
            progress_bar = keras.utils.Progbar(steps_left, verbose=1 if progress and chief else 0, unit_name="batch")
            loss_sums = {}
            steps = 0
            start = time.perf_counter()
            while steps_left:
                calls_steps = min(speed.steps_per_call, steps_left)
                for name, value in train_steps(iterator, tf.constant(calls_steps)).items():
                    loss_sums[name] = loss_sums.get(name, 0.0) + float(value)
                steps += calls_steps
                steps_left -= calls_steps
                # The bar shows the epoch's running means (Keras 3's Progbar shows values as given).
                progress_bar.update(steps, [(name, total / steps) for name, total in loss_sums.items()])
            seconds = time.perf_counter() - start

            # The frame first, then the checkpoint: a kill between the two redoes this epoch and
            # rewrites its frame, so frames and checkpoints never disagree.
            picture = images_lib.grid(generate.generate_digits(state.generator, frame_noise), config.frame_grid)
            if chief:
                images_lib.save_png(picture, images_lib.frame_path(frames_dir, epoch + 1))
            start_next_epoch(state.epoch, state.epoch_images)
            save()
            means = {name: total / max(steps, 1) for name, total in loss_sums.items()}
            images_per_second = (num_images - skip_images) / seconds
            log(f"epoch {epoch + 1}/{config.epochs}  "
                + "  ".join(f"{name} {value:.3f}" for name, value in means.items())
                + f"  {seconds:.1f} s  {images_per_second:.0f} images/s")
            if chief:
                run_log.epoch(epoch + 1, means, images_per_second, picture)
            if evaluation is not None and config.eval_every and (epoch + 1) % config.eval_every == 0:
                figures = evaluation(state)
                if chief:
                    run_log.evaluation(epoch + 1, int(state.step.numpy()), figures)
                log(f"  quality: MNIST score {figures['mnist_score']:.3f}  Frechet distance "
                    f"{figures['frechet_distance']:.2f}  class shares {figures['min_class_share']:.3f}-"
                    f"{figures['max_class_share']:.3f}  encoder 1-NN {figures['nearest_neighbour_accuracy']:.4f}")
    except KeyboardInterrupt:
        save()
        log(f"\ninterrupted: saved {manager.latest_checkpoint} (epoch {int(state.epoch.numpy())}, step "
            f"{int(state.step.numpy())}); run the same command again to resume.")
        raise
    finally:
        if not chief:
            shutil.rmtree(save_dir, ignore_errors=True)

    if chief:
        count = images_lib.gif_from_frames(frames_dir, frames_dir.parent / "training.gif")
        log(f"wrote {frames_dir.parent / 'training.gif'} ({count} frames); checkpoints in {checkpoint_dir}")
    return state

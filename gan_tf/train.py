"""Training: the state of a run, the compiled train step, and the epoch loop with its checkpoints.

The story of one run, top to bottom:
  1. build the models, optimizers and counters (TrainingState), restoring the latest checkpoint;
  2. compile one train step that updates the discriminator, the generator and the encoder;
  3. loop over epochs: train on shuffled batches, draw a progress frame from fixed noise, save;
  4. animate the frames into a GIF.
"""

import contextlib
import dataclasses
import math
import pathlib
import shutil
import tempfile
import time

import keras
import tensorflow as tf

from gan_tf import checkpoints
from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import distribute
from gan_tf import errors
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
    # Loss name -> the sum of its per-step means over the current epoch, so that the epoch's mean loss
    # in the log covers the whole epoch even when it was interrupted and resumed.
    epoch_loss_sums: dict

    def trackables(self):
        """name -> object, for tf.train.Checkpoint.

        Besides the fields, the states of Keras's random-seed generators (Dropout draws its masks from
        one each), when the models have any: a resumed run then draws the masks it would have drawn.
        """
        trackables = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        seed_states = [layer.seed_generator.state for model in (self.generator, self.discriminator, self.encoder)
                       for layer in model.layers if getattr(layer, "seed_generator", None) is not None]
        if seed_states:
            trackables["seed_states"] = seed_states
        return trackables


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
                         epoch_images=counter(),
                         epoch_loss_sums={name: tf.Variable(0.0, dtype=tf.float64, trainable=False)
                                          for name in LOSS_NAMES[:3 if config.encoder == "on" else 2]})


LOSS_NAMES = ("generator", "discriminator", "encoder")


def make_train_step(state, config, speed=None, strategy=None):
    """One compiled step that trains all three networks on a batch of real digits and their noise.

    Under a tf.distribute strategy each replica runs the step on its share of the batch. Every loss is
    averaged over the global batch (tf.nn.compute_average_loss), and the optimizers add the replicas'
    gradients, so the update is the one a single device would make on the whole batch.

    Args:
      speed: a speed.Speed (default: float32, no XLA); strategy: default: the current one.
    Returns:
      train_step(real_images float32 (B, 28, 28, 1) in [-1, 1], labels int32 (B,), latent_vectors
        float32 (B, latent_dim)) -> dict of scalar losses, each the mean over the batch, summed over the replicas.
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

    def replica_step(real_images, labels, latent_vectors):
        batch_size = tf.shape(real_images)[0]
        global_batch_size = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, batch_size)

        def average(per_example_loss):
            return tf.nn.compute_average_loss(per_example_loss, global_batch_size=global_batch_size)

        def scaled(loss, optimizer):
            # Under float16 the loss is scaled up inside the tape, and the optimizer scales the gradients down.
            return optimizer.scale_loss(loss) if speed.loss_scaling else loss

        # (1) and (2): one forward pass serves both players. D sees a real and a fake batch;
        # G's loss asks how real D found its fakes. In a conditional run G draws the digits of the
        # real batch, so D compares like with like and each digit is drawn as often as MNIST has it.
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_images = generator(models.generator_inputs(config, latent_vectors, labels), training=True)
            real_logits = discriminator(models.discriminator_inputs(config, real_images, labels), training=True)
            fake_logits = discriminator(models.discriminator_inputs(config, fake_images, labels), training=True)
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
            # In a conditional run E also names the digit of fakes and real digits alike, and G redraws
            # a real digit from E's z and the digit's true label.
            with tf.GradientTape() as encoder_tape:
                fake_latents, fake_digit_logits = models.encoder_outputs(
                    config, encoder(tf.stop_gradient(fake_images), training=True))
                real_latents, real_digit_logits = models.encoder_outputs(config, encoder(real_images, training=True))
                reconstructions = generator(models.generator_inputs(config, real_latents, labels), training=False)
                per_example_loss = (losses.latent_regression_loss(latent_vectors, fake_latents)
                                    + config.reconstruction_weight * losses.reconstruction_loss(real_images, reconstructions))
                if models.conditional(config):
                    per_example_loss += (losses.digit_loss(labels, fake_digit_logits)
                                         + losses.digit_loss(labels, real_digit_logits))
                encoder_loss = average(per_example_loss)
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

    def train_step(real_images, labels, latent_vectors):
        results = strategy.run(replica_step, args=(real_images, labels, latent_vectors))
        results = {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for name, value in results.items()}
        state.step.assign_add(1)
        state.epoch_images.assign_add(tf.cast(results.pop("images"), tf.int64))
        for name, value in results.items():
            state.epoch_loss_sums[name].assign_add(tf.cast(value, tf.float64))
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


def start_next_epoch(state):
    """Counts an epoch as done and zeroes the epoch's sums: in one compiled call, so Ctrl-C cannot split it."""
    reset_epoch_counters(state.epoch, state.epoch_images, state.epoch_loss_sums)


@tf.function
def reset_epoch_counters(epoch, epoch_images, epoch_loss_sums):
    epoch.assign_add(1)
    epoch_images.assign(0)
    for loss_sum in epoch_loss_sums.values():
        loss_sum.assign(0.0)


def frame_inputs(config):
    """The generator's inputs for every progress frame: the same for the whole run, drawn from config.seed.

    In a conditional run each row is one z, one handwriting style, and column c draws the digit
    c mod 10: with the default grid of ten, every row writes 0 to 9 in its own style.
    """
    grid = config.frame_grid
    if not models.conditional(config):
        return tf.random.stateless_normal((grid * grid, config.latent_dim), seed=(config.seed, 0))
    styles = tf.random.stateless_normal((grid, config.latent_dim), seed=(config.seed, 0))
    digits = tf.range(grid * grid) % grid % models.NUM_CLASSES
    return models.generator_inputs(config, tf.repeat(styles, grid, axis=0), digits)


def train(config, train_digits, checkpoint_dir, output_dir, fresh=False, log=print, progress=True, evaluation=None,
          strategy=None, on_gpu=False, resume_from=None):
    """Trains a run to config.epochs epochs, resuming from the latest checkpoint in checkpoint_dir.

    Writes, under output_dir: frames/epoch_NNNN.png after each epoch, training.gif at the end, and
    logs/ (TensorBoard summaries, and metrics.csv when there are evaluations). Under a multi-worker
    strategy only the chief writes; the other workers save their checkpoints to a scratch directory.

    What a stop costs (see "What gan_tf guarantees" in the README):
      - A checkpoint is saved every config.checkpoint_every_epochs epochs, every
        config.checkpoint_every_steps steps and config.checkpoint_every_seconds seconds (each 0: never),
        and after the last epoch. A kill loses the training since the last one, no more.
      - An epoch's frame and logs are written before its checkpoint; a resumed run first removes the
        frames and logs of epochs after the checkpoint it restored, then redoes those epochs, so each
        epoch is in the frames, the GIF, TensorBoard and metrics.csv exactly once.
      - Ctrl-C saves a checkpoint of the step it stopped at, then re-raises KeyboardInterrupt.
      - A loss that is NaN or infinite, or a file that cannot be written (a full disk, a read-only
        directory), stops the run with a UserError; the latest checkpoint stays the last good one.

    Args:
      config: the run's Config (see config.resolve for how a resumed run gets it).
      train_digits: data.Digits, the digits to learn from (a conditional run uses their labels).
      fresh: delete the run already in checkpoint_dir (and its frames and logs) and start over.
      log: called with each line of the training log.
      progress: show a progress bar during each epoch.
      evaluation: None, or a function of the TrainingState returning a dict of quality figures
        (summaries.CSV_COLUMNS), called every config.eval_every epochs.
      strategy: a tf.distribute.Strategy (see distribute.make_strategy); default: one device.
      on_gpu: whether the work runs on a GPU, for the "auto" speed settings.
      resume_from: the name of a checkpoint to resume from (e.g. "ckpt-4690"); None: the latest.
    Returns:
      The TrainingState at the end.
    Raises:
      UserError: a checkpoint that cannot be restored (nothing is changed then), a loss that is not
        finite, or a file that cannot be written.
    """
    strategy = strategy or tf.distribute.get_strategy()
    chief = distribute.is_chief(strategy)
    speed = speed_lib.resolve(config, on_gpu)
    # Check both directories, restore, and only then change a file: a refused checkpoint or a bad
    # directory leaves everything as it was.
    checkpoint_dir = checkpoints.check_directory(checkpoint_dir)
    output_dir = checkpoints.check_directory(output_dir)
    frames_dir, logs_dir = output_dir / "frames", output_dir / "logs"
    if fresh and resume_from:
        raise errors.UserError("--fresh starts over and --checkpoint resumes from a checkpoint: use one of them.")
    if chief and fresh:
        checkpoints.remove_run(checkpoint_dir)
    # A worker that is not the chief must still take part in each save (it may involve collective
    # operations), but into a scratch directory of its own: only the chief's files are kept.
    save_dir = checkpoint_dir if chief else tempfile.mkdtemp(prefix="gan_tf_worker_")

    with strategy.scope():
        state = build_state(config, speed.mixed_precision)
        manager = checkpoints.make_manager(state.trackables(), save_dir, config.keep_checkpoints)
        restored = checkpoints.checkpoint_path(checkpoint_dir, resume_from) if checkpoint_dir.is_dir() else None
        if restored:
            checkpoints.restore(manager.checkpoint, restored)
            # Learning rates are training settings: the ones asked for now win over the saved ones.
            state.generator_optimizer.learning_rate = config.generator_learning_rate
            state.discriminator_optimizer.learning_rate = config.discriminator_learning_rate
            state.encoder_optimizer.learning_rate = config.encoder_learning_rate
            log(f"resumed {restored}: epoch {int(state.epoch.numpy())}, step {int(state.step.numpy())}")
        train_steps = make_multi_step(make_train_step(state, config, speed, strategy))
    log(f"speed: {speed.describe()}; strategy: {distribute.describe(strategy)}")

    # The checkpoint is good: only now may files change. Epochs after it are redone, so their
    # frames and logs go (a fresh run redoes everything).
    checkpoints.prepare_directory(checkpoint_dir)
    checkpoints.prepare_directory(output_dir)
    if chief:
        frames_dir.mkdir(exist_ok=True)
        images_lib.remove_frames_after(frames_dir, int(state.epoch.numpy()))
        summaries.forget_after(logs_dir, int(state.epoch.numpy()))
        config_lib.save(config, checkpoint_dir)
        run_log = summaries.RunLog(logs_dir)

    inputs_of_frames = frame_inputs(config)
    digit_dataset = data.digit_dataset(train_digits, cache=speed.cache_dataset)
    num_digits = len(train_digits.images)
    saved = {"name": restored, "epoch": int(state.epoch.numpy()), "step": int(state.step.numpy()),
             "time": time.monotonic()}

    def last_good():
        if saved["name"] is None:
            return "No checkpoint had been saved yet."
        return (f"The latest checkpoint, {pathlib.Path(saved['name']).name} (epoch {saved['epoch']}, step "
                f"{saved['step']}), is intact: run the same command to resume from it.")

    @contextlib.contextmanager
    def writing(what, directory):
        """Turns a failed write into one line: a full disk or a read-only directory stops the run."""
        try:
            yield
        except (OSError, tf.errors.OpError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else checkpoints.summary(error)
            raise errors.UserError(f"cannot write {what} in {directory} ({reason}): training stopped. {last_good()} "
                                   f"Free some disk space or fix the directory's permissions first.") from None

    def save():
        # Checkpoints are named by step, and a saved one is never written over: that could leave the
        # checkpoint the index names half old, half new. So a step that is saved already is not saved
        # again: after Ctrl-C between an epoch's last step and its frame, the resumed run redraws the
        # frame and counts the epoch without saving, and the next save records the count (after the
        # run's last epoch there is none, so a later run redraws that frame once more).
        step = int(state.step.numpy())
        if step != saved["step"] or saved["name"] is None:
            with writing("a checkpoint", checkpoint_dir):
                saved["name"] = manager.save(checkpoint_number=step)
            saved.update(epoch=int(state.epoch.numpy()), step=step)
        saved["time"] = time.monotonic()

    # Every worker of a multi-worker run must save at the same step, and their clocks differ: there,
    # checkpoints are saved by epochs and steps only.
    seconds_between_saves = config.checkpoint_every_seconds
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        seconds_between_saves = 0

    def save_due(steps_before):
        step = int(state.step.numpy())
        every_steps = config.checkpoint_every_steps
        return bool((every_steps and step // every_steps > steps_before // every_steps)
                    or (seconds_between_saves and time.monotonic() - saved["time"] >= seconds_between_saves))

    if int(state.epoch.numpy()) >= config.epochs:
        log(f"already trained for {int(state.epoch.numpy())} epochs: raise --epochs to train more.")
    try:
        for epoch in range(int(state.epoch.numpy()), config.epochs):
            skip_images = int(state.epoch_images.numpy())
            # The full batches, then the short last one: each part is a dataset with its own iterator.
            parts = data.epoch_batches(digit_dataset, config.batch_size, config.seed,
                                       epoch, config.latent_dim, skip_images, prefetch=speed.prefetch)
            steps_left = sum(part_steps for _, part_steps in parts)
            progress_bar = keras.utils.Progbar(steps_left, verbose=1 if progress and chief else 0, unit_name="batch")
            steps_in_epoch = data.steps_per_epoch(num_digits, config.batch_size)
            steps = 0
            steps_before = int(state.step.numpy())
            start = time.perf_counter()
            for batches, part_steps in parts:
                iterator = iter(strategy.experimental_distribute_dataset(batches))
                while part_steps:
                    call_steps = min(speed.steps_per_call, part_steps)
                    steps_before = int(state.step.numpy())
                    call_losses = {name: float(value) for name, value in
                                   train_steps(iterator, tf.constant(call_steps)).items()}
                    check_finite(call_losses, steps_before, call_steps, last_good)
                    steps += call_steps
                    part_steps -= call_steps
                    steps_left -= call_steps
                    if progress_bar.verbose:  # The epoch's running means (Keras 3's Progbar shows values as given).
                        steps_done = steps_in_epoch - steps_left
                        progress_bar.update(steps, [(name, float(total.numpy()) / steps_done)
                                                    for name, total in state.epoch_loss_sums.items()])
                    if steps_left and save_due(steps_before):
                        save()
            seconds = time.perf_counter() - start
            means = {name: float(total.numpy()) / steps_in_epoch for name, total in state.epoch_loss_sums.items()}

            # The epoch's frame and logs first, then the counters say it is done, then its checkpoint.
            # A kill before the save redoes the epoch, and the resumed run removes what the first try
            # wrote; Ctrl-C before the counters change saves a checkpoint that redoes only the frame and logs.
            images_per_second = (num_digits - skip_images) / max(seconds, 1e-9)
            picture = images_lib.grid(generate.generate_digits(state.generator, inputs_of_frames), config.frame_grid)
            if chief:
                with writing("the progress frame and logs", output_dir):
                    images_lib.save_png(picture, images_lib.frame_path(frames_dir, epoch + 1))
                    run_log.epoch(epoch + 1, means, images_per_second, picture)
            figures = None
            if evaluation is not None and config.eval_every and (epoch + 1) % config.eval_every == 0:
                figures = evaluation(state)
                if chief:
                    with writing("the evaluation", logs_dir):
                        run_log.evaluation(epoch + 1, int(state.step.numpy()), figures)
            start_next_epoch(state)
            every_epochs = config.checkpoint_every_epochs
            if epoch + 1 == config.epochs or (every_epochs and (epoch + 1) % every_epochs == 0) or save_due(steps_before):
                save()
            log(f"epoch {epoch + 1}/{config.epochs}  "
                + "  ".join(f"{name} {value:.3f}" for name, value in means.items())
                + f"  {seconds:.1f} s  {images_per_second:.0f} images/s")
            if figures is not None:
                asked = figures["asked_digit_share"]
                log(f"  quality: MNIST score {figures['mnist_score']:.3f}  Frechet distance "
                    f"{figures['frechet_distance']:.2f}  class shares {figures['min_class_share']:.3f}-"
                    f"{figures['max_class_share']:.3f}" + ("" if math.isnan(asked) else f"  asked digit {asked:.3f}")
                    + f"  encoder 1-NN {figures['nearest_neighbour_accuracy']:.4f}")
    except KeyboardInterrupt:
        save()
        log(f"\ninterrupted: saved {saved['name']} (epoch {saved['epoch']}, step {saved['step']}); run the same "
            f"command again to resume.")
        raise
    finally:
        if not chief:
            shutil.rmtree(save_dir, ignore_errors=True)

    if chief:
        with writing("training.gif", output_dir):
            count = images_lib.gif_from_frames(frames_dir, output_dir / "training.gif")
        log(f"wrote {output_dir / 'training.gif'} ({count} frames); checkpoints in {checkpoint_dir}")
    return state


def check_finite(call_losses, steps_before, call_steps, last_good):
    """Stops the run when a loss of the last call is NaN or infinite, before anything saves the weights.

    Args:
      call_losses: name -> the loss summed over the call's steps (one NaN step makes the sum NaN).
      steps_before: the step counter before the call; call_steps: how many steps it ran.
      last_good: a function returning the sentence about the latest checkpoint.
    """
    bad = {name: value for name, value in call_losses.items() if not math.isfinite(value)}
    if not bad:
        return
    where = f"step {steps_before + 1}" if call_steps == 1 else f"steps {steps_before + 1}-{steps_before + call_steps}"
    losses_text = " and ".join(f"the {name} loss became {value}" for name, value in bad.items())
    raise errors.UserError(f"training diverged at {where}: {losses_text}, so the run stopped without saving. "
                           f"{last_good()} Lower the learning rates (e.g. --generator-learning-rate and "
                           f"--discriminator-learning-rate) before resuming.")

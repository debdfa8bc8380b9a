"""Training: the state of a run, the compiled train step, and the epoch loop with its checkpoints.

The story of one run, top to bottom:
  1. build the models, optimizers and counters (TrainingState), restoring the latest checkpoint;
  2. compile one train step that updates the discriminator, the generator and the encoder;
  3. loop over epochs: train on shuffled batches, draw a progress frame from fixed noise, save;
  4. animate the frames into a GIF.
"""

import dataclasses
import time

import keras
import tensorflow as tf

from gan_tf import checkpoints
from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import generate
from gan_tf import images as images_lib
from gan_tf import losses
from gan_tf import models
from gan_tf import summaries


@dataclasses.dataclass
class TrainingState:
    """Everything a checkpoint saves: together, enough to continue a run exactly where it stopped."""

    generator: keras.Sequential
    discriminator: keras.Sequential
    encoder: keras.Sequential
    generator_optimizer: keras.optimizers.Optimizer
    discriminator_optimizer: keras.optimizers.Optimizer
    encoder_optimizer: keras.optimizers.Optimizer
    epoch: tf.Variable  # Epochs completed.
    step: tf.Variable  # Train steps completed, over all epochs.
    epoch_images: tf.Variable  # Images of the current epoch already trained on (a resume skips them).
    noise: tf.random.Generator  # Draws every step's latent vectors; saved, so a resume continues its stream.

    def trackables(self):
        """name -> object, for tf.train.Checkpoint."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def build_state(config):
    """New models, optimizers and counters for `config`, initialised from config.seed."""
    keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow: the initial weights.
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
                         epoch_images=counter(), noise=tf.random.Generator.from_seed(config.seed))


def make_train_step(state, config):
    """One compiled step that trains all three networks on a batch of real images.

    The step is traced once: its input signature leaves the batch size open, so the short last
    batch of an epoch reuses the same graph, and the noise is sized from the batch it gets.

    Returns:
      train_step(real_images float32 (B, 28, 28, 1) in [-1, 1]) -> dict of scalar losses.
    """
    generator, discriminator, encoder = state.generator, state.discriminator, state.encoder

    @tf.function(input_signature=[tf.TensorSpec((None,) + models.IMAGE_SHAPE, tf.float32)])
    def train_step(real_images):
        batch_size = tf.shape(real_images)[0]
        latent_vectors = state.noise.normal((batch_size, config.latent_dim))

        # (1) and (2): one forward pass serves both players. D sees a real and a fake batch;
        # G's loss asks how real D found its fakes.
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_images = generator(latent_vectors, training=True)
            real_logits = discriminator(real_images, training=True)
            fake_logits = discriminator(fake_images, training=True)
            # (1) D: maximise log D(x) + log(1 - D(G(z))).
            discriminator_loss = losses.non_saturating_discriminator_loss(real_logits, fake_logits)
            # (2) G: maximise log D(G(z)).
            generator_loss = losses.non_saturating_generator_loss(fake_logits)

        # (3) E: learn to invert G. Fakes come with their true z; real digits have none, so E is
        # judged by how well G redraws them from E(x). G is frozen here (inference mode, and only
        # E's weights are updated): the encoder must not pull the generator away from the GAN game.
        with tf.GradientTape() as encoder_tape:
            encoded_fakes = encoder(tf.stop_gradient(fake_images), training=True)
            reconstructions = generator(encoder(real_images, training=True), training=False)
            encoder_loss = (losses.latent_regression_loss(latent_vectors, encoded_fakes)
                            + config.reconstruction_weight * losses.reconstruction_loss(real_images, reconstructions))

        for tape, loss, model, optimizer in [
                (discriminator_tape, discriminator_loss, discriminator, state.discriminator_optimizer),
                (generator_tape, generator_loss, generator, state.generator_optimizer),
                (encoder_tape, encoder_loss, encoder, state.encoder_optimizer)]:
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))

        state.step.assign_add(1)
        state.epoch_images.assign_add(tf.cast(batch_size, tf.int64))
        return {"generator": generator_loss, "discriminator": discriminator_loss, "encoder": encoder_loss}

    return train_step


@tf.function
def start_next_epoch(epoch, epoch_images):
    """Counts an epoch as done. One compiled call changes both counters, so Ctrl-C cannot come between them."""
    epoch.assign_add(1)
    epoch_images.assign(0)


def fixed_noise(config):
    """The latent vectors of every progress frame: the same for the whole run, drawn from config.seed."""
    return tf.random.stateless_normal((config.frame_grid ** 2, config.latent_dim), seed=(config.seed, 0))


def train(config, train_images, checkpoint_dir, output_dir, fresh=False, log=print, progress=True, evaluation=None):
    """Trains a run to config.epochs epochs, resuming from the latest checkpoint in checkpoint_dir.

    Writes, under output_dir: frames/epoch_NNNN.png after each epoch, training.gif at the end, and
    logs/ (TensorBoard summaries, and metrics.csv when there are evaluations).
    Ctrl-C saves a checkpoint of the step it stopped at, then re-raises KeyboardInterrupt.

    Args:
      config: the run's Config (see config.resolve for how a resumed run gets it).
      train_images: uint8 numpy array (N, 28, 28), the digits to learn from.
      fresh: delete the run already in checkpoint_dir (and its frames) and start over.
      log: called with each line of the training log.
      progress: show a progress bar during each epoch.
      evaluation: None, or a function of the TrainingState returning a dict of quality figures
        (summaries.CSV_COLUMNS), called every config.eval_every epochs.
    Returns:
      The TrainingState at the end.
    """
    checkpoint_dir = checkpoints.prepare_directory(checkpoint_dir)
    frames_dir = checkpoints.prepare_directory(output_dir) / "frames"
    frames_dir.mkdir(exist_ok=True)
    logs_dir = frames_dir.parent / "logs"
    if fresh:
        checkpoints.remove_run(checkpoint_dir)
        for old_file in [*images_lib.frame_paths(frames_dir), *logs_dir.glob("events.out.tfevents.*"),
                         logs_dir / summaries.CSV_FILENAME]:
            old_file.unlink(missing_ok=True)
    run_log = summaries.RunLog(logs_dir)

    state = build_state(config)
    manager = checkpoints.make_manager(state.trackables(), checkpoint_dir, config.keep_checkpoints)
    if manager.latest_checkpoint:
        checkpoints.restore(state.trackables(), manager.latest_checkpoint)
        # Learning rates are training settings: the ones asked for now win over the saved ones.
        state.generator_optimizer.learning_rate = config.generator_learning_rate
        state.discriminator_optimizer.learning_rate = config.discriminator_learning_rate
        state.encoder_optimizer.learning_rate = config.encoder_learning_rate
        log(f"resumed {manager.latest_checkpoint}: epoch {int(state.epoch)}, step {int(state.step)}")
    config_lib.save(config, checkpoint_dir)

    train_step = make_train_step(state, config)
    frame_noise = fixed_noise(config)
    image_dataset = data.image_dataset(train_images)
    num_images = len(train_images)
    last_saved_step = int(state.step) if manager.latest_checkpoint else None

    def save():
        nonlocal last_saved_step
        if int(state.step) != last_saved_step:
            manager.save(checkpoint_number=int(state.step))
            last_saved_step = int(state.step)

    if int(state.epoch) >= config.epochs:
        log(f"already trained for {int(state.epoch)} epochs: raise --epochs to train more.")
    try:
        for epoch in range(int(state.epoch), config.epochs):
            skip_images = int(state.epoch_images)
            batches = data.epoch_batches(image_dataset, config.batch_size, config.seed, epoch, skip_images)
            progress_bar = keras.utils.Progbar(data.steps_per_epoch(num_images - skip_images, config.batch_size),
                                               verbose=1 if progress else 0, unit_name="batch")
            loss_sums = {"generator": 0.0, "discriminator": 0.0, "encoder": 0.0}
            steps = 0
            start = time.perf_counter()
            for real_images in batches:
                for name, value in train_step(real_images).items():
                    loss_sums[name] += float(value)
                steps += 1
                # The bar shows the epoch's running means (Keras 3's Progbar shows values as given).
                progress_bar.update(steps, [(name, total / steps) for name, total in loss_sums.items()])
            seconds = time.perf_counter() - start

            # The frame first, then the checkpoint: a kill between the two redoes this epoch and
            # rewrites its frame, so frames and checkpoints never disagree.
            picture = images_lib.grid(generate.generate_digits(state.generator, frame_noise), config.frame_grid)
            images_lib.save_png(picture, images_lib.frame_path(frames_dir, epoch + 1))
            start_next_epoch(state.epoch, state.epoch_images)
            save()
            means = {name: total / max(steps, 1) for name, total in loss_sums.items()}
            images_per_second = (num_images - skip_images) / seconds
            log(f"epoch {epoch + 1}/{config.epochs}  generator {means['generator']:.3f}  "
                f"discriminator {means['discriminator']:.3f}  encoder {means['encoder']:.3f}  "
                f"{seconds:.1f} s  {images_per_second:.0f} images/s")
            run_log.epoch(epoch + 1, means, images_per_second, picture)
            if evaluation is not None and config.eval_every and (epoch + 1) % config.eval_every == 0:
                figures = evaluation(state)
                run_log.evaluation(epoch + 1, int(state.step), figures)
                log(f"  quality: MNIST score {figures['mnist_score']:.3f}  Frechet distance "
                    f"{figures['frechet_distance']:.2f}  class shares {figures['min_class_share']:.3f}-"
                    f"{figures['max_class_share']:.3f}  encoder 1-NN {figures['nearest_neighbour_accuracy']:.4f}")
    except KeyboardInterrupt:
        save()
        log(f"\ninterrupted: saved {manager.latest_checkpoint} (epoch {int(state.epoch)}, step "
            f"{int(state.step)}); run the same command again to resume.")
        raise

    count = images_lib.gif_from_frames(frames_dir, frames_dir.parent / "training.gif")
    log(f"wrote {frames_dir.parent / 'training.gif'} ({count} frames); checkpoints in {checkpoint_dir}")
    return state

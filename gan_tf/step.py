"""One train step: the discriminator, then the generator, then the encoder, on one batch of real digits.

Read it beside TensorFlow's DCGAN tutorial: each update is a forward pass under a tf.GradientTape,
then `tape.gradient` and `optimizer.apply_gradients`, with a banner naming what it maximises.

    (1) Update D: maximise log D(x) + log(1 - D(G(z)))
    (2) Update G: maximise log D(G(z))
    (3) Update E: minimise |E(G(z)) - z|^2 + |G(E(x)) - x|^2  (+ naming the digit, in a conditional run)

The step is plain Python over a `state` that holds the models and their optimizers (train.TrainingState).
Everything that makes it fast or runs it on several devices wraps it from outside
(runtime/compiled.py): tf.function and XLA, the replicas of a tf.distribute strategy, float16's loss
scaling, several steps per call. Two hooks reach in, and both do nothing by default:
  - `average` turns per-example losses into the batch's mean. On one device that is tf.reduce_mean;
    on several replicas, each divides its sum by the size of the whole batch.
  - `optimizer.scale_loss(loss)` returns the loss itself for Adam; under float16 the optimizer is
    Keras's LossScaleOptimizer, which scales it up (and the gradients back down) so small gradients
    do not round to zero. Keras's own Model.train_step calls it in the same place.
"""

import tensorflow as tf

from gan_tf import losses
from gan_tf import models


def gan_update(state, config, real_images, labels, latent_vectors, average=tf.reduce_mean):
    """Updates the discriminator, then the generator, on one batch; returns (fake images, their losses).

    One forward pass serves both players: D sees a real and a fake batch, and G's loss asks how real
    D found its fakes. In a conditional run G draws the digits of the real batch, so D compares like
    with like, and each digit is drawn as often as MNIST has it.

    Args:
      state: holds generator, discriminator and their optimizers (train.TrainingState).
      config: the run's Config.
      real_images: float32 (B, 28, 28, 1) in [-1, 1]; labels: int32 (B,), their digits.
      latent_vectors: float32 (B, latent_dim), standard normal: the noise G draws from.
    Returns:
      (fake images float32 (B, 28, 28, 1), {"generator": scalar loss, "discriminator": scalar loss}).
    """
    generator, discriminator = state.generator, state.discriminator
    with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
        fake_images = generator(models.generator_inputs(config, latent_vectors, labels), training=True)
        real_logits = discriminator(models.discriminator_inputs(config, real_images, labels), training=True)
        fake_logits = discriminator(models.discriminator_inputs(config, fake_images, labels), training=True)
        discriminator_loss = average(losses.non_saturating_discriminator_loss(real_logits, fake_logits))
        generator_loss = average(losses.non_saturating_generator_loss(fake_logits))
        scaled_discriminator_loss = state.discriminator_optimizer.scale_loss(discriminator_loss)
        scaled_generator_loss = state.generator_optimizer.scale_loss(generator_loss)

    # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
    gradients_of_discriminator = discriminator_tape.gradient(scaled_discriminator_loss,
                                                             discriminator.trainable_variables)
    state.discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    # (2) Update G: maximise log D(G(z)).
    gradients_of_generator = generator_tape.gradient(scaled_generator_loss, generator.trainable_variables)
    state.generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    return fake_images, {"generator": generator_loss, "discriminator": discriminator_loss}


def encoder_update(state, config, real_images, labels, latent_vectors, fake_images, average=tf.reduce_mean):
    """Updates the encoder to invert the generator; returns its loss. G and D are left as they are.

    Fakes come with their true z, so E learns to recover it; real digits have none, so E is judged by
    how closely G redraws them from E(x). G runs in inference mode and only E's weights are updated:
    the encoder must not pull the generator away from the GAN game. In a conditional run E also names
    the digit of fakes and real digits alike, and G redraws a real digit from E's z and its true label.

    Args:
      fake_images: float32 (B, 28, 28, 1), G's images of `latent_vectors` (from gan_update).
      The others as in gan_update.
    Returns:
      The encoder's scalar loss.
    """
    encoder = state.encoder
    with tf.GradientTape() as encoder_tape:
        fake_latents, fake_digit_logits = models.encoder_outputs(config, encoder(fake_images, training=True))
        real_latents, real_digit_logits = models.encoder_outputs(config, encoder(real_images, training=True))
        reconstructions = state.generator(models.generator_inputs(config, real_latents, labels), training=False)
        per_example_loss = (losses.latent_regression_loss(latent_vectors, fake_latents)
                            + config.reconstruction_weight * losses.reconstruction_loss(real_images, reconstructions))
        if models.conditional(config):
            per_example_loss += losses.digit_loss(labels, fake_digit_logits) + losses.digit_loss(labels, real_digit_logits)
        encoder_loss = average(per_example_loss)
        scaled_encoder_loss = state.encoder_optimizer.scale_loss(encoder_loss)

    # (3) Update E: minimise |E(G(z)) - z|^2 + |G(E(x)) - x|^2.
    gradients_of_encoder = encoder_tape.gradient(scaled_encoder_loss, encoder.trainable_variables)
    state.encoder_optimizer.apply_gradients(zip(gradients_of_encoder, encoder.trainable_variables))
    return encoder_loss


def train_step(state, config, real_images, labels, latent_vectors, average=tf.reduce_mean):
    """The GAN update, then (with config.encoder "on") the encoder update: a dict of scalar losses."""
    fake_images, step_losses = gan_update(state, config, real_images, labels, latent_vectors, average)
    if config.encoder == "on":
        step_losses["encoder"] = encoder_update(state, config, real_images, labels, latent_vectors,
                                                tf.stop_gradient(fake_images), average)
    return step_losses

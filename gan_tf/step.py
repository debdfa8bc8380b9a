"""One train step on one batch of real pictures: the discriminator and the generator together, then the encoder.

Read it beside TensorFlow's DCGAN tutorial: one forward pass under two tf.GradientTapes, then for each
player `tape.gradient` and `optimizer.apply_gradients`, with a banner naming what it optimises.

    (1) Update D: maximise log D(x) + log(1 - D(G(z)))          (or the --loss chosen: losses.py)
                                                                 (+ naming x's class, with --class-loss)
    (2) Update G: maximise log D(G(z))                           (+ feature matching, with --feature-matching)
                                                                 (+ D naming G(z)'s class as asked, with --class-loss)
    (3) Update E: minimise |E(G(z)) - z|^2 + |G(E(x)) - x|^2   (+ naming the label, when the run has labels)

(1) and (2) are simultaneous updates, as in TensorFlow's tutorial: both gradients come from the same
forward pass, so G's gradient is taken against D's weights as they were before D's update. keras-io's
DCGAN alternates instead: it updates D, draws new fakes, and takes G's gradient through the updated
D, which costs a second forward pass of G and D every step. gan_tf does the forward work once, like the
tutorial it is measured against (Mescheder et al. 2018 analyse both kinds of update).

With --critic-steps N, D is updated N - 1 more times first (critic_update), as WGAN-GP trains its
critic. With --augment on, D sees every image, real or fake, through augment.py.

The step is plain Python over a `state` that holds the networks and their optimizers by name
(runtime/state.py: state.networks["generator"], state.optimizers["generator"]). Everything that makes it
fast or runs it on several devices wraps it from outside
(runtime/compiled.py): tf.function and XLA, the replicas of a tf.distribute strategy, float16's loss
scaling, several steps per call. Two hooks reach in, and both do nothing by default:
  - `average` turns per-example losses into the batch's mean. On one device that is tf.reduce_mean;
    on several replicas, each divides its sum by the size of the whole batch.
  - `optimizer.scale_loss(loss)` returns the loss itself for Adam; under float16 the optimizer is
    Keras's LossScaleOptimizer, which scales it up (and the gradients back down) so small gradients
    do not round to zero. Keras's own Model.train_step calls it in the same place.
"""

import tensorflow as tf

from gan_tf import augment
from gan_tf import losses
from gan_tf import models

# Streams of the step's own random numbers (the noise of the batch comes with it from data.py).
AUGMENT_REAL, AUGMENT_FAKE, PENALTY, CRITIC = 1, 2, 3, 4


def gan_update(state, config, real_images, labels, latent_vectors, average=tf.reduce_mean):
    """Updates the discriminator and the generator together, on one batch; returns (fake images, their losses).

    One forward pass serves both players: D sees a real and a fake batch, and G's loss asks how real
    D found its fakes. Both gradients are taken before either update is applied, so the order of the
    two updates below does not matter. A run with labels (the classes, or clusters) has G draw the labels of the
    real batch, so D compares like with like, and each label is drawn as often as the data has it.

    Args:
      state: holds the generator, the discriminator and their optimizers (runtime/state.TrainingState).
      config: the run's Config.
      real_images: float32 (B, H, W, C) in [-1, 1]; labels: int32 (B,), their labels.
      latent_vectors: float32 (B, latent_dim), standard normal: the noise G draws from.
    Returns:
      (fake images float32 (B, H, W, C), {"generator": scalar loss, "discriminator": scalar loss}).
    """
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    generator_optimizer, discriminator_optimizer = state.optimizers["generator"], state.optimizers["discriminator"]
    seed = step_seed(state, config)
    with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
        fake_images = generator(models.generator_inputs(config, latent_vectors, labels), training=True)
        real_logits, real_features = discriminator_view(state, config, real_images, labels, fold(seed, AUGMENT_REAL))
        fake_logits, fake_features = discriminator_view(state, config, fake_images, labels, fold(seed, AUGMENT_FAKE))
        discriminator_loss = discriminator_objective(
            state, config, real_images, fake_images, labels, real_logits, fake_logits, seed, average
        )
        generator_loss = average(losses.generator_loss(config.loss, fake_logits))
        if config.class_loss:  # D names the class of real pictures, and G draws pictures D names as asked.
            discriminator_loss += named_class_loss(state, config, real_features, labels, average)
            generator_loss += named_class_loss(state, config, fake_features, labels, average)
        if config.feature_matching:
            generator_loss += config.feature_matching * feature_matching(
                state, config, real_images, fake_images, real_features, fake_features
            )
        scaled_discriminator_loss = discriminator_optimizer.scale_loss(discriminator_loss)
        scaled_generator_loss = generator_optimizer.scale_loss(generator_loss)

    # (1) Update D: maximise log D(x) + log(1 - D(G(z))).
    gradients_of_discriminator = discriminator_tape.gradient(
        scaled_discriminator_loss, discriminator.trainable_variables
    )
    discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))

    # (2) Update G: maximise log D(G(z)).
    gradients_of_generator = generator_tape.gradient(scaled_generator_loss, generator.trainable_variables)
    generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
    return fake_images, {"generator": generator_loss, "discriminator": discriminator_loss}


def critic_update(state, config, real_images, labels, seed, average=tf.reduce_mean):
    """One more update of the discriminator alone, on the same real batch and fresh noise; returns its loss.

    For --critic-steps N above 1: WGAN-GP (Gulrajani et al. 2017, Algorithm 1) trains its critic five
    times for each generator update, so that G always learns from a critic that is close to optimal.
    Like keras-io's WGAN-GP example, the extra updates reuse the step's real images.

    Args:
      seed: int (2,), the stateless seed of this update's noise and augmentations.
      The others as in gan_update.
    """
    discriminator, discriminator_optimizer = state.networks["discriminator"], state.optimizers["discriminator"]
    latent_vectors = tf.random.stateless_normal((tf.shape(real_images)[0], config.latent_dim), seed=seed)
    fake_images = state.networks["generator"](models.generator_inputs(config, latent_vectors, labels), training=True)
    with tf.GradientTape() as discriminator_tape:
        real_logits, real_features = discriminator_view(state, config, real_images, labels, fold(seed, AUGMENT_REAL))
        fake_logits, _ = discriminator_view(state, config, fake_images, labels, fold(seed, AUGMENT_FAKE))
        discriminator_loss = discriminator_objective(
            state, config, real_images, fake_images, labels, real_logits, fake_logits, seed, average
        )
        if config.class_loss:
            discriminator_loss += named_class_loss(state, config, real_features, labels, average)
        scaled_discriminator_loss = discriminator_optimizer.scale_loss(discriminator_loss)

    # (1') Update D again.
    gradients_of_discriminator = discriminator_tape.gradient(
        scaled_discriminator_loss, discriminator.trainable_variables
    )
    discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
    return discriminator_loss


def encoder_update(state, config, real_images, labels, latent_vectors, fake_images, average=tf.reduce_mean):
    """Updates the encoder to invert the generator; returns its loss. G and D are left as they are.

    Fakes come with their true z, so E learns to recover it; real pictures have none, so E is judged by
    how closely G redraws them from E(x). G runs in inference mode and only E's weights are updated:
    the encoder must not pull the generator away from the GAN game. In a run with labels E also names
    the label of fakes and real pictures alike, and G redraws a real picture from E's z and its true label.

    Args:
      fake_images: float32 (B, H, W, C), G's images of `latent_vectors` (from gan_update).
      The others as in gan_update.
    Returns:
      The encoder's scalar loss.
    """
    encoder, encoder_optimizer = state.networks["encoder"], state.optimizers["encoder"]
    with tf.GradientTape() as encoder_tape:
        fake_latents, fake_label_logits = models.encoder_outputs(config, encoder(fake_images, training=True))
        real_latents, real_label_logits = models.encoder_outputs(config, encoder(real_images, training=True))
        reconstructions = state.networks["generator"](
            models.generator_inputs(config, real_latents, labels), training=False
        )
        per_example_loss = losses.latent_regression_loss(
            latent_vectors, fake_latents
        ) + config.reconstruction_weight * losses.reconstruction_loss(real_images, reconstructions)
        if models.num_labels(config):
            per_example_loss += losses.class_loss(labels, fake_label_logits) + losses.class_loss(
                labels, real_label_logits
            )
        encoder_loss = average(per_example_loss)
        scaled_encoder_loss = encoder_optimizer.scale_loss(encoder_loss)

    # (3) Update E: minimise |E(G(z)) - z|^2 + |G(E(x)) - x|^2.
    gradients_of_encoder = encoder_tape.gradient(scaled_encoder_loss, encoder.trainable_variables)
    encoder_optimizer.apply_gradients(zip(gradients_of_encoder, encoder.trainable_variables))
    return encoder_loss


def train_step(state, config, real_images, labels, latent_vectors, average=tf.reduce_mean):
    """The extra critic updates, the GAN update, then (with config.encoder "on") the encoder update:
    a dict of scalar losses."""
    for critic_step in range(config.critic_steps - 1):
        critic_update(state, config, real_images, labels, fold(step_seed(state, config), CRITIC + critic_step), average)
    fake_images, step_losses = gan_update(state, config, real_images, labels, latent_vectors, average)
    if config.encoder == "on":
        step_losses["encoder"] = encoder_update(
            state, config, real_images, labels, latent_vectors, tf.stop_gradient(fake_images), average
        )
    return step_losses


def average_generator_update(state, config):
    """(4) Moves the average generator's weights a step towards G's: a <- d a + (1 - d) w.

    Yazici et al. (2019, "The Unusual Effectiveness of Averaging in GAN Training"): G's weights
    circle around a good point as G and D chase each other; their exponential moving average sits
    nearer its centre and draws cleaner pictures. Every weight is averaged, BatchNormalization's moving
    statistics too. The decay d grows from 0.1 to config.generator_average over the first steps,
    (1 + step) / (10 + step) as in tf.train.ExponentialMovingAverage, so the start of the run is not
    remembered for long.
    """
    step = tf.cast(state.step, tf.float32)
    decay = tf.minimum(config.generator_average, (1.0 + step) / (10.0 + step))
    weights = state.networks["generator"].weights
    for average, weight in zip(state.kept["average_generator"].weights, weights, strict=True):
        average.assign(decay * average + (1.0 - decay) * tf.cast(weight, average.dtype))


# --- What the updates share. ---


def discriminator_view(state, config, images, labels, seed):
    """D's view of a batch: (logits (B, 1), features of its last hidden layer (B, F)).

    With --augment on the images are augmented first, real and fake alike, as DiffAugment requires:
    D never sees an un-augmented image, so G is not pushed to draw augmented ones.
    """
    if config.augment == "on":
        images = augment.diff_augment(images, seed)
    return models.discriminate(state.networks["discriminator"], models.discriminator_inputs(config, images, labels))


def discriminator_objective(state, config, real_images, fake_images, labels, real_logits, fake_logits, seed, average):
    """D's scalar loss: the --loss of its logits, and for wasserstein-gp the gradient penalty, weighted.

    The penalty's critic is D as the update sees it: under the same augmentation of the mixed images
    as of the reals, when --augment is on.
    """
    loss = average(losses.discriminator_loss(config.loss, real_logits, fake_logits, config.label_smoothing))
    if config.loss != "wasserstein-gp":
        return loss

    def critic(images):
        logits, _ = discriminator_view(state, config, images, labels, fold(seed, AUGMENT_REAL))
        return logits

    weights = losses.interpolation_weights(tf.shape(real_images)[0], fold(seed, PENALTY))
    return loss + config.gradient_penalty_weight * average(
        losses.gradient_penalty(critic, real_images, fake_images, weights)
    )


def named_class_loss(state, config, features, labels, average):
    """--class-loss W: W times -log p(label | picture), p read by D's projection of its features on every label's
    embedding (models.class_logits()), as AC-GAN's auxiliary classifier (Odena et al. 2017) but without a
    head of its own. D learns it on real pictures only, so that G is pushed towards real pictures of its
    class, not towards whatever D has learned to name among the fakes."""
    logits = models.class_logits(config, state.networks["discriminator"], features)
    return config.class_loss * average(losses.class_loss(labels, logits))


def feature_matching(state, config, real_images, fake_images, real_features, fake_features):
    """G's extra term for --feature-matching: D's features of the two batches matched in the mean, plus,
    when the encoder names labels, the KL divergence between the label mixes it reads in them.

    The encoder runs in inference mode and is not updated here; only its verdict passes gradients to G.
    tf.nn.scale_regularization_loss divides by the number of replicas, because these terms are means
    over a replica's batch rather than sums of per-example losses.
    """
    term = losses.feature_matching_loss(tf.stop_gradient(real_features), fake_features)
    if config.encoder == "on" and models.num_labels(config):
        encoder = state.networks["encoder"]
        _, real_label_logits = models.encoder_outputs(config, encoder(real_images, training=False))
        _, fake_label_logits = models.encoder_outputs(config, encoder(fake_images, training=False))
        term += losses.class_distribution_kl(tf.stop_gradient(real_label_logits), fake_label_logits)
    return tf.nn.scale_regularization_loss(term)


def step_seed(state, config):
    """The seed of this step's own random numbers, int64 (2,): a function of (config.seed, step), so a
    resumed run draws what an uninterrupted one would."""
    return tf.stack([tf.constant(config.seed, tf.int64), tf.cast(state.step, tf.int64)])


def fold(seed, stream):
    """A seed for one use of the step's randomness, independent of the seeds of the other uses."""
    return tf.random.experimental.stateless_fold_in(seed, stream)

"""The losses, as pure functions of logits and tensors.

The GAN losses return one value per example, shape (B,); the train step averages them over the
global batch with tf.nn.compute_average_loss, which stays right when tf.distribute splits a batch over
several devices: each device divides its sum by the size of the whole batch, and the optimizer adds
the devices' gradients. The feature-matching terms compare whole batches and return one scalar.

Labels: real = 1, fake = 0. The discriminator's outputs are logits (scores, for the Wasserstein
critic and the hinge loss), and the cross-entropy losses work from logits with
tf.nn.sigmoid_cross_entropy_with_logits, which stays finite where log(sigmoid(x)) would not.

Four GAN losses, chosen with --loss (see discriminator_loss and generator_loss at the end):
  non-saturating   Goodfellow et al. (2014): cross-entropy, G maximises log D(G(z)).
  least-squares    Mao et al. (2017), LSGAN: squared distances of the logits from the targets.
  hinge            Lim & Ye (2017), Miyato et al. (2018): D wants real scores above 1 and fake below -1.
  wasserstein-gp   Gulrajani et al. (2017), WGAN-GP: the critic's score gap, with a gradient penalty.
"""

import tensorflow as tf

from gan_tf.config import LOSSES  # The names of the four, where the command line checks --loss.


def non_saturating_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """The discriminator's loss: -[log D(x) + log(1 - D(G(z)))], for each pair of a real and a fake image.

    Goodfellow et al. (2014), eq. 1: D maximises log D(x) + log(1 - D(G(z))). We minimise its
    negative, which is the binary cross-entropy of real images against label 1 plus fake images
    against label 0. A perfect guess at both scores 0; a coin flip (logits 0) scores 2 log 2.

    Args:
      real_logits: float (B, 1), D's logits for real images.
      fake_logits: float (B, 1), D's logits for generated images.
      label_smoothing: S in [0, 1): the real images' target is 1 - S ("one-sided label smoothing",
        Salimans et al. 2016, section 3.4); the fakes' stays 0, so D is never told fakes are a bit real.
    Returns:
      float (B,).
    """
    real_targets = tf.fill(tf.shape(real_logits), 1.0 - label_smoothing)
    real_loss = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(real_targets, real_logits.dtype), logits=real_logits
    )
    fake_loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits)
    return real_loss[:, 0] + fake_loss[:, 0]


def non_saturating_generator_loss(fake_logits):
    """The generator's loss: -log D(G(z)), for each generated image.

    Departs from the minimax formula on purpose, as Goodfellow et al. (2014, section 3) suggest:
    minimising log(1 - D(G(z))) gives G almost no gradient early on, when D rejects its images with
    confidence; maximising log D(G(z)) has the same fixed point and strong gradients there. It is the
    cross-entropy of the fake images against the "real" label.

    Args:
      fake_logits: float (B, 1), D's logits for generated images.
    Returns:
      float (B,).
    """
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(fake_logits), logits=fake_logits)[:, 0]


def least_squares_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """LSGAN's discriminator loss: (D(x) - 1)^2 + D(G(z))^2, halved, for each pair.

    Mao et al. (2017), eq. 2 with the targets a = 0 (fake) and b = 1 (real): D's raw output is pulled
    to the target by a squared error instead of a cross-entropy, so samples far on the right side of
    the boundary still get a gradient. With label smoothing, the real target is 1 - S.

    Args and returns: as non_saturating_discriminator_loss; the logits are used as they are, no sigmoid.
    """
    real_target = 1.0 - label_smoothing
    return 0.5 * (tf.square(real_logits[:, 0] - real_target) + tf.square(fake_logits[:, 0]))


def least_squares_generator_loss(fake_logits):
    """LSGAN's generator loss: (D(G(z)) - 1)^2 / 2: G wants its images scored as real (c = 1 in eq. 2)."""
    return 0.5 * tf.square(fake_logits[:, 0] - 1.0)


def hinge_discriminator_loss(real_logits, fake_logits):
    """The hinge loss: max(0, 1 - D(x)) + max(0, 1 + D(G(z))), for each pair.

    Lim & Ye (2017, "Geometric GAN") and Miyato et al. (2018, eq. 16 with SN-GAN): D is only
    pushed until reals score above 1 and fakes below -1; beyond that margin it stops learning from
    an image, which keeps its scores from running away.
    """
    return tf.nn.relu(1.0 - real_logits[:, 0]) + tf.nn.relu(1.0 + fake_logits[:, 0])


def hinge_generator_loss(fake_logits):
    """The hinge GAN's generator loss: -D(G(z)), G raises D's score of its images (Miyato et al. 2018, eq. 17)."""
    return -fake_logits[:, 0]


def wasserstein_critic_loss(real_logits, fake_logits):
    """The Wasserstein critic's loss: D(G(z)) - D(x), for each pair.

    Arjovsky et al. (2017): the critic's score gap between real and fake estimates the Wasserstein-1
    distance when the critic is 1-Lipschitz; WGAN-GP (Gulrajani et al. 2017, eq. 3) asks for that with
    gradient_penalty(), added by the train step. The scores are unbounded, and so is this loss.
    """
    return fake_logits[:, 0] - real_logits[:, 0]


def wasserstein_generator_loss(fake_logits):
    """The Wasserstein generator loss: -D(G(z)) (Gulrajani et al. 2017, Algorithm 1)."""
    return -fake_logits[:, 0]


def interpolation_weights(batch_size, seed):
    """WGAN-GP's epsilon: one weight per example, uniform in [0, 1), as in Gulrajani et al. (2017,
    Algorithm 1, line 4). (keras-io's WGAN-GP example draws it from a normal distribution instead.)

    Args:
      seed: int (2,), for tf.random.stateless_uniform: the same seed gives the same weights.
    Returns:
      float32 (B, 1, 1, 1), to broadcast over an image.
    """
    return tf.random.stateless_uniform((batch_size, 1, 1, 1), seed=seed)


def gradient_penalty(critic, real_images, fake_images, weights):
    """(|grad D(x_hat)|_2 - 1)^2 at points x_hat between real and fake images, for each pair.

    Gulrajani et al. (2017), eq. 3: a 1-Lipschitz critic has gradients of norm 1 almost everywhere
    between the two distributions, so the penalty pulls the norm to 1 at random points on the
    lines between real and fake images.

    Args:
      critic: a function of images (B, H, W, C) -> scores (B, 1).
      real_images, fake_images: float (B, H, W, C).
      weights: float (B, 1, 1, 1) in [0, 1), from interpolation_weights().
    Returns:
      float (B,).
    """
    # 1. The points between: x_hat = epsilon x + (1 - epsilon) G(z).
    weights = tf.cast(weights, real_images.dtype)
    interpolated = weights * real_images + (1.0 - weights) * fake_images
    # 2. The critic's gradient with respect to each point, under a tape of its own.
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated)
    gradients = tape.gradient(scores, interpolated)
    # 3. How far each gradient's norm is from 1. The small constant keeps the norm's own gradient finite at 0.
    norms = tf.sqrt(tf.reduce_sum(tf.square(tf.cast(gradients, tf.float32)), axis=[1, 2, 3]) + 1e-12)
    return tf.square(norms - 1.0)


def discriminator_loss(loss, real_logits, fake_logits, label_smoothing=0.0):
    """The discriminator's per-example loss for the --loss named `loss` (one of LOSSES), without
    WGAN-GP's gradient penalty, which needs the critic itself (gradient_penalty())."""
    if loss == "non-saturating":
        return non_saturating_discriminator_loss(real_logits, fake_logits, label_smoothing)
    if loss == "least-squares":
        return least_squares_discriminator_loss(real_logits, fake_logits, label_smoothing)
    if label_smoothing:
        raise ValueError(f"label smoothing applies to non-saturating and least-squares, not {loss}")
    if loss == "hinge":
        return hinge_discriminator_loss(real_logits, fake_logits)
    if loss == "wasserstein-gp":
        return wasserstein_critic_loss(real_logits, fake_logits)
    raise ValueError(f"unknown loss {loss!r}: one of {', '.join(LOSSES)}")


def generator_loss(loss, fake_logits):
    """The generator's per-example loss for the --loss named `loss` (one of LOSSES)."""
    generator_losses = {
        "non-saturating": non_saturating_generator_loss,
        "least-squares": least_squares_generator_loss,
        "hinge": hinge_generator_loss,
        "wasserstein-gp": wasserstein_generator_loss,
    }
    if loss not in generator_losses:
        raise ValueError(f"unknown loss {loss!r}: one of {', '.join(LOSSES)}")
    return generator_losses[loss](fake_logits)


def feature_matching_loss(real_features, fake_features):
    """|mean f(x) - mean f(G(z))|^2, averaged over the features: one scalar for the two batches.

    Salimans et al. (2016, section 3.1): G matches the statistics of D's intermediate features on real
    data instead of (here: besides) fooling D outright, which gives it a target that does not move as
    fast as D's verdict. The means are over the batch, so this compares batches, not images.

    Args:
      real_features, fake_features: float (B, F), a hidden layer's activations.
    Returns:
      A float scalar.
    """
    difference = tf.reduce_mean(real_features, axis=0) - tf.reduce_mean(fake_features, axis=0)
    return tf.reduce_mean(tf.square(tf.cast(difference, tf.float32)))


def class_distribution_kl(real_class_logits, fake_class_logits):
    """KL(p_real || p_fake) between the class distributions of a real and a generated batch: one scalar.

    Each distribution is the batch's mean of softmax(logits) from a classifier (gan_tf: the encoder's
    label head). It is 0 when the generated batch is read as the same mix of classes as the real
    one, and large when G leaves out a class that the real batch has: the mode-dropping feature
    matching by itself does not see.

    Args:
      real_class_logits, fake_class_logits: float (B, C).
    Returns:
      A float scalar.
    """
    real_distribution = tf.reduce_mean(tf.nn.softmax(tf.cast(real_class_logits, tf.float32)), axis=0)
    fake_distribution = tf.reduce_mean(tf.nn.softmax(tf.cast(fake_class_logits, tf.float32)), axis=0)
    tiny = 1e-7  # Keeps log(0) out: a class that neither batch has adds 0.
    return tf.reduce_sum(
        real_distribution * (tf.math.log(real_distribution + tiny) - tf.math.log(fake_distribution + tiny))
    )


def latent_regression_loss(latent_vectors, encoded_fakes):
    """|E(G(z)) - z|^2: how well the encoder recovers the noise behind a generated image.

    The squared error averaged over the latent dimensions. This is the "latent regressor" of
    Donahue et al. (2017, section 2.2); BiGAN trains E adversarially instead.

    Args:
      latent_vectors: float (B, latent_dim), the z given to the generator.
      encoded_fakes: float (B, latent_dim), the encoder's guess E(G(z)).
    Returns:
      float (B,).
    """
    return tf.reduce_mean(tf.square(encoded_fakes - latent_vectors), axis=1)


def reconstruction_loss(real_images, reconstructed_images):
    """|G(E(x)) - x|^2: how close a real picture comes back after a trip through the latent space.

    The squared error averaged over the pixels, in the images' [-1, 1] range.

    Args:
      real_images: float (B, H, W, C), real pictures x.
      reconstructed_images: float (B, H, W, C), G(E(x)).
    Returns:
      float (B,).
    """
    return tf.reduce_mean(tf.square(reconstructed_images - real_images), axis=[1, 2, 3])


def class_loss(labels, class_logits):
    """-log p(label | image): how well the encoder of a run with labels names the class of an image.

    The softmax cross-entropy, from logits. A confident right guess scores near 0; a uniform guess
    over L classes scores log L (log 10 for the digits).

    Args:
      labels: int (B,), the true classes (or clusters).
      class_logits: float (B, L), the encoder's logits.
    Returns:
      float (B,).
    """
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=class_logits)

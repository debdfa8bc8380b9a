"""The losses, as pure functions of logits and tensors. Each returns one value per example, shape (B,).

The train step averages them over the global batch with tf.nn.compute_average_loss, which stays right
when tf.distribute splits a batch over several devices: each device divides its sum by the size of
the whole batch, and the optimizer adds the devices' gradients.

Labels: real = 1, fake = 0. The discriminator's outputs are logits, and every loss works from logits
with tf.nn.sigmoid_cross_entropy_with_logits, which stays finite where log(sigmoid(x)) would not.
"""

import tensorflow as tf


def non_saturating_discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: -[log D(x) + log(1 - D(G(z)))], for each pair of a real and a fake image.

    Goodfellow et al. (2014), eq. 1: D maximises log D(x) + log(1 - D(G(z))). We minimise its
    negative, which is the binary cross-entropy of real images against label 1 plus fake images
    against label 0. A perfect guess at both scores 0; a coin flip (logits 0) scores 2 log 2.

    Args:
      real_logits: float (B, 1), D's logits for real images.
      fake_logits: float (B, 1), D's logits for generated images.
    Returns:
      float (B,).
    """
    real_loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(real_logits), logits=real_logits)
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
    """|G(E(x)) - x|^2: how close a real digit comes back after a trip through the latent space.

    The squared error averaged over the pixels, in the images' [-1, 1] range.

    Args:
      real_images: float (B, 28, 28, 1), real digits x.
      reconstructed_images: float (B, 28, 28, 1), G(E(x)).
    Returns:
      float (B,).
    """
    return tf.reduce_mean(tf.square(reconstructed_images - real_images), axis=[1, 2, 3])


def digit_loss(labels, digit_logits):
    """-log p(label | image): how well the encoder of a conditional run names the digit in an image.

    The softmax cross-entropy, from logits. A confident right guess scores near 0; a uniform guess
    over the ten digits scores log 10.

    Args:
      labels: int (B,), the true digits.
      digit_logits: float (B, 10), the encoder's logits.
    Returns:
      float (B,).
    """
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=digit_logits)

"""Differentiable augmentation of what the discriminator sees (--augment on).

DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"):
augment real and fake images alike before D, with operations that gradients pass through, so that
G learns through them. Augmenting only the reals would teach G to draw augmented digits; augmenting
both shows D more variety of each image and keeps it from memorising the training set.

Of DiffAugment's policies this uses "translation,cutout" and the brightness part of "color", each
drawn per image:
  brightness   add b ~ U(-0.5, 0.5) to every pixel (DiffAugment's rand_brightness);
  translation  shift by up to 1/8 of the side, rounded (4 pixels), each way, filling with background;
  cutout       blank a square of half the side (14 x 14) at a random place, partly outside the image.
Departure: DiffAugment fills with 0, the middle of [-1, 1]; here the fill is -1, MNIST's black
background, so a shifted or cut digit still looks like a digit on paper.

All randomness is stateless, from `seed`: the same seed gives the same augmentation.
"""

import tensorflow as tf

BACKGROUND = -1.0
TRANSLATION_RATIO = 0.125  # DiffAugment's default: shift by up to 1/8 of the image's side.
CUTOUT_RATIO = 0.5  # DiffAugment's default: a square of half the image's side.


def diff_augment(images, seed):
    """Brightness, translation and cutout of each image.

    Args:
      images: float (B, H, W, C) in [-1, 1].
      seed: int (2,), a stateless seed.
    Returns:
      float (B, H, W, C), the same dtype; brightness can take pixels a little outside [-1, 1].
    """
    images = brightness(images, tf.random.experimental.stateless_fold_in(seed, 1))
    images = translation(images, tf.random.experimental.stateless_fold_in(seed, 2))
    return cutout(images, tf.random.experimental.stateless_fold_in(seed, 3))


def brightness(images, seed):
    """Adds one offset from U(-0.5, 0.5) to all pixels of each image."""
    offsets = tf.random.stateless_uniform((tf.shape(images)[0], 1, 1, 1), seed=seed, minval=-0.5, maxval=0.5)
    return images + tf.cast(offsets, images.dtype)


def translation(images, seed, ratio=TRANSLATION_RATIO):
    """Shifts each image by whole pixels, up to `ratio` of its side each way; what comes in is background.

    Output pixel (i, j) of an image shifted by (dy, dx) is pixel (i - dy, j - dx) of the image padded
    with background. The choice is made by multiplying with one-hot selection matrices rather than by
    tf.gather, whose gradient adds its pieces in an order that varies between runs on a CPU of
    several threads: with matrices, a run with --augment on gives the same weights every time.
    """
    height, width = images.shape[1], images.shape[2]
    pad_y, pad_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    shifts = tf.random.stateless_uniform(
        (tf.shape(images)[0], 2), seed=seed, minval=-pad_y, maxval=pad_y + 1, dtype=tf.int32
    )
    padded = tf.pad(images, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]], constant_values=BACKGROUND)
    rows = tf.range(height)[tf.newaxis, :] + pad_y - shifts[:, :1]  # (B, H): the padded row of each output row.
    columns = tf.range(width)[tf.newaxis, :] + pad_x - shifts[:, 1:]  # (B, W)
    pick_rows = tf.one_hot(rows, height + 2 * pad_y, dtype=images.dtype)  # (B, H, H + 2 pad_y)
    pick_columns = tf.one_hot(columns, width + 2 * pad_x, dtype=images.dtype)  # (B, W, W + 2 pad_x)
    return tf.einsum("bhy,byxc,bwx->bhwc", pick_rows, padded, pick_columns)


def cutout(images, seed, ratio=CUTOUT_RATIO):
    """Blanks a square of `ratio` of the side in each image, centred anywhere in it, as DiffAugment does."""
    height, width = images.shape[1], images.shape[2]
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    batch = tf.shape(images)[0]
    top = square_starts(batch, tf.random.experimental.stateless_fold_in(seed, 1), height, size_y)
    left = square_starts(batch, tf.random.experimental.stateless_fold_in(seed, 2), width, size_x)
    rows = tf.range(height)[tf.newaxis, :]
    columns = tf.range(width)[tf.newaxis, :]
    inside_rows = (rows >= top[:, tf.newaxis]) & (rows < top[:, tf.newaxis] + size_y)  # (B, H)
    inside_columns = (columns >= left[:, tf.newaxis]) & (columns < left[:, tf.newaxis] + size_x)  # (B, W)
    inside = inside_rows[:, :, tf.newaxis, tf.newaxis] & inside_columns[:, tf.newaxis, :, tf.newaxis]  # (B, H, W, 1)
    return tf.where(inside, tf.cast(BACKGROUND, images.dtype), images)


def square_starts(batch, seed, length, size):
    """The first row (or column) of each image's square of `size`, int32 (batch,): DiffAugment's offsets
    put the square's centre anywhere from 0 to length - 1, so the square may reach past the edge."""
    centres = tf.random.stateless_uniform((batch,), seed=seed, minval=0, maxval=length + (1 - size % 2), dtype=tf.int32)
    return centres - size // 2

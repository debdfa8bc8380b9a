"""DiffAugment: each operation against what it should do to an image, and gradients pass through."""

import numpy as np
import tensorflow as tf

from gan_tf import augment

SEED = tf.constant([0, 7], tf.int64)


def dots(count=16):
    """Images of background (-1) with one bright pixel (1) each, at (10 + i % 5, 12 + i % 3)."""
    images = np.full((count, 28, 28, 1), -1.0, np.float32)
    for index in range(count):
        images[index, 10 + index % 5, 12 + index % 3, 0] = 1.0
    return tf.constant(images)


def test_translation_moves_each_image_by_at_most_four_pixels_and_fills_with_background():
    images = dots()
    shifted = augment.translation(images, SEED).numpy()
    moves = set()
    for before, after in zip(images.numpy(), shifted):
        assert np.sum(after == 1.0) == 1 and np.sum(after == -1.0) == 28 * 28 - 1  # The dot, on background.
        (row_before, column_before), (row_after, column_after) = (
            np.argwhere(image[..., 0] == 1.0)[0] for image in (before, after)
        )
        moves.add((row_after - row_before, column_after - column_before))
    assert all(abs(dy) <= 4 and abs(dx) <= 4 for dy, dx in moves)  # 28 / 8, rounded.
    assert len(moves) > 4  # Each image draws its own shift.


def test_cutout_blanks_a_square_of_half_the_side_partly_outside_the_image():
    blanked = augment.cutout(tf.ones((64, 28, 28, 1)), SEED).numpy()
    for image in blanked:
        rows, columns = np.nonzero(image[..., 0] == augment.BACKGROUND)
        assert len(rows) > 0
        height, width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
        assert len(rows) == height * width and height <= 14 and width <= 14  # One rectangle, cut by the edges.
    sizes = {(image[..., 0] == augment.BACKGROUND).sum() for image in blanked}
    assert 14 * 14 in sizes and min(sizes) < 14 * 14  # Whole inside, or partly outside.


def test_brightness_adds_one_offset_per_image_within_a_half():
    images = tf.zeros((256, 28, 28, 1))
    brighter = augment.brightness(images, SEED).numpy()
    offsets = brighter[:, 0, 0, 0]
    assert np.all(brighter == offsets[:, None, None, None])
    assert offsets.min() >= -0.5 and offsets.max() < 0.5 and abs(offsets.mean()) < 0.05


def test_the_same_seed_gives_the_same_augmentation_and_another_seed_another():
    images = tf.random.uniform((8, 28, 28, 1), -1.0, 1.0, seed=0)
    first = augment.diff_augment(images, SEED).numpy()
    assert np.array_equal(first, augment.diff_augment(images, SEED).numpy())
    assert not np.array_equal(first, augment.diff_augment(images, tf.constant([0, 8], tf.int64)).numpy())


def test_gradients_pass_through_to_the_pixels_that_are_kept():
    images = tf.random.uniform((4, 28, 28, 1), -1.0, 1.0, seed=0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(images)
        augmented = augment.diff_augment(images, SEED)
        cut = augment.cutout(images, SEED)
    # Every pixel still in the picture passes a gradient of 1; one cut or shifted out, 0.
    assert set(np.unique(tape.gradient(augmented, images).numpy())) == {0.0, 1.0}
    kept = (augment.cutout(tf.zeros_like(images), SEED).numpy() == 0.0).astype(np.float32)
    assert np.array_equal(tape.gradient(cut, images).numpy(), kept)

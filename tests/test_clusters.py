"""The clusters an unconditional run labels its images with: found without labels, among deskewed digits."""

import numpy as np
import pytest

from gan_tf import clusters
from tests.conftest import synthetic_images


def two_kinds(count):
    """uint8 images (count, 28, 28, 1): alternately a bar at the top and a bar at the bottom, shifted a little."""
    images = np.zeros((count, 28, 28, 1), np.uint8)
    for index, image in enumerate(images):
        row = 2 if index % 2 == 0 else 22
        image[row : row + 4, 4 + index % 5 : 14 + index % 5] = 255
    return images


def test_k_means_finds_the_two_kinds_of_image():
    images = two_kinds(40)
    centroids, labels = clusters.fit(images, 2, seed=0)
    assert np.array_equal(labels, clusters.assign(images, centroids))
    assert set(labels[0::2]) != set(labels[1::2]) and len(set(labels[0::2])) == 1 and len(set(labels[1::2])) == 1
    # Each centroid is the mean image of its kind, in [-1, 1]: white where every bar of the kind is, black
    # where the other kind's bars are.
    top, bottom = centroids[labels[0]].reshape(28, 28), centroids[labels[1]].reshape(28, 28)
    assert top[3, 8:14].min() == 1.0 and top[23].max() == -1.0
    assert bottom[23, 8:14].min() == 1.0 and bottom[3].max() == -1.0


def test_each_image_joins_its_nearest_cluster_and_the_shares_count_them():
    images = np.concatenate([two_kinds(40)[0::2][:15], two_kinds(40)[1::2][:5]])  # 15 of one kind, 5 of the other.
    centroids, labels = clusters.fit(images, 2, seed=0)
    assert np.array_equal(labels, clusters.assign(images, centroids))
    assert len(set(labels[:15])) == 1 and len(set(labels[15:])) == 1 and labels[0] != labels[15]
    shares = clusters.shares(labels, 2)
    assert shares[labels[0]] == 0.75 and shares[labels[15]] == 0.25 and shares.dtype == np.float32


def slanted_bar(slant, column=14, length=16):
    """uint8 (28, 28): a vertical bar of `length` rows, each row `slant` columns right of the one above."""
    image = np.zeros((28, 28), np.uint8)
    for step, row in enumerate(range(14 - length // 2, 14 + length // 2)):
        image[
            row, column + round(slant * (step - length / 2)) - 1 : column + round(slant * (step - length / 2)) + 1
        ] = 255
    return image


def ink_moments(image):
    """The centre of an image's ink (row, column) and its row-column covariance."""
    rows, columns = np.mgrid[:28, :28]
    ink = image.sum()
    row, column = (rows * image).sum() / ink, (columns * image).sum() / ink
    return row, column, ((rows - row) * (columns - column) * image).sum() / ink


def test_deskewing_stands_a_slanted_digit_upright_where_it_was():
    slanted = slanted_bar(-0.5, column=9)  # Leans like a / and sits left of the middle.
    row_before, column_before, covariance_before = ink_moments(slanted.astype(np.float32))
    assert covariance_before < -5
    upright = clusters.deskew(slanted[np.newaxis])[0]
    row, column, covariance = ink_moments(upright)
    assert abs(covariance) < 0.3 and abs(row - row_before) < 0.01 and abs(column - column_before) < 0.3, (
        row,
        column,
        covariance,
    )
    assert abs(upright.sum() - slanted.sum()) < 0.02 * slanted.sum()  # The shear moves the ink; it keeps it.
    # An upright digit in the middle stays as it is, and a blank picture stays blank.
    straight = slanted_bar(0.0)
    assert np.array_equal(clusters.deskew(straight[np.newaxis])[0], straight.astype(np.float32))
    assert not clusters.deskew(np.zeros((2, 28, 28), np.uint8)).any()


def test_two_slants_of_one_digit_share_a_cluster():
    # Two bars leaning opposite ways, and a horizontal bar: by their raw pixels, the two slants are
    # farther apart than one is from the horizontal bar; deskewed, they are one kind.
    kinds = np.stack([slanted_bar(0.4)[..., np.newaxis], slanted_bar(-0.4)[..., np.newaxis], two_kinds(1)[0]])
    images = np.repeat(kinds, 5, axis=0)
    _, labels = clusters.fit(images, 2, seed=0)
    assert len(set(labels[:10])) == 1 and labels[10] != labels[0]


def test_the_same_seed_gives_the_same_clusters():
    images = synthetic_images(60)
    (first, first_labels), (again, again_labels) = clusters.fit(images, 5, seed=3), clusters.fit(images, 5, seed=3)
    assert np.array_equal(first, again) and first.shape == (5, 784) and first.dtype == np.float32
    assert np.array_equal(first_labels, again_labels)


def test_more_clusters_than_images_is_refused():
    with pytest.raises(ValueError, match="3 images"):
        clusters.fit(synthetic_images(3), 4, seed=0)


def test_pictures_other_than_digits_are_clustered_on_their_pixels_averaged_in_blocks():
    # Colour 32-pixel pictures: no deskewing, 2x2 blocks, 16 x 16 x 3 = 768 numbers a picture.
    images = np.zeros((20, 32, 32, 3), np.uint8)
    images[0::2, :, :, 0] = 255  # Red pictures and blue ones: two clusters.
    images[1::2, :, :, 2] = 255
    images[0, 0, :2] = [[255, 0, 255], [255, 255, 255]]  # One block of 2x2 pixels, averaged.
    points = clusters.features(images, deskewed=False)
    assert points.shape == (20, clusters.feature_size(32, 3)) == (20, 768)
    assert np.allclose(points[0, :3], (np.array([255, 0, 0]) * 2 + [255, 0, 255] + [255, 255, 255]) / 4 / 127.5 - 1)
    centroids, labels = clusters.fit(images, 2, seed=0, deskewed=False)
    assert len(set(labels[0::2])) == 1 and len(set(labels[1::2])) == 1 and labels[0] != labels[1]
    assert np.array_equal(labels, clusters.assign(images, centroids, deskewed=False))

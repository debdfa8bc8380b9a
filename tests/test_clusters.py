"""The clusters an unconditional run labels its images with: found without labels, equal in size."""

import numpy as np
import pytest

from gan_tf import clusters
from tests.conftest import synthetic_images


def two_kinds(count):
    """uint8 images (count, 28, 28): alternately a bar at the top and a bar at the bottom, shifted a little."""
    images = np.zeros((count, 28, 28), np.uint8)
    for index, image in enumerate(images):
        row = 2 if index % 2 == 0 else 22
        image[row:row + 4, 4 + index % 5:14 + index % 5] = 255
    return images


def test_k_means_finds_the_two_kinds_of_image():
    images = two_kinds(40)
    centroids = clusters.fit(images, 2, seed=0)
    labels = clusters.assign(images, centroids)
    assert set(labels[0::2]) != set(labels[1::2]) and len(set(labels[0::2])) == 1 and len(set(labels[1::2])) == 1
    # Each centroid is the mean image of its kind, in [-1, 1]: white where every bar of the kind is, black
    # where the other kind's bars are.
    top, bottom = centroids[labels[0]].reshape(28, 28), centroids[labels[1]].reshape(28, 28)
    assert top[3, 8:14].min() == 1.0 and top[23].max() == -1.0
    assert bottom[23, 8:14].min() == 1.0 and bottom[3].max() == -1.0


def test_clusters_are_equal_in_size_even_when_the_data_is_not():
    images = np.concatenate([two_kinds(40)[0::2][:15], two_kinds(40)[1::2][:5]])  # 15 of one kind, 5 of the other.
    labels = clusters.assign(images, clusters.fit(images, 2, seed=0))
    assert np.bincount(labels).tolist() == [10, 10]
    # With room for ceil(N / K) each, sizes differ by at most one when K does not divide N.
    labels = clusters.assign(synthetic_images(23), clusters.fit(synthetic_images(23), 4, seed=0))
    assert sorted(np.bincount(labels, minlength=4).tolist()) == [5, 6, 6, 6]


def test_the_same_seed_gives_the_same_clusters():
    images = synthetic_images(60)
    first, again = clusters.fit(images, 5, seed=3), clusters.fit(images, 5, seed=3)
    assert np.array_equal(first, again) and first.shape == (5, 784) and first.dtype == np.float32
    assert np.array_equal(clusters.assign(images, first), clusters.assign(images, again))


def test_more_clusters_than_images_is_refused():
    with pytest.raises(ValueError, match="3 images"):
        clusters.fit(synthetic_images(3), 4, seed=0)

"""Labels an unconditional run finds for itself: k-means clusters of the training pictures (digits deskewed).

A GAN told which digit to draw learns much faster than one that must find the ten digits in the
noise (docs/experiments.md), but --conditional off trains without the digits' labels. It can still
train conditioned on labels of its own: the clusters of the training images, which need no labels to
find. This is the idea of self-conditioned GANs (Liu et al. 2020, who cluster the discriminator's
features; here the pixels, once, before training) and of Logo-GAN (Sage et al. 2018).

The clusters are found among *deskewed* digits: each is sheared upright by its own moments first
(deskew), so that a slanted 1 and an upright one fall in the same cluster, and a cluster holds one
digit more often. Measured on MNIST's 60,000 training digits with their labels (used only to
measure; docs/experiments.md): in 100 clusters of the raw pixels, 86.3% of the digits share their
cluster's most common digit; of the deskewed pixels, 91.6%. The networks still learn the digits as
written: deskewing only decides which cluster a digit belongs to. Other pictures are not deskewed
(a slanted cat is not a slanted cat-shape); they are clustered on their pixels averaged over blocks
of up to 16x16 (features()), which keeps k-means on 50,000 colour pictures within memory.

A cluster holds as many digits as are nearest to it, so the clusters differ in size; shares() says
how often each should be drawn to draw the training data's own mix of digits.

Pure NumPy: k-means++ seeding (Arthur & Vassilvitskii 2007), then Lloyd's iterations.
"""

import numpy as np

ITERATIONS = 20  # Lloyd's iterations: the assignments of MNIST's digits barely change after 15.
FEATURE_SIDE = 16  # Other pictures are averaged down to at most this many blocks a side.
SIZE = 28
CHUNK = 5000  # Digits deskewed at a time, which bounds the memory of the index arithmetic.


def deskew(images):
    """uint8 digits (N, 28, 28) -> float32 (N, 28, 28) in 0..255, each sheared upright.

    Each row of a digit moves sideways by slant * (row - the ink's centre row), with the slant that
    makes the ink's rows and columns uncorrelated (its second moments): the preprocessing that LeCun
    et al. (1998) call deskewing. The centre of the ink stays where it is (MNIST centres it already).
    Pixels are read between columns by linear interpolation, with black beyond the edges.
    """
    images = np.asarray(images, np.float32)
    return np.concatenate(
        [deskew_chunk(images[start : start + CHUNK]) for start in range(0, len(images), CHUNK)]
        or [np.zeros((0, SIZE, SIZE), np.float32)]
    )


def deskew_chunk(images):
    grid = np.arange(SIZE, dtype=np.float32)
    ink = np.maximum(images.sum(axis=(1, 2)), 1e-6)  # A blank image stays blank.
    rows = grid[np.newaxis, :, np.newaxis] - (images.sum(axis=2) @ grid / ink)[:, np.newaxis, np.newaxis]  # (N, 28, 1)
    columns = (
        grid[np.newaxis, np.newaxis, :] - (images.sum(axis=1) @ grid / ink)[:, np.newaxis, np.newaxis]
    )  # (N, 1, 28)
    row_variance = (images * rows**2).sum(axis=(1, 2))
    covariance = (images * rows * columns).sum(axis=(1, 2))
    slant = np.where(row_variance > 0, covariance / np.maximum(row_variance, 1e-6), 0.0)  # Columns per row.
    # Output pixel (r, c) reads the input at (r, c + slant (r - centre row)).
    source = grid[np.newaxis, np.newaxis, :] + slant[:, np.newaxis, np.newaxis] * rows  # (N, 28, 28)
    left = np.floor(source)
    right_weight = source - left
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1)))  # A black column each side: positions beyond read it.

    def at(column):
        return np.take_along_axis(padded, np.clip(column.astype(np.int64) + 1, 0, SIZE + 1), axis=2)

    return (1 - right_weight) * at(left) + right_weight * at(left + 1)


def block(size):
    """How many pixels a side each block of features() averages: 1 for digits (28), 2 for 32, 4 for 64."""
    return max(1, size // FEATURE_SIDE) if size % max(1, size // FEATURE_SIDE) == 0 else 1


def feature_size(size, channels):
    """The length of features() of pictures (size, size, channels): 784 for digits."""
    return (size // block(size)) ** 2 * channels


def features(images, deskewed=True):
    """uint8 pictures (N, H, W, C) -> float32 (N, feature_size(H, C)) in [-1, 1]: the space the clusters live in.

    Digits (`deskewed`, mnist.py's treatment of them): their deskewed pixels, 784 of them. Other pictures:
    their pixels averaged over blocks of block(H) x block(H).
    """
    images = np.asarray(images)
    if deskewed:
        pixels = deskew(images[..., 0])
    else:
        count, size, _, channels = images.shape
        side = block(size)
        pixels = images.reshape(count, size // side, side, size // side, side, channels).mean(
            axis=(2, 4), dtype=np.float32
        )
    return pixels.reshape(len(images), -1).astype(np.float32) / 127.5 - 1.0


def squared_distances(points, centroids):
    """|p - c|^2 for every point and centroid: float32 (N, K), one matrix product instead of N * K differences."""
    return (
        (points**2).sum(axis=1)[:, np.newaxis] - 2.0 * points @ centroids.T + (centroids**2).sum(axis=1)[np.newaxis, :]
    )


def fit(images, count, seed, deskewed=True, iterations=ITERATIONS):
    """`count` k-means clusters of uint8 `images` (N, H, W, C): (centroids float32 (count, F), labels int32 (N,)),
    F = feature_size(H, C) (784 for digits).

    labels are each image's cluster, exactly as assign(images, centroids) gives them; the images are
    deskewed once for both (`deskewed`). The same images and seed give the same clusters.
    """
    points = features(images, deskewed)
    if count > len(points):
        raise ValueError(f"cannot make {count} clusters of {len(points)} images")
    random = np.random.default_rng(seed)
    # k-means++: each next centroid is an image drawn with probability proportional to its squared
    # distance from the nearest centroid so far, which spreads the start over the data.
    centroids = [points[random.integers(len(points))]]
    nearest = squared_distances(points, centroids[0][np.newaxis])[:, 0]
    for _ in range(count - 1):
        weights = np.maximum(nearest, 0.0).astype(np.float64)
        # When every image already sits on a centroid (repeated images), any image will do.
        chances = weights / weights.sum() if weights.sum() > 0 else None
        centroids.append(points[random.choice(len(points), p=chances)])
        nearest = np.minimum(nearest, squared_distances(points, centroids[-1][np.newaxis])[:, 0])
    centroids = np.stack(centroids)
    # Lloyd: move each centroid to the mean of the images nearest to it; a centroid left with none stays.
    for _ in range(iterations):
        membership = np.eye(count, dtype=np.float32)[nearest_centroids(points, centroids)]  # (N, K)
        sizes = membership.sum(axis=0)
        sums = membership.T @ points  # (K, 784): every cluster's sum in one matrix product.
        centroids = np.where(sizes[:, np.newaxis] > 0, sums / np.maximum(sizes, 1.0)[:, np.newaxis], centroids)
    return centroids, nearest_centroids(points, centroids)


def nearest_centroids(points, centroids):
    return squared_distances(points, centroids).argmin(axis=1).astype(np.int32)


def assign(images, centroids, deskewed=True):
    """Each image's cluster, the one with the nearest centroid: int32 (N,)."""
    return nearest_centroids(features(images, deskewed), np.asarray(centroids, np.float32))


def shares(labels, count):
    """How often each of `count` clusters holds an image: float32 (count,), summing to 1."""
    return (np.bincount(labels, minlength=count) / len(labels)).astype(np.float32)

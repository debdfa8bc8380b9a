"""Labels an unconditional run finds for itself: equal-sized k-means clusters of the training images.

A GAN told which digit to draw learns much faster than one that must find the ten digits in the
noise (docs/experiments.md), but --conditional off trains without the digits' labels. It can still
train conditioned on labels of its own: the clusters of the training images, which need no labels to
find. This is the idea of self-conditioned GANs (Liu et al. 2020, who cluster the discriminator's
features; here the pixels, once, before training) and of Logo-GAN (Sage et al. 2018).

The clusters are made equal in size: then drawing the clusters in turn draws the training data's
own mix of images, so sampling needs nothing but the generator.

Pure NumPy: k-means++ seeding (Arthur & Vassilvitskii 2007), Lloyd's iterations, then a greedy
assignment that fills each cluster up to N / K images, nearest pairs first.
"""

import numpy as np

ITERATIONS = 20  # Lloyd's iterations: the assignments of MNIST's pixels barely change after 15.


def pixels(images):
    """uint8 digits (N, 28, 28) -> float32 (N, 784) in [-1, 1], the space the clusters live in."""
    return np.asarray(images, np.float32).reshape(len(images), -1) / 127.5 - 1.0


def squared_distances(points, centroids):
    """|p - c|^2 for every point and centroid: float32 (N, K), one matrix product instead of N * K differences."""
    return ((points ** 2).sum(axis=1)[:, np.newaxis] - 2.0 * points @ centroids.T
            + (centroids ** 2).sum(axis=1)[np.newaxis, :])


def fit(images, count, seed, iterations=ITERATIONS):
    """The centroids of `count` k-means clusters of uint8 `images` (N, 28, 28): float32 (count, 784).

    The same images and seed give the same centroids.
    """
    points = pixels(images)
    if count > len(points):
        raise ValueError(f"cannot make {count} clusters of {len(points)} images")
    random = np.random.default_rng(seed)
    # k-means++: each next centroid is an image drawn with probability proportional to its squared
    # distance from the nearest centroid so far, which spreads the start over the data.
    centroids = [points[random.integers(len(points))]]
    nearest = squared_distances(points, centroids[0][np.newaxis])[:, 0]
    for _ in range(count - 1):
        weights = np.maximum(nearest, 0.0).astype(np.float64)
        centroids.append(points[random.choice(len(points), p=weights / weights.sum())])
        nearest = np.minimum(nearest, squared_distances(points, centroids[-1][np.newaxis])[:, 0])
    centroids = np.stack(centroids)
    # Lloyd: move each centroid to the mean of the images nearest to it; a centroid left with none stays.
    for _ in range(iterations):
        membership = np.eye(count, dtype=np.float32)[squared_distances(points, centroids).argmin(axis=1)]  # (N, K)
        sizes = membership.sum(axis=0)
        sums = membership.T @ points  # (K, 784): every cluster's sum in one matrix product.
        centroids = np.where(sizes[:, np.newaxis] > 0, sums / np.maximum(sizes, 1.0)[:, np.newaxis], centroids)
    return centroids


def assign(images, centroids):
    """Equal-sized clusters: int32 (N,), each image's cluster, each holding ceil(N / K) images or fewer.

    Greedy: over all (image, centroid) pairs from the nearest to the farthest, an image joins the
    centroid's cluster if it has none yet and the cluster is not full. Most images get their nearest
    centroid; those of a crowded cluster go to the nearest one with room.
    """
    distances = squared_distances(pixels(images), np.asarray(centroids, np.float32))
    count, capacity = distances.shape[1], -(-len(distances) // distances.shape[1])
    labels = np.full(len(distances), -1, np.int32)
    sizes = np.zeros(count, np.int64)
    unassigned = len(distances)
    for pair in np.argsort(distances, axis=None, kind="stable"):
        image, cluster = divmod(int(pair), count)
        if labels[image] < 0 and sizes[cluster] < capacity:
            labels[image] = cluster
            sizes[cluster] += 1
            unassigned -= 1
            if not unassigned:
                break
    return labels

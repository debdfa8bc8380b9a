"""The figures of sample quality, as pure functions of numpy arrays (the judge's outputs, the encoder's codes).

evaluate.py wires them to the models: the judge classifier gives p(y|x) and features; the encoder gives
latent vectors. Each function here is tested against hand-computed values (tests/test_metrics.py).
"""

import numpy as np

CONFIDENCE = 0.9  # A picture counts as confidently classified when the judge gives one class > 0.9.


def classifier_score(probabilities):
    """The classifier score: exp(E_x KL(p(y|x) || p(y))), with p(y) the mean of p(y|x) over the set.

    Salimans et al. (2016) defined it with an ImageNet classifier (the Inception score); here the
    classifier is the judge of the run's pictures (on MNIST: the MNIST score). It is 1 when every picture
    gets the same distribution over classes and C when each picture is one class for sure and the C
    classes are equally common (10 for the digits).

    Args:
      probabilities: float (N, C), rows summing to 1.
    """
    probabilities = np.asarray(probabilities, np.float64)
    marginal = probabilities.mean(axis=0, keepdims=True)
    # 0 * log(0 / q) is 0: the epsilon only guards the logarithm.
    kl = np.sum(probabilities * (np.log(probabilities + 1e-12) - np.log(marginal + 1e-12)), axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(features_a, features_b):
    """The Fréchet distance of two Gaussians fitted to two sets of features.

    |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) (Heusel et al., 2017, with the judge's features
    in place of Inception's). Tr((S_a S_b)^(1/2)) is computed as the sum of the square roots of the
    eigenvalues of S_a^(1/2) S_b S_a^(1/2), which is symmetric, so numpy's eigh suffices.

    Args:
      features_a, features_b: float (N, D) and (M, D).
    """
    features_a, features_b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    covariance_a, covariance_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance_a)
    root_a = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))) @ eigenvectors.T
    cross = np.linalg.eigvalsh(root_a @ covariance_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(cross, 0, None)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a) + np.trace(covariance_b) - 2 * trace_root)


def class_shares(probabilities):
    """The share of each of the C classes among the judge's top guesses: float (C,), summing to 1.

    Args:
      probabilities: float (N, C).
    """
    probabilities = np.asarray(probabilities)
    guesses = np.argmax(probabilities, axis=1)
    return np.bincount(guesses, minlength=probabilities.shape[1]) / len(guesses)


def asked_class_share(probabilities, asked_classes):
    """The share of pictures whose most likely class is the one they were asked (or labelled) to be."""
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(asked_classes)))


def confident_share(probabilities, threshold=CONFIDENCE):
    """The share of pictures whose most likely class has probability above `threshold`."""
    return float(np.mean(np.max(probabilities, axis=1) > threshold))


def nearest(queries, references, chunk=1000):
    """For each query, its nearest reference by Euclidean distance: (indices int (M,), distances float32 (M,)).

    Args:
      queries: float (M, D); references: float (N, D). Ties go to the first reference.
    """
    references = np.asarray(references, np.float32)
    reference_norms = np.sum(np.square(references), axis=1)
    indices, distances = [], []
    for start in range(0, len(queries), chunk):
        batch = np.asarray(queries[start : start + chunk], np.float32)
        # |q - r|^2 = |q|^2 - 2 q.r + |r|^2, a matrix product for the whole chunk at once.
        squared = np.sum(np.square(batch), axis=1)[:, np.newaxis] - 2 * batch @ references.T + reference_norms
        nearest_index = np.argmin(squared, axis=1)
        indices.append(nearest_index)
        distances.append(np.sqrt(np.maximum(squared[np.arange(len(batch)), nearest_index], 0)))
    return np.concatenate(indices), np.concatenate(distances).astype(np.float32)


def nearest_neighbour_accuracy(train_features, train_labels, test_features, test_labels):
    """Accuracy of a 1-nearest-neighbour classifier (Euclidean distance) from train to test features.

    Args:
      train_features: float (N, D) with train_labels int (N,); test_features: float (M, D) with test_labels int (M,).
    Returns:
      The share of test features whose nearest training feature has their label (ties: the first).
    """
    indices, _ = nearest(test_features, train_features)
    return float(np.mean(np.asarray(train_labels)[indices] == np.asarray(test_labels)))


COPY_QUANTILE = 0.01  # A picture "copies" the training set when it is nearer to it than 99% of new real pictures.


def memorisation(generated_distances, real_distances):
    """How close generated pictures come to their nearest training picture, against new real pictures.

    A GAN that memorises its training set draws pictures much nearer to a training picture than new
    real pictures are: held-out real pictures are the yardstick of "new". Both arguments are the
    distances to the nearest training picture (nearest()), of generated and of held-out real pictures.

    Returns:
      {"generated_median", "real_median": the median distances; "copy_share_generated",
       "copy_share_real": the share of each set nearer than COPY_QUANTILE of the real distances
       (for real pictures, about COPY_QUANTILE by construction)}.
    """
    generated_distances, real_distances = np.asarray(generated_distances), np.asarray(real_distances)
    threshold = np.quantile(real_distances, COPY_QUANTILE)
    return {
        "generated_median": float(np.median(generated_distances)),
        "real_median": float(np.median(real_distances)),
        "copy_share_generated": float(np.mean(generated_distances < threshold)),
        "copy_share_real": float(np.mean(real_distances < threshold)),
    }

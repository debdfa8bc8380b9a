"""Using a trained run: sample new pictures, reconstruct real ones, and morph one into another.

restore_models() rebuilds a run's generator and encoder from its saved config and checkpoint; the
other functions run them in inference mode.
"""

import collections

import numpy as np
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import images
from gan_tf import losses
from gan_tf import models
from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import files

GENERATION_BATCH = 1000  # Pictures per generator call: bounds memory when N is large.
MAX_GRID_PICTURES = 10_000  # A grid of more would be a picture of over 100 megapixels.


def draw(generator, inputs):
    """G(z) in inference mode, as uint8 pictures (N, H, W, C) in 0..255: digits are (N, 28, 28, 1).

    Inference mode means BatchNormalization uses its moving statistics, not the batch's: a picture
    does not depend on which others share the batch.

    Args:
      inputs: float32 (N, latent_dim [+ L]), from models.generator_inputs().
    """
    chunks = [
        generator(inputs[start : start + GENERATION_BATCH], training=False)
        for start in range(0, len(inputs), GENERATION_BATCH)
    ]
    return data.to_uint8(tf.concat(chunks, axis=0))


def asked_labels(config, num, label=None):
    """The classes new_inputs() asks a conditional run for: each in turn (the digits 0..9), or `label`
    every time. int32 (num,)."""
    if label is None:
        return labels_to_draw(num, models.num_labels(config))
    return np.full(num, label, np.int32)


def label_asked(config, digit=None, name=None):
    """The class index that --digit or --label NAME (a class name, or an index) asks for; None for neither.

    Raises:
      UserError: a class the run does not have, or a run trained without classes.
    """
    if digit is None and name is None:
        return None
    if not models.conditional(config):
        raise errors.UserError(
            "this run was trained with --conditional off, so it cannot be told which class to draw: "
            "drop --digit and --label, or train a run with --conditional on (the default for pictures with classes)."
        )
    names = config.class_names
    asked = str(digit) if digit is not None else name
    if asked in names:
        return names.index(asked)
    if digit is None and asked.isdigit() and int(asked) < len(names):
        return int(asked)
    raise errors.UserError(f"this run has no class {asked!r}: its classes are {', '.join(names)} (or their index).")


def labels_to_draw(num, num_labels, label_shares=None):
    """The labels of `num` new pictures, int32 (num,).

    A run with --clusters K: each cluster in proportion to label_shares, the share of the training
    images it holds, so that together the clusters draw the training data's own mix; picture i gets
    the cluster at the quantile (i + 1/2) / num of the shares, so the labels come sorted. Otherwise the
    labels in turn, 0, 1, ..., num_labels - 1, 0, ... (the digits of a conditional run), or zeros,
    unread, for a run without labels.

    Args:
      num_labels: how many labels the run's networks read (models.num_labels).
      label_shares: float (K,) summing to 1, for a run with --clusters K (restore_models gives them);
        None for any other run.
    """
    if label_shares is None:
        return np.arange(num, dtype=np.int32) % max(num_labels, 1)
    quantiles = (np.arange(num) + 0.5) / num
    return np.minimum(np.searchsorted(np.cumsum(label_shares), quantiles), len(label_shares) - 1).astype(np.int32)


def blended_labels(num_labels, first, second, fractions):
    """The label part of G's input on the way from label `first` to `second`: float32 (steps, num_labels).

    At fraction t in [0, 1] it is (1 - t) one_hot(first) + t one_hot(second): the one-hot of the first
    label at 0, of the second at 1, and a mix of the two between.
    """
    one_hot = np.eye(num_labels, dtype=np.float32)
    fractions = np.asarray(fractions, np.float32)[:, np.newaxis]
    return ((1 - fractions) * one_hot[first] + fractions * one_hot[second]).astype(np.float32)


def new_inputs(config, num, seed, stream, label=None, label_shares=None):
    """Generator inputs for `num` new pictures, a function of (seed, stream) only.

    Args:
      stream: keeps the noise of different uses apart (sample 1, evaluate 2).
      label: in a conditional run, draw only this class (label_asked()); None: every class in turn.
      label_shares: how often to draw each cluster, for a run with --clusters (see labels_to_draw).
    """
    latent_vectors = tf.random.stateless_normal((num, config.latent_dim), seed=(seed, stream))
    if label is None:
        labels = labels_to_draw(num, models.num_labels(config), label_shares)
    else:
        labels = asked_labels(config, num, label)
    return models.generator_inputs(config, latent_vectors, labels)


# A trained run's config and the models that use it (restore_models()).
Restored = collections.namedtuple("Restored", ["config", "generator", "encoder", "label_shares"])


def restore_models(checkpoint_dir, checkpoint_name=None):
    """The generator and encoder of a saved run, and how often its generator draws each label.

    Args:
      checkpoint_name: a checkpoint such as "ckpt-4690"; None for the latest.
    Returns:
      Restored(config, generator, encoder, label_shares): generator is the one that draws the run's pictures
      (the average of G's weights, with --generator-average); encoder is None for a run trained with
      --encoder off; label_shares, float32 (K,), is the share of the training pictures in each of the
      --clusters K (None for a run without clusters), for new_inputs().
    """
    config = config_lib.load(checkpoint_dir)  # Refuses a text run's.
    checkpoints.require_run(checkpoint_dir)
    path = checkpoints.checkpoint_path(checkpoint_dir, checkpoint_name)
    generator, encoder = models.build_generator(config), models.build_encoder(config)
    # A run that keeps the average of G's weights draws with it (train.drawing_generator).
    saved = {"encoder": encoder, "average_generator" if config.generator_average else "generator": generator}
    if config.clusters:  # What train.build_state keeps as "cluster_shares".
        saved["cluster_shares"] = tf.Variable(tf.zeros(config.clusters), trainable=False)
    checkpoints.restore(tf.train.Checkpoint(**saved), path, partial=True)
    label_shares = saved["cluster_shares"].numpy() if config.clusters else None
    return Restored(config, generator, encoder if config.encoder == "on" else None, label_shares)


def require_encoder(encoder):
    if encoder is None:
        raise errors.UserError(
            "this run was trained with --encoder off, so it cannot encode pictures: train one with "
            "--encoder on (the default preset has it)."
        )


def require_count(num, name="--num"):
    if not isinstance(num, int) or num <= 0:
        raise errors.UserError(f"{name} must be a positive whole number, got {num!r}.")


def sample(config, generator, num, seed, out, label=None, label_shares=None):
    """Writes `num` new pictures to `out`: a PNG grid, or when it ends in .npy a uint8 array (num, H, W)
    of grey pictures ((num, 28, 28) for digits) or (num, H, W, 3) of colour ones.

    The latent vectors depend only on `seed`, so the same seed gives the same pictures. A conditional
    run draws its classes in turn (in a PNG, a column per class: the digits 0..9), or only `label`; a
    run with --clusters draws its clusters in proportion to label_shares.
    Returns the pictures, uint8 (num, H, W, C).
    """
    require_count(num)
    out = files.output_path(out, (".png", ".npy"))
    if out.suffix.lower() == ".png" and num > MAX_GRID_PICTURES:
        raise errors.UserError(
            f"--num {num}: a PNG grid holds at most {MAX_GRID_PICTURES:,} pictures; write a .npy file for more."
        )
    pictures = draw(generator, new_inputs(config, num, seed, stream=1, label=label, label_shares=label_shares))
    if out.suffix.lower() == ".npy":
        with files.atomic_path(out) as temporary, open(temporary, "wb") as file:
            np.save(file, pictures[..., 0] if config.channels == 1 else pictures, allow_pickle=False)
    else:
        columns_of_classes = models.conditional(config) and label is None
        columns = min(num, models.num_labels(config)) if columns_of_classes else int(np.ceil(np.sqrt(num)))
        images.save_png(images.grid(pictures, columns=columns), out)
    return pictures


def encode(config, encoder, real_images):
    """E(x): what the generator would need to redraw each image.

    Args:
      real_images: float32 (N, H, W, C) in [-1, 1].
    Returns:
      (latent vectors float32 (N, latent_dim), the labels int32 (N,) the encoder reads, classes or
      clusters, in a run with labels, else None): models.generator_inputs() of the two is G's input.
    """
    latent_vectors, label_logits = models.encoder_outputs(config, encoder(real_images, training=False))
    labels = None if label_logits is None else tf.argmax(label_logits, axis=-1, output_type=tf.int32)
    return latent_vectors, labels


def pick(test_images, num, seed):
    """`num` distinct test pictures chosen by `seed`: uint8 (num, H, W, C)."""
    if num > len(test_images):
        raise errors.UserError(f"--num {num} is more than the {len(test_images)} test pictures.")
    indices = np.random.default_rng(seed).choice(len(test_images), size=num, replace=False)
    return test_images[indices]


def reconstruct(config, generator, encoder, test_images, num, seed, out):
    """Writes a PNG of real test pictures, each row of ten followed by a row of their G(E(x)).

    Args:
      test_images: uint8 (N, H, W, C), pictures the models never trained on.
    Returns:
      The mean squared error of G(E(x)) against x, in the images' [-1, 1] range.
    """
    require_encoder(encoder)
    require_count(num)
    out = files.output_path(out, (".png",))
    real = pick(test_images, num, seed)
    real_images = data.to_unit_range(real)
    reconstructed_images = generator(
        models.generator_inputs(config, *encode(config, encoder, real_images)), training=False
    )
    reconstructed = data.to_uint8(reconstructed_images)

    # Interleave rows: ten real pictures, then their ten reconstructions, and so on.
    columns = 10
    rows = []
    for start in range(0, num, columns):
        for row in (real[start : start + columns], reconstructed[start : start + columns]):
            rows.append(np.pad(row, ((0, columns - len(row)), (0, 0), (0, 0), (0, 0))))
    images.save_png(images.grid(np.concatenate(rows), columns), out)
    return float(tf.reduce_mean(losses.reconstruction_loss(real_images, reconstructed_images)))


def slerp(start, end, fractions):
    """Spherical interpolation between two latent vectors, at each of `fractions` in [0, 1].

    Standard normal vectors in many dimensions lie near a sphere; the straight line between two of
    them passes through its inside, where the generator saw few vectors. Following the great circle
    instead keeps every step typical (White, "Sampling Generative Networks", 2016).

    Args:
      start, end: float (latent_dim,).
      fractions: float (steps,).
    Returns:
      float (steps, latent_dim).
    """
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    fractions = np.asarray(fractions, np.float64)[:, np.newaxis]
    if angle < 1e-6:  # (Nearly) the same direction: the sphere's arc is a straight line.
        return ((1 - fractions) * start + fractions * end).astype(np.float32)
    weights_start = np.sin((1 - fractions) * angle) / np.sin(angle)
    weights_end = np.sin(fractions * angle) / np.sin(angle)
    return (weights_start * start + weights_end * end).astype(np.float32)


def interpolate(config, generator, encoder, test_images, seed, steps, out):
    """Writes a GIF that morphs one real test picture into another through the latent space.

    Each frame shows [first picture | G(slerp(E(first), E(second), t)) | second picture]; the animation
    goes there and back. In a conditional run the class's one-hot part moves in a straight line from
    the first picture's class to the second's, (1 - t) one_hot(first) + t one_hot(second), while z follows the
    sphere. Returns the number of frames.
    """
    require_encoder(encoder)
    require_count(steps, "--steps")
    if steps < 2:
        raise errors.UserError(f"--steps must be at least 2 (the two ends), got {steps}.")
    out = files.output_path(out, (".gif",))
    ends = pick(test_images, 2, seed)
    (start, end), labels = encode(config, encoder, data.to_unit_range(ends))
    fractions = np.linspace(0.0, 1.0, steps)
    path = slerp(start.numpy(), end.numpy(), fractions)
    if labels is not None:  # The generator's input is [z, one-hot label]: blend the two one-hots.
        first, second = labels.numpy()
        path = np.concatenate([path, blended_labels(models.num_labels(config), first, second, fractions)], axis=1)
    morphs = draw(generator, tf.constant(path))
    pictures = [images.grid(np.stack([ends[0], morph, ends[1]]), columns=3) for morph in morphs]
    pictures = pictures + pictures[-2:0:-1]  # There and back, without repeating the ends.
    pictures = [images.enlarge(picture) for picture in pictures]
    images.write_gif(pictures, out, frame_seconds=0.1, last_frame_seconds=0.1)
    return len(pictures)

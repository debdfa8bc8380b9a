"""MNIST as a tf.data pipeline of images in [-1, 1] and their labels.

Where the digits come from, in order:
  1. a Keras-layout `mnist.npz` named by `--data` or the GAN_TF_MNIST environment variable;
  2. tensorflow-datasets' prepared copy (`tfds.load("mnist")`), downloading it when the network is up;
  3. Keras's cache, `~/.keras/datasets/mnist.npz`, when tensorflow-datasets cannot help.
Offline, tensorflow-datasets retries its download for minutes before it gives up, so we ask the
network first (a few seconds at most) and skip the download when nobody answers.
"""

import collections
import concurrent.futures
import contextlib
import logging
import os
import pathlib
import urllib.error
import urllib.request

import numpy as np
import tensorflow as tf

from gan_tf.runtime import errors

MNIST_ENV_VAR = "GAN_TF_MNIST"
KERAS_CACHE = pathlib.Path("~/.keras/datasets/mnist.npz")
# Where tensorflow-datasets downloads MNIST from.
TFDS_DOWNLOAD_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
NETWORK_TIMEOUT_SECONDS = 3.0
NOISE_SEEDS_PER_EPOCH = 2**32  # Noise seeds of one epoch: epoch * this + the image's place in the epoch.
HOW_TO_PROVIDE = (
    f"download mnist.npz (the file keras.datasets.mnist.load_data() fetches) and pass "
    f"--data PATH, set {MNIST_ENV_VAR}=PATH, or copy it to {KERAS_CACHE}"
)

# MNIST as numpy arrays: images uint8 of shape (N, 28, 28) in 0..255, labels uint8 of shape (N,),
# and a sentence saying where they came from.
Digits = collections.namedtuple("Digits", ["images", "labels", "source"])


def load_mnist(split="train", npz_path=None, tfds_data_dir=None, log=print):
    """Loads one split ("train" or "test") of MNIST from the first source that has it.

    Args:
      split: "train" (60,000 digits) or "test" (10,000 digits).
      npz_path: a Keras-layout mnist.npz to use directly; None falls back to $GAN_TF_MNIST, then
        tensorflow-datasets, then Keras's cache.
      tfds_data_dir: where tensorflow-datasets keeps its copy; None means its own default.
      log: called with one line when a source is skipped, so the user knows why.
    Returns:
      Digits(images uint8 (N, 28, 28), labels uint8 (N,), source str).
    Raises:
      UserError: when no source has MNIST, or a named file is not a usable mnist.npz.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    named = npz_path or os.environ.get(MNIST_ENV_VAR)
    if named:
        return load_npz(named, split)

    digits = load_from_tfds(split, tfds_data_dir, log)
    if digits is not None:
        return digits
    if KERAS_CACHE.expanduser().exists():
        return load_npz(KERAS_CACHE.expanduser(), split)
    raise errors.UserError(
        f"MNIST not found: tensorflow-datasets has no copy and cannot download "
        f"one, and {KERAS_CACHE} does not exist; {HOW_TO_PROVIDE}."
    )


def load_npz(path, split):
    """One split of a Keras-layout mnist.npz (keys x_train, y_train, x_test, y_test)."""
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise errors.UserError(f"MNIST file {path} does not exist; {HOW_TO_PROVIDE}.")
    try:
        # allow_pickle=False: an npz can carry pickled objects, and loading those can run code.
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
    except (OSError, ValueError, KeyError) as error:
        raise errors.UserError(f"{path} is not a Keras-layout mnist.npz ({error}); {HOW_TO_PROVIDE}.") from None
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels) or len(images) == 0:
        raise errors.UserError(
            f"{path} holds x_{split} of shape {images.shape}, not (N, 28, 28) digits "
            f"with one label each; {HOW_TO_PROVIDE}."
        )
    return Digits(images.astype(np.uint8), labels.astype(np.uint8), f"{path} ({split}, {len(images)} digits)")


def load_from_tfds(split, data_dir, log):
    """One split from tensorflow-datasets, or None (after logging why) when it cannot provide it."""
    try:
        import tensorflow_datasets as tfds  # Imported here: it is slow to import and may be broken.
    except ImportError as error:
        # tensorflow-datasets 4.9.10 imports importlib_resources without installing it; we install it
        # in requirements.txt, but a hand-made environment may still lack it.
        log(f"data: tensorflow-datasets cannot be imported ({error}); trying {KERAS_CACHE}")
        return None

    def load(download):
        dataset = tfds.load("mnist", split=split, as_supervised=True, data_dir=data_dir, download=download)
        # Read it in large batches into numpy arrays: MNIST is small, and arrays serve both sources alike.
        batches = list(tfds.as_numpy(dataset.batch(10_000)))
        images = np.concatenate([images for images, _ in batches])[..., 0]
        labels = np.concatenate([labels for _, labels in batches]).astype(np.uint8)
        return Digits(images, labels, f"tensorflow-datasets mnist ({split}, {len(images)} digits)")

    try:
        with absl_warnings_off():  # A failed download leaves a folder that tfds warns about at each look.
            return load(download=False)
    except AssertionError:
        pass  # No prepared copy yet: tfds says so at once, before touching the network.
    if not network_reachable(TFDS_DOWNLOAD_URL):
        log(
            f"data: tensorflow-datasets has no copy of MNIST and {TFDS_DOWNLOAD_URL} cannot be "
            f"reached; trying {KERAS_CACHE}"
        )
        return None
    try:
        return load(download=True)
    except Exception as error:  # A failed download can raise many kinds of error; all mean "no data".
        log(f"data: tensorflow-datasets could not download MNIST ({type(error).__name__}); trying {KERAS_CACHE}")
        return None


@contextlib.contextmanager
def absl_warnings_off():
    """Silences the warnings that tensorflow-datasets logs through absl (Python's "absl" logger) inside."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def network_reachable(url, timeout=NETWORK_TIMEOUT_SECONDS):
    """Whether a web server answers `url` (with any HTTP status) within `timeout` seconds.

    An HTTP answer is asked for, not only a TCP connection, because some sandboxes accept every
    connection and then never reply. The request runs in a worker thread because the name lookup
    has no timeout of its own and can hang for a long time on a machine without network.
    """

    def ask():
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
        except urllib.error.HTTPError:
            pass  # The server answered, if only with an error status: the network is up.
        return True

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(ask).result(timeout=timeout)
    except (OSError, concurrent.futures.TimeoutError):  # URLError and socket timeouts are OSErrors.
        return False
    finally:
        pool.shutdown(wait=False)  # Never wait for a hung lookup.


def to_unit_range(images):
    """uint8 images in 0..255 of shape (..., 28, 28) -> float32 (..., 28, 28, 1) in [-1, 1]."""
    return tf.cast(images, tf.float32)[..., tf.newaxis] / 127.5 - 1.0


def to_uint8(images):
    """float images in [-1, 1] of shape (..., 28, 28, 1) -> numpy uint8 (..., 28, 28) in 0..255."""
    return to_uint8_tensor(tf.convert_to_tensor(images, tf.float32)).numpy()


def to_uint8_tensor(images):
    """to_uint8 as TensorFlow operations, for graphs: the exported generator's signature uses it too."""
    pixels = tf.cast(images[..., 0], tf.float32)
    return tf.cast(tf.clip_by_value(tf.round((pixels + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def digit_dataset(digits, cache=True):
    """A dataset of (image float32 (28, 28, 1) in [-1, 1], label int32) from data.Digits.

    Args:
      cache: keep the converted images in memory after the first pass, instead of converting every epoch.
    """
    dataset = tf.data.Dataset.from_tensor_slices((digits.images, digits.labels.astype(np.int32)))
    dataset = dataset.map(lambda image, label: (to_unit_range(image), label), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.cache() if cache else dataset


def epoch_batches(digits, batch_size, seed, epoch, latent_dim, skip_images=0, prefetch=True):
    """The batches of one epoch, shuffled in an order fixed by (seed, epoch), each with its noise.

    Because the order depends only on the seed and the epoch, a run resumed in the middle of an epoch
    skips the images it already trained on and sees exactly the ones an uninterrupted run would. The
    noise of a batch is drawn from (seed, epoch, its first image's place in the epoch), so a resumed
    run draws the same noise too, with no random state to save, and tf.distribute splits the noise
    with the images.

    The full batches and the short last batch (the leftover images, when the epoch's size is not a
    multiple of batch_size) come as two datasets. Then the full batches have a static shape, and
    TensorFlow compiles the train step for exactly that shape, which measured 3% faster on a CPU than
    one step for every batch size; the short batch gets a second compiled step of its own.

    Args:
      digits: a dataset of (image, label) pairs, as digit_dataset() makes.
      prefetch: prepare the next batches while the current step runs.
    Returns:
      A list of (dataset, number of batches in it), to be trained on in order: the full batches, then
      the short one; parts without a batch are left out. Each batch is (images float32 (B, 28, 28, 1)
      in [-1, 1], labels int32 (B,), latent vectors float32 (B, latent_dim)).
    """
    num_digits = int(digits.cardinality())
    if num_digits < 0:
        raise ValueError("epoch_batches needs a dataset of known, finite length")
    # The whole set in the buffer: MNIST fits in memory, and a full buffer shuffles perfectly.
    unseen = digits.shuffle(num_digits, seed=seed * 1_000_003 + epoch, reshuffle_each_iteration=False).skip(skip_images)
    full_batches, leftover = divmod(num_digits - skip_images, batch_size)

    def with_noise(first_image, images, labels):
        noise_seed = tf.stack([tf.constant(seed, tf.int64), epoch * NOISE_SEEDS_PER_EPOCH + first_image])
        return images, labels, tf.random.stateless_normal((tf.shape(images)[0], latent_dim), seed=noise_seed)

    full = (
        unseen.batch(batch_size, drop_remainder=True)
        .enumerate()
        .map(lambda index, batch: with_noise(skip_images + index * batch_size, *batch))
    )
    short = (
        unseen.skip(full_batches * batch_size)
        .batch(batch_size)
        .map(lambda images, labels: with_noise(tf.constant(num_digits - leftover, tf.int64), images, labels))
    )
    # Each worker of a multi-worker run builds the same batches and keeps its share of every one.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    parts = []
    for batches, count in [(full, full_batches), (short, int(leftover > 0))]:
        if count:
            batches = batches.with_options(options)
            parts.append((batches.prefetch(tf.data.AUTOTUNE) if prefetch else batches, count))
    return parts


def steps_per_epoch(num_images, batch_size):
    """Batches in one epoch, the short last one included."""
    return -(-num_images // batch_size)

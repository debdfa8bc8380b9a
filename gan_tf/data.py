"""Pictures as a tf.data pipeline of images in [-1, 1] and their labels: MNIST's digits by default,
any tensorflow-datasets image set by name, or a folder of your own.

Where the pictures come from (`where`, see load()):
  * "mnist", the default: the digits, from the first source that has them:
    1. a Keras-layout `mnist.npz` named by the GAN_TF_MNIST environment variable;
    2. tensorflow-datasets' prepared copy (`tfds.load("mnist")`), downloading it when the network is up;
    3. Keras's cache, `~/.keras/datasets/mnist.npz`, when tensorflow-datasets cannot help.
  * another tensorflow-datasets name (fashion_mnist, cifar10, svhn_cropped, celeb_a, ...);
  * a path: a Keras-layout `.npz` of digits, or a folder of image files (load_folder says how it is read).
Offline, tensorflow-datasets retries its download for minutes before it gives up, so we ask the
network first (a few seconds at most) and skip the download when nobody answers.

Every source gives the same thing, data.Pictures: uint8 images (N, H, W, C) of one square size,
grey (C = 1) or colour (C = 3); a size of 28, 32 or 64 pixels is kept, any other is made 64 by
resizing the shorter side and cropping the centre (or the size --image-size asks for).
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
import PIL.Image
import PIL.ImageOps
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import mnist
from gan_tf.runtime import batches as batches_lib
from gan_tf.runtime import errors

MNIST = mnist.MNIST
MNIST_ENV_VAR = "GAN_TF_MNIST"
KERAS_CACHE = pathlib.Path("~/.keras/datasets/mnist.npz")
# Where tensorflow-datasets downloads MNIST from, and its mirror for most other data sets.
TFDS_DOWNLOAD_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
TFDS_MIRROR_URL = "https://storage.googleapis.com/tfds-data/"
NETWORK_TIMEOUT_SECONDS = 3.0
NOISE_SEEDS_PER_EPOCH = 2**32  # Noise seeds of one epoch: epoch * this + the image's place in the epoch.
HOW_TO_PROVIDE = (
    f"download mnist.npz (the file keras.datasets.mnist.load_data() fetches) and pass "
    f"--data PATH, set {MNIST_ENV_VAR}=PATH, or copy it to {KERAS_CACHE}"
)
SIZES = (28, 32, 64)  # The image sizes the networks are built for (models.py adds a block per doubling).
OTHER_SIZE = 64  # The size of pictures whose own size is not one of SIZES.
# The files a folder's pictures may be; any other file (.DS_Store, a README) is passed over.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".pgm", ".ppm")
HELD_OUT_EVERY = 10  # A folder without train/ and test/ keeps every tenth picture (in name order) for evaluation.

# Pictures as numpy arrays: images uint8 (N, H, W, C) in 0..255; labels int32 (N,), each an index into
# class_names (all 0 for pictures without classes); class_names a tuple of str, () when the pictures
# have no classes; and a sentence saying where they came from.
Pictures = collections.namedtuple("Pictures", ["images", "labels", "class_names", "source"])


def load(where=MNIST, split="train", image_size=None, channels=None, log=print):
    """One split ("train" or "test") of the pictures at `where`.

    Args:
      where: "mnist", another tensorflow-datasets name, or the path of an .npz or a folder.
      image_size: 28, 32 or 64 to resize to; None: the pictures' own size when it is one of those, else 64.
      channels: 1 or 3 to make the pictures grey or colour; None: as they are.
      log: called with one line when something is skipped, so the user knows why.
    Returns:
      data.Pictures.
    Raises:
      UserError: when the pictures cannot be found or read, with what to do.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    path = pathlib.Path(where).expanduser()
    if where == MNIST:
        pictures = load_mnist(split, log=log)
    elif is_path(where):
        pictures = load_folder(path, split, image_size, channels, log) if path.is_dir() else load_npz(path, split)
    else:
        pictures = load_tfds(where, split, image_size, log=log)
    return with_size_and_channels(pictures, image_size, channels)


def is_path(where):
    """Whether `where` names a file or folder rather than a tensorflow-datasets name: it has a slash (the
    command line makes --data absolute) or ends in .npz. A bare word is a name even where a folder has it."""
    return os.sep in str(where) or str(where).endswith(".npz")


def where_of(known="", dataset=None, path=None):
    """Where a command's pictures come from (load()'s `where`): --dataset NAME or --data PATH when given, else
    the run's own (`known`, a config's `data`), else "mnist". A path is made absolute, so that a run
    records where its pictures are wherever it is started from.

    Raises:
      UserError: both flags given, or pictures other than the ones the run was trained on.
    """
    if dataset and path:
        raise errors.UserError("--dataset and --data both name the pictures: give one of them.")
    given = str(pathlib.Path(path).expanduser().resolve()) if path else dataset
    if given and known and given != known and not (mnist.is_mnist(given) and mnist.is_mnist(known)):
        raise errors.UserError(
            f"the run was trained on {known}, not {given}: drop --data and --dataset to use its pictures, "
            f"or add --fresh (or use another --checkpoint-dir) to start a new run."
        )
    return given or known or MNIST


def facts(pictures, where):
    """The settings a run takes from its pictures (config.resolve's `facts`): their size, channels, classes and
    where they come from."""
    return {
        "image_size": pictures.images.shape[1],
        "channels": pictures.images.shape[-1],
        "class_names": tuple(pictures.class_names),
        "data": where,
    }


def load_of_run(config, split, dataset=None, path=None, log=print):
    """One split of a trained run's pictures, at its size and channels: --dataset or --data when given (which
    must be pictures of the same kind), else the ones it was trained on.

    Raises:
      UserError: the pictures cannot be read, or differ from the run's.
    """
    where = where_of(config.data, dataset, path)
    pictures = load(where, split, config.image_size, config.channels, log=log)
    config_lib.refuse_other_pictures(config, facts(pictures, where))
    return pictures


def load_named(dataset=None, path=None, log=print):
    """The pictures --dataset or --data name (MNIST by default), for commands without a run of their own
    (bench, compare): (where, training split, test split at the training split's size and channels)."""
    where = where_of("", dataset, path)
    train = load(where, "train", log=log)
    return where, train, load(where, "test", train.images.shape[1], train.images.shape[-1], log=log)


def own_size(height, width):
    """The size pictures of this height and width are trained at by default: their own if square and
    one of SIZES, else OTHER_SIZE."""
    return height if height == width and height in SIZES else OTHER_SIZE


def with_size_and_channels(pictures, image_size=None, channels=None):
    """`pictures` resized to `image_size` (by resize()) and made grey or colour (by to_channels())."""
    images = pictures.images
    size = image_size or own_size(*images.shape[1:3])
    if images.shape[1:3] != (size, size):
        images = resize(images, size)
    return pictures._replace(images=to_channels(images, channels or images.shape[-1]))


def resize(images, size):
    """uint8 images (N, H, W, C) -> (N, size, size, C): the shorter side scaled to `size`, the centre cropped."""
    return np.stack(
        [fit(PIL.Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image), size) for image in images]
    )


def fit(picture, size):
    """A PIL picture as uint8 (size, size, channels): its shorter side scaled to `size` (Lanczos), the centre cropped."""
    if picture.size != (size, size):
        picture = PIL.ImageOps.fit(picture, (size, size), method=PIL.Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, np.uint8)
    return pixels[..., np.newaxis] if pixels.ndim == 2 else pixels


def to_channels(images, channels):
    """uint8 images (N, H, W, C) with C = 1 or 3 -> (N, H, W, channels): grey repeated, or colour made grey
    (ITU-R 601 luma, as PIL's "L" mode)."""
    if images.shape[-1] == channels:
        return images
    if channels == 3:
        return np.repeat(images, 3, axis=-1)
    luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.round(luma).clip(0, 255).astype(np.uint8)[..., np.newaxis]


def load_mnist(split="train", tfds_data_dir=None, log=print):
    """One split ("train" or "test") of MNIST from the first source that has it: $GAN_TF_MNIST, then
    tensorflow-datasets, then Keras's cache.

    Args:
      split: "train" (60,000 digits) or "test" (10,000 digits).
      tfds_data_dir: where tensorflow-datasets keeps its copy; None means its own default.
      log: called with one line when a source is skipped, so the user knows why.
    Returns:
      Pictures(images uint8 (N, 28, 28, 1), labels, the digits' names "0" to "9", source).
    Raises:
      UserError: when no source has MNIST, or a named file is not a usable mnist.npz.
    """
    if os.environ.get(MNIST_ENV_VAR):
        return load_npz(os.environ[MNIST_ENV_VAR], split)
    digits = load_from_tfds(MNIST, split, tfds_data_dir, log, fallback=f"trying {KERAS_CACHE}")
    if digits is not None:
        return digits
    if KERAS_CACHE.expanduser().exists():
        return load_npz(KERAS_CACHE.expanduser(), split)
    raise errors.UserError(
        f"MNIST not found: tensorflow-datasets has no copy and cannot download "
        f"one, and {KERAS_CACHE} does not exist; {HOW_TO_PROVIDE}."
    )


def load_npz(path, split):
    """One split of a Keras-layout mnist.npz (keys x_train, y_train, x_test, y_test) of digits (N, 28, 28)."""
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
    return Pictures(
        images.astype(np.uint8)[..., np.newaxis],
        labels.astype(np.int32),
        mnist.DIGIT_NAMES,
        f"{path} ({split}, {len(images)} digits)",
    )


def load_tfds(name, split, image_size=None, tfds_data_dir=None, log=print):
    """One split of the tensorflow-datasets image set `name`, or one clear line on why it cannot be had."""
    pictures = load_from_tfds(name, split, tfds_data_dir, log, image_size=image_size)
    if pictures is None:
        raise errors.UserError(
            f"tensorflow-datasets has no copy of {name} and cannot download it here: prepare it on a "
            f"machine with internet (.venv/bin/tfds build {name}) and copy ~/tensorflow_datasets/{name} "
            f"here, or pass --data with a folder of its pictures."
        )
    return pictures


def load_from_tfds(name, split, data_dir, log, fallback="", image_size=None):
    """One split of `name` from tensorflow-datasets, or None (after logging why) when it cannot provide it."""
    try:
        import tensorflow_datasets as tfds  # Imported here: it is slow to import and may be broken.
    except ImportError as error:
        # tensorflow-datasets 4.9.10 imports importlib_resources without installing it; we install it
        # in requirements.txt, but a hand-made environment may still lack it.
        log(f"data: tensorflow-datasets cannot be imported ({error}); {fallback or 'pass --data'}")
        return None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except (tfds.core.registered.DatasetNotFoundError, ValueError):  # ValueError: not even a name's form.
        raise errors.UserError(
            f"tensorflow-datasets has no data set named {name!r}: pick one of its image sets "
            f"(https://www.tensorflow.org/datasets/catalog), or pass --data with a folder of pictures."
        ) from None
    image_key, label_key = image_and_label_keys(builder.info.features, name)

    def read(download):
        if download:
            builder.download_and_prepare()
        dataset = builder.as_dataset(split=tfds_split(builder, split), shuffle_files=False)
        return pictures_of_dataset(
            dataset, image_key, label_key, builder.info.features, image_size, f"tensorflow-datasets {name} ({split}"
        )

    try:
        with absl_warnings_off():  # A failed download leaves a folder that tfds warns about at each look.
            return read(download=False)
    except AssertionError:
        pass  # No prepared copy yet: tfds says so at once, before touching the network.
    url = TFDS_DOWNLOAD_URL if name == MNIST else TFDS_MIRROR_URL
    if not network_reachable(url):
        log(f"data: tensorflow-datasets has no copy of {name} and {url} cannot be reached; {fallback or 'giving up'}")
        return None
    try:
        return read(download=True)
    except Exception as error:  # A failed download can raise many kinds of error; all mean "no data".
        log(f"data: tensorflow-datasets could not download {name} ({type(error).__name__}); {fallback or 'giving up'}")
        return None


def image_and_label_keys(features, name):
    """The names of a tfds data set's image feature and of its class label (None without one)."""
    import tensorflow_datasets as tfds

    images = [key for key, feature in features.items() if isinstance(feature, tfds.features.Image)]
    labels = [key for key, feature in features.items() if isinstance(feature, tfds.features.ClassLabel)]
    if not images:
        raise errors.UserError(
            f"tensorflow-datasets' {name} holds no images (its features: {', '.join(features)}): pick an image data set."
        )
    return images[0], ("label" if "label" in labels else (labels[0] if labels else None))


def tfds_split(builder, split):
    """The tfds split to read for "train" or "test": its own "test", else "validation", else the last tenth
    of "train" held out, as in a folder without a test/ sub-folder."""
    known = set(builder.info.splits.keys()) if builder.info.splits else set()
    if not known:  # Not known before the data set is prepared (nor under tfds.testing.mock_data): the usual names.
        return split
    held_out = [name for name in ("test", "validation") if name in known]
    if split == "test":
        return held_out[0] if held_out else "train[-10%:]"
    return "train" if held_out else "train[:-10%]"


def pictures_of_dataset(dataset, image_key, label_key, features, image_size, source):
    """A tfds dataset of examples as data.Pictures, read in batches and resized as they come (a set of
    large photographs need not fit in memory at its own size)."""
    images, labels = [], []
    size = image_size or own_size(*(features[image_key].shape[:2]))
    for batch in dataset.batch(1000).as_numpy_iterator():
        pixels = batch[image_key]
        images.append(pixels if pixels.shape[1:3] == (size, size) else resize(pixels, size))
        labels.append(batch[label_key].astype(np.int32) if label_key else np.zeros(len(pixels), np.int32))
    if not images:
        raise errors.UserError(f"{source}) holds no examples: pick another split or data set.")
    images, labels = np.concatenate(images), np.concatenate(labels)
    names = tuple(features[label_key].names) if label_key else ()
    return Pictures(images, labels, names, f"{source}, {len(images)} pictures)")


def load_folder(root, split="train", image_size=None, channels=None, log=print):
    """One split of the pictures in a folder, read as a student lays them out:

      * a flat folder (or one with a single sub-folder): pictures without classes;
      * a sub-folder per class, e.g. cats/ and dogs/ (pictures deeper down count for their class);
      * train/ and test/ sub-folders, each flat or with the same class sub-folders: the two splits.
        Without them, every tenth picture in name order is held out as the test split.

    Only files named like pictures (IMAGE_EXTENSIONS) are read, in any mode Pillow reads; one that
    cannot be decoded is skipped, and the log says how many were and names the first.

    Args:
      image_size: the size to resize to; None: the pictures' own size when all share one of SIZES, else 64.
      channels: 1 or 3; None: grey when every picture is grey, else colour.
    Returns:
      data.Pictures.
    Raises:
      UserError: the folder is missing, or holds no picture that can be read.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise errors.UserError(f"{root} is not a folder of pictures: check the path given to --data.")
    has_splits = (root / "train").is_dir() and (root / "test").is_dir()
    class_names, files = picture_files(root / "train" if has_splits else root, log)
    if has_splits and split == "test":
        test_names, test_files = picture_files(root / "test", log)
        strangers = sorted(set(test_names) - set(class_names))
        if strangers or bool(test_names) != bool(class_names):
            raise errors.UserError(
                f"{root / 'test'} has other classes than {root / 'train'} ({', '.join(strangers) or 'none'}): "
                f"give both the same class sub-folders."
            )
        files = [(path, class_names.index(test_names[label]) if test_names else 0) for path, label in test_files]
    elif not has_splits:
        files = [
            pair
            for index, pair in enumerate(files)
            if (index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == (split == "test")
        ]
    images, labels, skipped = decode_pictures(files, image_size, channels)
    if skipped:
        log(
            f"data: skipped {len(skipped)} file{'s' if len(skipped) > 1 else ''} that could not be read as a picture, first {skipped[0]}"
        )
    if not len(images):
        raise errors.UserError(
            f"{root} holds no picture for the {split} split that can be read (files ending in "
            f"{', '.join(IMAGE_EXTENSIONS)}): put pictures in it, or point --data at the folder that has them."
        )
    where = f"{root}{'/' + split if has_splits else ''} ({split}, {len(images)} pictures"
    return Pictures(images, labels, class_names, where + (f", {len(class_names)} classes)" if class_names else ")"))


def picture_files(folder, log):
    """The pictures of a folder: (class names, [(path, label), ...] in name order).

    With two or more sub-folders holding pictures, each is a class (sorted by name) and pictures beside
    them are not used (said in the log); else there are no classes and every picture below is used.
    """

    def pictures_below(directory):
        return sorted(
            path for path in directory.rglob("*") if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()
        )

    classes = {child.name: pictures_below(child) for child in sorted(folder.iterdir()) if child.is_dir()}
    classes = {name: paths for name, paths in classes.items() if paths}
    if len(classes) < 2:
        return (), [(path, 0) for path in pictures_below(folder)]
    beside = [path for path in folder.iterdir() if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()]
    if beside:
        log(f"data: {len(beside)} pictures lie beside the class folders of {folder} and are not used")
    names = tuple(classes)
    return names, [(path, label) for label, name in enumerate(names) for path in classes[name]]


def decode_pictures(files, image_size, channels):
    """Reads [(path, label), ...]: (images uint8 (N, size, size, C), labels int32 (N,), skipped paths).

    The size, when not given, is read from the files' headers first (cheap): their own when all share one
    of SIZES, else OTHER_SIZE. Pictures are decoded as colour and made grey when every one is grey.
    """
    sizes = {}
    for path, _ in files:
        try:
            with PIL.Image.open(path) as picture:
                sizes[path] = picture.size
        except (OSError, ValueError, PIL.Image.DecompressionBombError):
            pass
    skipped = [path for path, _ in files if path not in sizes]
    if image_size is None:
        shapes = set(sizes.values())
        image_size = own_size(*shapes.pop()) if len(shapes) == 1 else OTHER_SIZE

    def decode(path):
        try:
            with PIL.Image.open(path) as picture:
                return fit(picture.convert("L" if channels == 1 else "RGB"), image_size)
        except (OSError, ValueError, PIL.Image.DecompressionBombError):
            return None

    readable = [(path, label) for path, label in files if path in sizes]
    with concurrent.futures.ThreadPoolExecutor() as pool:  # Pillow decodes with Python's lock released.
        decoded = list(pool.map(decode, [path for path, _ in readable]))
    skipped += [path for (path, _), image in zip(readable, decoded) if image is None]
    kept = [(image, label) for image, (_, label) in zip(decoded, readable) if image is not None]
    if not kept:
        return np.zeros((0, image_size, image_size, channels or 1), np.uint8), np.zeros(0, np.int32), skipped
    images = np.stack([image for image, _ in kept])
    if channels is None and (images[..., 0] == images[..., 1]).all() and (images[..., 1] == images[..., 2]).all():
        images = images[..., :1]  # Every picture is grey: one channel.
    return images, np.array([label for _, label in kept], np.int32), sorted(skipped, key=str)


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
    """uint8 images in 0..255 of shape (..., H, W, C) -> float32 of the same shape in [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float images in [-1, 1] of shape (..., H, W, C) -> numpy uint8 of the same shape in 0..255."""
    return to_uint8_tensor(tf.convert_to_tensor(images, tf.float32)).numpy()


def to_uint8_tensor(images):
    """to_uint8 as TensorFlow operations, for graphs: the exported generator's signature uses it too."""
    pixels = tf.cast(images, tf.float32)
    return tf.cast(tf.clip_by_value(tf.round((pixels + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def image_dataset(pictures, cache=True):
    """A dataset of (image float32 (H, W, C) in [-1, 1], label int32) from data.Pictures.

    Args:
      cache: keep the converted images in memory after the first pass, instead of converting every epoch.
    """
    dataset = tf.data.Dataset.from_tensor_slices((pictures.images, pictures.labels.astype(np.int32)))
    dataset = dataset.map(lambda image, label: (to_unit_range(image), label), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.cache() if cache else dataset


def epoch_batches(examples, batch_size, seed, epoch, latent_dim, skip_images=0, prefetch=True):
    """The batches of one epoch, shuffled in an order fixed by (seed, epoch) (runtime/batches.py), each with its
    noise.

    The noise of a batch is drawn from (seed, epoch, its first image's place in the epoch), so a resumed run
    draws the same noise too, with no random state to save, and tf.distribute splits the noise with the images.

    Args:
      examples: a dataset of (image, label) pairs, as image_dataset() makes.
      prefetch: prepare the next batches while the current step runs.
    Returns:
      A list of (dataset, number of batches in it), to be trained on in order: the full batches, then the
      short one. Each batch is (images float32 (B, H, W, C) in [-1, 1], labels int32 (B,), latent vectors
      float32 (B, latent_dim)).
    """

    def with_noise(first_image, images, labels):
        noise_seed = tf.stack([tf.constant(seed, tf.int64), epoch * NOISE_SEEDS_PER_EPOCH + first_image])
        return images, labels, tf.random.stateless_normal((tf.shape(images)[0], latent_dim), seed=noise_seed)

    return batches_lib.epoch_batches(examples, batch_size, seed, epoch, skip_images, prefetch, complete=with_noise)

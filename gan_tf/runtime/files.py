"""Writing files so that a kill or a full disk never leaves half of one, and checking first that they can be.

Every file gan_tf writes (frames, GIFs, config.json, evaluation.json, metrics.csv, samples) is
written to a hidden temporary file beside its destination and renamed over it only when complete:
a rename within a directory is atomic, so a reader finds the old file or the new one, never a mix.
Checkpoints need none of this: tf.train.CheckpointManager already names a checkpoint in its index
only after its files are complete.
"""

import contextlib
import os
import pathlib

from gan_tf.runtime import errors


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; when the block succeeds, renames it to `path`.

    Creates the directory of `path` first when it does not exist.

    When the block raises (or the process dies), `path` keeps its old contents, and the temporary
    file is removed (or, after a kill, left hidden as .NAME.tmp and replaced by the next write).
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def check_directory(directory):
    """Checks, without creating anything, that `directory` is or can become a directory gan_tf can write to.

    Raises:
      UserError: when it (or the nearest part of its path that exists) is a file, or cannot be written.
    """
    path = pathlib.Path(directory)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise errors.UserError(f"{existing} is a file, not a directory: name a directory instead.")
    if existing == path:
        probe = path / ".gan_tf_write_test"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise unwritable(path, error) from None
    elif not os.access(existing, os.W_OK | os.X_OK):
        raise errors.UserError(
            f"cannot write to {path} ({existing} is not writable): choose a directory you can "
            f"write to, or fix its permissions."
        )
    return path


def prepare_directory(directory):
    """Creates `directory` (and its parents) if needed and checks that files can be written there.

    Raises:
      UserError: when it is a file, or cannot be created or written to.
    """
    path = check_directory(directory)
    if not path.is_dir():
        try:
            path.mkdir(parents=True)
        except OSError as error:
            raise unwritable(path, error) from None
        check_directory(path)  # Now that it exists, a file is written there to be sure.
    return path


def unwritable(path, error):
    return errors.UserError(
        f"cannot write to {path} ({error.strerror}): choose a directory you can write to, or fix its permissions."
    )


def output_path(path, suffixes):
    """Checks that `path` has one of `suffixes`, is not a directory, and can be written; returns a Path.

    Nothing is created yet: the writer creates the directory when the file is ready.
    """
    path = pathlib.Path(path)
    if path.suffix.lower() not in suffixes:
        raise errors.UserError(f"{path}: the output must end in {' or '.join(suffixes)}.")
    if path.is_dir():
        raise errors.UserError(f"{path} is a directory: name a file ending in {' or '.join(suffixes)} instead.")
    check_directory(path.parent)
    return path

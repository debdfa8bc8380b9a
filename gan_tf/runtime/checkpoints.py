"""Where runs are saved: tf.train.Checkpoint files, managed by tf.train.CheckpointManager, plus config.json.

A checkpoint directory holds one run: `ckpt-<step>.index` and `ckpt-<step>.data-*` files for the last
few saves, the `checkpoint` index naming the latest, and the run's settings, config.json. CheckpointManager
writes the index only after a save's files are complete, so the latest checkpoint is never a
half-written one. Every failure to read a run becomes a UserError that says what to do.
"""

import logging
import pathlib

import tensorflow as tf

from gan_tf.runtime import errors
from gan_tf.runtime.settings import INDEX_FILENAME
from gan_tf.runtime.settings import SETTINGS_FILENAME
from gan_tf.runtime.settings import refuse_foreign_checkpoints
from gan_tf.runtime.settings import settings_path


def make_manager(checkpoint, directory, max_to_keep):
    """The CheckpointManager that saves `checkpoint` (a tf.train.Checkpoint) as directory/ckpt-<step>."""
    return tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=max_to_keep, checkpoint_name="ckpt")


def resume_point(directory, fresh=False, name=None):
    """The checkpoint a `train` in `directory` resumes from: the one named, the latest, or None (a new run).

    Reads only. Args: fresh: the run is to start over (--fresh); name: --checkpoint NAME, or None.
    Raises:
      UserError: --fresh with --checkpoint, a named checkpoint where there is none, or a run that
        cannot be resumed (see latest()).
    """
    if fresh and name:
        raise errors.UserError("--fresh starts over and --checkpoint resumes from a checkpoint: use one of them.")
    if fresh:
        return None
    path = pathlib.Path(directory)
    if name and not (path / INDEX_FILENAME).exists():
        raise errors.UserError(
            f"--checkpoint {name}: there is no run in {path} to resume: drop --checkpoint to start "
            f"a new run, or pass the --checkpoint-dir of the run that has it."
        )
    return checkpoint_path(path, name) if path.is_dir() else None


def require_run(directory, phase=None):
    """Checks that `directory` holds a trained run, for commands that read a run but never train it.

    Args:
      phase: for a run trained in phases, the first, whose checkpoints are in directory/phase.

    Raises:
      UserError: when the directory does not exist, holds no checkpoint, or is not a gan_tf run.
    """
    path = pathlib.Path(directory)
    if path.exists() and not path.is_dir():
        raise errors.UserError(
            f"--checkpoint-dir {path} is a file, not a directory: pass the directory of a trained run."
        )
    if not path.is_dir():
        raise errors.UserError(
            f"checkpoint directory {path} does not exist: train first with "
            f"'make train', or pass --checkpoint-dir pointing at a trained run."
        )
    refuse_foreign_checkpoints(path)
    if not settings_path(path).exists() or latest(path / phase if phase else path) is None:
        raise errors.UserError(
            f"{path} holds no gan_tf checkpoint: train first with 'make train', "
            f"or pass --checkpoint-dir pointing at a trained run."
        )


def latest(directory):
    """The prefix of the latest complete checkpoint in `directory`, or None when there is none.

    CheckpointManager writes its index (the file named `checkpoint`) atomically and only after a
    save's files are complete, so the index never names a half-written checkpoint. A save that a
    kill interrupted leaves files the index does not name: they are ignored, and overwritten later.

    Raises:
      UserError: when the index is unreadable, or names a checkpoint whose files are gone: starting
        over there would silently throw the run away.
    """
    index = pathlib.Path(directory) / INDEX_FILENAME
    if not index.exists():
        return None
    state = checkpoint_state(directory)
    if state is None or not state.model_checkpoint_path:
        raise errors.UserError(
            f"{index}, the index of the checkpoints, is damaged: restore it from a backup, or start "
            f"over with --fresh (which deletes the run) or another --checkpoint-dir."
        )
    prefix = state.model_checkpoint_path
    if not pathlib.Path(prefix + ".index").is_file():
        raise errors.UserError(
            f"{index} names {pathlib.Path(prefix).name}, but its files are missing: put them back, "
            f"or start over with --fresh (which deletes the run) or another --checkpoint-dir."
        )
    return prefix


def checkpoint_state(directory):
    """CheckpointManager's index of `directory` (a CheckpointState proto), or None when absent or unreadable."""
    try:
        return tf.train.get_checkpoint_state(str(directory))
    except (tf.errors.OpError, ValueError):  # text_format.ParseError is a ValueError.
        return None


def saved_names(directory):
    """The names of the checkpoints the index of `directory` lists, oldest first ([] when unreadable)."""
    state = checkpoint_state(directory)
    return [pathlib.Path(path).name for path in state.all_model_checkpoint_paths] if state else []


def checkpoint_path(directory, name=None):
    """The checkpoint prefix to restore: the latest in `directory`, or the one named.

    Args:
      name: None for the latest; else a prefix such as "ckpt-4690", relative to `directory` or not.
    """
    if name is None:
        return latest(directory)
    for candidate in (pathlib.Path(name), pathlib.Path(directory) / name):
        if pathlib.Path(str(candidate) + ".index").is_file():
            return str(candidate)
    available = ", ".join(saved_names(directory)) or "none"
    raise errors.UserError(f"no checkpoint named {name} in {directory}; the saved ones are: {available}.")


def restore(checkpoint, path, partial=False):
    """Restores a tf.train.Checkpoint from the checkpoint prefix `path`.

    Reading never changes a file, so a refused checkpoint is left exactly as it was.

    Args:
      checkpoint: a tf.train.Checkpoint of the objects to restore. Training restores its
        CheckpointManager's own, so that the save counter continues too.
      partial: True when only some of the saved objects are wanted (sampling needs no optimizers).
    Raises:
      UserError: saying whether the checkpoint is damaged (truncated or corrupt), of another
        architecture, or of another program, and what to do.
    """
    status = None
    try:
        status = checkpoint.restore(path)
        if partial:
            status.expect_partial()
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as error:
        # A failed restore leaves TensorFlow's record of every value it did not read attached to the
        # objects, and each is logged as a warning when they are deleted; our one line says it all.
        if status is not None:
            status.expect_partial()
        tf.get_logger().setLevel(logging.ERROR)
        raise errors.UserError(
            f"cannot restore {path}: {what_went_wrong(error)} ({summary(error)}). {what_to_do(path)}"
        ) from None


def what_went_wrong(error):
    """Why a restore failed, in words, from the kind of error TensorFlow raised."""
    if isinstance(error, ValueError) and "incompatible" in str(error):
        return "it holds weights of other shapes, from another architecture or config"
    if isinstance(error, AssertionError):
        return "it holds other objects than a gan_tf run, so another program or version wrote it"
    # IndexError ("Read less bytes than requested"): a cut-short data file; DataLossError: a checksum
    # mismatch; "not an sstable": a damaged .index file.
    return "it is damaged (truncated or corrupt)"


def summary(error):
    return (
        f"{type(error).__name__}: {str(error).strip().splitlines()[0][:160]}"
        if str(error).strip()
        else type(error).__name__
    )


def what_to_do(path):
    """Advice after a failed restore: the other checkpoints of the run, when it has some."""
    directory, name = pathlib.Path(path).parent, pathlib.Path(path).name
    others = [other for other in saved_names(directory) if other != name]
    if others:
        return (
            f"The files are left as they were. The run's other checkpoints are {', '.join(others)}: pass "
            f"--checkpoint {others[-1]} to use one, or --fresh (or another --checkpoint-dir) to start over."
        )
    return "The files are left as they were: train a new run with --fresh or another --checkpoint-dir."


def remove_run(directory):
    """Deletes the checkpoints and config.json of the run in `directory`, and nothing else."""
    path = pathlib.Path(directory)
    for file in [path / INDEX_FILENAME, path / SETTINGS_FILENAME, *path.glob("ckpt-*")]:
        file.unlink(missing_ok=True)

"""Where runs are saved: tf.train.Checkpoint files, managed by tf.train.CheckpointManager, plus config.json.

A checkpoint directory holds one run: `ckpt-<step>.index` and `ckpt-<step>.data-*` files for the last
few saves, the `checkpoint` index naming the latest, and the run's config.json. CheckpointManager
writes the index only after a save's files are complete, so the latest checkpoint is never a
half-written one. Every failure to read a run becomes a UserError that says what to do.
"""

import logging
import pathlib

import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import errors

INDEX_FILENAME = "checkpoint"  # The file tf.train.CheckpointManager keeps its list of saves in.


def make_manager(trackables, directory, max_to_keep):
    """A tf.train.Checkpoint of `trackables` (a dict of name -> object) and its CheckpointManager."""
    checkpoint = tf.train.Checkpoint(**trackables)
    return tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=max_to_keep,
                                      checkpoint_name="ckpt")


def prepare_directory(directory):
    """Creates `directory` (and its parents) if needed and checks that files can be written there.

    Raises:
      UserError: when it is a file, or cannot be created or written to.
    """
    path = pathlib.Path(directory)
    if path.exists() and not path.is_dir():
        raise errors.UserError(f"{path} is a file, not a directory: name a directory instead.")
    probe = path / ".gan_tf_write_test"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise errors.UserError(f"cannot write to {path} ({error.strerror}): choose a directory you can "
                               f"write to, or fix its permissions.") from None
    return path


def require_run(directory):
    """The config of the run saved in `directory`, for commands that read a run but never train it.

    Raises:
      UserError: when the directory does not exist, holds no checkpoint, or is not a gan_tf run.
    """
    path = pathlib.Path(directory)
    if not path.is_dir():
        raise errors.UserError(f"checkpoint directory {path} does not exist: train first with "
                               f"'make train', or pass --checkpoint-dir pointing at a trained run.")
    saved = saved_config(path)
    if saved is None or tf.train.latest_checkpoint(str(path)) is None:
        raise errors.UserError(f"{path} holds no gan_tf checkpoint: train first with 'make train', "
                               f"or pass --checkpoint-dir pointing at a trained run.")
    return saved


def saved_config(directory):
    """The Config saved in `directory`, or None for a new run.

    Raises:
      UserError: when the directory holds checkpoints but no config.json (another program's files).
    """
    path = pathlib.Path(directory)
    saved = config_lib.load(path)
    if saved is None and (path / INDEX_FILENAME).exists():
        raise errors.UserError(f"{path} holds checkpoints that gan_tf did not write (no {config_lib.CONFIG_FILENAME}): "
                               f"use another --checkpoint-dir.")
    return saved


def checkpoint_path(directory, name=None):
    """The checkpoint prefix to restore: the latest in `directory`, or the one named.

    Args:
      name: None for the latest; else a prefix such as "ckpt-4690", relative to `directory` or not.
    """
    if name is None:
        return tf.train.latest_checkpoint(str(directory))
    for candidate in (pathlib.Path(name), pathlib.Path(directory) / name):
        if pathlib.Path(str(candidate) + ".index").is_file():
            return str(candidate)
    available = ", ".join(pathlib.Path(p).name for p in tf.train.get_checkpoint_state(str(directory)).all_model_checkpoint_paths)
    raise errors.UserError(f"no checkpoint named {name} in {directory}; the saved ones are: {available}.")


def restore(trackables, path, partial=False):
    """Restores `trackables` (name -> object) from the checkpoint prefix `path`.

    Args:
      partial: True when only some of the saved objects are wanted (sampling needs no optimizers).
    Raises:
      UserError: when the checkpoint is unreadable or holds other objects or shapes than these.
    """
    checkpoint = tf.train.Checkpoint(**trackables)
    status = None
    try:
        status = checkpoint.restore(path)
        if partial:
            status.expect_partial()
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        # A failed restore leaves TensorFlow's record of every value it did not read attached to the
        # objects, and each is logged as a warning when they are deleted; our one line says it all.
        if status is not None:
            status.expect_partial()
        tf.get_logger().setLevel(logging.ERROR)
        summary = str(error).strip().splitlines()[0][:200]
        raise errors.UserError(f"cannot restore {path}: it does not match this model or is damaged "
                               f"({summary}). Train a new run with --fresh or another --checkpoint-dir.") from None


def remove_run(directory):
    """Deletes the checkpoints and config.json of the run in `directory`, and nothing else."""
    path = pathlib.Path(directory)
    for file in [path / INDEX_FILENAME, path / config_lib.CONFIG_FILENAME, *path.glob("ckpt-*")]:
        file.unlink(missing_ok=True)

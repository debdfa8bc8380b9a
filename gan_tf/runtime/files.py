"""Writing files so that a kill or a full disk never leaves half of one.

Every file gan_tf writes (frames, GIFs, config.json, evaluation.json, metrics.csv, samples) is
written to a hidden temporary file beside its destination and renamed over it only when complete:
a rename within a directory is atomic, so a reader finds the old file or the new one, never a mix.
Checkpoints need none of this: tf.train.CheckpointManager already names a checkpoint in its index
only after its files are complete.
"""

import contextlib
import os
import pathlib


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

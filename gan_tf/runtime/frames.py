"""Progress frames: after each epoch a run writes one file, frames/epoch_NNNN.<suffix>, drawn from fixed inputs.

What a frame holds is the story's (a grid of pictures, a few texts); a frame object has a `suffix`
(".png"), `write(path)` and `summarise(step)`, which writes its TensorBoard summary. Here: their names,
and forgetting the frames of epochs a resumed run redoes.
"""

import pathlib
import re

FRAME_PATTERN = re.compile(r"epoch_(\d{4,})(\.\w+)")


def frame_path(frames_dir, epoch, suffix):
    """frames/epoch_0007.png for epoch 7 and the suffix ".png"."""
    return pathlib.Path(frames_dir) / f"epoch_{epoch:04d}{suffix}"


def frame_paths(frames_dir, suffix=None):
    """The frames in `frames_dir` (those with `suffix`, when given), in epoch order."""
    matches = [(FRAME_PATTERN.fullmatch(path.name), path) for path in pathlib.Path(frames_dir).glob("epoch_*")]
    found = [(int(match.group(1)), path) for match, path in matches if match and suffix in (None, match.group(2))]
    return [path for _, path in sorted(found)]


def frame_epoch(path):
    """The epoch of a frame's path."""
    return int(FRAME_PATTERN.fullmatch(pathlib.Path(path).name).group(1))


def remove_frames_after(frames_dir, epoch):
    """Deletes the frames of epochs after `epoch`: a resumed run redoes those epochs and draws them again."""
    for path in frame_paths(frames_dir):
        if frame_epoch(path) > epoch:
            path.unlink()

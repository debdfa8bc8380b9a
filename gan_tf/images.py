"""Pictures: grids of digits or any pictures (Pillow), the per-epoch progress frames and GIFs (imageio)."""

import pathlib
import re

import imageio.v3 as iio
import numpy as np
import PIL.Image

from gan_tf.runtime import files

FRAME_PATTERN = re.compile(r"epoch_(\d{4,})\.png")
UPSCALE = 2  # Each pixel becomes 2x2 screen pixels: 28-pixel digits are tiny on today's screens.


def grid(digits, columns, padding=2):
    """Tiles digits (or any pictures) into one picture, row by row, on a black background.

    Args:
      digits: uint8 array (N, H, W, C) in 0..255, C = 1 (grey, (N, 28, 28, 1) for digits) or 3 (colour);
        or (N, H, W), grey pictures as an export gives them.
      columns: pictures per row; the last row may be short.
    Returns:
      uint8 array (rows * (H + padding) + padding, columns * (W + padding) + padding, C).
    """
    digits = np.asarray(digits)
    if digits.ndim == 3:
        digits = digits[..., np.newaxis]
    count, height, width, channels = digits.shape
    rows = -(-count // columns)
    picture = np.zeros((rows * (height + padding) + padding, columns * (width + padding) + padding, channels), np.uint8)
    for index, digit in enumerate(digits):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        picture[top : top + height, left : left + width] = digit
    return picture


def enlarge(picture):
    """Each pixel of a picture (H, W[, C]) becomes an UPSCALE x UPSCALE block: (H * UPSCALE, W * UPSCALE[, C])."""
    return np.repeat(np.repeat(picture, UPSCALE, axis=0), UPSCALE, axis=1)


def displayable(picture):
    """A uint8 picture (H, W, C) as Pillow and GIF writers take it: (H, W) when grey, (H, W, 3) in colour."""
    return picture[..., 0] if picture.ndim == 3 and picture.shape[-1] == 1 else picture


def save_png(picture, path):
    """Writes a uint8 picture (H, W, C), grey or colour, as a PNG, enlarged for legibility, atomically."""
    with files.atomic_path(path) as temporary:
        PIL.Image.fromarray(displayable(enlarge(picture))).save(temporary, format="PNG")


def frame_path(frames_dir, epoch):
    """outputs/frames/epoch_0007.png for epoch 7."""
    return pathlib.Path(frames_dir) / f"epoch_{epoch:04d}.png"


def frame_paths(frames_dir):
    """The progress frames in `frames_dir`, in epoch order."""
    paths = [path for path in pathlib.Path(frames_dir).glob("epoch_*.png") if FRAME_PATTERN.fullmatch(path.name)]
    return sorted(paths, key=lambda path: int(FRAME_PATTERN.fullmatch(path.name).group(1)))


def remove_frames_after(frames_dir, epoch):
    """Deletes the frames of epochs after `epoch`: a resumed run redoes those epochs and draws them again."""
    for path in frame_paths(frames_dir):
        if int(FRAME_PATTERN.fullmatch(path.name).group(1)) > epoch:
            path.unlink()


def write_gif(pictures, path, frame_seconds=0.2, last_frame_seconds=2.0):
    """Writes uint8 pictures (each (H, W) or (H, W, C), all the same size) as a looping GIF, atomically.

    The last picture stays up longer, so the final state is easy to look at.
    """
    durations_ms = [frame_seconds * 1000] * (len(pictures) - 1) + [last_frame_seconds * 1000]
    if len(pictures) == 1:
        durations_ms = durations_ms[0]  # Pillow wants a number, not a list, for a single frame.
    with files.atomic_path(path) as temporary:
        frames = np.stack([displayable(picture) for picture in pictures])
        iio.imwrite(temporary, frames, extension=".gif", duration=durations_ms, loop=0)


def gif_from_frames(frames_dir, path):
    """Animates every progress frame in `frames_dir` into the GIF at `path`; returns the frame count."""
    paths = frame_paths(frames_dir)
    if paths:
        write_gif([iio.imread(frame) for frame in paths], path)
    return len(paths)

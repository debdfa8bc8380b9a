"""Pictures: grids of pictures (Pillow), the per-epoch progress frames and GIFs (imageio)."""

import pathlib

import imageio.v3 as iio
import numpy as np
import PIL.Image

from gan_tf.runtime import errors
from gan_tf.runtime import files
from gan_tf.runtime import frames

UPSCALE = 2  # Each pixel becomes 2x2 screen pixels: 28-pixel digits are tiny on today's screens.


def grid(pictures, columns, padding=2):
    """Tiles pictures into one picture, row by row, on a black background.

    Args:
      pictures: uint8 array (N, H, W, C) in 0..255, C = 1 (grey, (N, 28, 28, 1) for digits) or 3 (colour);
        or (N, H, W), grey pictures as an export gives them.
      columns: pictures per row; the last row may be short.
    Returns:
      uint8 array (rows * (H + padding) + padding, columns * (W + padding) + padding, C).
    """
    pictures = np.asarray(pictures)
    if pictures.ndim == 3:
        pictures = pictures[..., np.newaxis]
    count, height, width, channels = pictures.shape
    rows = -(-count // columns)
    tiled = np.zeros((rows * (height + padding) + padding, columns * (width + padding) + padding, channels), np.uint8)
    for index, picture in enumerate(pictures):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        tiled[top : top + height, left : left + width] = picture
    return tiled


class Frame:
    """A progress frame: a grid of pictures (uint8 (H, W, C)), a PNG in frames/ and an image in TensorBoard."""

    suffix = ".png"

    def __init__(self, picture):
        self.picture = picture

    def write(self, path):
        save_png(self.picture, path)

    def summarise(self, step):
        import tensorflow as tf  # Here: `make gif` reads frames without loading TensorFlow.

        tf.summary.image("progress", np.asarray(self.picture)[np.newaxis], step=step)  # (1, H, W, C).


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


def frame_paths(frames_dir):
    """The progress frames (PNG files) in `frames_dir`, in epoch order."""
    return frames.frame_paths(frames_dir, Frame.suffix)


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


def write_training_gif(frames_dir, output_dir):
    """training.gif in `output_dir`, of the frames in `frames_dir`; returns the line that says so."""
    gif = output_dir / "training.gif"
    return f"wrote {gif} ({gif_from_frames(frames_dir, gif)} frames)"


def remake_training_gif(output_dir):
    """`make gif`: training.gif in `output_dir` made again from its frames/; returns the line that says so.

    Raises:
      UserError: there are no frames, or the GIF cannot be written.
    """
    output_dir = pathlib.Path(output_dir)
    frames_dir = output_dir / "frames"
    if (frames_dir / "language-model").is_dir():
        raise errors.UserError(
            f"{output_dir} holds a text run's frames: make train lines them up in {output_dir / 'training.md'}."
        )
    if not frames_dir.is_dir() or not frame_paths(frames_dir):
        raise errors.UserError(
            f"no frames in {frames_dir}: train first with 'make train', or pass the --output-dir that training wrote to."
        )
    try:
        return write_training_gif(frames_dir, output_dir)
    except OSError as error:
        raise errors.UserError(
            f"cannot write {output_dir / 'training.gif'} ({error.strerror}): fix the permissions of {output_dir}."
        ) from None

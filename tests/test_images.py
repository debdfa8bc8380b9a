"""Grids, frames and GIFs."""

import imageio.v3 as iio
import numpy as np

from gan_tf import images
from gan_tf.runtime import frames


def test_grid_places_digits_row_by_row():
    digits = np.stack([np.full((28, 28, 1), value, np.uint8) for value in (10, 20, 30)])
    picture = images.grid(digits, columns=2, padding=2)
    assert picture.shape == (2 * 30 + 2, 2 * 30 + 2, 1)
    assert picture[2, 2] == 10 and picture[2, 32] == 20 and picture[32, 2] == 30
    assert picture[32, 32] == 0 and picture[0, 0] == 0  # The empty cell and the padding stay black.


def test_frames_sort_by_epoch_and_gif_has_one_frame_per_epoch(tmp_path):
    for epoch in (10, 2, 1):
        images.Frame(np.full((4, 4, 1), epoch, np.uint8)).write(frames.frame_path(tmp_path, epoch, ".png"))
    (tmp_path / "epoch_notes.png").write_bytes(b"")  # Not a frame: ignored.
    (tmp_path / "epoch_0003.txt").write_text("a text run's frame")  # Not a picture: ignored.
    assert [path.name for path in images.frame_paths(tmp_path)] == [
        "epoch_0001.png",
        "epoch_0002.png",
        "epoch_0010.png",
    ]
    assert images.gif_from_frames(tmp_path, tmp_path / "training.gif") == 3
    assert iio.imread(tmp_path / "training.gif", index=None).shape[0] == 3
    assert iio.imread(frames.frame_path(tmp_path, 2, ".png")).shape == (4 * images.UPSCALE, 4 * images.UPSCALE)
    frames.remove_frames_after(tmp_path, 2)  # A resumed run redoes the epochs after its checkpoint.
    assert [path.name for path in frames.frame_paths(tmp_path)] == ["epoch_0001.png", "epoch_0002.png"]


def test_single_frame_gif(tmp_path):
    images.write_gif([np.zeros((6, 6), np.uint8)], tmp_path / "one.gif")
    assert iio.imread(tmp_path / "one.gif", index=None).shape[0] == 1


def test_colour_pictures_make_a_colour_grid_png_and_gif(tmp_path):
    red, blue = np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.uint8)
    red[..., 0], blue[..., 2] = 200, 150
    picture = images.grid(np.stack([red, blue]), columns=2, padding=1)
    assert (
        picture.shape == (6, 11, 3) and picture[1, 1].tolist() == [200, 0, 0] and picture[1, 6].tolist() == [0, 0, 150]
    )
    images.save_png(picture, tmp_path / "colour.png")
    saved = iio.imread(tmp_path / "colour.png")
    assert saved.shape == (12, 22, 3) and saved[2, 2].tolist() == [200, 0, 0]
    images.write_gif([picture, picture[:, ::-1]], tmp_path / "colour.gif")
    frames = iio.imread(tmp_path / "colour.gif", index=None)
    assert frames.shape[:3] == (2, 6, 11) and frames.shape[-1] in (3, 4)  # RGB, or RGBA from the palette.
    assert frames[0, 1, 1, :3].tolist() == [200, 0, 0]

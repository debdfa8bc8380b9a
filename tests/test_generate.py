"""Sampling, reconstruction and interpolation from a saved run."""

import dataclasses

import numpy as np
import PIL.Image
import pytest

from gan_tf import config as config_lib
from gan_tf import errors
from gan_tf import generate
from gan_tf import train
from tests.conftest import synthetic_digits


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny run trained for one epoch; returns its checkpoint directory."""
    root = tmp_path_factory.mktemp("run")
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=1)
    train.train(config, synthetic_digits(40), root / "checkpoints", root / "outputs", log=lambda line: None,
                progress=False)
    return root / "checkpoints"


def test_same_seed_same_digits_and_npy_layout(trained_run, tmp_path):
    _, generator, _ = generate.restore_models(trained_run)
    first = generate.sample(generator, 5, seed=7, out=tmp_path / "a.npy")
    _, generator_again, _ = generate.restore_models(trained_run)
    second = generate.sample(generator_again, 5, seed=7, out=tmp_path / "b.npy")
    saved = np.load(tmp_path / "a.npy")
    assert saved.shape == (5, 28, 28) and saved.dtype == np.uint8
    assert np.array_equal(saved, np.load(tmp_path / "b.npy")) and np.array_equal(first, second)
    assert not np.array_equal(first, generate.sample(generator, 5, seed=8, out=tmp_path / "c.npy"))


def test_png_grid(trained_run, tmp_path):
    _, generator, _ = generate.restore_models(trained_run)
    generate.sample(generator, 4, seed=0, out=tmp_path / "grid.png")
    assert PIL.Image.open(tmp_path / "grid.png").size == (2 * 30 * 2 + 4, 2 * 30 * 2 + 4)


def test_sample_refuses_other_extensions(trained_run, tmp_path):
    _, generator, _ = generate.restore_models(trained_run)
    with pytest.raises(errors.UserError, match=".png or .npy"):
        generate.sample(generator, 4, seed=0, out=tmp_path / "digits.jpg")


def test_named_checkpoint_and_unknown_name(trained_run):
    generate.restore_models(trained_run, "ckpt-3")
    with pytest.raises(errors.UserError, match="no checkpoint named ckpt-99.*ckpt-3"):
        generate.restore_models(trained_run, "ckpt-99")


def test_reconstruct_and_interpolate_write_their_pictures(trained_run, tmp_path):
    _, generator, encoder = generate.restore_models(trained_run)
    test_digits = synthetic_digits(12, seed=5)
    error = generate.reconstruct(generator, encoder, test_digits, num=12, seed=0, out=tmp_path / "r.png")
    assert 0 <= error <= 4  # A squared error of values in [-1, 1].
    assert PIL.Image.open(tmp_path / "r.png").size[1] == (4 * 30 + 2) * 2  # 2 groups of real + redrawn rows.
    assert generate.interpolate(generator, encoder, test_digits, seed=0, steps=5, out=tmp_path / "i.gif") == 8


def test_slerp_ends_at_its_endpoints_and_keeps_the_norm():
    start, end = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = generate.slerp(start, end, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[0], start, atol=1e-6)
    np.testing.assert_allclose(path[-1], end, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)

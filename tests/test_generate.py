"""Sampling, reconstruction and interpolation from a saved run."""

import dataclasses

import numpy as np
import PIL.Image
import pytest

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import generate
from gan_tf import models
from gan_tf.runtime import errors
from tests.conftest import synthetic_images


@pytest.fixture
def trained_run(tiny_run):
    """The checkpoint directory of the shared tiny run (tests/conftest.py): ckpt-3 and ckpt-6."""
    return tiny_run[1] / "checkpoints"


def test_same_seed_same_digits_and_npy_layout(trained_run, tmp_path):
    config, generator, _, _ = generate.restore_models(trained_run)
    first = generate.sample(config, generator, 5, seed=7, out=tmp_path / "a.npy")
    _, generator_again, _, _ = generate.restore_models(trained_run)
    second = generate.sample(config, generator_again, 5, seed=7, out=tmp_path / "b.npy")
    saved = np.load(tmp_path / "a.npy")
    assert saved.shape == (5, 28, 28) and saved.dtype == np.uint8
    assert np.array_equal(saved, np.load(tmp_path / "b.npy")) and np.array_equal(first, second)
    assert not np.array_equal(first, generate.sample(config, generator, 5, seed=8, out=tmp_path / "c.npy"))


def test_a_conditional_run_draws_the_digits_in_turn_or_the_one_asked(trained_run, tmp_path):
    config, generator, _, _ = generate.restore_models(trained_run)
    assert config.conditional == "on"
    inputs = generate.new_inputs(config, 12, seed=3, stream=1).numpy()
    assert inputs.shape == (12, config.latent_dim + 10)
    np.testing.assert_array_equal(inputs[:, config.latent_dim :], np.eye(10)[np.arange(12) % 10])
    sevens = generate.new_inputs(config, 12, seed=3, stream=1, label=generate.label_asked(config, digit=7)).numpy()
    np.testing.assert_array_equal(sevens[:, : config.latent_dim], inputs[:, : config.latent_dim])  # Same styles.
    np.testing.assert_array_equal(sevens[:, config.latent_dim :], np.eye(10)[[7] * 12])
    # The label changes the drawing: the same z drawn as 0..9 and as 7s gives other pixels, except where the digit was a 7.
    in_turn = generate.sample(config, generator, 12, seed=3, out=tmp_path / "in_turn.npy")
    only_sevens = generate.sample(config, generator, 12, seed=3, out=tmp_path / "sevens.npy", label=7)
    assert np.array_equal(in_turn[7], only_sevens[7]) and not np.array_equal(in_turn[0], only_sevens[0])


def test_an_unconditional_run_refuses_a_digit(tmp_path):
    config = dataclasses.replace(config_lib.PRESETS["tiny"], conditional="off")
    with pytest.raises(errors.UserError, match="--conditional off.*drop --digit and --label"):
        generate.label_asked(config, digit=3)
    assert generate.new_inputs(config, 4, seed=0, stream=1).shape == (4, config.latent_dim)


def test_a_cluster_run_draws_each_cluster_as_often_as_the_training_digits_fill_it():
    config = dataclasses.replace(config_lib.PRESETS["tiny"], conditional="off", clusters=4)
    shares = np.array([0.5, 0.25, 0.125, 0.125], np.float32)
    assert generate.labels_to_draw(8, 4, shares).tolist() == [0, 0, 0, 0, 1, 1, 2, 3]
    counts = np.bincount(generate.labels_to_draw(1000, 4, np.array([0.1, 0.2, 0.3, 0.4], np.float32)))
    assert counts.tolist() == [100, 200, 300, 400]
    inputs = generate.new_inputs(config, 8, seed=0, stream=1, label_shares=shares).numpy()
    np.testing.assert_array_equal(inputs[:, config.latent_dim :], np.eye(4)[[0, 0, 0, 0, 1, 1, 2, 3]])
    # Without clusters: the digits in turn (conditional), or no labels at all.
    assert generate.labels_to_draw(12, 10).tolist() == [*range(10), 0, 1]
    assert generate.labels_to_draw(3, 0).tolist() == [0, 0, 0]
    assert generate.new_inputs(dataclasses.replace(config, clusters=0), 3, 0, 1).shape == (3, config.latent_dim)


def test_png_grid(trained_run, tmp_path):
    config, generator, _, _ = generate.restore_models(trained_run)
    generate.sample(config, generator, 4, seed=0, out=tmp_path / "grid.png", label=1)  # One digit: a square grid.
    assert PIL.Image.open(tmp_path / "grid.png").size == (2 * 30 * 2 + 4, 2 * 30 * 2 + 4)
    generate.sample(config, generator, 25, seed=0, out=tmp_path / "columns.png")  # All digits: one column each.
    assert PIL.Image.open(tmp_path / "columns.png").size == (10 * 30 * 2 + 4, 3 * 30 * 2 + 4)


def test_sample_refuses_other_extensions(trained_run, tmp_path):
    config, generator, _, _ = generate.restore_models(trained_run)
    with pytest.raises(errors.UserError, match=".png or .npy"):
        generate.sample(config, generator, 4, seed=0, out=tmp_path / "digits.jpg")


def test_named_checkpoint_and_unknown_name(trained_run):
    generate.restore_models(trained_run, "ckpt-3")
    with pytest.raises(errors.UserError, match="no checkpoint named ckpt-99.*ckpt-3"):
        generate.restore_models(trained_run, "ckpt-99")


def test_reconstruct_and_interpolate_write_their_pictures(trained_run, tmp_path):
    config, generator, encoder, _ = generate.restore_models(trained_run)
    test_digits = synthetic_images(12, seed=5)
    error = generate.reconstruct(config, generator, encoder, test_digits, num=12, seed=0, out=tmp_path / "r.png")
    # The mean squared error of G(E(x)) against x, by hand from the same models and digits.
    real = data.to_unit_range(generate.pick(test_digits, 12, seed=0))
    redrawn = generator(models.generator_inputs(config, *generate.encode(config, encoder, real)), training=False)
    assert error == pytest.approx(float(np.mean(np.square(redrawn.numpy() - real.numpy()))), rel=1e-6)
    assert PIL.Image.open(tmp_path / "r.png").size[1] == (4 * 30 + 2) * 2  # 2 groups of real + redrawn rows.
    assert generate.interpolate(config, generator, encoder, test_digits, seed=0, steps=5, out=tmp_path / "i.gif") == 8


def test_slerp_ends_at_its_endpoints_and_keeps_the_norm():
    start, end = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = generate.slerp(start, end, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(path[0], start, atol=1e-6)
    np.testing.assert_allclose(path[-1], end, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)


def test_a_morph_blends_the_one_hots_of_its_two_labels():
    weights = generate.blended_labels(3, 0, 2, [0.0, 0.25, 1.0])
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, [[1.0, 0.0, 0.0], [0.75, 0.0, 0.25], [0.0, 0.0, 1.0]])


def test_a_class_is_asked_for_by_name_or_index_and_an_unknown_one_is_refused():
    config = dataclasses.replace(config_lib.PRESETS["tiny"], class_names=("cat", "dog", "ship"), channels=3)
    assert generate.label_asked(config) is None
    assert generate.label_asked(config, name="dog") == 1 and generate.label_asked(config, name="2") == 2
    with pytest.raises(errors.UserError, match="no class 'horse': its classes are cat, dog, ship"):
        generate.label_asked(config, name="horse")
    with pytest.raises(errors.UserError, match="no class '3'"):
        generate.label_asked(config, name="3")
    digits = config_lib.PRESETS["tiny"]  # Digits: --digit 7 and --label 7 both name the 7.
    assert generate.label_asked(digits, digit=7) == generate.label_asked(digits, name="7") == 7
    assert generate.asked_labels(config, 5).tolist() == [0, 1, 2, 0, 1]

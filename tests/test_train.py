"""Training: frames and checkpoints appear, the step traces once, and a resumed run continues exactly."""

import csv
import dataclasses

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import generate
from gan_tf import images
from gan_tf import mnist
from gan_tf import models
from gan_tf import train
from gan_tf.runtime import checkpoints
from gan_tf.runtime import compiled
from gan_tf.runtime import summaries
from tests.conftest import synthetic_digits
from tests.conftest import train_quietly


def run(config, digits, root, **kwargs):
    return train_quietly(config, digits, root / "checkpoints", root / "outputs", **kwargs)


def assert_same_checkpoint(checkpoint_dir, expected_dir):
    """Every tensor of the latest checkpoint in checkpoint_dir equals the one in expected_dir, bitwise."""
    found, expected = tf.train.load_checkpoint(str(checkpoint_dir)), tf.train.load_checkpoint(str(expected_dir))
    names = sorted(expected.get_variable_to_shape_map())
    assert sorted(found.get_variable_to_shape_map()) == names
    values = [name for name in names if name != "_CHECKPOINTABLE_OBJECT_GRAPH"]  # The rest is metadata.
    different = [name for name in values if not np.array_equal(found.get_tensor(name), expected.get_tensor(name))]
    assert different == []


def assert_same_weights(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_a_short_run_writes_frames_gif_checkpoint_and_config_and_traces_the_step_twice(
    tiny_config, tmp_path, monkeypatch
):
    made = []
    original = compiled.compile_train_step
    monkeypatch.setattr(compiled, "compile_train_step", lambda *args: made.append(original(*args)) or made[-1])
    config = dataclasses.replace(tiny_config, epochs=2)
    state = run(config, synthetic_digits(40), tmp_path)
    assert int(state.epoch) == 2 and int(state.step) == 6  # 3 batches (16, 16, 8) per epoch.
    assert made[0].tracing_count() == 2  # Once for the full batches, once for the short one, in the whole run.
    frames = images.frame_paths(tmp_path / "outputs" / "frames")
    assert [path.name for path in frames] == ["epoch_0001.png", "epoch_0002.png"]
    assert (tmp_path / "outputs" / "training.gif").is_file()
    assert config_lib.load(tmp_path / "checkpoints") == config
    assert checkpoints.checkpoint_path(tmp_path / "checkpoints").endswith("ckpt-6")


def test_resume_continues_the_epoch_count_with_the_saved_weights(copy_of_tiny_run, digits, tmp_path):
    config = copy_of_tiny_run  # 2 epochs, saved as ckpt-6.
    _, saved_generator, _, _ = generate.restore_models(tmp_path / "checkpoints")
    log = []
    second = train_quietly(config, digits, tmp_path / "checkpoints", tmp_path / "outputs", log=log.append)
    assert int(second.epoch) == 2
    assert_same_weights(
        [variable.numpy() for variable in second.networks["generator"].weights],
        [variable.numpy() for variable in saved_generator.weights],
    )  # Nothing left to train: as restored.
    assert any("resumed" in line and "epoch 2, step 6" in line for line in log)
    assert any("already trained for 2 epochs" in line for line in log)
    third = run(dataclasses.replace(config, epochs=3), digits, tmp_path)
    assert int(third.epoch) == 3 and int(third.step) == 9


@pytest.mark.slow  # Two traces of a step with every GAN-lab flag that draws random numbers.
def test_one_plus_one_epochs_equal_two_epochs(tiny_config, digits, tmp_path):
    # With dropout in D: its masks come from Keras's seed generators, whose state the checkpoint keeps.
    # And with the GAN-lab flags that draw random numbers in the step or update D more than once:
    # WGAN-GP's interpolation weights and critic steps, spectral norm's power iteration, augmentation.
    # Batches of 24 split the 48 digits evenly: one batch shape, so one trace a run.
    config = dataclasses.replace(
        tiny_config,
        discriminator_dropout=0.3,
        loss="wasserstein-gp",
        critic_steps=2,
        spectral_norm="on",
        augment="on",
        batch_size=24,
    )
    straight = run(dataclasses.replace(config, epochs=2), digits, tmp_path / "straight")
    run(config, digits, tmp_path / "resumed")
    resumed = run(dataclasses.replace(config, epochs=2), digits, tmp_path / "resumed")
    assert int(resumed.step) == int(straight.step)
    assert_same_checkpoint(tmp_path / "resumed" / "checkpoints", tmp_path / "straight" / "checkpoints")
    assert len(images.frame_paths(tmp_path / "resumed" / "outputs" / "frames")) == 2


def test_ctrl_c_saves_the_step_it_stopped_at_and_resume_finishes_the_epoch(
    tiny_config, tiny_run, digits, tmp_path, monkeypatch
):
    real_save_png = images.save_png

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(images, "save_png", interrupted)  # Ctrl-C right after the epoch's last step.
    with pytest.raises(KeyboardInterrupt):
        run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path / "interrupted")
    assert checkpoints.checkpoint_path(tmp_path / "interrupted" / "checkpoints").endswith("ckpt-3")

    monkeypatch.setattr(images, "save_png", real_save_png)
    resumed = run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path / "interrupted")
    assert int(resumed.step) == 6
    # The shared tiny run is the same config, trained straight through: every saved tensor is the same.
    assert_same_checkpoint(tmp_path / "interrupted" / "checkpoints", tiny_run[1] / "checkpoints")


def test_fresh_starts_over(copy_of_tiny_run, tiny_config, digits, tmp_path):
    state = run(tiny_config, digits, tmp_path, fresh=True)  # Over the 2 epochs of the copy.
    assert int(state.epoch) == 1 and int(state.step) == 3
    assert len(images.frame_paths(tmp_path / "outputs" / "frames")) == 1


def test_frames_use_the_generator_in_inference_mode(tiny_config):
    state = train.build_state(tiny_config)
    inputs = train.frame_inputs(tiny_config)
    first = generate.draw(state.networks["generator"], inputs)
    assert np.array_equal(first, generate.draw(state.networks["generator"], inputs))
    assert np.array_equal(first[:1], generate.draw(state.networks["generator"], inputs[:1]))  # Batch-independent.


def test_a_conditional_frame_has_one_style_per_row_and_one_digit_per_column(tiny_config):
    config = dataclasses.replace(tiny_config, frame_grid=10)
    inputs = train.frame_inputs(config).numpy().reshape(10, 10, config.latent_dim + 10)
    styles, digits = inputs[..., : config.latent_dim], inputs[..., config.latent_dim :]
    assert all(np.array_equal(row[0], row[column]) for row in styles for column in range(10))
    assert not np.array_equal(styles[0, 0], styles[1, 0])
    np.testing.assert_array_equal(digits.argmax(axis=-1), np.tile(np.arange(10), (10, 1)))
    unconditional = dataclasses.replace(config, conditional="off")
    assert train.frame_inputs(unconditional).shape == (100, config.latent_dim)


@pytest.mark.slow
def test_evaluations_go_to_metrics_csv_and_tensorboard(tiny_config, digits, tmp_path):
    calls = []

    def evaluation(state):
        calls.append(int(state.step))
        return {"score": 5.0, "frechet_distance": 12.5, "asked_class_share": 0.8, "reconstruction_error": 0.1}

    config = dataclasses.replace(tiny_config, epochs=2, eval_every=2)
    run(config, digits, tmp_path, evaluation=evaluation)
    assert calls == [6]  # After every second epoch (3 steps each): the second only.
    rows = list(csv.DictReader((tmp_path / "outputs" / "logs" / summaries.CSV_FILENAME).open()))
    assert [(row["epoch"], row["step"], row["score"]) for row in rows] == [("2", "6", "5")]
    assert list(rows[0]) == ["epoch", "step", "score", "frechet_distance", "asked_class_share", "reconstruction_error"]
    assert list((tmp_path / "outputs" / "logs").glob("events.out.tfevents.*"))
    run(dataclasses.replace(config, epochs=1), digits, tmp_path, fresh=True, evaluation=None)
    assert not (tmp_path / "outputs" / "logs" / summaries.CSV_FILENAME).exists()  # --fresh clears the old run's rows.


@pytest.mark.parametrize(
    "changes, losses",
    [
        ({"conditional": "off"}, ["discriminator", "encoder", "generator"]),
        ({"encoder": "off"}, ["discriminator", "generator"]),
    ],
)
def test_one_tiny_epoch_of_each_mode(tiny_config, digits, tmp_path, changes, losses):
    log = []
    state = train_quietly(
        dataclasses.replace(tiny_config, **changes),
        digits,
        tmp_path / "checkpoints",
        tmp_path / "outputs",
        log=log.append,
    )
    assert int(state.step) == 3 and sorted(state.epoch_loss_sums) == losses
    epoch_line = next(line for line in log if line.startswith("epoch 1/1"))
    assert all(f"{name} " in epoch_line for name in losses)
    assert ("encoder" in epoch_line) == ("encoder" in losses)
    # The run restores as it was saved: the generator draws the frame of its last epoch again.
    config, generator, encoder, _ = generate.restore_models(tmp_path / "checkpoints")
    assert config == dataclasses.replace(tiny_config, **changes) and (encoder is None) == (
        changes.get("encoder") == "off"
    )
    frame = images.grid(generate.draw(generator, train.frame_inputs(config)), config.frame_grid)
    assert np.array_equal(
        images.displayable(images.enlarge(frame)),
        np.asarray(PIL.Image.open(tmp_path / "outputs" / "frames" / "epoch_0001.png")),
    )


def test_one_tiny_epoch_of_the_tutorial_preset(digits, tmp_path):
    """TensorFlow's tutorial networks (its batch of 256 made 32: the 48 digits are a full batch and a short one)."""
    config = dataclasses.replace(config_lib.PRESETS["tutorial"], epochs=1, frame_grid=2, batch_size=32)
    state = run(config, digits, tmp_path)
    assert (
        int(state.step) == 2
        and int(state.epoch) == 1
        and sorted(state.epoch_loss_sums) == ["discriminator", "generator"]
    )
    assert (
        state.networks["generator"].count_params() == 2_330_944
    )  # The tutorial's generator (tests/test_bench.py counts it by hand).
    assert config_lib.load(tmp_path / "checkpoints") == config


@pytest.mark.slow
def test_the_generator_learns_the_data(tmp_path):
    """On digits that are all one bright bar in the same place, G's samples move toward that picture."""
    bars = np.zeros((320, 28, 28, 1), np.uint8)
    bars[:, 10:18, 6:22] = 255
    digits = data.Pictures(bars, np.zeros(320, np.int32), mnist.DIGIT_NAMES, "bars")
    # 200 steps of the tiny networks, with learning rates high enough to get somewhere in them.
    config = dataclasses.replace(
        config_lib.PRESETS["tiny"],
        conditional="off",
        encoder="off",
        epochs=10,
        batch_size=16,
        generator_learning_rate=2e-3,
        discriminator_learning_rate=2e-3,
        frame_grid=2,
    )
    target = data.to_unit_range(bars[:1]).numpy()[0]
    inputs = tf.random.stateless_normal((64, config.latent_dim), seed=(1, 2))

    def distance_to_the_bar(generator):
        return float(np.mean(np.square(generator(inputs, training=False).numpy() - target)))

    before = distance_to_the_bar(train.build_state(config).networks["generator"])  # The weights the run starts from.
    after = distance_to_the_bar(run(config, digits, tmp_path).networks["generator"])
    assert after < 0.2 * before, (before, after)  # Measured: from 1.01 to 0.014.


# Resumed and compared bitwise with a straight run, then drawn from as a restored run: with
# test_one_plus_one_epochs_equal_two_epochs, every GAN-lab flag. Batches of 24 split the 48 digits
# evenly: one batch shape, one trace a run.
LAB_COMBINATIONS = [
    {
        "loss": "least-squares",
        "label_smoothing": 0.1,
        "architecture": "mlp",
        "conditional": "off",
        "clusters": 4,
        "feature_matching": 0.5,
        "generator_average": 0.9,
        "batch_size": 24,
    },
]


@pytest.mark.slow
@pytest.mark.parametrize("changes", LAB_COMBINATIONS)
def test_gan_lab_runs_resume_bitwise_and_draw_as_they_trained(tiny_config, digits, tmp_path, changes):
    config = dataclasses.replace(tiny_config, **changes).validate()
    run(dataclasses.replace(config, epochs=2), digits, tmp_path / "straight")
    run(config, digits, tmp_path / "resumed")
    resumed = run(dataclasses.replace(config, epochs=2), digits, tmp_path / "resumed")
    assert int(resumed.step) == 4
    assert_same_checkpoint(tmp_path / "resumed" / "checkpoints", tmp_path / "straight" / "checkpoints")
    # The restored run draws its last frame again, and samples like any run.
    restored_config, generator, encoder, label_shares = generate.restore_models(tmp_path / "resumed" / "checkpoints")
    assert restored_config == dataclasses.replace(config, epochs=2)
    assert np.array_equal(label_shares, train.label_shares(resumed))
    frame = images.grid(generate.draw(generator, train.frame_inputs(config, label_shares)), config.frame_grid)
    assert np.array_equal(
        images.displayable(images.enlarge(frame)),
        np.asarray(PIL.Image.open(tmp_path / "resumed" / "outputs" / "frames" / "epoch_0002.png")),
    )
    digits_drawn = generate.sample(
        restored_config, generator, 6, seed=1, out=tmp_path / "six.npy", label_shares=label_shares
    )
    assert digits_drawn.shape == (6, 28, 28, 1)
    # The error reconstruct reports is the mean of (G(E(x)) - x)^2 over the 4 digits it picked, computed here by hand.
    error = generate.reconstruct(restored_config, generator, encoder, digits.images, 4, 0, tmp_path / "r.png")
    real = data.to_unit_range(generate.pick(digits.images, 4, 0))
    redrawn = generator(
        models.generator_inputs(restored_config, *generate.encode(restored_config, encoder, real)), training=False
    ).numpy()
    assert error == pytest.approx(float(np.mean((redrawn.astype(np.float64) - real.numpy()) ** 2)), rel=1e-5)


def test_the_quality_line_leaves_out_what_a_run_has_not():
    nan = float("nan")
    digits = {"score": 9.1, "frechet_distance": 2.345, "min_class_share": 0.09, "max_class_share": 0.11,
              "asked_class_share": 0.99, "latent_nearest_neighbour_accuracy": 0.93}  # fmt: skip
    assert train.describe_figures(digits) == (
        "MNIST score 9.100  Frechet distance 2.35  class shares 0.090-0.110  asked digit 0.990  "
        "encoder latent 1-NN 0.9300"
    )
    cats = train.describe_figures(digits, mnist.OTHER_PICTURES)  # Pictures other than digits, in their words.
    assert cats.startswith("judge's score 9.100") and "asked class 0.990" in cats
    unlabelled = dict.fromkeys(digits, nan) | {"frechet_distance": 12.3}  # A flat folder: rotations' judge.
    assert train.describe_figures(unlabelled) == "Frechet distance 12.30"

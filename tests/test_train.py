"""Training: frames and checkpoints appear, the step traces once, and a resumed run continues exactly."""

import csv
import dataclasses

import numpy as np
import pytest

from gan_tf import checkpoints
from gan_tf import config as config_lib
from gan_tf import generate
from gan_tf import images
from gan_tf import summaries
from gan_tf import train


def run(config, digits, root, **kwargs):
    return train.train(config, digits, root / "checkpoints", root / "outputs", log=lambda line: None,
                       progress=False, **kwargs)


def weights(state):
    return [variable.numpy() for model in (state.generator, state.discriminator, state.encoder)
            for variable in model.weights]


def assert_same_weights(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_short_run_writes_frames_gif_checkpoint_and_config(tiny_config, digits, tmp_path):
    config = dataclasses.replace(tiny_config, epochs=2)
    state = run(config, digits, tmp_path)
    assert int(state.epoch) == 2 and int(state.step) == 6  # 3 batches (16, 16, 8) per epoch.
    frames = images.frame_paths(tmp_path / "outputs" / "frames")
    assert [path.name for path in frames] == ["epoch_0001.png", "epoch_0002.png"]
    assert (tmp_path / "outputs" / "training.gif").is_file()
    assert config_lib.load(tmp_path / "checkpoints") == config
    assert checkpoints.checkpoint_path(tmp_path / "checkpoints").endswith("ckpt-6")


def test_train_step_traces_once_for_the_full_batches_and_once_for_the_short_one(tiny_config, digits, tmp_path,
                                                                                monkeypatch):
    made = []
    original = train.make_multi_step
    monkeypatch.setattr(train, "make_multi_step", lambda *args: made.append(original(*args)) or made[-1])
    run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path)  # 2 epochs of 16 + 16 + 8 digits.
    assert made[0].experimental_get_tracing_count() == 2


def test_resume_continues_the_epoch_count_with_the_saved_weights(tiny_config, digits, tmp_path):
    first = run(tiny_config, digits, tmp_path)
    saved = weights(first)
    log = []
    second = train.train(tiny_config, digits, tmp_path / "checkpoints", tmp_path / "outputs", log=log.append,
                         progress=False)
    assert int(second.epoch) == 1
    assert_same_weights(weights(second), saved)  # Nothing left to train: the restored weights, unchanged.
    assert any("resumed" in line and "epoch 1, step 3" in line for line in log)
    third = run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path)
    assert int(third.epoch) == 2 and int(third.step) == 6


def test_one_plus_one_epochs_equal_two_epochs(tiny_config, digits, tmp_path):
    # With dropout in D: its masks come from Keras's seed generators, whose state the checkpoint keeps.
    config = dataclasses.replace(tiny_config, discriminator_dropout=0.3)
    straight = run(dataclasses.replace(config, epochs=2), digits, tmp_path / "straight")
    run(config, digits, tmp_path / "resumed")
    resumed = run(dataclasses.replace(config, epochs=2), digits, tmp_path / "resumed")
    assert int(resumed.step) == int(straight.step)
    assert_same_weights(weights(resumed), weights(straight))
    assert len(images.frame_paths(tmp_path / "resumed" / "outputs" / "frames")) == 2


def test_ctrl_c_saves_the_step_it_stopped_at_and_resume_finishes_the_epoch(tiny_config, digits, tmp_path, monkeypatch):
    real_save_png = images.save_png

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(images, "save_png", interrupted)  # Ctrl-C right after the epoch's last step.
    with pytest.raises(KeyboardInterrupt):
        run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path / "interrupted")
    assert checkpoints.checkpoint_path(tmp_path / "interrupted" / "checkpoints").endswith("ckpt-3")

    monkeypatch.setattr(images, "save_png", real_save_png)
    resumed = run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path / "interrupted")
    straight = run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path / "straight")
    assert int(resumed.step) == int(straight.step) == 6
    assert_same_weights(weights(resumed), weights(straight))


def test_fresh_starts_over(tiny_config, digits, tmp_path):
    run(dataclasses.replace(tiny_config, epochs=2), digits, tmp_path)
    state = run(tiny_config, digits, tmp_path, fresh=True)
    assert int(state.epoch) == 1 and int(state.step) == 3
    assert len(images.frame_paths(tmp_path / "outputs" / "frames")) == 1


def test_frames_use_the_generator_in_inference_mode(tiny_config):
    state = train.build_state(tiny_config)
    inputs = train.frame_inputs(tiny_config)
    first = generate.generate_digits(state.generator, inputs)
    assert np.array_equal(first, generate.generate_digits(state.generator, inputs))
    assert np.array_equal(first[:1], generate.generate_digits(state.generator, inputs[:1]))  # Batch-independent.


def test_a_conditional_frame_has_one_style_per_row_and_one_digit_per_column(tiny_config):
    config = dataclasses.replace(tiny_config, frame_grid=10)
    inputs = train.frame_inputs(config).numpy().reshape(10, 10, config.latent_dim + 10)
    styles, digits = inputs[..., :config.latent_dim], inputs[..., config.latent_dim:]
    assert all(np.array_equal(row[0], row[column]) for row in styles for column in range(10))
    assert not np.array_equal(styles[0, 0], styles[1, 0])
    np.testing.assert_array_equal(digits.argmax(axis=-1), np.tile(np.arange(10), (10, 1)))
    unconditional = dataclasses.replace(config, conditional="off")
    assert train.frame_inputs(unconditional).shape == (100, config.latent_dim)


def test_evaluations_go_to_metrics_csv_and_tensorboard(tiny_config, digits, tmp_path):
    calls = []

    def evaluation(state):
        calls.append(int(state.step))
        return {"mnist_score": 5.0, "frechet_distance": 12.5, "confident_share": 0.5, "asked_digit_share": 0.8, "min_class_share": 0.05,
                "max_class_share": 0.2, "nearest_neighbour_accuracy": 0.9, "reconstruction_error": 0.1}

    config = dataclasses.replace(tiny_config, epochs=4, eval_every=2)
    run(config, digits, tmp_path, evaluation=evaluation)
    assert calls == [6, 12]  # After every second epoch (3 steps each).
    rows = list(csv.DictReader((tmp_path / "outputs" / "logs" / summaries.CSV_FILENAME).open()))
    assert [(row["epoch"], row["step"], row["mnist_score"]) for row in rows] == [("2", "6", "5"), ("4", "12", "5")]
    assert list(rows[0]) == summaries.CSV_COLUMNS
    assert list((tmp_path / "outputs" / "logs").glob("events.out.tfevents.*"))
    run(config, digits, tmp_path, fresh=True, evaluation=None)
    assert not (tmp_path / "outputs" / "logs" / summaries.CSV_FILENAME).exists()  # --fresh clears the old run's rows.

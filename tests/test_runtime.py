"""runtime/ on its own: a run that is not a GAN at all, one Dense layer fitting a line, trained through the same
settings, saving, resuming, interrupting, compiled step, frames and logs as the GAN, and bitwise so."""

import ast
import dataclasses
import pathlib
import shutil
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import frames
from gan_tf.runtime import run as run_lib
from gan_tf.runtime import settings
from gan_tf.runtime import speed as speed_lib
from gan_tf.runtime import state as state_lib
from gan_tf.runtime import summaries
from tests.conftest import fingerprint

RUNTIME = pathlib.Path(__file__).resolve().parent.parent / "gan_tf" / "runtime"


@dataclasses.dataclass(frozen=True)
class LineSettings(settings.RunSettings):
    """The shared settings, and one of the regression's own."""

    learning_rate: float = settings.setting(0.05, "Adam's step size for the line.", settings.interval("(0, 1]"))


POINTS = 20  # Batches of 8: two full ones and a short one of 4 an epoch.
TRUE_WEIGHTS, TRUE_BIAS = np.array([[1.5], [-2.0], [0.5]], np.float32), 0.25


def points():
    """(x float32 (20, 3), y float32 (20, 1)) on the line y = x w + b."""
    x = np.random.default_rng(0).normal(size=(POINTS, 3)).astype(np.float32)
    return x, x @ TRUE_WEIGHTS + TRUE_BIAS


def build_state(config):
    keras.utils.set_random_seed(config.seed)
    line = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="line")
    optimizer = keras.optimizers.Adam(config.learning_rate)
    return state_lib.new_state({"line": line}, {"line": optimizer}, ["squared_error"])


def regression_step(state, x, y, average):
    """The step of a regression: the mean squared error, one gradient step."""
    line, optimizer = state.networks["line"], state.optimizers["line"]
    with tf.GradientTape() as tape:
        loss = average(tf.reduce_sum(tf.square(line(x, training=True) - y), axis=1))
    optimizer.apply_gradients(zip(tape.gradient(loss, line.trainable_variables), line.trainable_variables))
    return {"squared_error": loss}


def epoch_batches(epoch, batch_size, skip):
    """The epoch's batches in an order fixed by the epoch, the first `skip` points left out: full ones, then the rest."""
    dataset = tf.data.Dataset.from_tensor_slices(points()).shuffle(POINTS, seed=epoch, reshuffle_each_iteration=False)
    dataset = dataset.skip(skip)
    full, leftover = divmod(POINTS - skip, batch_size)
    parts = [(dataset.batch(batch_size, drop_remainder=True), full)] if full else []
    return parts + ([(dataset.skip(full * batch_size).batch(batch_size), 1)] if leftover else [])


class WeightsFrame:
    """A progress frame of text: the line's weights after an epoch."""

    suffix = ".txt"

    def __init__(self, state):
        self.text = " ".join(f"{value:.4f}" for value in state.networks["line"].get_weights()[0][:, 0])

    def write(self, path):
        pathlib.Path(path).write_text(self.text)

    def summarise(self, step):
        tf.summary.text("weights", self.text, step=step)


def write_animation(frames_dir, output_dir):
    texts = [path.read_text() for path in frames.frame_paths(frames_dir, ".txt")]
    (output_dir / "weights.txt").write_text("\n".join(texts) + "\n")
    return f"wrote {output_dir / 'weights.txt'} ({len(texts)} frames)"


def train_line(root, config, fresh=False, resume_from=None, stop=None, log=None):
    """The story's loop, for the line: a run through runtime/ alone. Returns (state, the log's lines)."""
    lines = []
    run = run_lib.TrainingRun(root / "checkpoints", root / "outputs", fresh, resume_from, log=log or lines.append)
    speed = speed_lib.resolve(config, on_gpu=False)
    build = lambda: build_state(config)  # noqa: E731
    state, train_steps = run.prepare(config, build, regression_step, speed, None, {"line": "learning_rate"}, "points")
    run.start()
    with run.saving_on_interrupt():
        for epoch in run.epochs_to_train():
            batches = epoch_batches(epoch, config.batch_size, int(state.epoch_examples.numpy()))
            if not run.train_epoch(train_steps, batches, speed.steps_per_call, stop=stop):
                break
            error = float(state.epoch_loss_sums["squared_error"].numpy())
            run.end_epoch(epoch, WeightsFrame(state), figures={"summed_error": error})
    run.finish(write_animation)
    return state, lines


def saved(root):
    """Every saved value of the latest checkpoint by name, but the count of saves (an interrupted run saved once more)."""
    reader = tf.train.load_checkpoint(str(root / "checkpoints"))
    left_out = ("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE")
    names = [name for name in reader.get_variable_to_shape_map() if name not in left_out]
    return {name: reader.get_tensor(name) for name in names}


def checkpoint_files(root):
    return {name: digest for name, digest in fingerprint(root / "checkpoints").items() if name != "config.json"}


def assert_bitwise_equal(found, expected):
    assert sorted(found) == sorted(expected)
    assert [name for name in expected if not np.array_equal(found[name], expected[name])] == []


CONFIG = LineSettings(epochs=3, batch_size=8, checkpoint_every_seconds=0.0)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """Three epochs of the line, uninterrupted: (root, state, log)."""
    root = tmp_path_factory.mktemp("straight")
    state, lines = train_line(root, CONFIG)
    return root, state, lines


def test_runtime_imports_nothing_of_the_story():
    for path in RUNTIME.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        imported += [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert [name for name in imported if name.startswith("gan_tf") and not name.startswith("gan_tf.runtime")] == []


def test_a_line_learns_and_leaves_checkpoints_frames_logs_and_its_settings(straight):
    root, state, lines = straight
    assert int(state.epoch) == 3 and int(state.step) == 9  # Three steps an epoch: 8, 8 and 4 points.
    weights, bias = state.networks["line"].get_weights()
    assert np.abs(weights - TRUE_WEIGHTS).max() < np.abs(TRUE_WEIGHTS).max()  # Moving towards the line.
    assert checkpoints.saved_names(root / "checkpoints") == ["ckpt-3", "ckpt-6", "ckpt-9"]
    assert settings.read(settings.settings_path(root / "checkpoints")) == dataclasses.asdict(CONFIG)
    assert [path.name for path in frames.frame_paths(root / "outputs" / "frames")] == [
        "epoch_0001.txt",
        "epoch_0002.txt",
        "epoch_0003.txt",
    ]
    assert (root / "outputs" / "weights.txt").read_text().count("\n") == 3
    rows = summaries.read_csv(root / "outputs" / "logs" / summaries.CSV_FILENAME)
    assert [(row["epoch"], row["step"]) for row in rows] == [("1", "3"), ("2", "6"), ("3", "9")]
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert (
        len(epoch_lines) == 3
        and epoch_lines[0].startswith("epoch 1/3  squared_error ")
        and "points/s" in epoch_lines[0]
    )
    assert lines[-1] == f"wrote {root / 'outputs' / 'weights.txt'} (3 frames); checkpoints in {root / 'checkpoints'}"


def test_one_epoch_then_two_more_end_bitwise_where_three_do(straight, tmp_path):
    train_line(tmp_path, dataclasses.replace(CONFIG, epochs=1))
    state, lines = train_line(tmp_path, CONFIG)
    assert any("resumed" in line and "epoch 1, step 3" in line for line in lines)
    assert_bitwise_equal(saved(tmp_path), saved(straight[0]))
    assert (tmp_path / "outputs" / "weights.txt").read_text() == (straight[0] / "outputs" / "weights.txt").read_text()


def test_ctrl_c_mid_epoch_saves_the_step_and_the_resumed_run_ends_bitwise_as_the_straight_one(straight, tmp_path):
    def interrupt(state):
        if int(state.step) == 4:  # The first step of the second epoch.
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_line(tmp_path, CONFIG, stop=interrupt)
    assert checkpoints.saved_names(tmp_path / "checkpoints")[-1] == "ckpt-4"
    state, lines = train_line(tmp_path, CONFIG)
    assert any("resumed" in line and "epoch 1, step 4" in line for line in lines)
    assert_bitwise_equal(saved(tmp_path), saved(straight[0]))
    mean_line = next(line for line in lines if line.startswith("epoch 2/3"))
    straight_line = next(line for line in straight[2] if line.startswith("epoch 2/3"))
    assert mean_line.split("  ")[1] == straight_line.split("  ")[1]  # The mean loss covers the whole epoch.


def test_a_stop_saves_where_it_stopped_and_a_lower_learning_rate_wins_on_resume(tmp_path):
    state, _ = train_line(tmp_path, CONFIG, stop=lambda state: int(state.step) >= 2)
    assert int(state.step) == 2 and checkpoints.saved_names(tmp_path / "checkpoints") == ["ckpt-2"]
    state, _ = train_line(tmp_path, dataclasses.replace(CONFIG, learning_rate=0.001))
    assert float(state.optimizers["line"].learning_rate.numpy()) == pytest.approx(0.001)
    assert int(state.step) == 9


def test_a_loss_that_is_not_finite_stops_the_run_before_anything_saves_it(tmp_path, monkeypatch):
    train_line(tmp_path, dataclasses.replace(CONFIG, epochs=1))
    before = checkpoint_files(tmp_path)
    x, y = points()
    monkeypatch.setattr(sys.modules[__name__], "points", lambda: (x * 1e20, y * 1e20))  # Squares beyond float32.
    with pytest.raises(errors.UserError, match=r"training diverged at step 4: the squared_error loss became inf"):
        train_line(tmp_path, CONFIG)
    assert checkpoint_files(tmp_path) == before  # config.json records the settings asked for; nothing else changed.


def test_several_steps_a_call_count_the_steps_examples_and_losses_of_each(tmp_path):
    config = dataclasses.replace(CONFIG, epochs=1, steps_per_call=2)
    state, _ = train_line(tmp_path, config)
    assert int(state.step) == 3 and int(state.epoch) == 1  # A call of two steps, then the short batch alone.
    assert int(state.epoch_examples) == 0  # Zeroed when the epoch is counted.


def test_settings_are_checked_from_the_marks_beside_their_fields():
    with pytest.raises(errors.UserError, match=r"--learning-rate must be a number in \(0, 1\], got 2.0"):
        dataclasses.replace(CONFIG, learning_rate=2.0).validate()
    with pytest.raises(errors.UserError, match="nothing would be saved"):
        LineSettings(checkpoint_every_epochs=0, checkpoint_every_seconds=0.0).validate()
    assert settings.architecture_fields(LineSettings) == []
    assert [field.name for field in settings.flag_fields(LineSettings)][-1] == "learning_rate"


def test_a_fresh_run_removes_the_old_one_and_only_its_files(straight, tmp_path):
    root = tmp_path
    train_line(root, dataclasses.replace(CONFIG, epochs=2))
    (root / "checkpoints" / "notes.txt").write_text("mine")
    state, _ = train_line(root, dataclasses.replace(CONFIG, epochs=1), fresh=True)
    assert int(state.step) == 3 and checkpoints.saved_names(root / "checkpoints") == ["ckpt-3"]
    assert (root / "checkpoints" / "notes.txt").read_text() == "mine"
    assert [path.name for path in frames.frame_paths(root / "outputs" / "frames")] == ["epoch_0001.txt"]


def test_the_metrics_csv_keeps_every_figure_name_in_the_order_first_seen(tmp_path):
    path = tmp_path / summaries.CSV_FILENAME
    summaries.write_csv(path, [{"epoch": 1, "step": 3, "score": "1"}, {"epoch": 2, "step": 6, "distance": "2"}])
    assert summaries.read_csv(path) == [
        {"epoch": "1", "step": "3", "score": "1", "distance": ""},
        {"epoch": "2", "step": "6", "score": "", "distance": "2"},
    ]


def test_checkpoints_say_what_is_wrong_with_a_run_and_leave_it_as_it_was(straight, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(straight[0] / "checkpoints", root)
    assert checkpoints.latest(root).endswith("ckpt-9") and checkpoints.checkpoint_path(root, "ckpt-6").endswith(
        "ckpt-6"
    )
    with pytest.raises(
        errors.UserError, match="no checkpoint named ckpt-7 .* the saved ones are: ckpt-3, ckpt-6, ckpt-9"
    ):
        checkpoints.checkpoint_path(root, "ckpt-7")
    checkpoints.require_run(root)
    for missing, message in [(tmp_path / "nowhere", "does not exist"), (root / "checkpoint", "is a file")]:
        with pytest.raises(errors.UserError, match=message):
            checkpoints.require_run(missing)

    # Weights of other shapes: a line of four inputs.
    wider = tf.train.Checkpoint(line=keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]))
    before = fingerprint(root)
    with pytest.raises(errors.UserError, match="other shapes.*--checkpoint ckpt-6 to use one"):
        checkpoints.restore(wider, checkpoints.latest(root), partial=True)
    # A data file cut short.
    data_file = next(root.glob("ckpt-9.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:10])
    with pytest.raises(errors.UserError, match="damaged"):
        checkpoints.restore(
            tf.train.Checkpoint(line=build_state(CONFIG).networks["line"]), checkpoints.latest(root), True
        )
    # An index naming files that are gone.
    for path in root.glob("ckpt-9.*"):
        path.unlink()
    with pytest.raises(errors.UserError, match="names ckpt-9, but its files are missing"):
        checkpoints.latest(root)
    assert {name for name in fingerprint(root)} <= set(before)  # Only what this test removed is gone.

    checkpoints.remove_run(root)  # --fresh: the run's own files only.
    assert list(root.iterdir()) == []

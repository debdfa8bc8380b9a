"""kill -9 at the worst moments, then `train` again: the run ends exactly as if nothing had happened.

A run is killed with SIGKILL at one point after another (tests/killable_train.py), each restart is
checked to restore the checkpoint before the kill, and the end of the run is compared with one
uninterrupted run of the same seed: every saved variable (weights, Adam's moments, BatchNorm
statistics, counters) bitwise, every frame and the GIF byte for byte, and TensorBoard's losses per
epoch exactly, each epoch logged once.

The run: the tiny preset on 160 synthetic digits, batch 16, so 10 steps an epoch and 30 in all;
a checkpoint every 4 steps and after each epoch: ckpt-4, 8, 10, 12, 16, 20, 24, 28, 30.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import images
from tests.conftest import saved_variables
from tests.conftest import write_mnist_npz

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN_FLAGS = [
    "--preset",
    "tiny",
    "--epochs",
    "3",
    "--checkpoint-every-steps",
    "4",
    "--checkpoint-every-seconds",
    "0",
    "--keep-checkpoints",
    "20",
    "--no-progress",
]


def train(root, when="none"):
    """Runs tests/killable_train.py WHEN in `root` and returns the CompletedProcess."""
    environment = dict(os.environ)
    environment.pop("GAN_TF_MNIST", None)
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # The command line's own default.
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "killable_train.py"),
            when,
            *RUN_FLAGS,
            "--data",
            str(root / "mnist.npz"),
            "--checkpoint-dir",
            str(root / "checkpoints"),
            "--output-dir",
            str(root / "outputs"),
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env=environment,
        timeout=300,
    )


def new_run_directory(tmp_path_factory, name):
    root = tmp_path_factory.mktemp(name)
    write_mnist_npz(root / "mnist.npz", train_count=160)
    return root


def logged_losses(logs_dir):
    """[(tag, epoch, value)] of every loss TensorBoard was given, in file order."""
    found = []
    for path in sorted(pathlib.Path(logs_dir).glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.tag.startswith("loss/"):
                    found.append((value.tag, event.step, tf.make_ndarray(value.tensor).item()))
    return sorted(found)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = new_run_directory(tmp_path_factory, "uninterrupted")
    result = train(root)
    assert result.returncode == 0, result.stderr
    # A whole run writes nothing to stderr: no TensorFlow start-up notice, no Grappler error.
    assert result.stderr == ""
    return root


def assert_same_end(root, uninterrupted):
    assert (root / "checkpoints" / "checkpoint").read_text() != ""
    expected, found = saved_variables(uninterrupted / "checkpoints"), saved_variables(root / "checkpoints")
    assert sorted(found) == sorted(expected)
    different = [name for name in expected if not np.array_equal(found[name], expected[name])]
    assert different == [], different  # Bitwise: the same computation in the same order on the CPU.
    frames = images.frame_paths(root / "outputs" / "frames")
    assert [path.name for path in frames] == ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
    for path in frames + [root / "outputs" / "training.gif"]:
        reference = uninterrupted / path.relative_to(root)
        assert path.read_bytes() == reference.read_bytes(), path.name
    assert len(images.frame_paths(root / "outputs" / "frames")) == 3
    # One value per loss and epoch, equal to the uninterrupted run's.
    assert logged_losses(root / "outputs" / "logs") == logged_losses(uninterrupted / "outputs" / "logs")
    assert len(logged_losses(root / "outputs" / "logs")) == 3 * 3  # generator, discriminator, encoder x 3 epochs.


def test_three_kills_each_resume_from_the_right_checkpoint_and_the_run_ends_bitwise(tmp_path_factory, uninterrupted):
    """One run killed three times, at the three worst moments, and restarted after each: every restart
    restores the checkpoint before the kill, and the run ends as the uninterrupted one."""
    root = new_run_directory(tmp_path_factory, "killed")
    kills = [
        # Inside a compiled train step: step 14 is the 4th of epoch 2, and the last save before it was ckpt-12.
        ("step:14", None),
        # ckpt-16's files were complete, but the kill came before CheckpointManager's index named them:
        # the restart ignores them and restores ckpt-12 again.
        ("index:16", "ckpt-12: epoch 1, step 12"),
        # Epoch 2's frame and TensorBoard losses were written, then the kill came in the save of ckpt-20:
        # the restart restores ckpt-16 (epoch 1), forgets epoch 2's frame and logs, and redoes them.
        ("index:20", "ckpt-12: epoch 1, step 12"),
    ]
    for when, restored in kills:
        killed = train(root, when)
        assert killed.returncode == -signal.SIGKILL, (when, killed.stderr)
        assert restored is None or restored in killed.stdout, (when, killed.stdout)
    resumed = train(root)
    assert resumed.returncode == 0, resumed.stderr
    assert "ckpt-16: epoch 1, step 16" in resumed.stdout
    assert_same_end(root, uninterrupted)


# --- A text run: kill -9 in either phase. ---

# The text run of tests/test_text_train.py (the tiny preset on its poems), saved every 3 steps.
TEXT_FLAGS = ["--preset", "tiny", "--checkpoint-every-steps", "3", "--checkpoint-every-seconds", "0",
              "--keep-checkpoints", "20", "--no-progress"]  # fmt: skip


def train_texts(root, when="none"):
    """killable_train.py WHEN on the tiny poems in root/poems: 72 training texts, 9 steps an epoch; the language
    model's 18 steps, then the GAN's 9."""
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "killable_train.py"), when, *TEXT_FLAGS, "--data", str(root / "poems"),
         "--checkpoint-dir", str(root / "checkpoints"), "--output-dir", str(root / "outputs")],
        capture_output=True, text=True, cwd=root, env=environment, timeout=300,
    )  # fmt: skip


def test_kill_in_each_phase_of_a_text_run_and_it_ends_bitwise_as_an_uninterrupted_run(tmp_path, text_run):
    uninterrupted, folder, _ = text_run  # Trained straight through, saving only after each epoch.
    root = tmp_path
    shutil.copytree(folder, root / "poems")
    # A kill in the language model's step 14 (last saved: ckpt-12), then, resumed there, in the GAN's step 7
    # (gan/ckpt-6): the language model's steps 13 to 18 never reach 7.
    assert train_texts(root, "step:14").returncode == -signal.SIGKILL
    killed_again = train_texts(root, "step:7")
    assert killed_again.returncode == -signal.SIGKILL
    assert f"resumed {root / 'checkpoints' / 'language-model' / 'ckpt-12'}" in killed_again.stdout
    resumed = train_texts(root)
    assert resumed.returncode == 0 and resumed.stderr == "", resumed.stderr  # No start-up notice, no warning.
    assert f"resumed {root / 'checkpoints' / 'gan' / 'ckpt-6'}" in resumed.stdout
    for phase in ("language-model", "gan"):
        expected = saved_variables(uninterrupted / "checkpoints" / phase)
        found = saved_variables(root / "checkpoints" / phase)
        counter = "save_counter/.ATTRIBUTES/VARIABLE_VALUE"  # The killed runs' saves count too.
        assert [name for name in expected if name != counter and not np.array_equal(found[name], expected[name])] == []
    page = (root / "outputs" / "training.md").read_text(encoding="utf-8")
    assert page == (uninterrupted / "outputs" / "training.md").read_text(encoding="utf-8")

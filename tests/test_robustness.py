"""What cannot be allowed to cost a run: NaN losses, damaged or foreign checkpoints, full disks.

Each failure must stop with one UserError line that says what happened and what to do, and leave the
checkpoint directory exactly as it was (compared file by file, byte for byte).
"""

import dataclasses
import errno

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import generate
from gan_tf import images
from gan_tf import losses
from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import run as run_lib
from gan_tf.runtime import summaries
from tests.conftest import fingerprint
from tests.conftest import train_quietly


def run(config, digits, root, **kwargs):
    return train_quietly(config, digits, root / "checkpoints", root / "outputs", **kwargs)


def checkpoint_files(directory):
    """The fingerprint of the checkpoints and their index (config.json records the settings asked for
    last, so a resumed run with another --epochs rewrites it)."""
    return {name: digest for name, digest in fingerprint(directory).items() if name.startswith(("ckpt-", "checkpoint"))}


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(copy_of_tiny_run, digits, tmp_path, monkeypatch):
    before = checkpoint_files(tmp_path / "checkpoints")
    frames_before = fingerprint(tmp_path / "outputs" / "frames")
    healthy_loss = losses.non_saturating_generator_loss
    # A planted NaN: the generator's loss of every step of the resumed run.
    monkeypatch.setattr(losses, "non_saturating_generator_loss", lambda logits: healthy_loss(logits) * np.nan)
    with pytest.raises(errors.UserError) as stopped:
        run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)
    message = str(stopped.value)
    assert "training diverged at step 7: the generator loss became nan" in message
    assert "ckpt-6 (epoch 2, step 6), is intact" in message and "Lower the learning rates" in message
    assert checkpoint_files(tmp_path / "checkpoints") == before  # Nothing saved, nothing removed.
    assert fingerprint(tmp_path / "outputs" / "frames") == frames_before
    assert checkpoints.latest(tmp_path / "checkpoints").endswith("ckpt-6")


def test_a_truncated_checkpoint_is_refused_and_an_earlier_one_can_be_used(copy_of_tiny_run, digits, tmp_path):
    directory = tmp_path / "checkpoints"
    data_file = next(directory.glob("ckpt-6.data-*"))
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    before = fingerprint(directory)
    for attempt in (
        lambda: run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path),
        lambda: generate.restore_models(directory),
    ):
        with pytest.raises(
            errors.UserError, match="ckpt-6: it is damaged \\(truncated or corrupt\\).*--checkpoint ckpt-3 to use one"
        ):
            attempt()
        assert fingerprint(directory) == before
    state = run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path, resume_from="ckpt-3")
    assert int(state.epoch) == 3 and int(state.step) == 9


def test_a_corrupt_checkpoint_is_refused(copy_of_tiny_run, digits, tmp_path):
    directory = tmp_path / "checkpoints"
    data_file = next(directory.glob("ckpt-6.data-*"))
    corrupt = bytearray(data_file.read_bytes())
    corrupt[len(corrupt) // 2] ^= 0xFF  # One flipped byte: that tensor's checksum no longer matches.
    data_file.write_bytes(bytes(corrupt))
    before = fingerprint(tmp_path)
    with pytest.raises(errors.UserError, match="ckpt-6: it is damaged"):
        run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)  # Resuming reads every tensor.
    assert fingerprint(tmp_path) == before


def test_a_checkpoint_of_another_program_is_refused(tmp_path, tiny_config):
    directory = tmp_path / "foreign"
    tf.train.CheckpointManager(tf.train.Checkpoint(weights=tf.Variable([1.0, 2.0])), str(directory), 1).save()
    before = fingerprint(directory)
    with pytest.raises(errors.UserError, match="that gan_tf did not write"):
        generate.restore_models(directory)
    assert fingerprint(directory) == before
    config_lib.save(tiny_config, directory)  # Even beside a gan_tf config.json, its contents give it away.
    before = fingerprint(directory)
    with pytest.raises(errors.UserError, match="it holds other objects than a gan_tf run"):
        generate.restore_models(directory)
    assert fingerprint(directory) == before


def test_a_checkpoint_of_another_architecture_is_refused(copy_of_tiny_run, digits, tmp_path):
    directory = tmp_path / "checkpoints"
    config_lib.save(dataclasses.replace(copy_of_tiny_run, generator_filters=16), directory)
    before = fingerprint(directory)
    with pytest.raises(errors.UserError, match="ckpt-6: it holds weights of other shapes, from another architecture"):
        generate.restore_models(directory)
    with pytest.raises(errors.UserError, match="other shapes"):
        run(dataclasses.replace(copy_of_tiny_run, generator_filters=16, epochs=3), digits, tmp_path)
    assert fingerprint(directory) == before


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda directory: (directory / "checkpoint").write_bytes(b"\x00\x01 not a checkpoint index {{"),
            "the index of the checkpoints, is damaged",
        ),
        (
            lambda directory: [path.unlink() for path in directory.glob("ckpt-6.*")],
            "names ckpt-6, but its files are missing",
        ),
    ],
)
def test_a_damaged_index_is_refused_rather_than_starting_over(copy_of_tiny_run, digits, tmp_path, damage, message):
    directory = tmp_path / "checkpoints"
    damage(directory)
    before = fingerprint(tmp_path)
    with pytest.raises(errors.UserError, match=message):
        run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)
    assert fingerprint(tmp_path) == before  # Starting over would have thrown the run away.


@pytest.mark.parametrize(
    "code, reason", [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")]
)
def test_a_full_disk_or_read_only_directory_stops_with_one_line(
    copy_of_tiny_run, digits, tmp_path, monkeypatch, code, reason
):
    # The tests run as root on CI, which writes anywhere, so the failing write is simulated: the
    # progress frame of epoch 3 raises the OSError the operating system would.
    def failing_save_png(picture, path):
        raise OSError(code, reason, str(path))

    before = checkpoint_files(tmp_path / "checkpoints")
    monkeypatch.setattr(images, "save_png", failing_save_png)
    with pytest.raises(errors.UserError) as stopped:
        run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)
    assert f"cannot write the progress frame and logs in {tmp_path / 'outputs'} ({reason}): training stopped" in str(
        stopped.value
    )
    assert "ckpt-6 (epoch 2, step 6), is intact" in str(stopped.value)
    assert checkpoint_files(tmp_path / "checkpoints") == before


def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(copy_of_tiny_run, digits, tmp_path, monkeypatch):
    def failing_save(self, checkpoint_number=None, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, "ckpt-9_temp/part-00000-of-00001; No space left on device")

    monkeypatch.setattr(tf.train.CheckpointManager, "save", failing_save)
    with pytest.raises(errors.UserError, match="cannot write a checkpoint in .*No space left on device"):
        run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)
    assert checkpoints.latest(tmp_path / "checkpoints").endswith("ckpt-6")
    monkeypatch.undo()
    state = run(dataclasses.replace(copy_of_tiny_run, epochs=3), digits, tmp_path)  # Space again: the run resumes.
    assert int(state.epoch) == 3 and int(state.step) == 9


def test_checkpoints_by_steps(tiny_config, digits, tmp_path):
    config = dataclasses.replace(
        tiny_config, epochs=2, checkpoint_every_epochs=0, checkpoint_every_steps=2, keep_checkpoints=10
    )
    run(config, digits, tmp_path)
    # Steps 2 and 4 (mid-epoch), and 6, the end of the run.
    assert checkpoints.saved_names(tmp_path / "checkpoints") == ["ckpt-2", "ckpt-4", "ckpt-6"]


def test_checkpoints_by_seconds(tiny_config, digits, tmp_path, monkeypatch):
    clock = iter(range(0, 10_000, 10))  # Each look at the clock is 10 s later.
    monkeypatch.setattr(run_lib.time, "monotonic", lambda: next(clock))
    config = dataclasses.replace(
        tiny_config, epochs=1, checkpoint_every_epochs=0, checkpoint_every_seconds=15, keep_checkpoints=10
    )
    run(config, digits, tmp_path)
    names = checkpoints.saved_names(tmp_path / "checkpoints")
    assert names[-1] == "ckpt-3" and len(names) >= 2  # Saved mid-epoch, and at the end.
    run(dataclasses.replace(config, checkpoint_every_seconds=10**5), digits, tmp_path / "patient")
    assert checkpoints.saved_names(tmp_path / "patient" / "checkpoints") == ["ckpt-3"]


def test_a_resumed_run_forgets_the_logs_of_the_epochs_it_redoes(tmp_path):
    logs = tmp_path / "logs"
    run_log = summaries.RunLog(logs)
    figures = {"score": 0.5, "frechet_distance": 2.0}
    for epoch in (1, 2, 3):
        run_log.epoch(
            epoch,
            {"generator": float(epoch)},
            {"images_per_second": 100.0},
            images.Frame(np.zeros((4, 4, 1), np.uint8)),
        )
        run_log.evaluation(epoch, 10 * epoch, figures)
    run_log.writer.close()
    event_file = next(logs.glob("events.out.tfevents.*"))
    event_file.write_bytes(event_file.read_bytes() + b"\x07\x00\x00")  # A record cut short by a kill.

    summaries.forget_after(logs, 2)
    assert [row["epoch"] for row in summaries.read_csv(logs / summaries.CSV_FILENAME)] == ["1", "2"]
    steps = [tf.compat.v1.Event.FromString(record.numpy()).step for record in tf.data.TFRecordDataset(str(event_file))]
    assert max(steps) == 2 and steps.count(1) == steps.count(2) > 0
    summaries.forget_after(logs, 0)  # What --fresh does: nothing of the old run is left.
    assert not (logs / summaries.CSV_FILENAME).exists() and not list(logs.glob("events.out.tfevents.*"))


def test_an_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(
        path,
        x_train=np.array([object()], dtype=object),
        y_train=np.zeros(1),
        x_test=np.zeros((1, 28, 28)),
        y_test=np.zeros(1),
    )
    with pytest.raises(errors.UserError, match="not a Keras-layout mnist.npz.*allow_pickle=False"):
        data.load(str(path), "train")


def test_fresh_and_an_explicit_checkpoint_conflict(copy_of_tiny_run, digits, tmp_path):
    before = fingerprint(tmp_path)
    with pytest.raises(errors.UserError, match="--fresh starts over and --checkpoint resumes"):
        run(copy_of_tiny_run, digits, tmp_path, fresh=True, resume_from="ckpt-3")
    assert fingerprint(tmp_path) == before  # --fresh did not delete the run.


def test_a_named_checkpoint_where_there_is_no_run_is_refused(tiny_config, digits, tmp_path):
    with pytest.raises(errors.UserError, match="--checkpoint ckpt-3: there is no run in"):
        run(tiny_config, digits, tmp_path, resume_from="ckpt-3")
    assert list(tmp_path.iterdir()) == []  # Neither directory was created.

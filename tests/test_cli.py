"""The command line as a user runs it: help, a short run, every bad input's one line and exit status 2.

Most tests call its main() in this process (tests.conftest.gan_tf); those marked `process` run
`python -m gan_tf` as a process of its own, for what only a real process shows: its exit status, its
first lines, and that a bad flag is refused before TensorFlow loads.
"""

import dataclasses
import os
import subprocess
import sys

import pytest

from gan_tf import config as config_lib
from gan_tf.runtime import settings
from tests.conftest import ROOT
from tests.conftest import error_line
from tests.conftest import fingerprint
from tests.conftest import gan_tf
from tests.conftest import gan_tf_process
from tests.conftest import write_mnist_npz


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run trained through the command line: (root, npz path, the run's stdout)."""
    root = tmp_path_factory.mktemp("cli")
    npz = write_mnist_npz(root / "mnist.npz")
    result = gan_tf(
        "train",
        "--preset",
        "tiny",
        "--data",
        npz,
        "--checkpoint-dir",
        root / "checkpoints",
        "--output-dir",
        root / "outputs",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    return root, npz, result.stdout


@pytest.mark.slow
def test_help_explains_every_flag_and_a_bad_flag_is_refused_before_tensorflow_loads(tmp_path):
    result = gan_tf_process("train", "--help")
    assert result.returncode == 0
    for field in config_lib.flag_fields():
        assert settings.flag(field.name) in result.stdout
    for flag in ("--fresh", "--data", "--device", "--checkpoint-dir", "--output-dir", "--preset"):
        assert flag in result.stdout
    for command in ("sample", "gif", "reconstruct", "interpolate", "evaluate", "bench", "compare", "export", "play"):
        assert gan_tf(command, "--help").returncode == 0
    # A bad value of a config flag: one line and exit status 2 from the process, and TensorFlow never imported.
    probe = (
        "import sys; from gan_tf import __main__ as cli; code = cli.main(sys.argv[1:]); "
        "print('tensorflow' in sys.modules); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "train", "--preset", "tiny", "--epochs", "0", "--checkpoint-dir", tmp_path / "c"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "--epochs must be a whole number from 1 to 100,000, got 0" in error_line(result)
    assert result.stdout == "False\n" and not (tmp_path / "c").exists()


@pytest.mark.slow
def test_a_command_prints_no_tensorflow_start_up_notices(tiny_run, tmp_path):
    result = gan_tf_process("sample", "--checkpoint-dir", tiny_run[1] / "checkpoints", "--out", tmp_path / "s.png")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"device: CPU ({os.cpu_count()} cores)"]
    assert result.stdout == f"wrote 100 digits to {tmp_path / 's.png'}\n"


def test_train_logs_device_epochs_and_writes_everything(trained):
    root, _, stdout = trained
    lines = stdout.splitlines()
    assert lines[0] == f"device: CPU ({os.cpu_count()} cores)"
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert len(epoch_lines) == 2 and "images/s" in epoch_lines[-1] and "encoder" in epoch_lines[-1]
    assert sorted(path.name for path in (root / "outputs" / "frames").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    assert (root / "outputs" / "training.gif").is_file()
    assert (root / "checkpoints" / "config.json").is_file() and (root / "checkpoints" / "checkpoint").is_file()


def test_sample_reconstruct_interpolate_and_gif(trained, tmp_path):
    root, npz, _ = trained
    checkpoint_dir = root / "checkpoints"
    for _ in range(2):
        assert (
            gan_tf(
                "sample", "--checkpoint-dir", checkpoint_dir, "--num", 6, "--seed", 3, "--out", tmp_path / f"s{_}.npy"
            ).returncode
            == 0
        )
    assert (tmp_path / "s0.npy").read_bytes() == (tmp_path / "s1.npy").read_bytes()
    assert (
        gan_tf("sample", "--checkpoint-dir", checkpoint_dir, "--digit", 7, "--out", tmp_path / "sevens.png").returncode
        == 0
    )
    result = gan_tf(
        "reconstruct", "--checkpoint-dir", checkpoint_dir, "--data", npz, "--num", 10, "--out", tmp_path / "r.png"
    )
    assert result.returncode == 0 and "mean squared error" in result.stdout
    assert (
        gan_tf(
            "interpolate", "--checkpoint-dir", checkpoint_dir, "--data", npz, "--steps", 4, "--out", tmp_path / "i.gif"
        ).returncode
        == 0
    )
    result = gan_tf("gif", "--output-dir", root / "outputs")
    assert result.returncode == 0 and "(2 frames)" in result.stdout


def train_again(root, npz, *flags):
    """`train` on the run of `trained`, with these flags."""
    return gan_tf(
        "train", "--data", npz, "--checkpoint-dir", root / "checkpoints", "--output-dir", root / "outputs", *flags
    )


def test_resume_continues_and_a_conflicting_architecture_is_refused(trained):
    root, npz, _ = trained
    before = fingerprint(root / "checkpoints")
    assert "--latent-dim 8, not 9" in error_line(train_again(root, npz, "--latent-dim", 9))
    result = train_again(root, npz, "--preset", "default")
    assert "--preset default has other networks than the run" in error_line(result)
    assert fingerprint(root / "checkpoints") == before


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "0"], "--epochs must be a whole number from 1 to 100,000, got 0"),
        (["--batch-size", "-4"], "--batch-size must be a whole number from 1 to 60,000, got -4"),
        (["--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
        (["--colour", "red"], "unrecognized arguments: --colour red"),
        (["--device", "tpu"], "argument --device: invalid choice"),
        (["--loss", "wasserstein"], "argument --loss: invalid choice: 'wasserstein'"),
        (
            ["--loss", "hinge", "--label-smoothing", "0.1"],
            "--label-smoothing applies to --loss non-saturating and least-squares",
        ),
        (["--clusters", "20"], "--clusters is for --conditional off"),
    ],
)
def test_bad_train_flags(flags, message, tmp_path):
    result = gan_tf("train", "--checkpoint-dir", tmp_path / "c", "--output-dir", tmp_path / "o", *flags)
    assert message in error_line(result)
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()  # Nothing written.


def test_more_clusters_than_images_and_unknown_compare_variants_are_refused(tmp_path, mnist_npz):
    result = gan_tf(
        "train",
        "--data",
        mnist_npz,
        "--conditional",
        "off",
        "--clusters",
        41,
        "--batch-size",
        16,
        "--checkpoint-dir",
        tmp_path / "c",
        "--output-dir",
        tmp_path / "o",
    )
    assert "--clusters 41 is more than the 40 training images" in error_line(result)
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()
    result = gan_tf("compare", "--variants", "conditional/hinges", "--output-dir", tmp_path / "o")
    assert "unknown variant 'hinges'; known: default, least-squares" in error_line(result)
    assert not (tmp_path / "o").exists()


def test_missing_dataset(tmp_path):
    result = gan_tf(
        "train", "--data", tmp_path / "nowhere.npz", "--checkpoint-dir", tmp_path / "c", "--output-dir", tmp_path / "o"
    )
    assert "nowhere.npz does not exist" in error_line(result)


def test_unwritable_output_directory(tmp_path, mnist_npz):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = gan_tf("train", "--data", mnist_npz, "--checkpoint-dir", tmp_path / "c", "--output-dir", blocker)
    assert "is a file, not a directory" in error_line(result)
    result = gan_tf(
        "train",
        "--data",
        mnist_npz,
        "--batch-size",
        16,
        "--checkpoint-dir",
        tmp_path / "c",
        "--output-dir",
        "/proc/gan_tf",
    )
    assert "cannot write to /proc/gan_tf" in error_line(result)


def test_sampling_needs_a_trained_run(tmp_path):
    assert "does not exist" in error_line(gan_tf("sample", "--checkpoint-dir", tmp_path / "none"))
    assert "holds no gan_tf checkpoint" in error_line(gan_tf("sample", "--checkpoint-dir", tmp_path))
    assert "--num: must be from 1 to 100,000, got 0" in error_line(
        gan_tf("sample", "--checkpoint-dir", tmp_path, "--num", 0)
    )
    assert "--digit: must be from 0 to 9, got 10" in error_line(
        gan_tf("sample", "--checkpoint-dir", tmp_path, "--digit", 10)
    )


def copy_run(root, destination):
    """A copy of the trained run's checkpoint directory, to tamper with."""
    destination.mkdir()
    for path in (root / "checkpoints").iterdir():
        (destination / path.name).write_bytes(path.read_bytes())
    return destination


def test_checkpoint_of_another_architecture_is_refused(trained, tmp_path):
    root, _, _ = trained
    copy = copy_run(root, tmp_path / "copy")
    tampered = dataclasses.replace(config_lib.load(copy), generator_filters=16)
    config_lib.save(tampered, copy)
    before = fingerprint(copy)
    assert "from another architecture" in error_line(
        gan_tf("sample", "--checkpoint-dir", copy, "--out", tmp_path / "s.png")
    )
    assert fingerprint(copy) == before


def test_evaluate_bad_inputs(trained, tmp_path):
    root, npz, _ = trained
    assert "does not exist" in error_line(gan_tf("evaluate", "--checkpoint-dir", tmp_path / "none", "--data", npz))
    assert "holds no gan_tf checkpoint" in error_line(gan_tf("evaluate", "--checkpoint-dir", tmp_path, "--data", npz))
    assert "--num: must be from 2 to 100,000, got -5" in error_line(gan_tf("evaluate", "--num", "-5"))
    copy = copy_run(root, tmp_path / "copy")
    (copy / "judge.keras").write_bytes(b"corrupt")
    result = gan_tf("evaluate", "--checkpoint-dir", copy, "--data", npz, "--out", tmp_path / "e.json")
    assert "judge" in error_line(result) and "cannot be loaded" in error_line(result)
    assert not (tmp_path / "e.json").exists()


def test_train_checks_every_input_before_the_judge_or_any_file(trained, tmp_path):
    root, npz, _ = trained
    result = gan_tf(
        "train",
        "--data",
        npz,
        "--checkpoint-dir",
        tmp_path / "none",
        "--output-dir",
        tmp_path / "o",
        "--checkpoint",
        "ckpt-3",
    )
    assert "--checkpoint ckpt-3: there is no run in" in error_line(result)
    copy = copy_run(root, tmp_path / "copy")
    before = fingerprint(copy)
    for flags, message in [
        (["--fresh", "--checkpoint", "ckpt-3"], "--fresh starts over and --checkpoint resumes"),
        (["--checkpoint", "ckpt-99"], "no checkpoint named ckpt-99"),
    ]:
        result = gan_tf(
            "train", "--data", npz, "--checkpoint-dir", copy, "--output-dir", tmp_path / "o", "--eval-every", 1, *flags
        )
        assert message in error_line(result)
        assert fingerprint(copy) == before  # No judge.keras trained and saved, no checkpoint deleted.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy"]


def test_bench_and_evaluate_check_their_inputs_before_writing(trained, tmp_path):
    root, _, _ = trained
    result = gan_tf("bench", "--checkpoint-dir", tmp_path / "judge", "--data", tmp_path / "nowhere.npz")
    assert "nowhere.npz does not exist" in error_line(result)
    copy = copy_run(root, tmp_path / "copy")
    before = fingerprint(copy)
    result = gan_tf(
        "evaluate", "--checkpoint-dir", copy, "--data", tmp_path / "nowhere.npz", "--out", tmp_path / "e.json"
    )
    assert "nowhere.npz does not exist" in error_line(result)
    assert fingerprint(copy) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy"]


def test_an_old_flag_name_still_works():
    from gan_tf import __main__ as cli

    args = cli.build_parser().parse_args(["train", "--refine-7x7", "on"])
    assert args.refine_first_map == "on"

"""Shared test fixtures: tiny configs, small synthetic digits and one tiny trained run, so no test downloads
anything and the suite trains as little as it can."""

import contextlib
import dataclasses
import fcntl
import hashlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys

# pytest-xdist runs a worker a core (make test: -n auto), and each worker and the processes a test starts run
# TensorFlow with one thread an operation rather than one a core: no more threads than cores (the suite took
# 280 s against 308 s with TensorFlow's default, one run each on a 2-core machine). Set before TensorFlow loads;
# processes started by a test inherit it.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gan_tf import config as config_lib
from gan_tf import mnist
from gan_tf.runtime import console

os.environ.pop("GAN_TF_MNIST", None)  # The tests name their data; a user's MNIST file must not stand in.
console.set_default_log_level()  # TensorFlow loads as in the command line: its start-up notices held back.
with console.start_up_notices_held_back():
    from gan_tf import data


def pytest_collection_modifyitems(items):
    """tests/test_kill.py kills real training processes: slow, like the modules marked in their own text."""
    for item in items:
        if item.path.name == "test_kill.py":
            item.add_marker(pytest.mark.slow)


ROOT = pathlib.Path(__file__).resolve().parent.parent


def gan_tf(*args):
    """Runs the command line `python -m gan_tf ARGS` in this process, through its main(): a
    subprocess.CompletedProcess with its exit status, stdout and stderr."""
    from gan_tf import __main__ as cli

    argv = [str(arg) for arg in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as exit:  # --help exits through argparse.
            code = exit.code
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


def gan_tf_process(*args, cwd=None, timeout=300):
    """Runs `python -m gan_tf ARGS` as a process of its own, as a user does: a subprocess.CompletedProcess."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # The command line's own default.
    return subprocess.run(
        [sys.executable, "-m", "gan_tf", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=environment,
        timeout=timeout,
    )


def error_line(result):
    """The one line a bad input gets: exit status 2, 'error: ...' as the last stderr line, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    return last


def saved_variables(checkpoint_dir):
    """Every tensor of the latest checkpoint in checkpoint_dir, by name."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(checkpoint_dir))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def fingerprint(directory):
    """Relative path -> sha256 of every file under `directory` (None for a directory), to prove nothing changed."""
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        for path in sorted(pathlib.Path(directory).rglob("*"))
    }


def train_quietly(config, pictures, checkpoint_dir, output_dir, fresh=False, resume_from=None, strategy=None,
                  log=None, **options):  # fmt: skip
    """train.train on the run in these directories, with no log and no progress bar: its state at the end."""
    from gan_tf import train

    run = train.open_run(checkpoint_dir, output_dir, fresh, resume_from, strategy, log or (lambda line: None))
    return train.train(config, pictures, run, progress=False, **options)


@pytest.fixture
def tiny_config():
    """The tiny preset, for one epoch: a few milliseconds a step."""
    return dataclasses.replace(config_lib.PRESETS["tiny"], epochs=1)


def synthetic_images(count, seed=0, size=28, channels=1):
    """uint8 images (count, size, size, channels): a bright bar per image at a random place, on black
    (in colour, each bar a colour of its own)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((count, size, size, channels), np.uint8)
    for image, row, column in zip(images, rng.integers(4, size - 8, count), rng.integers(4, size - 8, count)):
        image[row : row + 4, column : column + 8] = 255 if channels == 1 else rng.integers(64, 256, 3)
    return images


def synthetic_digits(count, seed=0):
    """data.Pictures of synthetic_images(), labelled as digits 0, 1, ..., 9, 0, 1, ..."""
    labels = (np.arange(count) % 10).astype(np.int32)
    return data.Pictures(synthetic_images(count, seed), labels, mnist.DIGIT_NAMES, "synthetic")


def synthetic_pictures(count, seed=0, size=32, class_names=("cat", "dog", "ship")):
    """data.Pictures of colour synthetic_images(), labelled by class_names in turn (none when empty)."""
    labels = (np.arange(count) % max(len(class_names), 1)).astype(np.int32)
    return data.Pictures(synthetic_images(count, seed, size, 3), labels, tuple(class_names), "synthetic colour")


@pytest.fixture
def digits():
    """48 training digits: with batch size 16, three full batches, so a run traces its step once."""
    return synthetic_digits(48)


def write_mnist_npz(path, train_count=40, test_count=20):
    """Writes a small file in the layout of Keras's mnist.npz and returns its path."""
    train, test = synthetic_digits(train_count, seed=1), synthetic_digits(test_count, seed=2)
    np.savez(path, x_train=train.images[..., 0], y_train=train.labels, x_test=test.images[..., 0], y_test=test.labels)
    return path


@pytest.fixture
def mnist_npz(tmp_path):
    return write_mnist_npz(tmp_path / "mnist.npz")


def built_once(tmp_path_factory, name, build):
    """The directory `name`, built by build(directory) once for the whole session: under pytest-xdist the workers
    share their base temporary directory's parent, and the first worker to ask builds it while the others wait
    (pytest-xdist's advice for session fixtures), so no run is trained twice."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    directory, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            build(directory)
            done.touch()
    return directory


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One tiny run of 2 epochs on synthetic_digits(48), shared by the test modules: (config, root).

    root/checkpoints holds ckpt-3 and ckpt-6 (3 steps an epoch: batches of 16), and
    root/outputs its two frames, the GIF and the logs. Read it, never change it: copy_of_tiny_run()
    gives a copy to damage.
    """
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=2)

    def build(root):
        train_quietly(config, synthetic_digits(48), root / "checkpoints", root / "outputs")

    return config, built_once(tmp_path_factory, "tiny_run", build)


def trained_and_exported(tmp_path_factory, name, config, pictures):
    """A run of `config` on `pictures` and its export, built once: (root, the export's description)."""
    from gan_tf import export

    def build(root):
        train_quietly(config, pictures, root / "checkpoints", root / "outputs")
        export.export_run(root / "checkpoints", None, root / "export")

    root = built_once(tmp_path_factory, name, build)
    return root, json.loads((root / "export" / export.SIGNATURE_FILE).read_text())


@pytest.fixture(scope="session")
def tiny_cluster_run(tmp_path_factory):
    """A tiny unconditional run with 3 clusters (1 epoch on synthetic_digits(48)) and its export: (root, description).

    root/checkpoints holds the run, root/export what export.export_run wrote, described by `description`.
    """
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=1, conditional="off", clusters=3)
    return trained_and_exported(tmp_path_factory, "tiny_cluster_run", config, synthetic_digits(48))


@pytest.fixture(scope="session")
def tiny_colour_run(tmp_path_factory):
    """A tiny conditional run on colour pictures of 32 pixels of three classes (1 epoch on
    synthetic_pictures(48)), its class at every layer (--class-conditioning projection, as colour pictures'
    defaults have it), and its export: (root, description), as tiny_cluster_run."""
    pictures = synthetic_pictures(48)
    overrides = {"epochs": 1, "class_conditioning": "projection"}
    config = config_lib.with_pictures(config_lib.resolve(overrides, preset="tiny"), data.facts(pictures, "/pets"))
    return trained_and_exported(tmp_path_factory, "tiny_colour_run", config, pictures)


POEM_WORDS = ["春风", "明月", "山水", "江南", "故人", "归来", "白云", "落花", "秋夜", "长安"]


def write_poems(folder, total=80, seed=0, classes=("north", "south")):
    """`total` tiny two-line poems, shared by a sub-folder per class (none when `classes` is empty): returns the
    folder. 80 poems leave 72 to train on, nine full batches of 8, so each step is traced once."""
    rng = np.random.default_rng(seed)
    count = total // len(classes or ("",))
    for name in classes or ("",):
        (folder / name).mkdir(parents=True, exist_ok=True)
        poems = [
            "".join(POEM_WORDS[rng.integers(10)] + "天地人心"[rng.integers(4)] + end for end in "，。")
            for _ in range(count)
        ]
        (folder / name / "poems.txt").write_text("\n".join(poems) + "\n", encoding="utf-8")
    return folder


def train_texts_command(folder, root, *flags):
    """`train` of the tiny preset on the texts in `folder`, into root/checkpoints and root/outputs."""
    return gan_tf("train", "--data", folder, "--preset", "tiny", "--checkpoint-dir", root / "checkpoints",
                  "--output-dir", root / "outputs", "--no-progress", *flags)  # fmt: skip


@pytest.fixture(scope="session")
def text_run(tmp_path_factory):
    """A tiny text run of two classes trained through the command line, once: (root, folder, stdout).

    Two epochs of the language model and one of the GAN, 9 steps an epoch: language-model/ckpt-9 and ckpt-18,
    gan/ckpt-9. Read it, never change it."""

    def build(root):
        result = train_texts_command(write_poems(root / "poems"), root)
        assert result.returncode == 0, result.stderr
        (root / "stdout.txt").write_text(result.stdout, encoding="utf-8")

    root = built_once(tmp_path_factory, "text_run", build)
    return root, root / "poems", (root / "stdout.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_functions(tiny_run):
    """tiny_run's latest checkpoint as the export's functions (export.Serving), as make play draws with them."""
    from gan_tf import export

    return export.open_functions(tiny_run[1] / "checkpoints")[0]


@pytest.fixture
def copy_of_tiny_run(tiny_run, tmp_path):
    """A copy of tiny_run's checkpoints/ and outputs/ in tmp_path, to change or damage; returns its config."""
    config, root = tiny_run
    for name in ("checkpoints", "outputs"):
        shutil.copytree(root / name, tmp_path / name)
    return config

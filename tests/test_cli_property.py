"""A property of the whole command line, tested with generated argument lists (hypothesis).

Whatever a user types, `python -m gan_tf ...` either succeeds, or exits with status 2 after one line
"error: ..." on stderr, having changed no file. It never shows a traceback.

The argument lists mix every real command and flag with unknown ones, and values of every kind:
numbers in and out of range, NaN and infinities, words, empty strings, and paths that are missing,
files, directories, or a trained run. main() runs in this process, in a scratch copy of a tiny trained
run. The slow work behind a command that would succeed (training, the benchmark, the judge's
evaluation) is replaced by a stub that records the call, so each example takes milliseconds; every
check of the input runs for real (sample, reconstruct, interpolate and gif run whole).
"""

import argparse
import os
import pathlib
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from gan_tf import __main__ as cli
from gan_tf import evaluate
from gan_tf import export
from gan_tf import train
from gan_tf.play import server
from gan_tf.tools import bench
from gan_tf.tools import compare
from tests.conftest import fingerprint
from tests.conftest import gan_tf
from tests.conftest import write_mnist_npz

EXAMPLES = int(os.environ.get("GAN_TF_PROPERTY_EXAMPLES", 400))  # More: GAN_TF_PROPERTY_EXAMPLES=3000 make test


def every_flag():
    """Every option string of every command, from the parser itself."""
    flags = set()
    for action in cli.build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for parser in action.choices.values():
                flags.update(option for sub_action in parser._actions for option in sub_action.option_strings)
    return sorted(flags)


COMMANDS = ["train", "sample", "gif", "reconstruct", "interpolate", "evaluate", "bench", "compare", "export", "play"]
WORDS = [
    "0",
    "1",
    "-1",
    "2",
    "3",
    "64",
    "100001",
    "2147483648",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "0.5",
    "1e-9",
    "",
    " ",
    "on",
    "off",
    "auto",
    "yes",
    "ckpt-3",
    "ckpt-999",
    "tiny",
    "default",
    "tutorial",
    "mirrored",
    "multiworker",
    "cpu",
    "gpu",
    "bfloat16",
    "float16",
    "--",
    "-",
]
# Paths, relative to the scratch directory: a trained run, files, a directory, missing ones.
PATHS = [
    "run",
    "run/checkpoints",
    "run/outputs",
    "run/checkpoints/config.json",
    "mnist.npz",
    "notes.txt",
    "empty_dir",
    "missing",
    "missing/deeper",
    "out.png",
    "out.npy",
    "out.json",
    "out.gif",
    "empty_dir/out.png",
    "notes.txt/out.png",
    "run/outputs/frames",
    "/proc/gan_tf",
]

flag_names = st.sampled_from(every_flag() + ["--colour", "--epoch", "-x", "--checkpoint_dir"])
values = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(PATHS),
    st.integers(-3, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
options = st.lists(st.one_of(st.tuples(flag_names, values), st.tuples(flag_names)), max_size=5)
# Half the lists name the trained run, so that the commands that read one get far enough to succeed.
trained_run = st.sampled_from([[], ["--checkpoint-dir", "run/checkpoints"]])
argument_lists = st.builds(
    lambda command, run, chosen: [command, *run, *[part for option in chosen for part in option]],
    st.sampled_from(COMMANDS + ["", "sampel", "--help"]),
    trained_run,
    options,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory, tiny_run):
    """A scratch directory to copy for each example: a tiny trained run, its data, a file and a directory."""
    root = tmp_path_factory.mktemp("template")
    write_mnist_npz(root / "mnist.npz")
    (root / "notes.txt").write_text("not a directory\n")
    (root / "empty_dir").mkdir()
    shutil.copytree(tiny_run[1], root / "run")  # Its checkpoints/ and outputs/.
    return root


@pytest.fixture(scope="module")
def tried():
    """Every (argument list, exit status) tried; their count is printed at the end (pytest -s shows it)."""
    tried = []
    yield tried
    succeeded = sorted({argv[0] for argv, code in tried if code == 0})
    print(
        f"\ncommand lines tried: {len(tried)}; succeeded: {sum(code == 0 for _, code in tried)} "
        f"(commands: {', '.join(succeeded)}); exit status 2: {sum(code == 2 for _, code in tried)}"
    )


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=argument_lists)
def test_any_command_line_succeeds_or_gets_one_line_and_exit_status_2(template, tried, monkeypatch, argv):
    monkeypatch.setattr(train, "train", lambda *args, **kwargs: None)
    monkeypatch.setattr(bench, "run", lambda *args, **kwargs: None)
    monkeypatch.setattr(compare, "run", lambda *args, **kwargs: None)
    monkeypatch.setattr(evaluate, "load_or_train_judge", lambda *args, **kwargs: (None, 1.0))
    monkeypatch.setattr(evaluate, "evaluate", lambda *args, **kwargs: {"stub": True})
    monkeypatch.setattr(evaluate, "report", lambda *args, **kwargs: "stub report")
    monkeypatch.setattr(export, "export", lambda serving, name, out: {"checkpoint": name})  # After every check.
    monkeypatch.setattr(server, "serve", lambda *args, **kwargs: None)  # It would serve until Ctrl-C.
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch) / "work"
        shutil.copytree(template, scratch)
        monkeypatch.chdir(scratch)
        monkeypatch.setenv("GAN_TF_MNIST", str(scratch / "mnist.npz"))
        monkeypatch.delenv("TF_CONFIG", raising=False)
        before = fingerprint(scratch)
        result = gan_tf(*argv)
        code, stderr = result.returncode, result.stderr
        tried.append((argv, code))
        assert code in (0, 2), (argv, code, stderr)
        if code == 2:
            lines = stderr.strip().splitlines()
            assert lines and lines[-1].startswith("error: "), (argv, stderr)
            assert "Traceback" not in stderr
            assert fingerprint(scratch) == before, argv  # Nothing written.
        os.chdir(pathlib.Path(scratch).parent)

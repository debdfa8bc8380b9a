"""make export on a text run: the SavedModel writes make sample's texts in a process without gan_tf."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from tests.conftest import error_line
from tests.conftest import fingerprint
from tests.conftest import gan_tf

# Run in a fresh interpreter that never imports gan_tf: plain TensorFlow, as a user of the export has.
LOAD_AND_WRITE = """
import json, sys
import tensorflow as tf

export_dir, calls = sys.argv[1], json.loads(sys.argv[2])
model = tf.saved_model.load(export_dir)
for signature, arguments in calls:
    dtypes = {"seed": tf.int64, "temperature": tf.float32, "top_p": tf.float32}
    tensors = {name: tf.constant(value, dtypes.get(name)) for name, value in arguments.items()}
    texts = model.signatures[signature](**tensors)["texts"]
    print(json.dumps([text.decode() for text in texts.numpy()], ensure_ascii=False))
print("gan_tf" in sys.modules)
"""

# (make sample's flags, the signature's arguments): the same texts.
CALLS = [
    (["--model", "gan", "--num", "5"], ("write_gan", {"count": 5, "seed": 0})),
    (["--model", "lm", "--num", "103", "--seed", "3", "--temperature", "0.8"],
     ("write_lm", {"count": 103, "seed": 3, "temperature": 0.8})),
    (["--num", "4", "--seed", "1", "--top-k", "3", "--prompt", "天", "--label", "south"],
     ("write_gan", {"count": 4, "seed": 1, "top_k": 3, "prompt": "天", "label": 1})),
    (["--num", "6", "--seed", "2", "--top-p", "0.9", "--acrostic", "天地"],
     ("write_gan", {"count": 6, "seed": 2, "top_p": 0.9, "acrostic": "天地"})),
]  # fmt: skip
DEFAULTS = {"seed": 0, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "prompt": "", "acrostic": "", "label": -1}


@pytest.fixture(scope="module")
def text_export(text_run, tmp_path_factory):
    root, _, _ = text_run
    out = tmp_path_factory.mktemp("text_export") / "writer"
    result = gan_tf("export", "--checkpoint-dir", root / "checkpoints", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "the language model (language-model/ckpt-18) and the GAN (gan/ckpt-9) (signatures write_lm, write_gan)" in (
        result.stdout
    )
    return root / "checkpoints", out


@pytest.mark.slow
def test_the_export_writes_what_sample_writes_without_gan_tf(text_export, tmp_path):
    checkpoint_dir, out = text_export
    sampled = []
    for flags, _ in CALLS:
        path = tmp_path / "samples.txt"
        assert gan_tf("sample", "--checkpoint-dir", checkpoint_dir, "--out", path, *flags).returncode == 0
        sampled.append(path.read_text(encoding="utf-8").splitlines())
    script = tmp_path / "load_and_write.py"
    script.write_text(LOAD_AND_WRITE)
    calls = [(signature, {**DEFAULTS, **arguments}) for _, (signature, arguments) in CALLS]
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), str(out), json.dumps(calls)],
        capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300, encoding="utf-8",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    *written, imported = result.stdout.strip().splitlines()
    assert imported == "False"
    assert [json.loads(line) for line in written] == sampled
    assert all(text.startswith("天") for text in sampled[2]) and all(text[0] == "天" for text in sampled[3])


def test_the_export_says_what_it_takes_and_refuses_bad_arguments(text_export):
    _, out = text_export
    description = json.loads((out / "signature.json").read_text())
    assert description["kind"] == "text" and description["class_names"] == ["north", "south"]
    assert list(description["models"]) == ["write_lm", "write_gan"]
    assert set(description["write_gan"]["inputs"]) == {*DEFAULTS, "count"}
    assert description["config"]["vocabulary"] is None  # Inside the SavedModel, not here.
    assert 'model.signatures["write_gan"]' in (out / "README.md").read_text() and "Flex" in description["lite"]
    write = tf.saved_model.load(str(out)).signatures["write_lm"]
    arguments = {name: tf.constant(value) for name, value in {**DEFAULTS, "count": 2}.items()}
    arguments["seed"] = tf.constant(0, tf.int64)
    assert write(**arguments)["texts"].shape == (2,)
    for bad, message in [({"prompt": tf.constant("冬")}, "never seen"), ({"label": tf.constant(2)}, "label must be")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            write(**{**arguments, **bad})


def test_a_bad_export_directory_gets_one_line_and_nothing_is_written(text_run, tmp_path):
    root, _, _ = text_run
    before = fingerprint(root)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("mine")
    assert "already holds files" in error_line(gan_tf("export", "--checkpoint-dir", root / "checkpoints", "--out",
                                                      tmp_path / "taken"))  # fmt: skip
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"] and fingerprint(root) == before

"""make export: the SavedModel draws what `sample` writes, in a process without gan_tf, and bad input writes nothing."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import __main__ as cli
from gan_tf import export
from gan_tf import generate
from gan_tf.runtime import errors
from tests.conftest import fingerprint
from tests.conftest import gan_tf

# Run in a fresh interpreter that never imports gan_tf: plain TensorFlow, as a user of the export has.
LOAD_AND_DRAW = """
import sys
import numpy as np
import tensorflow as tf

export_dir, latent_path, out_path = sys.argv[1:]
model = tf.saved_model.load(export_dir)
latent = np.load(latent_path)
digits = np.arange(len(latent), dtype=np.int32) % 10
images = model.signatures["generate"](latent=tf.constant(latent), digits=tf.constant(digits))["images"]
codes = model.signatures["encode"](images=images)
np.save(out_path, images.numpy())
print(images.dtype.name, tuple(images.shape), tuple(codes["latent"].shape), tuple(codes["digit_logits"].shape),
      "gan_tf" in sys.modules)
"""


@pytest.fixture(scope="module")
def exported(tiny_run, tmp_path_factory):
    """tiny_run's export, made by the command line: (config, checkpoints directory, export directory)."""
    config, root = tiny_run
    out = tmp_path_factory.mktemp("export") / "generator"
    result = gan_tf("export", "--checkpoint-dir", root / "checkpoints", "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}: the SavedModel of ckpt-6 (signatures generate, blend, encode)" in result.stdout
    return config, root / "checkpoints", out


@pytest.mark.slow
def test_the_export_draws_what_sample_writes_byte_for_byte_without_gan_tf(exported, tmp_path):
    config, checkpoint_dir, out = exported
    num, seed = 30, 4
    sampled = tmp_path / "sampled.npy"
    assert (
        gan_tf("sample", "--checkpoint-dir", checkpoint_dir, "--num", num, "--seed", seed, "--out", sampled).returncode
        == 0
    )
    # sample's latent vectors for this seed: stream 1 of the seed (generate.new_inputs), digits 0..9 in turn.
    latent = tf.random.stateless_normal((num, config.latent_dim), seed=(seed, 1)).numpy()
    np.save(tmp_path / "latent.npy", latent)
    script = tmp_path / "load_and_draw.py"
    script.write_text(LOAD_AND_DRAW)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), str(out), str(tmp_path / "latent.npy"), str(tmp_path / "drawn.npy")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "uint8",
        "(30,",
        "28,",
        "28)",
        "(30,",
        f"{config.latent_dim})",
        "(30,",
        "10)",
        "False",
    ]
    drawn, expected = np.load(tmp_path / "drawn.npy"), np.load(sampled)
    assert drawn.dtype == np.uint8 and np.array_equal(drawn, expected)
    assert len(np.unique(expected)) > 10  # Real pictures, not a blank that would match anything blank.


def test_the_export_says_how_to_call_it(exported):
    config, _, out = exported
    description = json.loads((out / "signature.json").read_text())
    assert description["checkpoint"] == "ckpt-6" and description["config"] == json.loads(
        json.dumps(dataclasses.asdict(config))
    )
    assert set(description["generate"]["inputs"]) == {"latent", "digits"}
    assert set(description["encode"]["outputs"]) == {"latent", "digit_logits"}
    assert set(description["blend"]["inputs"]) == {"latent", "weights"}
    readme = (out / "README.md").read_text()
    assert 'model.signatures["generate"](latent=latent, digits=' in readme and f"(4, {config.latent_dim})" in readme
    assert {path.name for path in out.iterdir()} >= {
        "saved_model.pb",
        "variables",
        "generator.tflite",
        "signature.json",
    }
    assert not list(out.parent.glob(".*partial"))


def test_the_lite_generator_draws_the_same_digits_within_one_level(exported):
    config, checkpoint_dir, out = exported
    interpreter = tf.lite.Interpreter(model_path=str(out / "generator.tflite"))
    latent = tf.random.stateless_normal((10, config.latent_dim), seed=(0, 1)).numpy()
    digits = np.arange(10, dtype=np.int32)
    lite = interpreter.get_signature_runner("generate")(latent=latent, digits=digits)["images"]
    saved = export.Loaded(out).draw(latent, digits)
    assert lite.dtype == np.uint8 and lite.shape == (10, 28, 28)
    assert np.abs(lite.astype(int) - saved).max() <= 1  # LiteRT's own float kernels may round a pixel the other way.


def test_blend_with_one_hot_weights_is_generate(exported):
    config, _, out = exported
    loaded = export.Loaded(out)
    latent = tf.random.stateless_normal((10, config.latent_dim), seed=(5, 1)).numpy()
    digits = np.arange(10, dtype=np.int32)
    assert np.array_equal(loaded.draw_blend(latent, np.eye(10, dtype=np.float32)[digits]), loaded.draw(latent, digits))


def test_a_run_with_clusters_exports_its_clusters_and_their_shares(tiny_cluster_run):
    root, description = tiny_cluster_run
    config, generator, _, shares = generate.restore_models(root / "checkpoints")
    assert description["generate"]["label"] == "clusters" and description["label_shares"] == pytest.approx(shares)
    loaded = export.Loaded(root / "export")
    inputs = generate.new_inputs(config, 12, seed=0, stream=1, label_shares=shares)
    labels = generate.labels_to_draw(12, config.clusters, shares)
    expected = generate.draw(generator, inputs)
    assert np.array_equal(loaded.draw(inputs[:, : config.latent_dim], labels), expected[..., 0])
    latent, logits = loaded.read(expected[..., 0])
    assert latent.shape == (12, config.latent_dim) and logits.shape == (12, 3)


@pytest.mark.parametrize(
    "case, message",
    [
        ("no run", "does not exist: train first"),
        ("damaged", "ckpt-6: it is damaged"),
        ("not empty", "already holds files: name a new directory"),
        ("a file", "is a file: name a new directory"),
    ],
)
def test_bad_input_gets_one_line_and_writes_nothing(copy_of_tiny_run, tmp_path, capsys, case, message):
    checkpoint_dir, out = tmp_path / "checkpoints", tmp_path / "export"
    if case == "no run":
        checkpoint_dir = tmp_path / "missing"
    elif case == "damaged":
        data_file = next(checkpoint_dir.glob("ckpt-6.data-*"))
        data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])
    elif case == "not empty":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    else:
        out.write_text("mine")
    before = fingerprint(tmp_path)
    assert cli.main(["export", "--checkpoint-dir", str(checkpoint_dir), "--out", str(out)]) == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and message in last_line
    assert fingerprint(tmp_path) == before


def test_an_empty_out_directory_is_used_and_an_unwritable_one_refused(tiny_run, tmp_path):
    _, root = tiny_run
    (tmp_path / "empty").mkdir()
    export.export_run(root / "checkpoints", "ckpt-3", tmp_path / "empty")
    assert json.loads((tmp_path / "empty" / "signature.json").read_text())["checkpoint"] == "ckpt-3"
    with pytest.raises(errors.UserError, match="cannot write to /proc/gan_tf_export"):  # Not even root can.
        export.export_run(root / "checkpoints", None, "/proc/gan_tf_export")


def test_a_colour_run_exports_signatures_of_its_pictures_and_names_its_classes(tiny_colour_run):
    root, description = tiny_colour_run
    assert description["picture_shape"] == [32, 32, 3] and description["class_names"] == ["cat", "dog", "ship"]
    assert set(description["generate"]["inputs"]) == {"latent", "classes"}
    assert description["generate"]["outputs"]["images"].startswith("uint8 (N, 32, 32, 3): RGB")
    assert "centre cropped" in description["encode"]["inputs"]["images"]
    assert set(description["encode"]["outputs"]) == {"latent", "class_logits"}
    assert "Classes, by index: 0 cat, 1 dog, 2 ship" in (root / "export" / "README.md").read_text()
    # Called as plain TensorFlow calls it: the class by index, colour pictures out and in.
    config, generator, _, _ = generate.restore_models(root / "checkpoints")
    model = tf.saved_model.load(str(root / "export"))
    latent = tf.random.stateless_normal((6, config.latent_dim), seed=(0, 1))
    classes = tf.constant([0, 1, 2, 0, 1, 2], tf.int32)
    images = model.signatures["generate"](latent=latent, classes=classes)["images"]
    expected = generate.draw(generator, generate.models.generator_inputs(config, latent, classes))
    assert images.dtype == tf.uint8 and np.array_equal(images.numpy(), expected)  # (6, 32, 32, 3).
    codes = model.signatures["encode"](images=images)
    assert codes["latent"].shape == (6, config.latent_dim) and codes["class_logits"].shape == (6, 3)
    runner = tf.lite.Interpreter(model_path=str(root / "export" / "generator.tflite")).get_signature_runner("generate")
    lite = runner(latent=latent.numpy(), classes=classes.numpy())["images"]
    assert lite.shape == (6, 32, 32, 3) and np.abs(lite.astype(int) - expected).max() <= 1

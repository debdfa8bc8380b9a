"""gan_tf on pictures of your own: a folder of colour pictures with classes, a flat folder of grey ones,
and what every command does with a run trained on them."""

import dataclasses
import json

import numpy as np
import PIL.Image
import pytest

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import generate
from gan_tf import models
from tests.conftest import error_line
from tests.conftest import fingerprint
from tests.conftest import gan_tf
from tests.conftest import saved_variables
from tests.conftest import synthetic_images
from tests.conftest import synthetic_pictures
from tests.conftest import train_quietly


def write_folder(root, count, size=32, colour=True, class_names=("cat", "dog", "ship")):
    """A folder of `count` synthetic pictures (PNG), in a sub-folder per class, or flat without class_names."""
    pictures = synthetic_images(count, seed=len(str(root)), size=size, channels=3 if colour else 1)
    for index, picture in enumerate(pictures):
        folder = root / class_names[index % len(class_names)] if class_names else root
        folder.mkdir(parents=True, exist_ok=True)
        PIL.Image.fromarray(picture if colour else picture[..., 0]).save(folder / f"{index:03d}.png")
    return root


@pytest.fixture(scope="module")
def colour_run(tmp_path_factory):
    """One tiny epoch on a folder of 48 colour pictures of 3 classes: (folder, checkpoint dir, output dir)."""
    root = tmp_path_factory.mktemp("colour_run")
    folder = write_folder(root / "pets", 48)
    result = gan_tf(
        "train", "--data", folder, "--preset", "tiny", "--epochs", 1,
        "--checkpoint-dir", root / "checkpoints", "--output-dir", root / "outputs",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return folder, root / "checkpoints", root / "outputs"


def test_a_run_on_a_colour_folder_records_its_pictures(colour_run):
    folder, checkpoints, outputs = colour_run
    saved = json.loads((checkpoints / "config.json").read_text())
    assert (saved["data"], saved["image_size"], saved["channels"]) == (str(folder.resolve()), 32, 3)
    assert saved["class_names"] == ["cat", "dog", "ship"] and saved["conditional"] == "on"
    frame = PIL.Image.open(outputs / "frames" / "epoch_0001.png")
    assert frame.mode == "RGB" and frame.size == ((2 * 34 + 2) * 2,) * 2  # A 2x2 grid of 32-pixel pictures.


def test_every_command_uses_the_runs_own_pictures(colour_run, tmp_path):
    folder, checkpoints, _ = colour_run
    result = gan_tf(
        "sample", "--checkpoint-dir", checkpoints, "--label", "dog", "--num", 4, "--out", tmp_path / "d.npy"
    )
    assert result.returncode == 0 and "wrote 4 pictures" in result.stdout
    assert np.load(tmp_path / "d.npy").shape == (4, 32, 32, 3)
    assert "no class 'horse': its classes are cat, dog, ship" in error_line(
        gan_tf("sample", "--checkpoint-dir", checkpoints, "--label", "horse", "--out", tmp_path / "h.png")
    )
    # No --data: the run's own folder, and its test split (every tenth picture).
    result = gan_tf("reconstruct", "--checkpoint-dir", checkpoints, "--num", 4, "--out", tmp_path / "r.png")
    assert result.returncode == 0 and PIL.Image.open(tmp_path / "r.png").mode == "RGB", result.stderr
    result = gan_tf("interpolate", "--checkpoint-dir", checkpoints, "--steps", 3, "--out", tmp_path / "i.gif")
    assert result.returncode == 0, result.stderr


def test_other_pictures_for_a_run_are_refused_and_nothing_changes(colour_run, tmp_path):
    folder, checkpoints, outputs = colour_run
    other = write_folder(tmp_path / "other", 48, colour=False)
    before = fingerprint(checkpoints.parent)
    for command in (["train", "--epochs", 2, "--output-dir", outputs], ["evaluate", "--out", tmp_path / "e.json"]):
        line = error_line(gan_tf(*command, "--checkpoint-dir", checkpoints, "--data", other))
        assert f"the run was trained on {folder.resolve()}, not {other.resolve()}" in line
    assert fingerprint(checkpoints.parent) == before
    # The same pictures moved elsewhere are another folder's; with other classes, the run says what differs.
    moved = write_folder(tmp_path / "moved", 48, class_names=("cat", "dog"))
    config = config_lib.load(checkpoints)
    with pytest.raises(Exception, match="trained on pictures with cat, dog, ship classes"):
        config_lib.with_pictures(config, data.facts(data.load(str(moved), "train"), str(moved)))


def test_a_flat_folder_trains_without_labels_and_a_small_one_is_refused(tmp_path):
    folder = write_folder(tmp_path / "flat", 40, size=28, colour=False, class_names=())
    arguments = ["--data", folder, "--preset", "tiny", "--epochs", 1, "--output-dir", tmp_path / "o"]
    line = error_line(gan_tf("train", *arguments, "--conditional", "on", "--checkpoint-dir", tmp_path / "c"))
    assert "--conditional on needs pictures with classes" in line
    line = error_line(gan_tf("train", *arguments, "--batch-size", 64, "--checkpoint-dir", tmp_path / "c"))
    assert "only 36 training pictures, fewer than one batch of 64" in line
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()
    result = gan_tf("train", *arguments, "--conditional", "off", "--clusters", 3, "--checkpoint-dir", tmp_path / "c")
    assert result.returncode == 0, result.stderr
    saved = config_lib.load(tmp_path / "c")
    assert (saved.conditional, saved.clusters, saved.class_names, saved.channels) == ("off", 3, (), 1)
    gan_tf("sample", "--checkpoint-dir", tmp_path / "c", "--num", 3, "--out", tmp_path / "s.npy")
    assert np.load(tmp_path / "s.npy").shape == (3, 28, 28)  # Grey: (N, H, W), as for digits.


@pytest.mark.parametrize("class_conditioning", ["concatenate", "projection"])
def test_a_colour_run_resumes_bitwise(tmp_path, class_conditioning):
    pictures = synthetic_pictures(48)
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=2, class_conditioning=class_conditioning)
    config = config_lib.with_pictures(config, data.facts(pictures, "/pets"))
    train_quietly(config, pictures, tmp_path / "straight", tmp_path / "o1")
    train_quietly(dataclasses.replace(config, epochs=1), pictures, tmp_path / "resumed", tmp_path / "o2")
    train_quietly(config, pictures, tmp_path / "resumed", tmp_path / "o2")
    straight, resumed = saved_variables(tmp_path / "straight"), saved_variables(tmp_path / "resumed")
    assert straight.keys() == resumed.keys()
    assert all(np.array_equal(straight[name], resumed[name]) for name in straight)


def brightness_features(judge, images, batch_size=1000):
    """A judge of rotations whose features are (a picture's mean brightness, 0), and whose guess is always 0."""
    brightness = np.asarray(images, np.float64).mean(axis=(1, 2, 3))
    return np.eye(4)[np.zeros(len(images), int)], np.stack([brightness, np.zeros_like(brightness)], axis=1)


def test_pictures_without_classes_are_judged_by_their_rotations(monkeypatch):
    pictures = synthetic_pictures(8, class_names=())
    config = config_lib.with_pictures(config_lib.resolve({}), data.facts(pictures, "flat"))
    images, turns = evaluate.judge_examples(config, pictures)
    assert turns.tolist() == [0] * 8 + [1] * 8 + [2] * 8 + [3] * 8 and evaluate.judge_classes(config) == 4
    assert np.array_equal(images[8 + 1], data.to_unit_range(np.rot90(pictures.images[1])).numpy())
    assert evaluate.min_accuracy(config) == 0.625 and evaluate.judge_path("j", config).name.startswith(
        "judge-flat-32px-"
    )
    monkeypatch.setattr(evaluate, "judge_outputs", brightness_features)
    generator = models.build_generator(config)
    results = evaluate.evaluate(config, generator, None, None, pictures, pictures, num=8, seed=0, memorisation=False)
    assert results["generated"] == {
        "score": None,
        "frechet_distance": results["generated"]["frechet_distance"],
        "confident_share": None,
        "asked_class_share": None,
        "class_shares": None,
    }
    # The Fréchet distance of the brightness alone: |mean g - mean t|^2 + var g + var t - 2 sqrt(var g var t).
    drawn = generate.draw(generator, generate.new_inputs(config, 8, 0, stream=2, label_shares=None))
    generated, real = drawn.mean(axis=(1, 2, 3)), pictures.images.astype(np.float64).mean(axis=(1, 2, 3))
    variance_g, variance_t = np.var(generated, ddof=1), np.var(real, ddof=1)
    expected = (generated.mean() - real.mean()) ** 2 + variance_g + variance_t - 2 * np.sqrt(variance_g * variance_t)
    assert results["generated"]["frechet_distance"] == pytest.approx(expected, rel=1e-6)
    report = evaluate.report(results, 0.7, config)
    assert "Frechet distance" in report and "score" not in report and "share of" not in report


def test_a_judge_of_few_pictures_below_its_bar_is_kept_and_said_so(tmp_path, monkeypatch):
    # Blank pictures look alike in every rotation: the judge can only guess, a quarter of the time right.
    blank = data.Pictures(np.zeros((16, 28, 28, 3), np.uint8), np.zeros(16, np.int32), (), "blank")
    config = config_lib.with_pictures(config_lib.resolve({}), data.facts(blank, "blank"))
    monkeypatch.setattr(evaluate, "JUDGE_EXAMPLES", 640)  # 10 epochs of 16 pictures in 4 rotations, then 3 more.
    lines = []
    judge, accuracy = evaluate.load_or_train_judge(tmp_path, config, blank, blank, log=lines.append)
    assert accuracy == 0.25 and lines == [
        "judge: trained for 13 epochs, test accuracy 0.2500",
        "judge: below the bar of 0.625 for these pictures (half way from chance to perfect): its figures "
        "compare runs on them, but say less of the pictures themselves",
    ]
    assert evaluate.judge_path(tmp_path, config).exists() and judge.output_shape == (None, 4)

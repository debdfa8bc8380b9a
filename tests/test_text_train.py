"""A text run through the command line and the library: both phases, bitwise resumes, sampling, evaluation, and
every bad input's one line."""

import dataclasses
import json
import math
import shutil

import numpy as np
import pytest

from gan_tf.runtime import checkpoints
from gan_tf.text import config as config_lib
from gan_tf.text import data
from gan_tf.text import evaluate
from gan_tf.text import train
from tests.conftest import error_line
from tests.conftest import fingerprint
from tests.conftest import gan_tf
from tests.conftest import saved_variables
from tests.conftest import train_texts_command
from tests.conftest import write_mnist_npz
from tests.conftest import write_poems


def test_train_writes_both_phases_frames_the_page_and_its_settings(text_run):
    root, folder, stdout = text_run
    assert "epoch 2/2  language_model " in stdout and "epoch 1/1  generator " in stdout and "texts/s" in stdout
    assert stdout.count("held-out texts: ") == 3
    config = json.loads((root / "checkpoints" / "config.json").read_text())
    assert config["kind"] == "text" and config["class_names"] == ["north", "south"]
    assert config["vocabulary"][:3] == ["[END]", "<north>", "<south>"] and config["sequence_length"] == 10
    # 72 training texts (every tenth of the 80 held out), batches of 8: 9 steps an epoch.
    assert checkpoints.saved_names(root / "checkpoints" / "language-model")[-1] == "ckpt-18"
    assert checkpoints.saved_names(root / "checkpoints" / "gan") == ["ckpt-9"]
    frames = root / "outputs" / "frames"
    assert sorted(path.name for path in (frames / "language-model").iterdir()) == ["epoch_0001.txt", "epoch_0002.txt"]
    assert len((frames / "gan" / "epoch_0001.txt").read_text(encoding="utf-8").splitlines()) == 2
    page = (root / "outputs" / "training.md").read_text(encoding="utf-8")
    assert "## Text 2" in page and "| language model | 2 |" in page and "| GAN | 1 |" in page


def test_sampling_writes_the_same_texts_from_the_same_seed(text_run, tmp_path):
    root, _, _ = text_run
    checkpoint_dir = root / "checkpoints"
    for name in ("a", "b"):
        result = gan_tf(
            "sample", "--checkpoint-dir", checkpoint_dir, "--num", 5, "--seed", 3, "--out", tmp_path / f"{name}.txt"
        )
        assert result.returncode == 0 and "wrote 5 texts of the GAN (gan/ckpt-9)" in result.stdout
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == (tmp_path / "b.txt").read_text(encoding="utf-8")
    assert len((tmp_path / "a.txt").read_text(encoding="utf-8").splitlines()) == 5
    result = gan_tf("sample", "--checkpoint-dir", checkpoint_dir, "--model", "lm", "--label", "south", "--num", 3,
                    "--prompt", "明月", "--output-dir", tmp_path)  # fmt: skip
    assert "the language model (language-model/ckpt-18)" in result.stdout
    assert all(line.startswith("明月") for line in (tmp_path / "samples.txt").read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    "command, message",
    [
        (["sample", "--digit", 3], "--digit means nothing for a text run"),
        (["sample", "--label", "west"], "this run has no class 'west': its classes are north, south"),
        (["sample", "--acrostic", "冬"], "never seen 冬"),
        (["sample", "--out", "x.png"], "the output must end in .txt"),
        (["reconstruct"], "holds a text run: this command works on picture runs"),
        (["export", "--out", "."], "already holds files"),
    ],
)
def test_what_means_nothing_for_a_text_run_is_refused(text_run, tmp_path, command, message):
    root, _, _ = text_run
    before = fingerprint(root)
    assert message in error_line(gan_tf(*command, "--checkpoint-dir", root / "checkpoints"))
    assert fingerprint(root) == before


def test_bad_text_inputs_get_one_line_and_nothing_is_written(tmp_path):
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01" * 50)
    few = write_poems(tmp_path / "few", total=12, classes=())
    folder = write_poems(tmp_path / "poems", classes=())
    for data_path, flags, message in [
        (binary, [], "is not UTF-8 text"),
        (few, ["--batch-size", 16], "only 11 training texts, fewer than one batch of 16"),
        (folder, ["--image-size", 32], "--image-size means nothing for a text run"),
        (folder, ["--preset", "tutorial"], "--preset tutorial is for pictures"),
        (folder, ["--embedding-dim", 15], "does not split into --heads 2"),
        (folder, ["--feature-matching", 1], "--feature-matching needs --gumbel-temperature"),
    ]:
        assert message in error_line(train_texts_command(data_path, tmp_path / "run", *flags)), message
        assert not (tmp_path / "run").exists()
    pictures = write_mnist_npz(tmp_path / "mnist.npz")
    picture_flag = gan_tf("train", "--data", pictures, "--max-length", 10, "--checkpoint-dir", tmp_path / "run")
    assert "--max-length means nothing for a picture run: drop it." in error_line(picture_flag)
    assert not (tmp_path / "run").exists()


def train_phases(config, texts, held_out, root, fresh=False, stop=None):
    runs = train.open_runs(root / "checkpoints", root / "outputs", fresh=fresh, log=lambda line: None)
    return train.train(config, texts, held_out, runs, progress=False, stop=stop)


def at_the_gans_step_4(state):
    return "discriminator" in state.networks and int(state.step) == 4


@pytest.mark.slow  # Three runs of both phases.
def test_a_stopped_gan_resumes_bitwise_and_more_epochs_extend_each_phase(text_run, tmp_path):
    root, folder, _ = text_run  # Trained straight through by the command line.
    texts, held_out = data.load(str(folder), "train"), data.load(str(folder), "test")
    config = config_lib.with_texts(config_lib.PRESETS["tiny"], texts, str(folder))  # The command line's config.
    # A stop in the middle of the GAN's epoch (a kill -9 in either phase: tests/test_kill.py).
    train_phases(config, texts, held_out, tmp_path / "resumed", stop=at_the_gans_step_4)
    assert checkpoints.saved_names(tmp_path / "resumed" / "checkpoints" / "gan") == ["ckpt-4"]
    states = train_phases(config, texts, held_out, tmp_path / "resumed")
    assert int(states[train.GAN].step) == 9
    for phase in ("language-model", "gan"):
        straight, resumed = (saved_variables(path / "checkpoints" / phase) for path in (root, tmp_path / "resumed"))
        left_out = "save_counter/.ATTRIBUTES/VARIABLE_VALUE"  # The resumed run saved more often.
        assert [
            name for name in straight if name != left_out and not np.array_equal(straight[name], resumed[name])
        ] == []
    # More epochs of both: the language model trains its third, the GAN its second from where it was.
    more = train_phases(dataclasses.replace(config, epochs=3, gan_epochs=2), texts, held_out, tmp_path / "resumed")
    assert (int(more[train.LANGUAGE_MODEL].epoch), int(more[train.LANGUAGE_MODEL].step)) == (3, 27)
    assert (int(more[train.GAN].epoch), int(more[train.GAN].step)) == (2, 18)


def test_evaluate_puts_both_models_beside_real_texts(text_run, tmp_path, monkeypatch):
    monkeypatch.setattr(evaluate, "JUDGE_EXAMPLES", 200)
    monkeypatch.setattr(evaluate, "REVERSE_STEPS", 5)
    monkeypatch.setattr(evaluate, "TEMPERATURES", (0.8, 1.2))
    root, _, _ = text_run
    shutil.copytree(root / "checkpoints", tmp_path / "checkpoints")  # The judge is saved beside the run.
    result = gan_tf("evaluate", "--checkpoint-dir", tmp_path / "checkpoints", "--num", 4, "--out", tmp_path / "e.json")
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert list(results["sets"]) == ["language model", "GAN", "real"] and results["num"] == 4
    assert [point["temperature"] for point in results["sweep"]["GAN"]] == [0.8, 1.2]
    assert (tmp_path / "quality-diversity.png").stat().st_size > 1000
    real = results["sets"]["real"]
    assert real["copied_share"] == 0 and real["form_share"] == 1 and math.isfinite(real["reverse_loss"])
    assert "self-BLEU-4" in result.stdout and "copied from training texts" in result.stdout
    sweep = results["sweep"]
    assert results["beyond"] == evaluate.beyond(sweep["GAN"], sweep["language model"])
    assert "the GAN beyond the language model's curve" in result.stdout


def test_bench_times_both_steps_and_counts_their_operations(tmp_path):
    folder = write_poems(tmp_path / "poems", classes=())
    lines = []
    texts = data.load(str(folder), "train")
    config = config_lib.with_texts(config_lib.PRESETS["tiny"], texts, str(folder))
    from gan_tf.runtime import speed
    from gan_tf.tools import bench
    from gan_tf.tools import bench_text

    variants = bench.speed_variants(speed.resolve(config, on_gpu=False), cache=False)[-1:]  # Prefetch off: one is
    # enough to read the table (each setting builds and traces both steps again).
    bench_text.run(config, texts, window_seconds=0.2, log=lines.append, variants=variants)
    steps = [line for line in lines if " step:" in line]
    assert [line.split(" step:")[0].strip() for line in steps] == ["language model", "GAN"]
    assert all("tokens/s" in line and "of tf.matmul's" in line for line in steps)
    assert lines[lines.index(steps[-1]) + 1].startswith("peak memory: ")
    gan_flops, lm_flops = (float(line.split("tokens/s")[1].split("MFLOP")[0]) for line in reversed(steps))
    assert gan_flops > 2 * lm_flops  # G writes, reads with the language model too, and D reads both.
    parts = [timings(line) for line in lines[lines.index(next(x for x in lines if x.startswith("parts of"))) + 1 :][:2]]
    assert [part.keys() for part in parts] == [
        {"whole step", "forward", "forward to the logits", "forward and gradients"},
        {"whole step", "G writing its texts", "without its KL term"},
    ] and all(milliseconds > 0 for part in parts for milliseconds in part.values())
    settings = lines[lines.index(next(line for line in lines if line.startswith("speed settings"))) + 2 :]
    assert [line.rsplit(":", 1)[0].strip() for line in settings] == [label for label, _ in variants]
    assert all(float(rate) > 0 for line in settings for rate in line.rsplit(":", 1)[1].split())


def timings(line):
    """{part: milliseconds} of a line of the bench's parts of a step, "  GAN:  whole step 459, G writing its texts 169"."""
    return {
        label.strip(): float(ms) for label, ms in (part.rsplit(" ", 1) for part in line.split(":", 1)[1].split(", "))
    }

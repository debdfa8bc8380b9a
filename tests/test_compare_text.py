"""make compare on texts: each trick from the same language model on the same budget, the table and the plot."""

import csv
import json

import PIL.Image
import pytest

from gan_tf.runtime import errors
from gan_tf.text import config as config_lib
from gan_tf.text import evaluate
from gan_tf.tools import compare_text
from gan_tf.tools import variants
from tests.conftest import error_line
from tests.conftest import gan_tf
from tests.conftest import write_poems


def test_each_text_variant_is_one_trick_over_the_defaults_on_the_same_budget():
    base = config_lib.resolve({})
    assert compare_text.variant_config(base, "default", 2) == config_lib.resolve({"gan_epochs": 2})
    assert compare_text.variant_config(base, "no-kl", 2).kl_weight == 0.0
    model = compare_text.variant_config(base, "language-model", 2)  # Two more epochs of maximum likelihood.
    assert (model.epochs, model.gan_epochs) == (base.epochs + 2, 0)
    scratch = compare_text.variant_config(base, "no-pretraining", 2)  # As many tokens as the model saw in all.
    assert (scratch.pretrain, scratch.gan_epochs) == ("off", base.epochs + 2)
    feature_matching = compare_text.variant_config(base, "feature-matching", 1)
    assert (
        compare_text.flags(feature_matching, base) == "--gan-epochs 1 --gumbel-temperature 1.0 --feature-matching 1.0"
    )
    for bad in ["hinges", "conditional/hinges"]:
        with pytest.raises(errors.UserError, match="--variants"):
            variants.check_variant(bad)


@pytest.mark.slow
def test_compare_on_texts_writes_the_table_the_curves_and_keeps_what_is_done(tmp_path):
    folder = write_poems(tmp_path / "poems", classes=())
    chosen = ["language-model", "default", "no-kl"]
    lines = []
    results = compare_text.run(chosen, str(folder), tmp_path / "out", 1, log=lines.append, preset="tiny", num=4)
    root = tmp_path / "out" / "compare"
    assert [result["variant"] for result in results] == chosen
    for result in results:
        assert result["tokens"] == 72 * (result_length(root) - 1) and result["tokens_per_second"] > 0
        assert len(result["curve"]) == 7 and 0 <= result["form_share"] <= 1
        assert (root / "runs" / result["variant"] / "result.json").is_file()
        assert not (root / "runs" / result["variant"] / "checkpoints").exists()
    table = (root / "results.md").read_text().splitlines()
    assert [line.split(" | ")[0] for line in table[2:]] == [f"| {name}" for name in chosen] + ["| real texts"]
    with open(root / "results.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["variant"] for row in rows] == chosen
    # Each GAN variant's gap beyond the language model's curve, in both tables; none for the language model.
    assert rows[0]["beyond_bleu4"] == "" and table[2].endswith("|  |  |")
    for row, result, line in zip(rows[1:], results[1:], table[3:]):
        gaps = evaluate.beyond(result["curve"], results[0]["curve"])
        assert row["beyond_bleu4"] == ("" if gaps["bleu4"] is None else str(gaps["bleu4"]["gap"]))
        assert evaluate.gap_text(gaps["judge_loss"], 3) in line
    assert PIL.Image.open(root / "quality-diversity.png").size[0] > 800
    # Run again: every variant is kept, none trained.
    again = []
    compare_text.run(chosen, str(folder), tmp_path / "out", 1, log=again.append, preset="tiny", num=4)
    assert sum("done before, kept" in line for line in again) == 3
    assert json.loads((root / "runs" / "no-kl" / "result.json").read_text()) == results[2]


def result_length(root):
    config = json.loads((root / "language-model" / "checkpoints" / "config.json").read_text())
    return config["sequence_length"]


def test_picture_variants_on_texts_are_refused(tmp_path):
    folder = write_poems(tmp_path / "poems", classes=())
    result = gan_tf("compare", "--data", folder, "--variants", "conditional/hinge", "--output-dir", tmp_path / "out")
    assert "the data are texts: name text variants" in error_line(result)
    assert not (tmp_path / "out").exists()

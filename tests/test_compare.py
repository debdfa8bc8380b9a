"""make compare: variants by name, a time budget per variant, the tables and plot, and skipping what is done."""

import csv
import dataclasses
import json

import PIL.Image
import pytest

from gan_tf import config as config_lib
from gan_tf import evaluate
from gan_tf.runtime import errors
from gan_tf.tools import clock as clock_lib
from gan_tf.tools import compare
from gan_tf.tools import variants
from tests.conftest import synthetic_digits


def test_variant_names_give_flags_over_each_modes_defaults():
    hinge = variants.variant_config("unconditional/hinge+augment")
    assert (hinge.conditional, hinge.loss, hinge.augment) == ("off", "hinge", "on")
    assert hinge.clusters == config_lib.UNCONDITIONAL_DEFAULTS["clusters"]  # The mode's own defaults underneath.
    assert variants.flags(hinge) == "--loss hinge --augment on"
    assert variants.variant_config("conditional/default") == config_lib.Config()
    # The default list: every variant that changes its mode's defaults, and the defaults themselves.
    listed = variants.default_variants()
    assert "conditional/generator-average" in listed and "unconditional/no-clusters" in listed
    assert not {"unconditional/spectral-norm", "unconditional/generator-average", "conditional/no-clusters"} & set(
        listed
    )
    assert len(listed) == 2 * len(variants.VARIANTS) - 3 and listed[0] == "conditional/default"
    for bad in ["hinge", "sideways/hinge", "conditional/hinges"]:
        with pytest.raises(errors.UserError, match="--variants"):
            variants.variant_config(bad)


def test_the_budget_clock_stops_when_the_budget_is_spent(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(clock_lib.time, "perf_counter", lambda: clock[0])
    timeline = compare.Timeline(config_lib.Config(), None, None, None, budget_seconds=60)
    clock[0] = 130.0
    assert not timeline.over() and timeline.training_seconds() == 30.0
    clock[0] = 175.0
    assert timeline.over() and timeline.training_seconds() == 75.0
    clock[0] = 190.0  # Saving the last checkpoint after the stop is not training.
    assert timeline.over() and timeline.training_seconds() == 75.0


@pytest.mark.slow  # Two variants trained and judged.
def test_compare_trains_each_variant_for_its_budget_writes_the_tables_and_skips_what_is_done(tmp_path, monkeypatch):
    # Tiny networks instead of the default ones, and an untrained judge: the bookkeeping is under test here.
    monkeypatch.setitem(config_lib.PRESETS, "default", dataclasses.replace(config_lib.PRESETS["tiny"], frame_grid=2))
    monkeypatch.setitem(config_lib.UNCONDITIONAL_DEFAULTS, "clusters", 4)
    monkeypatch.setattr(compare, "EVALUATION_SAMPLES", 50)
    evaluate.build_judge().save(tmp_path / evaluate.JUDGE_FILENAME)
    names = ["conditional/default", "unconditional/hinge"]
    lines = []

    def compare_for_a_moment():
        return compare.run(
            names,
            synthetic_digits(40),
            synthetic_digits(20, 2),
            tmp_path,
            tmp_path / "outputs",
            minutes=0.001,
            log=lines.append,
        )

    results = compare_for_a_moment()
    root = tmp_path / "outputs" / "compare"
    assert [result["variant"] for result in results] == names
    for result in results:
        # Stopped by the budget of 0.06 s: after its first step, measured once, with every column filled.
        assert result["steps"] >= 1 and len(result["timeline"]) >= 1
        assert result["training_seconds"] >= 0.06
        assert result["images_per_second"] == result["steps"] * 16 / result["training_seconds"]  # Batches of 16.
        # The table's figures are those of the last measurement, taken at the end of the budget.
        final = result["timeline"][-1]
        assert final["step"] == result["steps"]
        assert (result["mnist_score"], result["frechet_distance"]) == (final["mnist_score"], final["frechet_distance"])
        run_dir = root / "runs" / result["variant"].replace("/", "-")
        assert (run_dir / "logs").is_dir() and json.loads((run_dir / "result.json").read_text())["steps"] == result[
            "steps"
        ]
        assert not (run_dir / "checkpoints").exists()
    assert results[1]["flags"] == "--loss hinge" and results[1]["asked_digit_share"] != results[1]["asked_digit_share"]
    with open(root / "results.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["variant"] for row in rows] == names and list(rows[0]) == compare.COLUMNS
    table = (root / "results.md").read_text().splitlines()
    assert table[0].startswith("| variant | MNIST score") and len(table) == 2 + len(names)
    assert PIL.Image.open(root / "score.png").size == (1100, 550)

    lines.clear()
    again = compare_for_a_moment()
    assert sum("done before, kept" in line for line in lines) == 2
    assert [result["steps"] for result in again] == [result["steps"] for result in results]

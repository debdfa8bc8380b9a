"""make compare: variants by name, a time budget per variant, the tables and plot, and skipping what is done."""

import csv
import dataclasses
import json

import PIL.Image
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import evaluate
from gan_tf import mnist
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
    assert "conditional/projection" in listed and "conditional/concatenate" not in listed
    # Left out on digits: the loss, concatenation and (no) clusters told the class; spectral norm, the average,
    # concatenation and the clusters without classes, all defaults; and non-saturating in both modes.
    assert len(listed) == 2 * len(variants.VARIANTS) - 9 and listed[0] == "conditional/default"
    assert not {"conditional/clusters", "unconditional/clusters", "conditional/non-saturating"} & set(listed)
    colour = {"image_size": 32, "channels": 3, "class_names": ("cat", "dog"), "data": "/pets"}
    on_colour = variants.default_variants(facts=colour)  # Their defaults take the class at every layer.
    assert "conditional/concatenate" in on_colour and "conditional/projection" not in on_colour
    # Without classes colour pictures train with hinge and no clusters: so no projection or class loss either.
    assert {"unconditional/non-saturating", "unconditional/clusters", "unconditional/generator-average"} <= set(
        on_colour
    )
    assert not {"unconditional/hinge", "unconditional/no-clusters", "unconditional/projection"} & set(on_colour)
    concatenated = variants.variant_config("conditional/concatenate", colour)
    assert (
        variants.flags(concatenated, colour) == "--class-conditioning concatenate --class-loss 0.0"
    )  # It reads a projection.
    unlabelled = variants.default_variants(labelled=False)  # A flat folder: no conditional variant.
    assert unlabelled == [name for name in listed if name.startswith("unconditional/")]
    for bad in ["hinge", "sideways/hinge", "conditional/hinges"]:
        with pytest.raises(errors.UserError, match="--variants"):
            variants.variant_config(bad)


class FakeState:
    """What a Timeline reads of a TrainingState: the counters."""

    def __init__(self):
        self.epoch, self.epoch_examples, self.step = tf.Variable(0), tf.Variable(0), tf.Variable(0)

    def train(self, images, batch=10, per_epoch=100):
        for _ in range(images // batch):
            self.step.assign_add(1)
            self.epoch_examples.assign_add(batch)
            if int(self.epoch_examples.numpy()) == per_epoch:
                self.epoch.assign_add(1)
                self.epoch_examples.assign(0)


class FakeJudgement:
    def figures(self, config, state, num):
        return {name: float(num) for name in compare.FIGURES}


def test_the_budget_is_images_and_points_are_measured_along_the_way_with_the_clock_paused(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(clock_lib.time, "perf_counter", lambda: clock[0])
    timeline = compare.Timeline(
        config_lib.Config(), FakeJudgement(), images_per_epoch=100, epochs=1.5, log=lambda _: None
    )
    assert (timeline.budget, timeline.spacing) == (150, 12.5)  # 8 points an epoch.
    state, stops = FakeState(), []
    for _ in range(15):  # A step of 10 images a second, measured in 5 s when at a point.
        state.train(10)
        clock[0] += 1.0
        measured = len(timeline.points)
        stops.append(timeline(state))
        if len(timeline.points) > measured:
            with timeline.clock.paused():
                clock[0] += 5.0
    assert stops == [False] * 14 + [True]
    # A point each time a multiple of 12.5 images is passed, and one at the end.
    assert [point["images"] for point in timeline.points] == [20, 30, 40, 50, 70, 80, 90, 100, 120, 130, 140, 150]
    assert [point["seconds"] for point in timeline.points[:2]] == [2.0, 3.0]  # Measuring is not training.
    assert timeline.points[-1]["score"] == compare.CURVE_SAMPLES
    assert timeline.final == {"images": 150, "seconds": 15.0, "step": 15} | {
        name: float(compare.FINAL_SAMPLES) for name in compare.FIGURES
    }
    clock[0] += 30.0  # Saving the last checkpoint after the stop is not training.
    assert timeline(state) and timeline.training_seconds() == 15.0


def test_a_run_shorter_than_an_epoch_gets_eight_points_and_a_long_run_of_a_small_folder_fifty():
    timeline = compare.Timeline(config_lib.Config(), FakeJudgement(), images_per_epoch=60_000, epochs=0.5)
    assert timeline.budget == 30_000 and timeline.budget / timeline.spacing == compare.POINTS_PER_EPOCH
    timeline = compare.Timeline(config_lib.Config(), FakeJudgement(), images_per_epoch=400, epochs=250)
    assert timeline.budget == 100_000 and timeline.budget / timeline.spacing == compare.MAX_POINTS


@pytest.mark.slow  # Two variants trained and judged.
def test_compare_trains_each_variant_on_its_budget_of_images_writes_the_tables_and_skips_what_is_done(
    tmp_path, monkeypatch
):
    # Tiny networks instead of the default ones, and an untrained judge: the bookkeeping is under test here.
    monkeypatch.setitem(config_lib.PRESETS, "default", dataclasses.replace(config_lib.PRESETS["tiny"], frame_grid=2))
    monkeypatch.setitem(config_lib.UNCONDITIONAL_DEFAULTS, "clusters", 4)
    monkeypatch.setattr(compare, "CURVE_SAMPLES", 20)
    monkeypatch.setattr(compare, "FINAL_SAMPLES", 50)
    evaluate.build_judge().save(tmp_path / mnist.DIGITS.judge_file)
    names = ["conditional/default", "unconditional/hinge"]
    lines = []

    def compare_for_a_moment():
        return compare.run(
            names,
            synthetic_digits(64),
            synthetic_digits(20, 2),
            tmp_path,
            tmp_path / "outputs",
            epochs=1.5,
            log=lines.append,
        )

    results = compare_for_a_moment()
    root = tmp_path / "outputs" / "compare"
    assert [result["variant"] for result in results] == names
    for result in results:
        # 96 images in batches of 16: 6 steps, a point every 8 images, so after every step.
        assert (result["images"], result["steps"]) == (96, 6)
        assert [point["images"] for point in result["curve"]] == [16, 32, 48, 64, 80, 96]
        assert result["images_per_second"] == 96 / result["training_seconds"]
        run_dir = root / "runs" / result["variant"].replace("/", "-")
        assert (run_dir / "logs").is_dir() and json.loads((run_dir / "result.json").read_text())["steps"] == 6
        assert not (run_dir / "checkpoints").exists()
    assert results[1]["flags"] == "--loss hinge" and results[1]["asked_class_share"] is None
    assert results[0]["asked_class_share"] is not None
    with open(root / "results.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["variant"] for row in rows] == names and list(rows[0]) == compare.COLUMNS
    with open(root / "curves.csv") as file:
        assert len(list(csv.DictReader(file))) == 12
    table = (root / "results.md").read_text().splitlines()
    assert table[0].startswith("| variant | score | Fréchet distance") and len(table) == 2 + len(names)
    assert PIL.Image.open(root / "curves.png").size == (1400, 550)  # Two panels and the legends.

    lines.clear()
    again = compare_for_a_moment()
    assert sum("done before, kept" in line for line in lines) == 2
    assert [result["steps"] for result in again] == [result["steps"] for result in results]


def test_each_trick_keeps_its_colour_in_both_modes_and_the_defaults_are_black():
    results = [{"variant": name} for name in variants.default_variants() + ["conditional/hinge+augment"]]
    colours = compare.trick_colours(results)
    tricks = {name.partition("/")[2] for name in variants.default_variants()} | {"hinge+augment"}
    assert set(colours) == tricks and colours["default"] == "black"
    assert len({tuple(colour) for trick, colour in colours.items() if trick != "default"}) == len(tricks) - 1

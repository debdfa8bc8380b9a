"""make compare: the GAN lab's variants trained side by side on the same images, and measured along the way.

Each variant is a set of flags over a mode's defaults (tools/variants.py). Every one trains on the same
pictures from the same seed for the same budget of training images (--epochs, fractions allowed), so
the results mean the same on any processor. The judge measures it at fixed points along the way (8
per epoch, at most 50 a run, on 2,000 samples) and at the end of its budget (10,000, as make evaluate does); the
time it measures is not counted as training. Under the output directory:

  compare/results.md, results.csv   one row per variant: the figures at the end of its budget
  compare/curves.csv                every point along the way: variant, images seen, figures
  compare/curves.png                score and Fréchet distance against images seen, a colour per trick,
                                    a line style per mode
  compare/runs/<variant>/           its frames, GIF, logs/ (TensorBoard) and result.json

`make tensorboard` shows all the runs' logs together. A variant whose result.json exists is not
trained again; one that was interrupted starts over.
"""

import csv
import dataclasses
import json
import math
import pathlib
import shutil
import time

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import train
from gan_tf.runtime import files
from gan_tf.tools import clock
from gan_tf.tools.variants import VARIANTS
from gan_tf.tools.variants import flags
from gan_tf.tools.variants import variant_config

POINTS_PER_EPOCH = 8  # Points along the way: this many per epoch (and per run shorter than an epoch) ...
MAX_POINTS = 50  # ... but at most this many a run: a small folder's epoch is a few steps.
CURVE_SAMPLES = 2_000  # Pictures judged at each point along the way ...
FINAL_SAMPLES = 10_000  # ... and at the end, as make evaluate: Fréchet distances of 2,000 samples run higher.
FIGURES = ["score", "frechet_distance", "min_class_share", "max_class_share", "confident_share", "asked_class_share"]
COLUMNS = ["variant", "flags", "images", *FIGURES, "images_per_second", "training_seconds", "steps"]


class Judgement:
    """The judge's figures for a generator's pictures, against the test pictures' features (found once)."""

    def __init__(self, judge, test_pictures, seed=0):
        self.judge, self.seed = judge, seed
        _, self.test_features = evaluate.judge_outputs(judge, test_pictures.images)

    def figures(self, config, state, num):
        """FIGURES (evaluate.generated_figures) of `num` pictures drawn by the run's picture-drawing generator;
        None where the judge has no classes to read."""
        generator, label_shares = train.drawing_generator(state), train.label_shares(state)
        _, judged = evaluate.judge_generated(
            config, generator, self.judge, self.test_features, num, self.seed, label_shares
        )
        return evaluate.generated_figures(judged)


class Timeline:
    """One variant's budget of training images, and the judge's figures along the way: train.train's `stop`.

    Called with the TrainingState after every compiled call; measures the run when it passes the next
    point, and says stop once the run has trained on `epochs` epochs of pictures. Measuring is not
    training: the clock is paused meanwhile, and stopped at the end of the budget.
    """

    def __init__(self, config, judgement, images_per_epoch, epochs, log=print):
        self.config, self.judgement, self.log = config, judgement, log
        self.images_per_epoch = images_per_epoch
        self.budget = budget_images(epochs, images_per_epoch)
        self.spacing = max(min(images_per_epoch, self.budget) / POINTS_PER_EPOCH, self.budget / MAX_POINTS)
        self.clock = clock.TrainingClock()
        self.stopped = None  # The training seconds at the end of the budget.
        self.points = []  # Dicts: images seen, training seconds, step, FIGURES on CURVE_SAMPLES pictures.
        self.final = None  # FIGURES on FINAL_SAMPLES pictures at the end of the budget.

    def training_seconds(self):
        """Seconds of training so far, measuring left out; once the budget is spent, the clock stops."""
        return self.stopped if self.stopped is not None else self.clock.seconds()

    def images_seen(self, state):
        return int(state.epoch.numpy()) * self.images_per_epoch + int(state.epoch_examples.numpy())

    def __call__(self, state):
        """Measures at a point along the way or at the end; True once the budget is spent."""
        if self.stopped is not None:
            return True
        seen = self.images_seen(state)
        over = seen >= self.budget
        if over:
            self.stopped = self.clock.seconds()
        if over or seen >= (len(self.points) + 1) * self.spacing:
            with self.clock.paused():
                self.measure(state, seen, final=over)
        return over

    def measure(self, state, seen, final):
        point = {"images": seen, "seconds": self.training_seconds(), "step": int(state.step.numpy())}
        self.points.append({**point, **self.judgement.figures(self.config, state, CURVE_SAMPLES)})
        if final:
            self.final = {**point, **self.judgement.figures(self.config, state, FINAL_SAMPLES)}
            self.log(f"  {seen:,} images: {describe(self.final)} ({FINAL_SAMPLES:,} samples)")


def budget_images(epochs, images_per_epoch):
    """The training images `epochs` epochs of `images_per_epoch` pictures come to (at least one)."""
    return max(1, round(epochs * images_per_epoch))


def describe(figures):
    """A point's figures in a line of the log."""
    score = figures["score"]
    return ("" if score is None else f"score {score:.3f}  ") + f"Frechet distance {figures['frechet_distance']:.2f}"


def run_variant(variant, pictures, judgement, root, epochs, on_gpu=False, log=print, where="mnist"):
    """Trains one variant on `epochs` epochs of pictures and returns its result (also written as result.json)."""
    facts = data.facts(pictures, where)
    config = variant_config(variant, facts)
    variant_flags = flags(config, facts)
    budget = budget_images(epochs, len(pictures.images))
    log(f"  {epochs:g} epochs, {budget:,} images ({variant_flags or 'the defaults'})")
    config = dataclasses.replace(config, epochs=math.ceil(epochs), eval_every=0, checkpoint_every_seconds=0.0)
    directory = root / "runs" / variant.replace("/", "-")
    if directory.exists():  # An interrupted attempt: start over.
        shutil.rmtree(directory)
    timeline = Timeline(config, judgement, len(pictures.images), epochs, log)
    run = train.open_run(directory / "checkpoints", directory, log=log)
    train.train(config, pictures, run, progress=False, on_gpu=on_gpu, stop=timeline)
    final, seconds = timeline.final, timeline.training_seconds()
    result = {
        "variant": variant,
        "flags": variant_flags,
        "images": final["images"],
        **{name: final[name] for name in FIGURES},
        "images_per_second": final["images"] / seconds,
        "training_seconds": seconds,
        "steps": final["step"],
        "curve": timeline.points,
    }
    shutil.rmtree(directory / "checkpoints")  # Only the measurements are kept: a checkpoint per variant is large.
    files.write_text(directory / "result.json", json.dumps(result, indent=2) + "\n")
    return result


def run(
    variants, train_pictures, test_pictures, judge_directory, output_dir, epochs, on_gpu=False, log=print, where="mnist"
):
    """Trains and measures each variant not done yet, then writes the tables and the plot. Returns the results."""
    for variant in variants:
        variant_config(variant)  # Every name is checked before hours of training.
    root = files.check_directory(pathlib.Path(output_dir) / "compare")
    pictures_config = config_lib.with_pictures(config_lib.resolve({}), data.facts(train_pictures, where))
    judge, accuracy = evaluate.load_or_train_judge(
        judge_directory, pictures_config, train_pictures, test_pictures, log=log
    )
    log(f"judge: test accuracy {accuracy:.4f}")
    judgement = Judgement(judge, test_pictures)
    results, start = [], time.perf_counter()
    for number, variant in enumerate(variants, start=1):
        done = root / "runs" / variant.replace("/", "-") / "result.json"
        if done.exists():
            log(f"[{number}/{len(variants)}] {variant}: done before, kept ({done})")
            results.append(json.loads(done.read_text()))
            continue
        log(f"[{number}/{len(variants)}] {variant}")
        results.append(run_variant(variant, train_pictures, judgement, root, epochs, on_gpu, log, where))
    write_tables(results, root)
    budget = budget_images(epochs, len(train_pictures.images))
    plot(results, root / "curves.png", title=f"{pathlib.Path(where).name}: {epochs:g} epochs,\n{budget:,} images")
    log(f"wrote {root / 'results.md'}, results.csv, curves.csv and curves.png ({time.perf_counter() - start:.0f} s)")
    return results


def cell(value, digits=3):
    if value is None or value != value:  # None or NaN.
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def write_tables(results, root):
    """results.csv (every column), results.md (a table to read) and curves.csv (every point)."""
    write_csv(root / "results.csv", COLUMNS, [[result.get(column) for column in COLUMNS] for result in results])
    write_csv(
        root / "curves.csv",
        ["variant", "images", "seconds", "step", *FIGURES],
        [
            [result["variant"], *(point[name] for name in ["images", "seconds", "step", *FIGURES])]
            for result in results
            for point in result["curve"]
        ],
    )
    header = [
        "variant",
        "score",
        "Fréchet distance",
        "class shares",
        "confident",
        "asked class",
        "images/s",
        "s of training",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        cells = [
            result["variant"],
            cell(result["score"]),
            cell(result["frechet_distance"], 2),
            f"{cell(result['min_class_share'])}-{cell(result['max_class_share'])}",
            cell(result["confident_share"]),
            cell(result["asked_class_share"]),
            cell(result["images_per_second"], 0),
            cell(result["training_seconds"], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    files.write_text(root / "results.md", "\n".join(lines) + "\n")


def write_csv(path, header, rows):
    with files.atomic_path(path) as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


LINE_STYLES = {"conditional": "-", "unconditional": "--"}


def trick_colours(results):
    """The trick (the variant's name less its mode) -> a colour, the same in both modes: the defaults black,
    the lab's tricks in VARIANTS's order, then combinations."""
    from matplotlib import colormaps

    tricks = sorted({result["variant"].partition("/")[2] for result in results}, key=trick_order)
    palette = [colormaps["tab10"](index) for index in range(10) if index != 7] + [  # Grey is the modes' legend.
        colormaps["tab20b"](index) for index in range(0, 20, 2)
    ]
    others = [trick for trick in tricks if trick != "default"]
    colours = {"default": "black"} if "default" in tricks else {}
    return colours | {trick: palette[index % len(palette)] for index, trick in enumerate(others)}


def trick_order(trick):
    names = list(VARIANTS)
    return (names.index(trick), "") if trick in names else (len(names), trick)


def plot(results, path, title=""):
    """curves.png: the score and the Fréchet distance against images seen (the score left out when the
    judge reads no classes), a colour per trick and a line style per mode, the legends beside them."""
    import matplotlib

    matplotlib.use("Agg")  # No screen needed.
    from matplotlib import lines as lines_lib
    from matplotlib import pyplot
    from matplotlib import ticker

    panels = [("frechet_distance", f"Fréchet distance ({CURVE_SAMPLES:,} samples, log scale)")]
    if any(point["score"] is not None for result in results for point in result["curve"]):
        panels.insert(0, ("score", f"score (judge, {CURVE_SAMPLES:,} samples)"))
    figure, axes = pyplot.subplots(1, len(panels), figsize=(6 * len(panels) + 2, 5.5), dpi=100, squeeze=False)
    colours = trick_colours(results)
    for (name, label), panel in zip(panels, axes[0], strict=True):
        for result in results:
            mode, _, trick = result["variant"].partition("/")
            points = result["curve"]
            panel.plot(
                [point["images"] / 1000 for point in points],
                [point[name] for point in points],
                LINE_STYLES[mode],
                color=colours[trick],
                marker="o",
                markersize=2.5,
                linewidth=1.3,
            )
        panel.set_xlabel("thousands of training images seen")
        panel.set_ylabel(label)
        panel.grid(alpha=0.3)
        if name == "frechet_distance":  # Spans a hundredfold: a log scale, labelled in plain numbers.
            panel.set_yscale("log")
            panel.yaxis.set_major_formatter(ticker.ScalarFormatter())
            panel.yaxis.set_minor_formatter(ticker.NullFormatter())
            panel.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    handles = [lines_lib.Line2D([], [], color=colour, linewidth=2, label=trick) for trick, colour in colours.items()]
    handles += [
        lines_lib.Line2D([], [], color="grey", linestyle=style, label=mode)
        for mode, style in LINE_STYLES.items()
        if any(result["variant"].startswith(mode + "/") for result in results)
    ]
    figure.legend(handles=handles, loc="center right", fontsize=9, frameon=False, title=title, title_fontsize=9)
    figure.tight_layout(rect=(0, 0, 1 - 1.9 / figure.get_figwidth(), 1))
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)

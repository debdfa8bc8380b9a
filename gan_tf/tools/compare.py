"""make compare: GAN variants trained side by side for the same time, and measured by the judge.

Each variant is a set of flags over a mode's defaults (tools/variants.py). Every one trains on the same data
from the same seed for the same wall-clock budget of training, is measured by the judge (10,000
digits, as make evaluate does) after every epoch and when its budget runs out, and leaves under
the output directory:

  compare/results.md, results.csv   one row per variant: the figures at the end of its budget
  compare/score.png                  the MNIST score against seconds of training, one line per variant
  compare/runs/<variant>/            its frames, GIF, logs/ (TensorBoard) and result.json

`make tensorboard` shows all the runs' logs together. A variant whose result.json exists is not
trained again; one that was interrupted starts over.
"""

import csv
import dataclasses
import json
import pathlib
import shutil

from gan_tf import config as config_lib
from gan_tf import evaluate
from gan_tf import train
from gan_tf.runtime import checkpoints
from gan_tf.runtime import files
from gan_tf.tools import clock
from gan_tf.tools.variants import flags
from gan_tf.tools.variants import variant_config

EVALUATION_SAMPLES = 10_000  # As make evaluate: Fréchet distances of 2,000 samples run higher.
TARGET_SCORE = 9.0
COLUMNS = [
    "variant",
    "flags",
    "mnist_score",
    "frechet_distance",
    "min_class_share",
    "max_class_share",
    "confident_share",
    "asked_digit_share",
    "seconds_to_9",
    "images_per_second",
    "training_seconds",
    "steps",
]


class Timeline:
    """The judge's figures of one variant against its seconds of training, and the budget's clock.

    Called by train.train after every epoch (as its `evaluation`), and once more at the end of the
    budget; the time it spends measuring is not counted as training.
    """

    def __init__(self, config, judge, train_digits, test_digits, budget_seconds, log=print):
        self.config, self.judge, self.train_digits, self.test_digits = config, judge, train_digits, test_digits
        self.budget_seconds, self.log = budget_seconds, log
        self.clock = clock.TrainingClock()
        self.stopped = None  # The training seconds at which over() first said the budget was spent.
        self.points = []  # Dicts: training seconds, step, and evaluate.headline()'s figures.

    def training_seconds(self):
        """Seconds of training so far; once over() is True, the clock stops (saving is not training)."""
        if self.stopped is not None:
            return self.stopped
        return self.clock.seconds()

    def over(self):
        """Whether the budget is spent: train.train's `stop`."""
        if self.stopped is None and self.training_seconds() >= self.budget_seconds:
            self.stopped = self.training_seconds()
        return self.stopped is not None

    def __call__(self, state):
        seconds = self.training_seconds()
        with self.clock.paused():
            figures = evaluate.headline_of_state(
                self.config, state, self.judge, self.train_digits, self.test_digits, EVALUATION_SAMPLES
            )
        self.points.append({"seconds": seconds, "step": int(state.step.numpy()), **figures})
        return figures


def run_variant(variant, train_digits, test_digits, judge, root, minutes, on_gpu=False, log=print, where="mnist"):
    """Trains one variant for `minutes` of training and returns its result (also written as result.json)."""
    variant_flags = flags(variant_config(variant))
    log(f"  {minutes:g} min of training ({variant_flags or 'the defaults'})")
    config = dataclasses.replace(variant_config(variant), epochs=10_000, eval_every=1, checkpoint_every_seconds=0.0)
    config = config_lib.with_pictures(config, train_digits, where)
    directory = root / "runs" / variant.replace("/", "-")
    if directory.exists():  # An interrupted attempt: start over.
        shutil.rmtree(directory)
    timeline = Timeline(config, judge, train_digits, test_digits, minutes * 60, log)
    state = train.train(
        config,
        train_digits,
        directory / "checkpoints",
        directory,
        log=log,
        progress=False,
        evaluation=timeline,
        on_gpu=on_gpu,
        stop=timeline.over,
    )
    seconds = timeline.training_seconds()
    if not timeline.points or timeline.points[-1]["step"] != int(state.step.numpy()):
        figures = timeline(state)  # The end of the budget, in the middle of an epoch.
        log("  quality: " + train.describe_figures(figures))
    final = timeline.points[-1]
    reached = [point["seconds"] for point in timeline.points if point["mnist_score"] >= TARGET_SCORE]
    result = {
        "variant": variant,
        "flags": variant_flags,
        **{name: final[name] for name in COLUMNS if name in final},
        "seconds_to_9": reached[0] if reached else None,
        "images_per_second": int(state.step.numpy()) * config.batch_size / seconds,
        "training_seconds": seconds,
        "steps": int(state.step.numpy()),
        "timeline": timeline.points,
    }
    shutil.rmtree(directory / "checkpoints")  # Only the measurements are kept: a checkpoint per variant is large.
    files.write_text(directory / "result.json", json.dumps(result, indent=2) + "\n")
    return result


def run(
    variants, train_digits, test_digits, judge_directory, output_dir, minutes, on_gpu=False, log=print, where="mnist"
):
    """Trains and measures each variant not done yet, then writes the tables and the plot. Returns the results."""
    for variant in variants:
        variant_config(variant)  # Every name is checked before hours of training.
    root = checkpoints.check_directory(pathlib.Path(output_dir) / "compare")
    pictures_config = config_lib.of_pictures(train_digits, where)
    judge, accuracy = evaluate.load_or_train_judge(judge_directory, pictures_config, train_digits, test_digits, log=log)
    log(f"judge: test accuracy {accuracy:.4f}")
    results = []
    for number, variant in enumerate(variants, start=1):
        done = root / "runs" / variant.replace("/", "-") / "result.json"
        if done.exists():
            log(f"[{number}/{len(variants)}] {variant}: done before, kept ({done})")
            results.append(json.loads(done.read_text()))
            continue
        log(f"[{number}/{len(variants)}] {variant}")
        results.append(run_variant(variant, train_digits, test_digits, judge, root, minutes, on_gpu, log, where))
    write_tables(results, root)
    plot(results, root / "score.png")
    log(f"wrote {root / 'results.md'}, {root / 'results.csv'} and {root / 'score.png'}")
    return results


def cell(value, digits=3):
    if value is None or value != value:  # None or NaN.
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def write_tables(results, root):
    """results.csv (every column) and results.md (a table to read), one row per variant."""
    rows = [[result.get(column) for column in COLUMNS] for result in results]
    with files.atomic_path(root / "results.csv") as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    header = [
        "variant",
        "MNIST score",
        "Fréchet distance",
        "class shares",
        "confident",
        "asked digit",
        "s to 9.0",
        "images/s",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for result in results:
        lines.append(
            "| "
            + " | ".join(
                [
                    result["variant"],
                    cell(result["mnist_score"]),
                    cell(result["frechet_distance"], 2),
                    f"{cell(result['min_class_share'])}-{cell(result['max_class_share'])}",
                    cell(result["confident_share"]),
                    cell(result["asked_digit_share"]),
                    cell(result["seconds_to_9"], 0),
                    cell(result["images_per_second"], 0),
                ]
            )
            + " |"
        )
    files.write_text(root / "results.md", "\n".join(lines) + "\n")


def plot(results, path):
    """score.png: the MNIST score against seconds of training, one line per variant."""
    import matplotlib

    matplotlib.use("Agg")  # No screen needed.
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(11, 5.5), dpi=100)
    for result in results:
        points = result["timeline"]
        style = "-" if result["variant"].startswith("conditional") else "--"
        axes.plot(
            [point["seconds"] for point in points],
            [point["mnist_score"] for point in points],
            style,
            marker="o",
            markersize=3,
            label=result["variant"],
        )
    axes.axhline(TARGET_SCORE, color="grey", linewidth=0.8)
    axes.set_xlabel("seconds of training (evaluation excluded)")
    axes.set_ylabel("MNIST score (judge, 10,000 samples)")
    axes.set_ylim(1, 10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # Beside the plot: points stay visible.
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)

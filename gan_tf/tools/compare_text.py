"""make compare on texts: the text-GAN lab's tricks, each alone over the defaults, against the language model.

Every variant starts from the same language model, trained once on the texts for the default epochs
(compare/language-model/), and then trains the same budget of training tokens, --epochs epochs of the
texts: the language model by more maximum likelihood, each GAN variant by its GAN phase; "no-pretraining"
trains its GAN from scratch for the language model's epochs and the budget, the same tokens as the language
model has seen in all. Each is then measured as `make evaluate` measures (tools shared with text/evaluate.py,
NUM texts a set): its held-out loss, BLEU-4 and self-BLEU-4, the share with a real text's form, the share
copied from the training texts, and its quality-diversity curve over the sweep's temperatures. Under the
output directory:

  compare/results.md, results.csv   a row per variant (and real texts): the figures at temperature 1, and
                                    how far its curve reaches beyond the language model's (evaluate.beyond)
  compare/quality-diversity.png     BLEU-4 and the judge's loss against self-BLEU-4, a curve per variant,
                                    the language model's drawn bold, real texts a star
  compare/runs/<variant>/           its frames, logs/ (TensorBoard, the held-out loss epoch by epoch) and
                                    result.json

A variant whose result.json exists is not trained again.
"""

import collections
import csv
import dataclasses
import json
import math
import pathlib
import shutil
import time

from gan_tf.runtime import files
from gan_tf.text import config as config_lib
from gan_tf.text import data
from gan_tf.text import evaluate as evaluate_lib
from gan_tf.text import metrics
from gan_tf.text import sample
from gan_tf.text import train as train_lib
from gan_tf.tools.variants import TEXT_LANGUAGE_MODEL as LANGUAGE_MODEL
from gan_tf.tools.variants import TEXT_VARIANTS

COLUMNS = ["variant", "flags", "held_out_loss", "bleu4", "self_bleu4", "form_share", "copied_share",
           "judge_loss", "tokens_per_second", "training_seconds", "tokens"]  # fmt: skip
NUM = 200  # Texts a set, at temperature 1 and at each temperature of the sweep.

# What every variant is measured against: the held-out texts (and their ids), the references BLEU reads, the judge,
# and how many texts a set has.
MeasuringSets = collections.namedtuple("MeasuringSets", ["held_out", "held_out_ids", "references", "judge", "num"])


def variant_config(base, name, epochs):
    """The TextConfig of a variant: its flags over `base` (the shared language model's), with its budget."""
    if name == LANGUAGE_MODEL:
        return dataclasses.replace(base, epochs=base.epochs + epochs, gan_epochs=0)
    changes = dict(TEXT_VARIANTS[name])
    gan_epochs = base.epochs + epochs if changes.get("pretrain") == "off" else epochs
    return dataclasses.replace(base, **changes, gan_epochs=gan_epochs).validate()


def flags(config, base):
    """The flags a variant changes, as the command line gives them."""
    changed = [f for f in config_lib.flag_fields() if getattr(config, f.name) != getattr(base, f.name)]
    return " ".join(f"--{f.name.replace('_', '-')} {getattr(config, f.name)}" for f in changed)


def train_shared_language_model(base, texts, held_out, root, log):
    """The language model every variant starts from: compare/language-model/, trained once (or resumed)."""
    directory = root / LANGUAGE_MODEL
    runs = train_lib.open_runs(directory / "checkpoints", directory / "outputs", log=log)
    train_lib.train(dataclasses.replace(base, gan_epochs=0), texts, held_out, runs, progress=False)
    return directory / "checkpoints"


def run_variant(name, base, epochs, texts, shared, sets, root, on_gpu, log):
    """Trains one variant from the shared language model and measures it; returns its result (and writes it)."""
    config = variant_config(base, name, epochs)
    directory = root / "runs" / name
    if directory.exists():  # An interrupted attempt: start over.
        shutil.rmtree(directory)
    shutil.copytree(shared, directory / "checkpoints")
    runs = train_lib.open_runs(directory / "checkpoints", directory / "outputs", log=log)
    started = time.perf_counter()
    states = train_lib.train(config, texts, sets.held_out, runs, progress=False, on_gpu=on_gpu)
    seconds = time.perf_counter() - started
    phase = train_lib.GAN if name != LANGUAGE_MODEL else train_lib.LANGUAGE_MODEL
    trained_epochs = config.gan_epochs if phase == train_lib.GAN else epochs
    model = states[phase].networks["generator" if phase == train_lib.GAN else "language_model"]
    figures = measure(config, model, sets.judge, sets.references, list(texts.texts), sets.held_out_ids, sets.num, log)
    tokens = trained_epochs * len(texts.texts) * (config.sequence_length - 1)
    result = {"variant": name, "flags": flags(config, base) if name != LANGUAGE_MODEL else f"--epochs {config.epochs}",
              **figures, "tokens": tokens, "training_seconds": seconds, "tokens_per_second": tokens / seconds}  # fmt: skip
    shutil.rmtree(directory / "checkpoints")  # Only the measurements are kept.
    files.write_text(directory / "result.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def measure(config, model, judge, references, training, held_out_ids, num, log):
    """make evaluate's figures of one model: its held-out loss, and at each of the sweep's temperatures the
    figures of `num` texts (make evaluate's own: the same seed and stream); the form and copies at 1."""
    tokenize, writer = metrics.tokenizer(training), sample.Writer(model, config)
    curve = []
    for temperature in evaluate_lib.TEMPERATURES:
        log(f"  sweep: temperature {temperature:g}")
        texts = sample.write(writer, num, config.seed, sample.EVALUATE_STREAM, temperature)
        curve.append(evaluate_lib.sweep_point(config, texts, references, tokenize, judge, temperature))
        if temperature == 1.0:
            at_one = {**curve[-1], "form_share": metrics.form_share(texts, training),
                      "copied_share": metrics.copied_share(texts, training), "texts": texts[:5]}  # fmt: skip
    return {**at_one, "held_out_loss": train_lib.mean_token_loss(model, held_out_ids), "curve": curve}


def real_figures(config, real, references, training, judge):
    """The real held-out texts as a set: the table's last row and the plot's star."""
    point = evaluate_lib.sweep_point(config, real, references, metrics.tokenizer(training), judge)
    return {
        **point,
        "form_share": metrics.form_share(real, training),
        "copied_share": metrics.copied_share(real, training),
    }


def run(variants, where, output_dir, epochs, on_gpu=False, log=print, preset=None, num=NUM):
    """Trains and measures each text variant not done yet, then writes the tables and the plot.

    Args:
      preset: the text preset the variants start from (None: the defaults; "tiny" in the tests).
      num: texts a set, at temperature 1 and at each of the sweep's (at most half the held-out texts).
    """
    for name in variants:
        if name != LANGUAGE_MODEL and name not in TEXT_VARIANTS:
            raise ValueError(f"unknown text variant {name!r}")
    root = files.check_directory(pathlib.Path(output_dir) / "compare")
    base = config_lib.resolve({}, preset=preset)
    texts = data.load(where, "train", base.max_length, log=log)
    held_out = data.load(where, "test", base.max_length, log=log)
    base = config_lib.with_texts(base, texts, where)
    epochs = max(1, math.ceil(epochs))
    log(f"data: {texts.source}; held out: {held_out.source}; {epochs} epoch{'s' * (epochs > 1)} a variant")
    started = time.perf_counter()
    shared = train_shared_language_model(base, texts, held_out, root, log)
    train_ids = data.encode(texts.texts, texts.labels, base.vocabulary, base.sequence_length, base.class_names)
    held_out_ids = train_lib.fitting_ids(base, held_out)
    judge, judge_loss = evaluate_lib.load_or_train_judge(
        root / LANGUAGE_MODEL / "checkpoints", base, train_ids, held_out_ids, log
    )
    log(f"judge: held-out loss {judge_loss:.3f} a token")
    real, references = evaluate_lib.split_held_out(evaluate_lib.fitting_texts(base, held_out), num)
    sets = MeasuringSets(held_out, held_out_ids, references, judge, len(real))
    results = []
    for number, name in enumerate(variants, start=1):
        done = root / "runs" / name / "result.json"
        if done.exists():
            log(f"[{number}/{len(variants)}] {name}: done before, kept ({done})")
            results.append(json.loads(done.read_text()))
            continue
        log(f"[{number}/{len(variants)}] {name}")
        results.append(run_variant(name, base, epochs, texts, shared, sets, root, on_gpu, log))
    real_set = real_figures(base, real, references, list(texts.texts), judge)
    write_tables(results, real_set, root)
    title = f"{pathlib.Path(where).name}: {base.epochs} epochs of the language model, then {epochs} of each variant"
    points = {"real": real_set} | {result["variant"]: result["curve"] for result in results}
    evaluate_lib.plot(points, root / "quality-diversity.png", title=title, bold=(LANGUAGE_MODEL,))
    log(f"wrote {root / 'results.md'}, results.csv and quality-diversity.png ({time.perf_counter() - started:.0f} s)")
    return results


def gap(gaps, name):
    """The size of one of evaluate.beyond()'s gaps, or None."""
    return (gaps.get(name) or {}).get("gap")


def cell(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def figure_cells(result):
    """A row's figures at temperature 1, from its name to the judge's loss."""
    return [result["variant"], cell(result["held_out_loss"]), cell(result["bleu4"], 4), cell(result["self_bleu4"], 4),
            cell(result["form_share"]), cell(result["copied_share"]), cell(result["judge_loss"])]  # fmt: skip


def table_row(cells):
    return "| " + " | ".join(cells) + " |"


def write_tables(results, real, root):
    """results.csv (every column) and results.md (a table to read, real texts last). When the language model is
    among the variants, each other variant's row says how far its curve reaches beyond the language model's
    (evaluate.beyond: the largest gap of BLEU-4 and of the judge's loss, and at which temperature)."""
    reference = next((result["curve"] for result in results if result["variant"] == LANGUAGE_MODEL), None)
    beyond = [
        evaluate_lib.beyond(result["curve"], reference) if reference and result["variant"] != LANGUAGE_MODEL else {}
        for result in results
    ]
    with files.atomic_path(root / "results.csv") as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS + ["beyond_bleu4", "beyond_judge_loss"])
        writer.writerows([[result.get(column) for column in COLUMNS] + [gap(gaps, "bleu4"), gap(gaps, "judge_loss")]
                          for result, gaps in zip(results, beyond)])  # fmt: skip
    header = ["variant", "held-out loss", "BLEU-4", "self-BLEU-4", "form", "copied", "judge's loss", "tokens/s",
              "beyond: BLEU-4", "beyond: judge's loss"]  # fmt: skip
    lines = [table_row(header), table_row(["---"] * len(header))]
    for result, gaps in zip(results, beyond):
        gap_cells = list(evaluate_lib.gap_texts(gaps)) if gaps else ["", ""]
        lines.append(table_row(figure_cells(result) + [cell(result["tokens_per_second"], 0)] + gap_cells))
    if real:
        lines.append(table_row(figure_cells({"variant": "real texts", "held_out_loss": None, **real}) + ["", "", ""]))
    files.write_text(root / "results.md", "\n".join(lines) + "\n")

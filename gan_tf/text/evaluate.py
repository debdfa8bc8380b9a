"""Measured quality of a text run: the language model, the GAN and real held-out texts side by side.

Every set has the same number of texts, N: the real set is N held-out texts, and the other held-out texts
are the references that BLEU compares with (so the real set is never its own reference). For each set:

  judge loss     the loss a token of the set's texts under the judge, a language model of its own (smaller,
                 another seed) trained apart on the training texts, as the pictures' judge is: lower means the
                 texts read more like the training texts (quality)
  reverse loss   the loss a token of the references under a language model trained on the set's texts alone
                 (Zhao et al. 2018; Caccia et al. 2020): lower means the set covers more of real texts (diversity)
  BLEU, self-BLEU, distinct n-grams, unique and copied texts, the form (metrics.py)
and for each model, its held-out loss (the log of its perplexity on every held-out text).

Then Caccia et al.'s temperature sweep ("Language GANs Falling Short", ICLR 2020): both models at seven
temperatures, quality (BLEU-4, and the judge's loss) against diversity (self-BLEU-4), a curve for each
model and a point for real texts, in quality-diversity.png: a GAN is better only where its point lies beyond
the language model's curve, not where it trades diversity for quality as a lower temperature would.
"""

import dataclasses
import json
import math
import pathlib

import numpy as np
import tensorflow as tf

from gan_tf.runtime import batches as batches_lib
from gan_tf.runtime import checkpoints
from gan_tf.runtime import compiled
from gan_tf.runtime import errors
from gan_tf.runtime import files
from gan_tf.runtime import speed as speed_lib
from gan_tf.text import data
from gan_tf.text import metrics
from gan_tf.text import sample
from gan_tf.text import step as step_lib
from gan_tf.text import train as train_lib

# The judge: a smaller language model than the run's, of another seed, trained apart for a few epochs.
JUDGE = {"embedding_dim": 128, "layers": 2, "feed_forward_dim": 512, "heads": 4, "dropout": 0.1, "learning_rate": 1e-3}
JUDGE_EXAMPLES = 50_000  # The judge sees at least this many texts (5 epochs of the quatrains) ...
JUDGE_MAX_EPOCHS = 60  # ... in at most this many epochs.
REVERSE_STEPS = 200  # Steps of each reverse language model, whatever the set's size.
JUDGE_FOLDER = "judge"  # In the run's checkpoint directory.
TEMPERATURES = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)
SWEEP_TEXTS = 500  # Texts a model writes at each temperature of the sweep (at most half the held-out texts).


def judge_config(config):
    """The judge's settings: the run's texts and vocabulary, the judge's size, another seed."""
    return dataclasses.replace(config, **JUDGE, seed=config.seed + 1)


def train_language_model(config, ids, steps=None, log=None):
    """A language model of `config` trained on `ids` (N, T) by maximum likelihood: at least JUDGE_EXAMPLES texts
    (in whole epochs, at most JUDGE_MAX_EPOCHS), or `steps` steps. The run's own loop without checkpoints."""
    speed = speed_lib.resolve(config, on_gpu=False)
    state = train_lib.build_language_model_state(config)
    train_steps = compiled.compile_train_step(step_lib.language_model_step, state, speed)
    epochs = min(math.ceil(JUDGE_EXAMPLES / len(ids)), JUDGE_MAX_EPOCHS) if steps is None else math.inf
    examples, trained, epoch = data.token_dataset(ids), 0, 0
    while epoch < epochs and (steps is None or trained < steps):
        for _, call_steps in compiled.calls(
            train_steps, batches_lib.epoch_batches(examples, config.batch_size, config.seed, epoch), 1
        ):
            trained += call_steps
            if steps is not None and trained >= steps:
                break
        epoch += 1
    if log:
        log(f"judge: trained for {epoch} epochs")
    return state.networks["language_model"]


def load_or_train_judge(checkpoint_dir, config, train_ids, test_ids, log=print):
    """The judge of the run's texts, saved in checkpoint_dir/judge/, or a new one trained (and saved there).

    Returns:
      (judge, its loss a token on the held-out texts, measured now).
    Raises:
      UserError: the saved judge cannot be restored.
    """
    settings = judge_config(config)
    directory = pathlib.Path(checkpoint_dir) / JUDGE_FOLDER
    if checkpoints.latest(directory):
        judge = train_lib.build_language_model_state(settings).networks["language_model"]
        checkpoints.restore(tf.train.Checkpoint(judge=judge), checkpoints.latest(directory), partial=True)
    else:
        files.check_directory(directory)  # Before a minute of training, not after.
        judge = train_language_model(settings, train_ids, log=log)
        manager = checkpoints.make_manager(tf.train.Checkpoint(judge=judge), directory, 1)
        manager.save()
    return judge, train_lib.mean_token_loss(judge, test_ids)


def ids_of(texts, config):
    """Token ids (N, T) of texts written or read without a class, as every set here is."""
    return data.encode(texts, np.zeros(len(texts), np.int32), config.vocabulary, config.sequence_length)


def set_figures(texts, references, reference_ids, training_texts, config, judge, tokenize, reverse=True):
    """The figures of one set of texts (list of str), `references` and their ids given: see the module's
    docstring. reverse=False leaves out the reverse loss (None), which trains a model a set."""
    ids = ids_of(texts, config)
    reverse_model = train_language_model(judge_config(config), ids, steps=REVERSE_STEPS) if reverse else None
    figures = {
        "judge_loss": train_lib.mean_token_loss(judge, ids),
        "reverse_loss": train_lib.mean_token_loss(reverse_model, reference_ids) if reverse else None,
        "bleu": metrics.bleu(texts, references, tokenize),
        "self_bleu": metrics.self_bleu(texts, tokenize),
        "distinct": {f"{order}": metrics.distinct(texts, order, tokenize) for order in metrics.ORDERS},
        "unique_share": metrics.unique_share(texts),
        "copied_share": metrics.copied_share(texts, training_texts),
        "form_share": metrics.form_share(texts, training_texts),
    }
    return figures


def split_held_out(held_out, num):
    """(N real texts, the references): N = min(num, half the held-out texts), the real ones every other text
    from the start, the references the rest."""
    count = min(num, len(held_out) // 2)
    return list(held_out[: 2 * count : 2]), list(held_out[1 : 2 * count : 2]) + list(held_out[2 * count :])


def evaluate(config, models, judge, training, held_out, num, seed, temperature=1.0, log=print, reverse=True):
    """Both models' texts and real held-out ones, side by side.

    Args:
      models: name -> language model ({"language model": ..., "GAN": ...}).
      training, held_out: lists of str, the run's training and held-out texts (that fit its sequence length).
      num: texts a set (at most half the held-out texts).
    Returns:
      A dict, ready for JSON: "num", "seed", "temperature", and "sets": name -> set_figures(), real texts
      included; "models": name -> {"held_out_loss", "held_out_perplexity"}; and "texts": name -> the first texts.
    """
    real, references = split_held_out(held_out, num)
    tokenize = metrics.tokenizer(training)
    reference_ids = ids_of(references, config)
    sets, texts = {}, {}
    for name, model in models.items():
        texts[name] = sample.write(sample.Writer(model, config), len(real), seed, sample.EVALUATE_STREAM, temperature)
    texts["real"] = real
    results = {"num": len(real), "seed": seed, "temperature": temperature, "sets": sets, "models": {}}
    for name, set_texts in texts.items():
        log(f"evaluate: {name} ({len(set_texts)} texts)")
        sets[name] = set_figures(set_texts, references, reference_ids, training, config, judge, tokenize, reverse)
    held_out_ids = np.concatenate([reference_ids, ids_of(real, config)])
    for name, model in models.items():
        loss = train_lib.mean_token_loss(model, held_out_ids)
        results["models"][name] = {"held_out_loss": loss, "held_out_perplexity": math.exp(loss)}
    results["texts"] = {name: set_texts[:10] for name, set_texts in texts.items()}
    return results


def sweep(config, models, judge, training, held_out, seed, temperatures=None, num=None, log=print):
    """Caccia et al.'s temperature sweep: for each model and temperature, and for real texts, the quality (BLEU-4
    against the references, the judge's loss) and the diversity (self-BLEU-4) of `num` texts.

    Returns:
      {"real": point, name: [point at each temperature]}, a point {"temperature", "bleu4", "self_bleu4", "judge_loss"}.
    """
    real, references = split_held_out(held_out, num or SWEEP_TEXTS)
    tokenize = metrics.tokenizer(training)
    points = {"real": sweep_point(config, real, references, tokenize, judge)}
    for name, model in models.items():
        writer = sample.Writer(model, config)
        points[name] = []
        for temperature in temperatures or TEMPERATURES:
            log(f"sweep: {name} at temperature {temperature:g}")
            texts = sample.write(writer, len(real), seed, sample.EVALUATE_STREAM, temperature)
            points[name].append(sweep_point(config, texts, references, tokenize, judge, temperature))
    return points


def sweep_point(config, texts, references, tokenize, judge, temperature=None):
    """A point of the quality-diversity plot: BLEU-4 and the judge's loss (quality), self-BLEU-4 (diversity)."""
    return {
        "temperature": temperature,
        "bleu4": metrics.bleu(texts, references, tokenize)["4"],
        "self_bleu4": metrics.self_bleu(texts, tokenize)["4"],
        "judge_loss": train_lib.mean_token_loss(judge, ids_of(texts, config)),
    }


def beyond(curve, reference):
    """How far a model's sweep reaches beyond the reference model's curve (Caccia et al.'s question): at each of
    its points whose self-BLEU-4 lies within the reference's span, the gap to the reference's curve at the same
    self-BLEU-4 (straight between its points), BLEU-4 above it and the judge's loss below it; the largest gap of
    each, positive meaning beyond.

    Returns:
      {"bleu4": {"gap", "temperature"}, "judge_loss": {"gap", "temperature"}}, a value None where no point of
      the curve lies within the reference's span.
    """
    reference = sorted(reference, key=lambda point: point["self_bleu4"])
    span = np.array([point["self_bleu4"] for point in reference])
    largest = {}
    for name, better in (("bleu4", 1), ("judge_loss", -1)):
        levels = np.array([point[name] for point in reference])
        gaps = [
            {"gap": better * (point[name] - float(np.interp(point["self_bleu4"], span, levels))),
             "temperature": point["temperature"]}
            for point in curve
            if span[0] <= point["self_bleu4"] <= span[-1]
        ]  # fmt: skip
        largest[name] = max(gaps, key=lambda gap: gap["gap"], default=None)
    return largest


def gap_text(gap, digits):
    """One of beyond()'s gaps as a table's cell: "+0.0037 at 0.8", or "none in span"."""
    return "none in span" if gap is None else f"{gap['gap']:+.{digits}f} at {gap['temperature']:g}"


def gap_texts(gaps):
    """beyond()'s two gaps as text, BLEU-4's and the judge's loss's, each to its table's digits."""
    return gap_text(gaps["bleu4"], 4), gap_text(gaps["judge_loss"], 3)


def fitting_texts(config, texts):
    """The texts (data.Texts) that fit the run's sequence length, as a list of str: held-out texts may be longer
    than every training text."""
    return [text for text in texts.texts if len(text) <= config.sequence_length - 2]


def plot(points, path, title="", bold=()):
    """quality-diversity.png: BLEU-4 and the judge's loss against self-BLEU-4, a curve a model (its temperatures
    marked; the models named in `bold` drawn bold), real texts a point."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, 2, figsize=(12, 5), dpi=100)
    for panel, (name, label) in zip(axes, [("bleu4", "BLEU-4 against held-out texts (higher: better)"),
                                          ("judge_loss", "judge's loss a token (lower: better)")]):  # fmt: skip
        for model, curve in points.items():
            if model == "real":
                continue
            xs, ys = [p["self_bleu4"] for p in curve], [p[name] for p in curve]
            style = {"color": "black", "linewidth": 3, "zorder": 3} if model in bold else {}
            panel.plot(xs, ys, marker="o", label=model, **style)
            for p in curve:
                panel.annotate(f"{p['temperature']:g}", (p["self_bleu4"], p[name]), fontsize=7, xytext=(3, 3),
                               textcoords="offset points")  # fmt: skip
        real = points["real"]
        panel.plot([real["self_bleu4"]], [real[name]], "k*", markersize=12, label="real texts")
        panel.set_xlabel("self-BLEU-4 (lower: more diverse)")
        panel.set_ylabel(label)
        panel.grid(alpha=0.3)
        panel.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)


def report(results, judge_loss):
    """The figures as a table: a column a set (the language model, the GAN, real texts)."""
    sets = results["sets"]
    names = list(sets)
    lines = [f"judge: held-out loss {judge_loss:.3f} a token", f"{'':34}" + "".join(f"{name:>16}" for name in names)]

    def row(label, values, digits=3):
        return f"{label:34}" + "".join(f"{value:16.{digits}f}" if value is not None else f"{'':16}" for value in values)

    lines.append(row("held-out loss a token", [results["models"].get(name, {}).get("held_out_loss") for name in names]))
    lines.append(row("judge's loss a token", [sets[name]["judge_loss"] for name in names]))
    lines.append(row("reverse loss a token", [sets[name]["reverse_loss"] for name in names]))
    for order in metrics.ORDERS:
        lines.append(row(f"BLEU-{order}", [sets[name]["bleu"][f"{order}"] for name in names]))
    for order in metrics.ORDERS:
        lines.append(row(f"self-BLEU-{order}", [sets[name]["self_bleu"][f"{order}"] for name in names]))
    for order in metrics.ORDERS:
        lines.append(row(f"distinct {order}-grams", [sets[name]["distinct"][f"{order}"] for name in names]))
    lines.append(row("unique texts", [sets[name]["unique_share"] for name in names]))
    lines.append(row("copied from training texts", [sets[name]["copied_share"] for name in names]))
    lines.append(row("with a real text's form", [sets[name]["form_share"] for name in names]))
    if "beyond" in results:
        bleu4, judge_loss = gap_texts(results["beyond"])
        lines.append(f"the GAN beyond the language model's curve, the largest gap of the sweep: BLEU-4 {bleu4}, "
                     f"judge's loss {judge_loss}")  # fmt: skip
    return "\n".join(lines)


def write_json(results, path):
    files.write_text(path, json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def refuse_too_few(held_out, num):
    if len(held_out) < 4:
        raise errors.UserError(
            f"only {len(held_out)} held-out texts: evaluation needs at least 4 (half of them references)."
        )

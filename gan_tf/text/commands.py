"""The commands of `python -m gan_tf` on a text run, one library function each (gan_tf/commands.py picks them)."""

import math
import pathlib

from gan_tf import data as pictures_data
from gan_tf.runtime import errors
from gan_tf.runtime import files
from gan_tf.runtime import settings
from gan_tf.text import config as config_lib
from gan_tf.text import data
from gan_tf.text import evaluate as evaluate_lib
from gan_tf.text import sample as sample_lib
from gan_tf.text import train as train_lib


def train(overrides, saved, checkpoint_dir, output_dir, preset=None, fresh=False, resume_from=None, dataset=None,
          path=None, progress=True, strategy=None, on_gpu=False, log=print):  # fmt: skip
    """`train` on texts: a new text run, or the one in checkpoint_dir resumed or extended (see commands.train)."""
    if resume_from:
        raise errors.UserError("--checkpoint: a text run resumes each phase from its latest checkpoint: drop it.")
    if preset not in (None, *config_lib.PRESETS):
        raise errors.UserError(f"--preset {preset} is for pictures: a text run's are {', '.join(config_lib.PRESETS)}.")
    settings.refuse_flags_of_another_kind(overrides, config_lib.TextConfig, "a text run")
    runs = train_lib.open_runs(checkpoint_dir, output_dir, fresh, strategy, log)
    config = config_lib.resolve(overrides, saved, preset)
    where = pictures_data.where_of(config.data, dataset, path)
    texts = data.load(where, "train", config.max_length, log=log)
    held_out = data.load(where, "test", config.max_length, log=log)
    config = config_lib.with_texts(config, texts, where)
    log(f"data: {texts.source}; held out: {held_out.source}")
    log(f"config: {config}")
    train_lib.train(config, texts, held_out, runs, progress, on_gpu)


def sample(config, checkpoint_dir, checkpoint, num, seed, out, model=None, label=None, temperature=1.0, top_k=0,
           top_p=1.0, prompt="", acrostic=""):  # fmt: skip
    """`sample` on a text run: `num` new texts, one a line, UTF-8, from the language model or the GAN."""
    out = files.output_path(out, (".txt",))
    unknown = [
        character for character in prompt + acrostic if data.ids_of(character, config.vocabulary)[0] == data.UNK_ID
    ]
    if unknown:
        raise errors.UserError(
            f"the run has never seen {''.join(dict.fromkeys(unknown))} in its texts: write the prompt and the "
            f"acrostic with characters of its texts."
        )
    restored = sample_lib.restore(checkpoint_dir, config, model, checkpoint)
    writer = sample_lib.Writer(restored.model, config)
    asked = sample_lib.label_asked(config, label)
    texts = sample_lib.write(
        writer, num, seed, sample_lib.SAMPLE_STREAM, temperature, top_k, top_p, asked, prompt, acrostic
    )
    files.write_text(out, "".join(text + "\n" for text in texts))
    return f"wrote {num} text{'s' * (num != 1)} of {restored.description} to {out}"


def evaluate(config, checkpoint_dir, num, seed, out, log=print):
    """`evaluate` on a text run: the language model, the GAN and real held-out texts side by side, then the
    temperature sweep; printed, written as JSON, and plotted as quality-diversity.png beside the JSON."""
    out = files.output_path(out, (".json",))
    models = {"language model": sample_lib.restore(checkpoint_dir, config, "lm").model}
    if sample_lib.has_model(checkpoint_dir, "gan"):
        models["GAN"] = sample_lib.restore(checkpoint_dir, config, "gan").model
    training = data.load(config.data, "train", config.max_length, log=log)
    held_out = data.load(config.data, "test", config.max_length, log=log)
    held_out_texts = evaluate_lib.fitting_texts(config, held_out)
    evaluate_lib.refuse_too_few(held_out_texts, num)
    train_ids = data.encode(
        training.texts, training.labels, config.vocabulary, config.sequence_length, config.class_names
    )
    judge, judge_loss = evaluate_lib.load_or_train_judge(
        checkpoint_dir, config, train_ids, train_lib.fitting_ids(config, held_out), log
    )
    results = evaluate_lib.evaluate(config, models, judge, list(training.texts), held_out_texts, num, seed, log=log)
    results["judge_held_out_loss"] = judge_loss
    results["sweep"] = evaluate_lib.sweep(config, models, judge, list(training.texts), held_out_texts, seed, log=log)
    if "GAN" in models:
        results["beyond"] = evaluate_lib.beyond(results["sweep"]["GAN"], results["sweep"]["language model"])
    evaluate_lib.write_json(results, out)
    picture = out.with_name("quality-diversity.png")
    evaluate_lib.plot(results["sweep"], picture, title=f"{pathlib.Path(config.data).name}: quality against diversity")
    return f"{evaluate_lib.report(results, judge_loss)}\nwrote {out} and {picture}"


def bench(dataset, path, on_gpu=False, log=print):
    """`bench` on texts: the default text run's two steps timed on these texts (tools/bench_text.py)."""
    from gan_tf.tools import bench_text

    where = pictures_data.where_of("", dataset, path)
    texts = data.load(where, "train", config_lib.TextConfig.max_length, log=log)
    bench_text.run(config_lib.with_texts(config_lib.resolve({}), texts, where), texts, on_gpu, log=log)


def check_sampling(temperature, top_k, top_p):
    if not (temperature > 0 and math.isfinite(temperature)):
        raise errors.UserError(f"--temperature must be above 0, got {temperature}.")
    if top_k < 0 or not 0 < top_p <= 1:
        raise errors.UserError("--top-k must be 0 (all tokens) or more, and --top-p in (0, 1].")

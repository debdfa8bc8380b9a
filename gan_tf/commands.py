"""The commands of `python -m gan_tf`, one library function each: what the command line calls with its flags.

Each reads a run's config once, loads its pictures once and hands them to the story (train.py,
generate.py, evaluate.py, export.py, play/, tools/). Every input is checked before a file is created or
changed: the places first, then the config, then the data. TensorFlow is loaded before any of these is
called (the command line does it, its start-up notices held back); `log` gets the lines a command prints
as it goes, and a command returns what it says at the end.
"""

import pathlib

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate as evaluate_lib
from gan_tf import export as export_lib
from gan_tf import generate
from gan_tf import mnist
from gan_tf import train as train_lib
from gan_tf.runtime import checkpoints
from gan_tf.runtime import device
from gan_tf.runtime import distribute
from gan_tf.runtime import errors
from gan_tf.runtime import files
from gan_tf.runtime import settings
from gan_tf.text import commands as text_commands
from gan_tf.text import config as text_config
from gan_tf.text import data as text_data
from gan_tf.text import train as text_train


def train(
    overrides,
    checkpoint_dir,
    output_dir,
    preset=None,
    fresh=False,
    resume_from=None,
    dataset=None,
    path=None,
    progress=True,
    strategy="auto",
    log=print,
):
    """`train`: a new run, or the run in checkpoint_dir resumed or extended, on the pictures it names.

    The command that started a run resumes it: given again (with more --epochs, say), its --preset and flags
    build the networks the run has, so it continues. A preset, a flag or pictures that build other networks
    are refused, with what to do instead.

    Args:
      overrides: field name -> value of the config flags given.
      dataset, path: --dataset NAME or --data PATH (default: the run's own data; for a new run, MNIST). Texts
        ("fortunes", a file or a folder of texts) make a text run (gan_tf/text/commands.py).
      strategy: --strategy, a name of distribute.make_strategy's.
    """
    strategy = distribute.make_strategy(strategy)  # Before any other TensorFlow work.
    saved = None if fresh else saved_config(checkpoint_dir)
    if kind_of(saved, dataset, path) == text_config.KIND:
        on_gpu = device.on_gpu()
        return text_commands.train(
            overrides, saved, checkpoint_dir, output_dir, preset, fresh, resume_from, dataset, path, progress,
            strategy, on_gpu, log,
        )  # fmt: skip
    settings.refuse_flags_of_another_kind(overrides, config_lib.Config, "a picture run")
    run = train_lib.open_run(checkpoint_dir, output_dir, fresh, resume_from, strategy, log)
    config = config_lib.resolve(overrides, saved, preset)  # The flags, before the pictures load.
    where = data.where_of(config.data, dataset, path)
    size, channels = (config.image_size, config.channels) if config.data else (overrides.get("image_size"), None)
    pictures = data.load(where, "train", size, channels, log=log)
    facts = data.facts(pictures, where)
    config = config_lib.with_pictures(config, facts, overrides, preset)
    log(f"data: {pictures.source}")
    log(f"config: {config}")
    colour = config_lib.colour_defaults(config, facts) if saved is None and preset in (None, "default") else {}
    taken = [
        f"{settings.flag(name)} {value}"
        for name, value in colour.items()
        if name not in overrides and getattr(config, name) == value  # Not dropped with what was asked.
    ]
    if taken:
        log(f"config: the defaults for colour pictures (docs/pictures.md): {', '.join(taken)}")
    evaluation = None
    if config.eval_every:
        test = data.load(where, "test", config.image_size, config.channels, log=log)
        evaluation = evaluate_lib.during_training(config, checkpoint_dir, pictures, test, log=log)
    # The bar redraws itself many times a second: on a terminal only, not into a log file.
    train_lib.train(config, pictures, run, progress, evaluation, on_gpu=device.on_gpu())


def sample(checkpoint_dir, checkpoint, num, seed, out=None, output_dir="outputs", digit=None, label=None, model=None,
           temperature=None, top_k=None, top_p=None, prompt=None, acrostic=None):  # fmt: skip
    """`sample`: `num` new pictures of a run, in a PNG grid or a .npy array; or of a text run, new texts."""
    text_flags = {"model": model, "temperature": temperature, "top_k": top_k, "top_p": top_p, "prompt": prompt,
                  "acrostic": acrostic}  # fmt: skip
    config = trained_config(checkpoint_dir)
    if config.kind == text_config.KIND:
        refuse_options({"digit": digit}, "a text run")
        out = out or pathlib.Path(output_dir) / "samples.txt"
        temperature, top_k, top_p = temperature or 1.0, top_k or 0, 1.0 if top_p is None else top_p
        text_commands.check_sampling(temperature, top_k, top_p)
        return text_commands.sample(config, checkpoint_dir, checkpoint, num, seed, out, model, label, temperature, top_k,
                                    top_p, prompt or "", acrostic or "")  # fmt: skip
    refuse_options(text_flags, "a picture run")
    run = generate.restore_models(checkpoint_dir, checkpoint)
    asked = generate.label_asked(run.config, digit, label)
    out = out or pathlib.Path(output_dir) / "samples.png"
    generate.sample(run.config, run.generator, num, seed, out, label=asked, label_shares=run.label_shares)
    return f"wrote {num} {mnist.treatment(run.config.data).picture}{'s' * (num != 1)} to {out}"


def saved_config(checkpoint_dir):
    """The config saved in checkpoint_dir, of its kind (pictures or text: config.json's "kind"), or None."""
    path = settings.settings_path(checkpoint_dir)
    values = settings.read(path)
    if values is None:
        settings.refuse_foreign_checkpoints(checkpoint_dir)
        return None
    if values.get("kind") == text_config.KIND:
        return text_config.from_values(values, path)
    return config_lib.from_values(values, path)


def trained_config(checkpoint_dir):
    """The config of the trained run in checkpoint_dir, for commands that use one.

    Raises:
      UserError: there is no trained run there.
    """
    saved = saved_config(checkpoint_dir)
    text = saved is not None and saved.kind == text_config.KIND
    checkpoints.require_run(checkpoint_dir, phase=text_train.LANGUAGE_MODEL if text else None)
    return saved


def kind_of(saved, dataset=None, path=None):
    """A run's kind: its saved config's, else what --dataset or --data names (pictures unless texts)."""
    if saved is not None:
        return saved.kind
    return text_config.KIND if text_data.is_text(dataset, path) else config_lib.KIND


def refuse_options(options, run_words):
    """Raises UserError naming the first of `options` (flag name -> value, None when not given) that was given."""
    for name, value in options.items():
        if value is not None and value is not False:
            raise errors.UserError(f"{settings.flag(name)} means nothing for {run_words}: drop it.")


def reconstruct(checkpoint_dir, checkpoint, num, seed, out, dataset=None, path=None, log=print):
    """`reconstruct`: real test pictures over their reconstructions G(E(x)), in a PNG."""
    run = generate.restore_models(checkpoint_dir, checkpoint)
    test = data.load_of_run(run.config, "test", dataset, path, log=log)
    error = generate.reconstruct(run.config, run.generator, run.encoder, test.images, num, seed, out)
    return f"wrote {out}: {num} test pictures and their reconstructions, mean squared error {error:.4f}"


def interpolate(checkpoint_dir, checkpoint, steps, seed, out, dataset=None, path=None, log=print):
    """`interpolate`: a GIF of one real test picture morphing into another through the latent space."""
    run = generate.restore_models(checkpoint_dir, checkpoint)
    test = data.load_of_run(run.config, "test", dataset, path, log=log)
    frames = generate.interpolate(run.config, run.generator, run.encoder, test.images, seed, steps, out)
    return f"wrote {out} ({frames} frames)"


def evaluate(checkpoint_dir, checkpoint, num, seed, out, dataset=None, path=None, log=print):
    """`evaluate`: the judge's figures of a run beside those of real pictures, printed and written as JSON; of a
    text run, its two models beside real texts (text/evaluate.py)."""
    config = trained_config(checkpoint_dir)
    if config.kind == text_config.KIND:
        refuse_options({"dataset": dataset, "data": path}, "evaluating a text run (it uses its own texts)")
        return text_commands.evaluate(config, checkpoint_dir, num, seed, out, log)
    out = files.output_path(out, (".json",))
    run = generate.restore_models(checkpoint_dir, checkpoint)
    train = data.load_of_run(run.config, "train", dataset, path, log=log)
    test = data.load_of_run(run.config, "test", dataset, path, log=log)
    judge, judge_accuracy = evaluate_lib.load_or_train_judge(checkpoint_dir, run.config, train, test, log=log)
    results = evaluate_lib.evaluate(
        run.config, run.generator, run.encoder, judge, train, test, num, seed, run.label_shares
    )
    results["judge_test_accuracy"] = judge_accuracy
    evaluate_lib.write_json(results, out)
    return f"{evaluate_lib.report(results, judge_accuracy, run.config)}\nwrote {out}"


def bench(checkpoint_dir, dataset=None, path=None, target=9.0, trial_minutes=10.0, log=print):
    """`bench`: the train step's speed against TensorFlow's tutorial, and on digits the time to a good score."""
    from gan_tf.tools import bench as bench_lib

    judge_directory = files.check_directory(checkpoint_dir)  # The judge is saved there when trained.
    if text_data.is_text(dataset, path):
        return text_commands.bench(dataset, path, device.on_gpu(), log)
    where, train, test = data.load_named(dataset, path, log=log)
    bench_lib.run(where, train, test, judge_directory, device.on_gpu(), target, trial_minutes, log=log)


def compare(checkpoint_dir, output_dir, epochs, variants=None, dataset=None, path=None, log=print):
    """`compare`: the GAN lab's variants trained on the same pictures and measured along the way."""
    from gan_tf.tools import compare as compare_lib
    from gan_tf.tools import variants as variants_lib

    if text_data.is_text(dataset, path):
        return compare_texts(output_dir, epochs, variants, dataset, path, log)
    if any("/" not in variant for variant in variants or []):
        raise errors.UserError("--variants: these are text variants, and the data are pictures: name MODE/NAME.")
    judge_directory = files.check_directory(checkpoint_dir)  # The judge is saved there when trained.
    files.check_directory(output_dir)
    where, train, test = data.load_named(dataset, path, log=log)
    variants = variants or variants_lib.default_variants(bool(train.class_names), data.facts(train, where))
    compare_lib.run(variants, train, test, judge_directory, output_dir, epochs, device.on_gpu(), log, where)


def compare_texts(output_dir, epochs, variants, dataset, path, log):
    """`compare` on texts: the text GAN's tricks against the language model (tools/compare_text.py)."""
    from gan_tf.tools import compare_text
    from gan_tf.tools import variants as variants_lib

    if any("/" in variant for variant in variants or []):
        raise errors.UserError("--variants: the data are texts: name text variants, without MODE/.")
    files.check_directory(output_dir)
    where = data.where_of("", dataset, path)
    variants = variants or [variants_lib.TEXT_LANGUAGE_MODEL, *variants_lib.TEXT_VARIANTS]
    compare_text.run(variants, where, output_dir, epochs, device.on_gpu(), log)


def export(checkpoint_dir, checkpoint, out):
    """`export`: a run's generator and encoder as a SavedModel, for LiteRT, and how to call them; of a text
    run, its models' writing (text/export.py)."""
    config = trained_config(checkpoint_dir)
    if config.kind == text_config.KIND:
        from gan_tf.text import export as text_export

        description = text_export.export_run(config, checkpoint_dir, checkpoint, out)
        return (
            f"wrote {out}: the SavedModel of {' and '.join(description['models'].values())} (signatures "
            f"{', '.join(description['models'])}), {export_lib.SIGNATURE_FILE} and README.md"
        )
    description = export_lib.export_run(checkpoint_dir, checkpoint, out)
    signatures = ", ".join(name for name in ("generate", "blend", "encode") if name in description)
    return (
        f"wrote {out}: the SavedModel of {description['checkpoint']} (signatures {signatures}), "
        f"{export_lib.LITE_FILE}, {export_lib.SIGNATURE_FILE} and README.md"
    )


def play(checkpoint_dir, checkpoint, export_dir, host, port, log=print):
    """`play`: the page, served until Ctrl-C, drawing with a run's checkpoint or an export (writing, of a text run)."""
    from gan_tf.play import server

    functions, source = play_functions(checkpoint_dir, checkpoint, export_dir)
    server.serve(functions, host, port, source, log=log)


def play_functions(checkpoint_dir, checkpoint, export_dir):
    """What make play works with, and what it is: a text run's or a text export's writers (play/texts.py), else
    the pictures' functions (export.open_functions)."""
    from gan_tf.play import texts

    if export_dir is not None and texts.is_text_export(export_dir):
        return texts.of_export(export_dir), f"the export in {export_dir}"
    saved = saved_config(checkpoint_dir) if export_dir is None else None
    if saved is not None and saved.kind == text_config.KIND:
        refuse_options({"checkpoint": checkpoint}, "make play on a text run (it writes with its latest checkpoints)")
        return texts.of_run(trained_config(checkpoint_dir), checkpoint_dir), f"the text run in {checkpoint_dir}"
    return export_lib.open_functions(checkpoint_dir, checkpoint, export_dir)

"""The command line: python -m gan_tf train|sample|gif|reconstruct|interpolate|evaluate|bench|compare|export|play.

A thin layer: it parses flags, checks the config flags' values, loads TensorFlow (its start-up notices
held back, runtime/console.py) and calls the command's one library function in commands.py with the flags
of the same names, turning a UserError into one line on stderr with exit status 2. A bad flag is
answered before TensorFlow loads.
"""

import argparse
import functools
import inspect
import sys

from gan_tf import config as config_lib
from gan_tf.runtime import console
from gan_tf.runtime import errors
from gan_tf.runtime import settings
from gan_tf.text import config as text_config

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # The shell's convention for a program stopped by Ctrl-C (128 + SIGINT).


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line (not the usage block) and exit status 2."""

    def error(self, message):
        raise errors.UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def number(convert, low, high):
    """An argparse type: int or float (`convert`) from `low` to `high` (NaN is in no range)."""
    kind = "whole number" if convert is int else "number"

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {text}")
        return value

    parse.__name__ = kind  # What argparse calls the type in its messages.
    return parse


SEED = number(int, 0, 2**31 - 1)


def add(parser, flag, help, **options):
    """One flag; its help ends with its default, when it has one."""
    default = options.get("default")
    parser.add_argument(flag, help=help + ("" if default in (None, False) else " (default: %(default)s)."), **options)


def command(commands, name, help, description, checkpoint=False, data=False):
    """A command's parser, with the flags every command has (--checkpoint-dir, --device) and as asked, a
    checkpoint to use by name and the pictures to use."""
    parser = commands.add_parser(name, help=help, description=f"{help[:-1]}: {description}")
    add(parser, "--checkpoint-dir", "Where the run's checkpoints and config.json are", default="checkpoints")
    add(parser, "--device", "auto: the GPU when TensorFlow sees one, else the CPU", default="auto",
        choices=settings.DEVICES)  # fmt: skip
    if checkpoint:
        add(parser, "--checkpoint", "A checkpoint to use, e.g. ckpt-4690 (default: the latest).", metavar="NAME")
    if data:
        add(parser, "--dataset", "A tensorflow-datasets image set: mnist, fashion_mnist, cifar10, svhn_cropped, "
            "celeb_a, ...; or fortunes, FreeBSD's sayings (default: the run's own; for a new run, mnist).",
            metavar="NAME")  # fmt: skip
        # The variable's name is data.MNIST_ENV_VAR, spelled out to keep --help free of TensorFlow.
        add(parser, "--data", "A folder of pictures (flat; a sub-folder per class; train/ and test/ for the "
            "splits) or a Keras-layout mnist.npz, instead of --dataset (MNIST comes from $GAN_TF_MNIST, then "
            "tensorflow-datasets, then ~/.keras/datasets/mnist.npz); or texts: a .txt file, one a line, a fortune "
            "file, or a folder of them, laid out as pictures are.", metavar="PATH", dest="path")  # fmt: skip
    return parser


def build_parser():
    parser = ArgumentParser(
        prog="python -m gan_tf",
        description="Train a GAN with an encoder on MNIST's digits or your own pictures, or a language model and a "
        "GAN on texts, and use them: sample, reconstruct, interpolate, evaluate, export, play.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    add_train_command(commands)
    add_commands_of_a_run(commands)
    add_measuring_commands(commands)
    add_compare_command(commands)
    add_commands_outside(commands)
    return parser


TEXT_SAMPLING = [
    ("--model", "write with the language model or the GAN (default: the GAN once trained).", {"choices": ("lm", "gan")}),
    ("--temperature", "divides the logits: below 1 safer, above 1 bolder (default: 1).", {"type": number(float, 1e-3, 100)}),
    ("--top-k", "draw from the k likeliest tokens only (default: 0, all).", {"type": number(int, 0, 10**6)}),
    ("--top-p", "draw from the likeliest tokens whose probability reaches p (default: 1).", {"type": number(float, 1e-6, 1)}),
    ("--prompt", "every text carries on this beginning, e.g. '床前明月光，'.", {}),
    ("--acrostic", "these characters begin the lines in turn, e.g. 春夏秋冬 (a 藏头诗).", {}),
]  # fmt: skip


def add_commands_of_a_run(commands):
    """sample, gif, reconstruct and interpolate: pictures from a trained run."""
    sample = command(commands, "sample", "Write new pictures (or texts) from a trained run.", "a PNG grid, or when "
        "--out ends in .npy a uint8 array (NUM, H, W) of grey pictures ((NUM, 28, 28) for digits) or (NUM, H, W, 3) "
        "of colour ones; of a text run, a .txt file of one text a line. The same seed gives the same.",
        checkpoint=True)  # fmt: skip
    add(sample, "--num", "How many pictures or texts", type=number(int, 1, 100_000), default=100)
    add(sample, "--digit", "MNIST: draw only this digit (a conditional run only).", type=number(int, 0, 9))
    add(sample, "--label", "Draw only this class, by name or index (a conditional run only; default: each class "
        "in turn).", metavar="NAME")  # fmt: skip
    add(sample, "--seed", "Seed of the latent vectors (of a text run: of its texts)", type=SEED, default=0)
    add(sample, "--out", "A .png or .npy file; a .txt file for a text run (default: OUTPUT_DIR/samples.png or .txt).")
    add(sample, "--output-dir", "Where --out goes when not given", default="outputs")
    for flag, help, options in TEXT_SAMPLING:
        add(sample, flag, f"Text runs: {help}", **options)

    gif = commands.add_parser("gif", help="Rebuild training.gif from the frames.",
                              description="Animate every OUTPUT_DIR/frames/epoch_NNNN.png into OUTPUT_DIR/training.gif.")  # fmt: skip
    add(gif, "--output-dir", "Holds frames/; gets training.gif", default="outputs")

    reconstruct = command(commands, "reconstruct", "Show real test pictures over G(E(x)).", "each row of ten real "
        "pictures is followed by a row of their reconstructions.", checkpoint=True, data=True)  # fmt: skip
    add(reconstruct, "--num", "How many test pictures", type=number(int, 1, 10_000), default=50)
    add(reconstruct, "--seed", "Chooses the test pictures", type=SEED, default=0)
    add(reconstruct, "--out", "A .png file", default="outputs/reconstruction.png")

    interpolate = command(commands, "interpolate", "Morph one real picture into another (GIF).", "two real test "
        "pictures encoded, and the latent space walked from one to the other.", checkpoint=True, data=True)  # fmt: skip
    add(interpolate, "--steps", "Frames from one picture to the other", type=number(int, 2, 1000), default=24)
    add(interpolate, "--seed", "Chooses the two test pictures", type=SEED, default=0)
    add(interpolate, "--out", "A .gif file", default="outputs/interpolation.gif")


def add_measuring_commands(commands):
    """evaluate and bench: how good a run is, and how fast the step runs."""
    evaluate = command(commands, "evaluate", "Measure sample quality with the judge classifier.", "NUM pictures "
        "generated, and the judge's score (the MNIST score on digits), the Frechet distance, the class shares, how "
        "near they come to the training pictures and the encoder's figures printed beside those of real pictures "
        "and written as JSON; of a text run, its language model and GAN beside real texts, and the temperature "
        "sweep (quality-diversity.png). The judge is trained on first use and saved in --checkpoint-dir.",
        checkpoint=True, data=True)  # fmt: skip
    add(evaluate, "--num", "How many pictures to generate (texts: at most half the held-out ones)",
        type=number(int, 2, 100_000), default=10_000)  # fmt: skip
    add(evaluate, "--seed", "Seed of the latent vectors", type=SEED, default=0)
    add(evaluate, "--out", "The JSON file", default="outputs/evaluation.json")

    bench = command(commands, "bench", "Time the train step against TensorFlow's DCGAN tutorial.", "the compiled "
        "train step of the default configuration and of the tutorial timed in one process, then, on digits, the "
        "default configuration trained until the MNIST score reaches --target; on texts, the tokens per second of "
        "the language model's step and the GAN's.", data=True)  # fmt: skip
    add(bench, "--target", "MNIST score that ends the trial", type=number(float, 0.1, 10), default=9.0)
    add(bench, "--trial-minutes", "Longest training time of the trial, evaluation excluded",
        type=number(float, 0.1, 24 * 60), default=10.0)  # fmt: skip


def add_commands_outside(commands):
    """export and play: a run used outside gan_tf."""
    export = command(commands, "export", "Write the generator and encoder as a TensorFlow SavedModel.", "one "
        "SavedModel (signatures generate, blend and encode), the generator for LiteRT, and a signature.json and "
        "README.md that say how to call them.", checkpoint=True)  # fmt: skip
    add(export, "--out", "A new or empty directory", default="outputs/export")

    play = command(commands, "play", "A page in the browser to play with the pictures.", "draw new pictures, keep "
        "a style and move it, morph one class into another, and draw or upload a picture for the encoder to read "
        "and the generator to redraw. Ctrl-C stops.", checkpoint=True)  # fmt: skip
    add(play, "--export", "Play with an export (make export) instead of a run's checkpoint.", metavar="DIR",
        dest="export_dir")  # fmt: skip
    add(play, "--host", "The address to serve on; 0.0.0.0 for every network", default="127.0.0.1")
    add(play, "--port", "The port; 0 for any free one", type=number(int, 0, 65535), default=8000)


def add_train_command(commands):
    """`train`: its own flags, and one flag per Config field (with its old name too, where it had one)."""
    train = command(commands, "train", "Train a GAN on pictures, or a language model and a GAN on texts.", "a new "
        "run, or the one in --checkpoint-dir resumed from its latest checkpoint. The data decides the kind of run. "
        "Ctrl-C saves a checkpoint first.", data=True)  # fmt: skip
    add(train, "--output-dir", "Where frames/, training.gif and logs/ go", default="outputs")
    add(train, "--preset", "Start a new run from these settings: default, tutorial (the networks and settings of "
        "TensorFlow's DCGAN tutorial), or tiny (seconds per epoch, for debugging). Resuming, the run's own "
        "settings are kept.", choices=sorted(config_lib.PRESETS))  # fmt: skip
    add(train, "--fresh", "Delete the run in --checkpoint-dir and its frames, and start over.", action="store_true")
    add(train, "--checkpoint", "Resume from this checkpoint, e.g. ckpt-4690, instead of the latest (when the "
        "latest is damaged).", metavar="NAME", dest="resume_from")  # fmt: skip
    add(train, "--no-progress", "No progress bar (shown only on a terminal anyway): one line per epoch.",
        action="store_true")  # fmt: skip
    add(train, "--strategy", "tf.distribute strategy: one device, mirrored over the local GPUs, or multiworker "
        "across machines configured by TF_CONFIG; auto: multiworker with TF_CONFIG, mirrored with several GPUs, "
        "else one", default="auto", choices=settings.STRATEGIES)  # fmt: skip
    old_names = {new: old for old, new in config_lib.ALIASES.items()}
    for name, (field, text_field) in config_fields().items():
        field = field or text_field
        values = field.metadata["values"]
        choices = values.choices if isinstance(values, settings.OneOf) else None
        flags = [settings.flag(name) for name in (field.name, old_names.get(field.name)) if name]
        train.add_argument(*flags, dest=field.name, type=field.type, choices=choices,
                           metavar=None if choices else field.type.__name__.upper(), help=flag_help(name))  # fmt: skip


def config_fields():
    """Each config flag of train once: field name -> (the picture Config's field, the TextConfig's), None where a
    kind has none."""
    pictures = {field.name: field for field in config_lib.flag_fields()}
    texts = {field.name: field for field in text_config.flag_fields()}
    return {name: (pictures.get(name), texts.get(name)) for name in {**pictures, **texts}}


def flag_help(name):
    """A config flag's --help: its reason and default, for pictures and for texts where they differ."""
    field, text_field = config_fields()[name]
    parts = []
    if field is not None:
        unconditional = config_lib.UNCONDITIONAL_DEFAULTS.get(name)
        colour, colour_off = (config_lib.COLOUR_DEFAULTS[mode].get(name) for mode in ("on", "off"))
        extra = [f"with --conditional off: {unconditional}"] if unconditional is not None else []
        if colour is not None and colour == colour_off:
            extra.append(f"on colour pictures: {colour} in either mode")
        else:
            extra += [f"on colour pictures: {colour}"] if colour is not None else []
            extra += [f"on colour pictures with --conditional off: {colour_off}"] if colour_off is not None else []
        default = "; ".join([field.metadata["default_help"], *extra])
        parts.append(f"{field.metadata['why']} (default: {default})")
    if text_field is not None and (field is None or text_field.metadata["why"] != field.metadata["why"]):
        parts.append(f"Texts: {text_field.metadata['why']} (default: {text_field.metadata['default_help']})")
    elif text_field is not None and text_field.metadata["default_help"] != field.metadata["default_help"]:
        parts.append(f"(texts: {text_field.metadata['default_help']})")
    return " ".join(parts)


def add_compare_command(commands):
    """`compare`: the GAN lab's variants side by side (gan_tf/tools/compare.py)."""
    from gan_tf.tools import variants

    compare = command(commands, "compare", "Train GAN variants on the same images (or texts) and compare them.",
        "each variant trained on the same pictures and seed for --epochs epochs of training images, measured with "
        "the judge at 8 points per epoch (2,000 samples) and at the end (10,000); OUTPUT_DIR/compare/ gets "
        "results.md, results.csv, curves.csv, curves.png and each run's logs. Variants done before are kept.",
        data=True)  # fmt: skip
    add(compare, "--output-dir", "Gets compare/", default="outputs")
    add(compare, "--epochs", "Epochs of training images for each variant, fractions allowed",
        type=number(float, 0.01, 1000), default=1.0)  # fmt: skip
    add(compare, "--variants", "Variants as MODE/NAME[+NAME...], MODE conditional or unconditional, NAME one of "
        f"{', '.join(variants.VARIANTS)} (default: each that changes its mode's defaults, in both modes; "
        "unconditional only for pictures without classes); on texts, NAME alone, one of "
        f"{', '.join([variants.TEXT_LANGUAGE_MODEL, *variants.TEXT_VARIANTS])} (default: all).", nargs="+",
        metavar="MODE/NAME")  # fmt: skip


def start_tensorflow(args, to_stderr=False):
    """Loads TensorFlow (its start-up notices held back) on the device of --device, and prints the line
    naming it: on stdout, or on stderr for the commands whose stdout is their result."""
    with console.start_up_notices_held_back():
        from gan_tf.runtime import device

        print(f"device: {device.use(args.device)}", file=sys.stderr if to_stderr else sys.stdout, flush=True)


def check_before_tensorflow(args):
    """What can be checked before TensorFlow loads: the values of train's config flags (returned, field name
    -> value, for those given) and compare's variants."""
    if args.command == "compare":
        from gan_tf.tools import variants

        for variant in args.variants or []:
            variants.check_variant(variant)
    if args.command != "train":
        return {}
    fields = config_fields()
    overrides = {name: getattr(args, name) for name in fields if getattr(args, name) is not None}
    for kind, settings_class in enumerate((config_lib.Config, text_config.TextConfig)):  # Each kind that has it.
        settings.check_values(settings_class, {name: value for name, value in overrides.items() if fields[name][kind]})
    return overrides


def run(args):
    """Calls the command's function in commands.py with the flags named as its parameters. train and the tools
    log to stdout; the others to stderr, so that their result (printed on stdout) is not mixed with progress."""
    if args.command == "gif":  # Needs no TensorFlow.
        from gan_tf import images

        return images.remake_training_gif(args.output_dir)
    overrides = check_before_tensorflow(args)
    to_stderr = args.command not in ("train", "bench", "compare", "play")
    start_tensorflow(args, to_stderr)
    from gan_tf import commands

    function = getattr(commands, args.command)
    given = {
        **vars(args),
        "overrides": overrides,
        "progress": args.command == "train" and sys.stdout.isatty() and not args.no_progress,
        "log": functools.partial(print, file=sys.stderr if to_stderr else sys.stdout, flush=True),
    }
    return function(**{name: given[name] for name in inspect.signature(function).parameters if name in given})


def one_line(message):
    """The message with line breaks and other control characters escaped (a flag's value may hold them)."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in message)


def main(argv=None):
    console.set_default_log_level()
    try:
        said = run(build_parser().parse_args(argv))
        if said:
            print(said, flush=True)
    except errors.UserError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())

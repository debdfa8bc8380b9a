"""The command line: python -m gan_tf train|sample|gif|reconstruct|interpolate|evaluate|bench|compare|export|play.

A thin layer: it parses flags, turns them into library calls, and turns a UserError into one line on
stderr with exit status 2. TensorFlow is imported only after the flags are checked (argparse's, and
the config's in `train`), so --help and a bad flag answer at once; it starts with its start-up notices
held back (runtime/console.py).
"""

import argparse
import os
import sys

from gan_tf import config as config_lib
from gan_tf.runtime import console
from gan_tf.runtime import errors

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # The shell's convention for a program stopped by Ctrl-C (128 + SIGINT).


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad flag gets one line (not the usage block) and exit status 2."""

    def error(self, message):
        raise errors.UserError(f"{self.prog}: {message} (see {self.prog} --help)")


def add_common_flags(parser, data=False, checkpoint=False):
    parser.add_argument(
        "--checkpoint-dir",
        default="checkpoints",
        help="Where the run's checkpoints and config.json are (default: %(default)s).",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=config_lib.DEVICES,
        help="auto: the GPU when TensorFlow sees one, else the CPU; cpu forces the CPU (default: %(default)s).",
    )
    if checkpoint:
        parser.add_argument(
            "--checkpoint",
            default=None,
            metavar="NAME",
            help="A checkpoint to restore, e.g. ckpt-4690 (default: the latest).",
        )
    if data:
        parser.add_argument(
            "--dataset",
            default=None,
            metavar="NAME",
            help="A tensorflow-datasets image set: mnist, fashion_mnist, cifar10, svhn_cropped, celeb_a, ... "
            "(default: the run's own pictures; for a new run, mnist).",
        )
        parser.add_argument(
            "--data",
            default=None,
            metavar="PATH",
            # The variable's name is data.MNIST_ENV_VAR, spelled out to keep --help free of TensorFlow.
            help="A folder of pictures (flat; a sub-folder per class; train/ and test/ for the splits) or a "
            "Keras-layout mnist.npz, instead of --dataset (MNIST comes from $GAN_TF_MNIST, then "
            "tensorflow-datasets, then ~/.keras/datasets/mnist.npz).",
        )


def in_range(convert, low, high):
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


def whole_number(low, high):
    return in_range(int, low, high)


SEED = whole_number(0, 2**31 - 1)


def build_parser():
    parser = ArgumentParser(
        prog="python -m gan_tf",
        description="Train a GAN with an encoder on MNIST digits or your own pictures, "
        "and use it: sample, reconstruct, interpolate, evaluate.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    add_train_command(commands)
    add_sample_and_gif_commands(commands)
    add_encoder_commands(commands)
    add_evaluate_and_bench_commands(commands)
    add_compare_command(commands)
    add_export_and_play_commands(commands)
    return parser


def add_train_command(commands):
    """`train`: its own flags, and one flag per Config field."""
    train = commands.add_parser(
        "train",
        help="Train, resuming from the latest checkpoint.",
        description="Train the generator, discriminator and encoder, resuming from the "
        "latest checkpoint in --checkpoint-dir. Ctrl-C saves a checkpoint first.",
    )
    add_common_flags(train, data=True)
    train.add_argument(
        "--output-dir", default="outputs", help="Where frames/, training.gif and logs/ go (default: %(default)s)."
    )
    train.add_argument(
        "--preset",
        default=None,
        choices=sorted(config_lib.PRESETS),
        help="Start a new run from these settings: default, tutorial (the networks and settings of TensorFlow's DCGAN tutorial), or tiny (seconds per epoch, for debugging). Resuming, the run's own settings are kept.",
    )
    train.add_argument(
        "--fresh", action="store_true", help="Delete the run in --checkpoint-dir and its frames, and start over."
    )
    train.add_argument(
        "--checkpoint",
        default=None,
        metavar="NAME",
        help="Resume from this checkpoint, e.g. ckpt-4690, instead of the latest (when the latest is damaged).",
    )
    train.add_argument(
        "--no-progress",
        action="store_true",
        help="No progress bar (it is shown only on a terminal anyway): one line per epoch.",
    )
    train.add_argument(
        "--strategy",
        default="auto",
        choices=config_lib.STRATEGIES,
        help="tf.distribute strategy: one device, mirrored over the local GPUs, or multiworker across "
        "machines configured by TF_CONFIG; auto: multiworker with TF_CONFIG, mirrored with "
        "several GPUs, else one (default: %(default)s).",
    )
    for field in config_lib.flag_fields():
        choices = field.metadata["choices"]
        train.add_argument(
            config_lib.flag(field.name),
            type=field.type,
            default=None,
            choices=choices,
            metavar=None if choices else field.type.__name__.upper(),
            help=f"{field.metadata['why']} (default: {field.metadata['default_help']}"
            + (
                f"; with --conditional off: {config_lib.UNCONDITIONAL_DEFAULTS[field.name]})"
                if field.name in config_lib.UNCONDITIONAL_DEFAULTS
                else ")"
            ),
        )


def add_seed_and_out(parser, seed_help, out, out_help):
    """--seed and --out, which every command that draws pictures from a run takes."""
    parser.add_argument("--seed", type=SEED, default=0, help=f"{seed_help} (default: %(default)s).")
    parser.add_argument("--out", default=out, help=f"{out_help} (default: %(default)s).")


def add_sample_and_gif_commands(commands):
    sample = commands.add_parser(
        "sample",
        help="Write new pictures (digits) from a trained run.",
        description="Restore a run and write NUM new pictures: a PNG grid, or a uint8 array "
        "of shape (NUM, H, W) for grey pictures (NUM, 28, 28 for digits), (NUM, H, W, 3) for colour, "
        "when --out ends in .npy. The same seed gives the same pictures.",
    )
    add_common_flags(sample, checkpoint=True)
    sample.add_argument(
        "--num", type=whole_number(1, 100_000), default=100, help="How many digits (default: %(default)s)."
    )
    sample.add_argument(
        "--digit",
        type=whole_number(0, 9),
        default=None,
        help="Draw only this digit (a conditional run only; default: the digits 0 to 9 in turn, one per column).",
    )
    sample.add_argument(
        "--label",
        default=None,
        metavar="NAME",
        help="Draw only this class, by name or index (a conditional run only; default: every class in turn).",
    )
    add_seed_and_out(sample, "Seed of the latent vectors", "outputs/samples.png", "A .png or .npy file")

    gif = commands.add_parser(
        "gif",
        help="Rebuild training.gif from the frames.",
        description="Animate every OUTPUT_DIR/frames/epoch_NNNN.png into OUTPUT_DIR/training.gif.",
    )
    gif.add_argument("--output-dir", default="outputs", help="Holds frames/; gets training.gif (default: %(default)s).")


def add_encoder_commands(commands):
    """reconstruct and interpolate: real test digits through the encoder and back."""
    reconstruct = commands.add_parser(
        "reconstruct",
        help="Show real test digits beside G(E(x)).",
        description="Encode real test digits and redraw them with the generator: each row "
        "of ten real digits is followed by a row of their reconstructions.",
    )
    add_common_flags(reconstruct, data=True, checkpoint=True)
    reconstruct.add_argument(
        "--num", type=whole_number(1, 10_000), default=50, help="How many test digits (default: %(default)s)."
    )
    add_seed_and_out(reconstruct, "Chooses the test digits", "outputs/reconstruction.png", "A .png file")

    interpolate = commands.add_parser(
        "interpolate",
        help="Morph one real digit into another (GIF).",
        description="Encode two real test digits and walk the latent space from one to the other, writing a GIF.",
    )
    add_common_flags(interpolate, data=True, checkpoint=True)
    interpolate.add_argument(
        "--steps",
        type=whole_number(2, 1000),
        default=24,
        help="Frames from one digit to the other (default: %(default)s).",
    )
    add_seed_and_out(interpolate, "Chooses the two test digits", "outputs/interpolation.gif", "A .gif file")


def add_evaluate_and_bench_commands(commands):
    evaluate = commands.add_parser(
        "evaluate",
        help="Measure sample quality with the judge classifier.",
        description="Restore a run, generate NUM digits and print the MNIST score, the Frechet distance, the class "
        "shares, how near they come to the training digits and the encoder's figures beside those of real digits; "
        "also write them as JSON. The judge classifier is trained on first use and saved as judge.keras in "
        "--checkpoint-dir.",
    )
    add_common_flags(evaluate, data=True, checkpoint=True)
    evaluate.add_argument(
        "--num",
        type=whole_number(2, 100_000),
        default=10_000,
        help="How many digits to generate (default: %(default)s).",
    )
    add_seed_and_out(evaluate, "Seed of the latent vectors", "outputs/evaluation.json", "The JSON file")

    bench = commands.add_parser(
        "bench",
        help="Time the train step against TensorFlow's DCGAN tutorial, and the time until good digits.",
        description="Time the compiled train step of the default configuration and of "
        "TensorFlow's DCGAN tutorial in one process, then train the default "
        "configuration until the MNIST score reaches --target.",
    )
    add_common_flags(bench, data=True)
    bench.add_argument(
        "--target",
        type=in_range(float, 0.1, 10),
        default=9.0,
        help="MNIST score that ends the trial (default: %(default)s).",
    )
    bench.add_argument(
        "--trial-minutes",
        type=in_range(float, 0.1, 24 * 60),
        default=10.0,
        help="Longest training time of the trial, evaluation excluded (default: %(default)s).",
    )


def add_compare_command(commands):
    """`compare`: the GAN lab's variants side by side (gan_tf/tools/compare.py)."""
    from gan_tf.tools import variants

    compare = commands.add_parser(
        "compare",
        help="Train GAN variants on the same images and compare their quality along the way.",
        description="Train each variant on the same pictures and seed for --epochs epochs of "
        "training images, measure it with the judge at 8 points per epoch (2,000 samples) and at "
        "the end (10,000), and write OUTPUT_DIR/compare/: results.md, results.csv, curves.csv, "
        "curves.png and each run's logs. Variants done before are kept.",
    )
    add_common_flags(compare, data=True)
    compare.add_argument("--output-dir", default="outputs", help="Gets compare/ (default: %(default)s).")
    compare.add_argument(
        "--epochs",
        type=in_range(float, 0.01, 1000),
        default=1.0,
        help="Epochs of training images for each variant, fractions allowed (default: %(default)s).",
    )
    compare.add_argument(
        "--variants",
        nargs="+",
        default=None,
        metavar="MODE/NAME",
        help="Variants as MODE/NAME[+NAME...], MODE conditional or unconditional, NAME one of "
        f"{', '.join(variants.VARIANTS)} (default: each that changes its mode's defaults, "
        f"in both modes; unconditional only for pictures without classes).",
    )


def add_export_and_play_commands(commands):
    """`export` (gan_tf/export.py) and `play` (gan_tf/play/)."""
    export = commands.add_parser(
        "export",
        help="Write the generator and encoder as a TensorFlow SavedModel.",
        description="Write a run's generator and encoder as one TensorFlow SavedModel "
        "(signatures generate, blend and encode), the generator for LiteRT, and a "
        "signature.json and README.md that say how to call them.",
    )
    add_common_flags(export, checkpoint=True)
    export.add_argument("--out", default="outputs/export", help="A new or empty directory (default: %(default)s).")

    play = commands.add_parser(
        "play",
        help="A page in the browser to play with the digits.",
        description="Serve a page where you can draw new digits, keep a style and move it, "
        "morph one digit into another, and draw a digit for the encoder to read "
        "and the generator to redraw. Ctrl-C stops.",
    )
    add_common_flags(play, checkpoint=True)
    play.add_argument(
        "--export", default=None, metavar="DIR", help="Play with an export (make export) instead of a run's checkpoint."
    )
    play.add_argument(
        "--host",
        default="127.0.0.1",
        help="The address to serve on; 0.0.0.0 for every network (default: %(default)s, this machine only).",
    )
    play.add_argument(
        "--port", type=whole_number(0, 65535), default=8000, help="The port; 0 for any free one (default: %(default)s)."
    )


def start_tensorflow(args, to_stderr=False):
    """Loads TensorFlow (its start-up notices held back) on the device of --device, and prints the line
    naming it: on stdout, or on stderr for the commands whose stdout is their result."""
    with console.start_up_notices_held_back():
        from gan_tf.runtime import device

        print(f"device: {device.use(args.device)}", file=sys.stderr if to_stderr else sys.stdout, flush=True)


def run_train(args):
    overrides = {
        field.name: getattr(args, field.name)
        for field in config_lib.flag_fields()
        if getattr(args, field.name) is not None
    }
    config = config_lib.of_command(overrides, args.checkpoint_dir, args.preset, args.fresh)  # Before TensorFlow.
    new_run = args.fresh or config_lib.saved_config(args.checkpoint_dir) is None
    where = config_lib.where_of(config, args.dataset, args.data)
    start_tensorflow(args)
    from gan_tf import train
    from gan_tf.runtime import checkpoints
    from gan_tf.runtime import device
    from gan_tf.runtime import distribute

    strategy = distribute.make_strategy(args.strategy)  # Before any other TensorFlow work.
    # Every input is checked before the (slow) data load and the judge, and nothing is created yet.
    checkpoints.check_directory(args.checkpoint_dir)
    checkpoints.check_directory(args.output_dir)
    checkpoints.resume_point(args.checkpoint_dir, args.fresh, args.checkpoint)
    pictures = load_pictures(config, where, "train", image_size=overrides.get("image_size"))
    if new_run:  # Pictures without classes make a new run unconditional.
        config = config_lib.resolve(overrides, None, args.preset or "default", labelled=bool(pictures.class_names))
    config = config_lib.with_pictures(config, pictures, where)
    print(f"data: {pictures.source}", flush=True)
    print(f"config: {config}", flush=True)
    evaluation = make_evaluation(config, args, pictures) if config.eval_every else None
    # The bar redraws itself many times a second: on a terminal only, not into a log file.
    train.train(
        config,
        pictures,
        args.checkpoint_dir,
        args.output_dir,
        fresh=args.fresh,
        progress=sys.stdout.isatty() and not args.no_progress,
        evaluation=evaluation,
        strategy=strategy,
        on_gpu=device.on_gpu(),
        resume_from=args.checkpoint,
    )


def load_pictures(config, where, split, log=None, image_size=None):
    """One split of the pictures at `where`: at the run's size and channels when it knows them (config.data),
    else at `image_size` (None: their own size)."""
    from gan_tf import data

    if config.data:
        image_size, channels = config.image_size, config.channels
    else:
        channels = None
    return data.load(where, split, image_size, channels, log=log or log_to_stdout)


def pictures_of_run(config, args, split):
    """A split of the pictures of a trained run: --dataset/--data, else the ones it was trained on (checked)."""
    where = config_lib.where_of(config, args.dataset, args.data)
    pictures = load_pictures(config, where, split, log=log_to_stderr)
    config_lib.with_pictures(config, pictures)
    return pictures


def pictures_named(args):
    """The pictures --dataset/--data name (MNIST by default), for the commands without a run of their own:
    (where, train split, test split at the training split's size and channels)."""
    where = config_lib.where_of(None, args.dataset, args.data)
    train = load_pictures(config_lib.Config(), where, "train")
    return where, train, load_pictures(config_lib.of_pictures(train, where), where, "test")


def make_evaluation(config, args, pictures):
    """The function train.train calls every --eval-every epochs: the judge's headline figures."""
    from gan_tf import evaluate

    test = load_pictures(config, config.data, "test")
    judge, judge_accuracy = evaluate.load_or_train_judge(args.checkpoint_dir, config, pictures, test)
    print(f"judge: test accuracy {judge_accuracy:.4f}", flush=True)

    def evaluation(state):
        return evaluate.headline_of_state(config, state, judge, pictures, test, config.eval_samples)

    return evaluation


def log_to_stderr(line):
    print(line, file=sys.stderr, flush=True)


def log_to_stdout(line):
    print(line, flush=True)


def run_sample(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import generate

    config, generator, _, label_shares = generate.restore_models(args.checkpoint_dir, args.checkpoint)
    label = generate.label_asked(config, args.digit, args.label)
    generate.sample(config, generator, args.num, args.seed, args.out, label=label, label_shares=label_shares)
    print(f"wrote {args.num} {'digits' if config_lib.digits(config.data) else 'pictures'} to {args.out}")


def run_gif(args):
    from gan_tf import images

    frames_dir = os.path.join(args.output_dir, "frames")
    if not os.path.isdir(frames_dir) or not images.frame_paths(frames_dir):
        raise errors.UserError(
            f"no frames in {frames_dir}: train first with 'make train', or pass the --output-dir "
            f"that training wrote to."
        )
    out = os.path.join(args.output_dir, "training.gif")
    try:
        count = images.gif_from_frames(frames_dir, out)
    except OSError as error:
        raise errors.UserError(
            f"cannot write {out} ({error.strerror}): fix the permissions of {args.output_dir}."
        ) from None
    print(f"wrote {out} ({count} frames)")


def run_reconstruct(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import generate

    config, generator, encoder, _ = generate.restore_models(args.checkpoint_dir, args.checkpoint)
    test_images = pictures_of_run(config, args, "test").images
    error = generate.reconstruct(config, generator, encoder, test_images, args.num, args.seed, args.out)
    print(f"wrote {args.out}: {args.num} test pictures and their reconstructions, mean squared error {error:.4f}")


def run_interpolate(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import generate

    config, generator, encoder, _ = generate.restore_models(args.checkpoint_dir, args.checkpoint)
    test_images = pictures_of_run(config, args, "test").images
    frames = generate.interpolate(config, generator, encoder, test_images, args.seed, args.steps, args.out)
    print(f"wrote {args.out} ({frames} frames)")


def run_evaluate(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import evaluate
    from gan_tf import generate

    out = generate.output_path(args.out, (".json",))
    config, generator, encoder, label_shares = generate.restore_models(args.checkpoint_dir, args.checkpoint)
    train = pictures_of_run(config, args, "train")
    test = pictures_of_run(config, args, "test")
    judge, judge_accuracy = evaluate.load_or_train_judge(args.checkpoint_dir, config, train, test, log=log_to_stderr)
    results = evaluate.evaluate(config, generator, encoder, judge, train, test, args.num, args.seed, label_shares)
    results["judge_test_accuracy"] = judge_accuracy
    evaluate.write_json(results, out)
    print(evaluate.report(results, judge_accuracy, config))
    print(f"wrote {out}")


def run_bench(args):
    start_tensorflow(args)
    from gan_tf.runtime import checkpoints
    from gan_tf.runtime import device
    from gan_tf.tools import bench

    judge_directory = checkpoints.check_directory(args.checkpoint_dir)  # The judge is saved there when trained.
    where, train, test = pictures_named(args)
    bench.run(
        config_lib.of_pictures(train, where),
        train,
        test,
        judge_directory,
        on_gpu=device.on_gpu(),
        target=args.target,
        trial_minutes=args.trial_minutes,
        log=log_to_stdout,
    )


def run_export(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import export

    description = export.export_run(args.checkpoint_dir, args.checkpoint, args.out)
    print(
        f"wrote {args.out}: the SavedModel of {description['checkpoint']} (signatures "
        f"{', '.join(name for name in ('generate', 'blend', 'encode') if name in description)}), "
        f"{export.LITE_FILE}, {export.SIGNATURE_FILE} and README.md"
    )


def run_play(args):
    start_tensorflow(args, to_stderr=True)
    from gan_tf import export
    from gan_tf.play import server

    functions, source = export.open_functions(args.checkpoint_dir, args.checkpoint, args.export)
    server.serve(functions, args.host, args.port, source, log=log_to_stdout)


def run_compare(args):
    from gan_tf.tools import variants

    for variant in args.variants or []:
        variants.variant_config(variant)  # Before TensorFlow loads and the data.
    start_tensorflow(args)
    from gan_tf.runtime import checkpoints
    from gan_tf.runtime import device
    from gan_tf.tools import compare

    judge_directory = checkpoints.check_directory(args.checkpoint_dir)  # The judge is saved there when trained.
    checkpoints.check_directory(args.output_dir)
    where, train, test = pictures_named(args)
    compare.run(
        args.variants or variants.default_variants(labelled=bool(train.class_names)),
        train,
        test,
        judge_directory,
        args.output_dir,
        args.epochs,
        on_gpu=device.on_gpu(),
        log=log_to_stdout,
        where=where,
    )


COMMANDS = {
    "compare": run_compare,
    "train": run_train,
    "sample": run_sample,
    "gif": run_gif,
    "reconstruct": run_reconstruct,
    "interpolate": run_interpolate,
    "evaluate": run_evaluate,
    "bench": run_bench,
    "export": run_export,
    "play": run_play,
}


def one_line(message):
    """The message with line breaks and other control characters escaped (a flag's value may hold them)."""
    return "".join(character if character.isprintable() else repr(character)[1:-1] for character in message)


def main(argv=None):
    console.set_default_log_level()
    try:
        args = build_parser().parse_args(argv)
        COMMANDS[args.command](args)
    except errors.UserError as error:
        print(f"error: {one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every hyperparameter of a run, in one dataclass, with the reason for each default.

The config is saved as `config.json` beside the checkpoints. When a run resumes, the saved
architecture wins: the models must be rebuilt exactly as they were saved, so a flag that asks for
another architecture is an error rather than something silently ignored. Training settings (epochs,
learning rates, ...) may change between runs.

This module imports no TensorFlow, so the command line checks a run's flags, and the config saved
beside its checkpoints, before TensorFlow loads.
"""

import dataclasses
import json
import pathlib

from gan_tf.runtime import errors
from gan_tf.runtime import files

CONFIG_FILENAME = "config.json"
INDEX_FILENAME = "checkpoint"  # The file tf.train.CheckpointManager keeps its list of saves in, beside config.json.


def knob(default, why, choices=None, default_help=None):
    """A config field with its default and the reason for it; the reason is also the flag's --help
    (which names `default_help` as the default, when the default depends on more than the field)."""
    metadata = {"why": why, "choices": choices, "flag": True, "default_help": default_help or str(default)}
    return dataclasses.field(default=default, metadata=metadata)


def of_data(default, what):
    """A config field that the run's pictures fill in (with_pictures()), not a flag."""
    return dataclasses.field(default=default, metadata={"why": what, "choices": None, "flag": False})


DIGIT_NAMES = tuple(str(digit) for digit in range(10))


def flag_fields():
    """The fields that are command-line flags of `train`."""
    return [field for field in dataclasses.fields(Config) if field.metadata["flag"]]


ON_OFF = ("on", "off")
AUTO_ON_OFF = ("auto", "on", "off")
MIXED_PRECISION = ("auto", "off", "bfloat16", "float16")
ARCHITECTURES = ("dcgan", "mlp")
# The names of losses.LOSSES, spelled out here so that the command line can check flags without TensorFlow.
LOSSES = ("non-saturating", "least-squares", "hinge", "wasserstein-gp")
LOSSES_WITH_TARGETS = ("non-saturating", "least-squares")
# The command line's --device and --strategy (runtime/device.py and runtime/distribute.py say what each does).
DEVICES = ("auto", "cpu", "gpu")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")


@dataclasses.dataclass(frozen=True)
class Config:
    # --- The pictures (MNIST's digits by default): fixed once a run has saved a checkpoint. ---
    image_size: int = knob(
        28,
        "Train on square pictures of this many pixels a side, resizing the shorter side and cropping the centre.",
        (28, 32, 64),
        default_help="the pictures' own size when it is 28, 32 or 64, else 64",
    )
    channels: int = of_data(1, "1 for grey pictures (digits), 3 for colour.")
    class_names: tuple = of_data(DIGIT_NAMES, "The pictures' classes, in label order (the digits); () for none.")
    data: str = of_data(
        "", "Where the pictures come from: 'mnist', another tensorflow-datasets name, or a path; '' not yet known."
    )

    # --- Architecture: fixed once a run has saved a checkpoint. ---
    conditional: str = knob(
        "on",
        "on: the generator is told which digit (class) to draw and the discriminator which one an "
        "image claims to be, which makes every class easier to learn. off: no labels; "
        "G learns from the images alone (see --clusters for the unconditional defaults); pictures "
        "without classes are trained so.",
        ON_OFF,
    )
    latent_dim: int = knob(
        64,
        "Length of the noise vector z: enough for ten digits and their styles, small enough for the encoder to invert.",
    )
    generator_filters: int = knob(
        64, "Generator channels at 14x14 (twice as many at 7x7): 0.62 M weights, quick on a laptop CPU."
    )
    discriminator_filters: int = knob(
        64, "Discriminator channels at 14x14 (twice as many at 7x7): 0.15 M weights, a match for the generator."
    )
    encoder_filters: int = knob(32, "Encoder channels at 14x14: it only regresses z, so it can be lean.")
    batchnorm_momentum: float = knob(
        0.9, "Generator BatchNormalization momentum: Keras's 0.99 lags weights that move every step."
    )
    projection_filters: int = knob(
        128, "Channels of the first map (7x7 for digits) that the generator's Dense layer makes from z."
    )
    doublings: int = knob(
        0,
        "Times the generator doubles its first map to reach the image, and D and E halve it; 0: until "
        "the first map is 7x7 or smaller (2 for 28 pixels, 3 for 32, 4 for 64).",
    )
    refine_7x7: str = knob(
        "off",
        "on: a stride-1 Conv2DTranspose at the first map (7x7 for digits) before upsampling, as "
        "TensorFlow's tutorial has; off: none, which trains faster here.",
        ON_OFF,
    )
    kernel_size: int = knob(
        4, "Convolution kernel size everywhere: 4 with stride 2 covers every pixel equally (no checkerboard)."
    )
    leaky_slope: float = knob(0.2, "Slope of LeakyReLU below 0, in all three networks: DCGAN's 0.2.")
    discriminator_batchnorm: str = knob(
        "on",
        "BatchNormalization after the discriminator's second convolution, as in DCGAN (Radford et al. 2016).",
        ON_OFF,
    )
    discriminator_dropout: float = knob(
        0.0, "Dropout after each discriminator convolution (TensorFlow's tutorial uses 0.3); none by default."
    )
    encoder: str = knob(
        "on", "on: train an encoder beside the GAN (for reconstruct and interpolate); off: the GAN alone.", ON_OFF
    )
    architecture: str = knob(
        "dcgan",
        "dcgan: convolutional networks (Radford et al. 2016); mlp: the fully connected "
        "MNIST GAN, Dense 256-512-1024-784 in G and 784-512-256-1 in D.",
        ARCHITECTURES,
    )
    spectral_norm: str = knob(
        "off",
        "on: Keras's SpectralNormalization on every discriminator layer, which bounds how "
        "fast D's verdict can change (Miyato et al. 2018).",
        ON_OFF,
    )
    generator_average: float = knob(
        0.0,
        "Also keep an exponential moving average of G's weights with this decay, "
        "and draw every picture with it (Yazici et al. 2019); 0: none.",
    )
    clusters: int = knob(
        0,
        "With --conditional off: find this many clusters of the training images (k-means on "
        "deskewed pixels, no labels) and train conditioned on them, drawing each as often as "
        "the data fills it; 0: none.",
    )

    # --- Training: may change when a run resumes. ---
    epochs: int = knob(
        5,
        "Total epochs of the run (a resumed run trains up to this many), each all the training pictures (60,000 digits): "
        "enough for digits that the judge reads as well as real ones (docs/experiments.md).",
    )
    batch_size: int = knob(
        64,
        "Images per step: half the DCGAN paper's 128, so twice the updates an epoch for about the same time.",
    )
    generator_learning_rate: float = knob(
        4e-4,
        "Adam step size of the generator: twice the DCGAN paper's, for a batch half its size.",
    )
    discriminator_learning_rate: float = knob(
        4e-4, "Adam step size of the discriminator: equal to G's keeps the pair in balance."
    )
    encoder_learning_rate: float = knob(
        2e-4, "Adam step size of the encoder: it chases a moving generator, and faster rates overshoot."
    )
    adam_beta_1: float = knob(
        0.5, "Adam's first-moment decay for all three: the default 0.9 oscillates in GANs; DCGAN uses 0.5."
    )
    reconstruction_weight: float = knob(1.0, "Weight of |G(E(x)) - x|^2 beside |E(G(z)) - z|^2 in the encoder's loss.")
    loss: str = knob(
        "non-saturating",
        "The GAN loss: non-saturating (Goodfellow et al. 2014), least-squares (Mao et "
        "al. 2017), hinge (Lim & Ye 2017) or wasserstein-gp (Gulrajani et al. 2017).",
        LOSSES,
    )
    gradient_penalty_weight: float = knob(
        10.0,
        "With --loss wasserstein-gp: the weight of the gradient penalty, "
        "WGAN-GP's lambda = 10 (the paper's critic has no batch "
        "normalisation: add --discriminator-batchnorm off).",
    )
    critic_steps: int = knob(
        1,
        "Discriminator updates per generator update; the extra ones use the same real batch "
        "and fresh noise (WGAN-GP uses 5).",
    )
    label_smoothing: float = knob(
        0.0,
        "One-sided label smoothing: real images' target is 1 - S, fakes' stays 0 "
        "(Salimans et al. 2016); non-saturating and least-squares only.",
    )
    feature_matching: float = knob(
        0.0,
        "Weight W of the generator's feature matching, W (|mean f(x) - mean f(G(z))|^2 "
        "+ KL of the encoder's class mix of real and fake batches) (Salimans et al. 2016).",
    )
    augment: str = knob(
        "off",
        "on: DiffAugment (Zhao et al. 2020): the same random translation, cutout and brightness "
        "for real and fake images before D.",
        ON_OFF,
    )
    seed: int = knob(0, "Seeds the weights, the shuffling, the noise and the fixed noise of the progress frames.")
    keep_checkpoints: int = knob(3, "How many of the latest checkpoints to keep; CheckpointManager deletes older ones.")
    checkpoint_every_epochs: int = knob(
        1, "Save a checkpoint after every this many epochs (0: not by epochs); the last epoch is always saved."
    )
    checkpoint_every_steps: int = knob(0, "Also save every this many train steps (0: not by steps).")
    checkpoint_every_seconds: float = knob(
        300.0,
        "Also save when this many seconds have passed since the last save "
        "(0: not by time): a kill costs at most this much training.",
    )
    frame_grid: int = knob(
        10,
        "Each progress frame shows a grid of this many by this many digits (in a conditional "
        "run, column c draws the digit c mod 10).",
    )
    eval_every: int = knob(
        0, "Measure sample quality every this many epochs (0: never); the judge trains on first use."
    )
    eval_samples: int = knob(2000, "Digits generated for each evaluation during training: enough for a stable score.")

    # --- Speed: how the same computation runs; "auto" picks what measured fastest on the device. ---
    jit_compile: str = knob(
        "auto", "Compile the train step with XLA: auto is off on a CPU (slower there), on on a GPU.", AUTO_ON_OFF
    )
    mixed_precision: str = knob(
        "auto",
        "Compute in 16 bits, keep weights in 32: auto is off on a CPU (slower there), "
        "bfloat16 on a GPU that has it. float16 adds loss scaling.",
        MIXED_PRECISION,
    )
    steps_per_call: int = knob(
        0,
        "Train steps per compiled call (0: auto, 1 on a CPU, 16 on a GPU, where a call's "
        "overhead is as long as a step).",
    )
    cache_dataset: str = knob("on", "Keep the decoded training digits in memory after the first epoch.", ON_OFF)
    prefetch: str = knob("on", "Prepare the next batches while the current step runs, so the step never waits.", ON_OFF)

    def validate(self):
        """Raises UserError naming the first setting that cannot work."""
        for name, (low, high) in WHOLE_NUMBER_RANGES.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise errors.UserError(f"{flag(name)} must be a whole number from {low} to {high:,}, got {value!r}.")
        for name, (interval, inside) in NUMBER_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not inside(value):
                raise errors.UserError(f"{flag(name)} must be a number in {interval}, got {value!r}.")
        for field in dataclasses.fields(self):
            choices = field.metadata["choices"]
            if choices and getattr(self, field.name) not in choices:
                raise errors.UserError(
                    f"{flag(field.name)} must be one of {', '.join(choices)}, got {getattr(self, field.name)!r}."
                )
        if (
            self.image_size
            and self.doublings
            and (self.image_size % 2**self.doublings or self.image_size // 2**self.doublings < 2)
        ):
            raise errors.UserError(
                f"--doublings {self.doublings} cannot halve {self.image_size} pixels evenly down to a map "
                f"of 2 or more: pick fewer, or 0 for the default."
            )
        if self.channels not in (1, 3):
            raise errors.UserError(f"pictures must have 1 or 3 channels, not {self.channels}.")
        if self.clusters and self.conditional == "on":
            raise errors.UserError(
                "--clusters is for --conditional off (a conditional run's labels are its classes, the digits): "
                "drop --clusters, or add --conditional off."
            )
        if self.label_smoothing and self.loss not in LOSSES_WITH_TARGETS:
            raise errors.UserError(
                f"--label-smoothing applies to --loss {' and '.join(LOSSES_WITH_TARGETS)}, which "
                f"have targets to smooth; --loss {self.loss} has none: set --label-smoothing 0."
            )
        if not (self.checkpoint_every_epochs or self.checkpoint_every_steps or self.checkpoint_every_seconds):
            raise errors.UserError(
                "--checkpoint-every-epochs, --checkpoint-every-steps and --checkpoint-every-seconds "
                "are all 0, so nothing would be saved before the run ends: set one above 0."
            )
        return self


# Whole-number settings: (smallest, largest). The upper bounds are far beyond any sensible run; they
# turn a typing slip (an extra zero or three) into an error rather than hours of waiting or a crash.
WHOLE_NUMBER_RANGES = {
    "latent_dim": (1, 4096),
    "generator_filters": (1, 4096),
    "discriminator_filters": (1, 4096),
    "encoder_filters": (1, 4096),
    "projection_filters": (1, 4096),
    "kernel_size": (2, 14),
    "doublings": (0, 6),
    "epochs": (1, 100_000),
    "batch_size": (1, 60_000),
    "seed": (0, 2**31 - 1),
    "keep_checkpoints": (1, 1000),
    "checkpoint_every_epochs": (0, 100_000),
    "checkpoint_every_steps": (0, 10**9),
    "frame_grid": (1, 32),
    "eval_every": (0, 100_000),
    "eval_samples": (2, 100_000),
    "steps_per_call": (0, 10_000),
    "clusters": (0, 1000),
    "critic_steps": (1, 100),
}
# Real-number settings: (the interval as the error names it, the test). NaN fails every comparison.
NUMBER_RANGES = {
    "batchnorm_momentum": ("(0, 1)", lambda value: 0 < value < 1),
    "leaky_slope": ("[0, 1)", lambda value: 0 <= value < 1),
    "discriminator_dropout": ("[0, 1)", lambda value: 0 <= value < 1),
    "generator_learning_rate": ("(0, 1]", lambda value: 0 < value <= 1),
    "discriminator_learning_rate": ("(0, 1]", lambda value: 0 < value <= 1),
    "encoder_learning_rate": ("(0, 1]", lambda value: 0 < value <= 1),
    "adam_beta_1": ("[0, 1)", lambda value: 0 <= value < 1),
    "reconstruction_weight": ("[0, 1000]", lambda value: 0 <= value <= 1000),
    "gradient_penalty_weight": ("[0, 1000]", lambda value: 0 <= value <= 1000),
    "label_smoothing": ("[0, 0.5]", lambda value: 0 <= value <= 0.5),
    "generator_average": ("[0, 1)", lambda value: 0 <= value < 1),
    "feature_matching": ("[0, 1000]", lambda value: 0 <= value <= 1000),
    "checkpoint_every_seconds": ("[0, 604800] (a week)", lambda value: 0 <= value <= 604_800),
}


ARCHITECTURE_FIELDS = (
    "image_size",
    "channels",
    "class_names",
    "conditional",
    "latent_dim",
    "generator_filters",
    "discriminator_filters",
    "encoder_filters",
    "batchnorm_momentum",
    "projection_filters",
    "doublings",
    "refine_7x7",
    "kernel_size",
    "leaky_slope",
    "discriminator_batchnorm",
    "discriminator_dropout",
    "encoder",
    "architecture",
    "spectral_norm",
    "clusters",
    "generator_average",
)

PRESETS = {
    # The default: recognisable digits within a few minutes on a 2-core laptop CPU.
    "default": Config(),
    # TensorFlow's DCGAN tutorial (tensorflow/docs, tutorials/generative/dcgan): its networks, its Adam(1e-4)
    # with Keras's default beta_1, its batch of 256 and its 50 epochs; it has no encoder. What gan_tf's loop
    # does its own way: the noise of each batch is drawn from the seed (the tutorial's tf.random.normal is
    # unseeded) and has as many rows as the batch has images (the tutorial's always has 256).
    "tutorial": Config(
        latent_dim=100,
        generator_filters=64,
        discriminator_filters=64,
        batchnorm_momentum=0.99,
        conditional="off",
        projection_filters=256,
        doublings=2,  # A first map a quarter of the image: 7x7 for digits, 8x8 for 32 pixels, as a student adapts it.
        refine_7x7="on",
        kernel_size=5,
        leaky_slope=0.3,
        discriminator_batchnorm="off",
        discriminator_dropout=0.3,
        encoder="off",
        epochs=50,
        batch_size=256,
        generator_learning_rate=1e-4,
        discriminator_learning_rate=1e-4,
        adam_beta_1=0.9,
    ),
    # Good for debugging on a laptop, and what the tests use: a few seconds per epoch on tiny data.
    "tiny": Config(
        latent_dim=8,
        generator_filters=8,
        discriminator_filters=8,
        encoder_filters=4,
        projection_filters=16,
        epochs=2,
        batch_size=16,
        frame_grid=2,
    ),
}


# The defaults of --conditional off where they differ from the conditional ones; what they reach is
# measured in docs/experiments.md ("The unconditional defaults"). A flag given explicitly still wins.
UNCONDITIONAL_DEFAULTS = {"clusters": 100, "spectral_norm": "on", "generator_average": 0.999}


def flag(field_name):
    """The command-line flag of a config field: `batch_size` -> `--batch-size`."""
    return "--" + field_name.replace("_", "-")


def resolve(overrides, saved=None, preset="default", labelled=True):
    """The config of a run: the saved one when resuming, else the preset; then the overrides.

    Args:
      overrides: dict of field name -> value the user asked for explicitly.
      saved: the Config saved beside the checkpoints, or None for a new run.
      preset: the preset a new run starts from.
      labelled: whether the pictures have classes; a new run on pictures without is unconditional.
    Raises:
      UserError: when an override asks for another architecture than the saved one, or for a
        conditional run on pictures without classes.
    """
    if saved is None:
        base = PRESETS[preset]
        if not labelled and overrides.get("conditional") == "on":
            raise errors.UserError(
                "--conditional on needs pictures with classes (a sub-folder per class): "
                "drop --conditional, or sort the pictures into class folders."
            )
        if not labelled and base.conditional == "on":
            overrides = dict(overrides, conditional="off")
        if preset == "default" and overrides.get("conditional") == "off":
            base = dataclasses.replace(base, conditional="off", **UNCONDITIONAL_DEFAULTS)
        return dataclasses.replace(base, **overrides).validate()
    for name in ARCHITECTURE_FIELDS:
        if name in overrides and overrides[name] != getattr(saved, name):
            raise errors.UserError(
                f"the checkpoints were trained with {flag(name)} {getattr(saved, name)}, not "
                f"{overrides[name]}: drop the flag to resume, or add --fresh (or use another "
                f"--checkpoint-dir) to start a new run."
            )
    return dataclasses.replace(saved, **overrides).validate()


def of_command(overrides, checkpoint_dir, preset=None, fresh=False):
    """The config that `train` with these flags runs: a new run's, or the run in checkpoint_dir extended.

    The command that started a run resumes it: given again (with more --epochs, say), its --preset and
    flags build the networks the run has, so it continues. A preset or a flag that builds other
    networks is refused, with what to do instead.

    Args:
      overrides: dict of field name -> value the user asked for explicitly.
      preset: the --preset given, or None.
      fresh: --fresh: the run in checkpoint_dir is to be replaced, so its config is not read.
    Raises:
      UserError: a bad value, or networks that differ from the saved run's.
    """
    saved = None if fresh else saved_config(checkpoint_dir)
    config = resolve(overrides, saved, preset or "default")
    if saved is not None and preset is not None and not same_architecture(saved, resolve(overrides, None, preset)):
        raise errors.UserError(
            f"--preset {preset} has other networks than the run in {checkpoint_dir}: drop "
            f"--preset to resume that run, or add --fresh to start over."
        )
    return config


def where_of(config, dataset=None, path=None):
    """Where a command's pictures come from (data.load's `where`): --dataset NAME or --data PATH when
    given, else the run's own (config.data), else "mnist". A path is made absolute, so that a run records
    where its pictures are wherever it is started from.

    Args:
      config: the run's Config (a new run's knows no data yet), or None.
    Raises:
      UserError: both flags given, or pictures other than the ones the run was trained on.
    """
    if dataset and path:
        raise errors.UserError("--dataset and --data both name the pictures: give one of them.")
    given = str(pathlib.Path(path).expanduser().resolve()) if path else dataset
    known = config.data if config is not None else ""
    if given and known and given != known and not (digits(given) and digits(known)):
        raise errors.UserError(
            f"the run was trained on {known}, not {given}: drop --data and --dataset to use its pictures, "
            f"or add --fresh (or use another --checkpoint-dir) to start a new run."
        )
    return given or known or "mnist"


def digits(where):
    """Whether pictures come from MNIST: tensorflow-datasets' copy or a Keras-layout .npz, which stand in
    for each other (the same digits), and which get MNIST's own treatment (deskewed clusters, centred drawings)."""
    return where in ("", "mnist") or where.endswith(".npz")  # "": not known yet, so the default, MNIST.


def with_pictures(config, pictures, where=None):
    """`config` completed by the pictures it trains on: their size, channels, class names and `where`.

    A config that knows its pictures already (config.data, a resumed run's) must get the same kind.

    Args:
      pictures: data.Pictures.
      where: where they came from (data.load's `where`); None keeps config.data.
    Raises:
      UserError: the pictures differ from the ones the run was trained on, or a conditional run got
        pictures without classes.
    """
    size, channels = pictures.images.shape[1], pictures.images.shape[-1]
    filled = dataclasses.replace(
        config, image_size=size, channels=channels, class_names=tuple(pictures.class_names), data=where or config.data
    )
    if config.data:  # The run knows its pictures: these must be the same kind.
        for name, what in [("image_size", "pixels a side"), ("channels", "channels"), ("class_names", "classes")]:
            if getattr(config, name) != getattr(filled, name):
                raise errors.UserError(
                    f"the run was trained on pictures with {describe(getattr(config, name))} {what} "
                    f"({config.data}), but these have {describe(getattr(filled, name))}: give the run's "
                    f"pictures, or add --fresh (or use another --checkpoint-dir) to start a new run."
                )
    if filled.conditional == "on" and not filled.class_names:
        raise errors.UserError(
            "--conditional on needs pictures with classes (a sub-folder per class): "
            "add --conditional off, or sort the pictures into class folders."
        )
    return filled.validate()


def of_pictures(pictures, where):
    """The default config completed by `pictures` (from `where`): what a judge or a benchmark of those pictures reads."""
    return with_pictures(Config(conditional="on" if pictures.class_names else "off"), pictures, where)


def describe(value):
    """A config value as an error message names it: classes as their names."""
    if isinstance(value, tuple):
        return ", ".join(value) if value else "no"
    return str(value)


def same_architecture(config, other):
    """Whether two configs build the same networks (a checkpoint of one restores into the other)."""
    return all(getattr(config, name) == getattr(other, name) for name in ARCHITECTURE_FIELDS)


def save(config, directory):
    """Writes config.json into `directory`, atomically so that a kill never leaves half a file."""
    files.write_text(pathlib.Path(directory) / CONFIG_FILENAME, json.dumps(dataclasses.asdict(config), indent=2) + "\n")


def load(directory):
    """The Config saved in `directory`, or None when it holds none.

    Raises:
      UserError: when config.json is not one this program wrote.
    """
    path = pathlib.Path(directory) / CONFIG_FILENAME
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text())
        if isinstance(values, dict):
            values.setdefault("conditional", "off")  # Runs saved before the field existed were unconditional.
            values["class_names"] = tuple(values.get("class_names", DIGIT_NAMES))  # JSON has lists, not tuples.
        return Config(**values).validate()
    except (ValueError, TypeError) as error:  # Bad JSON, unknown fields or out-of-range values.
        raise errors.UserError(
            f"{path} is not a gan_tf config ({error}): point --checkpoint-dir at a gan_tf run, "
            f"or add --fresh to start a new run there."
        ) from None


def saved_config(directory):
    """The Config saved in `directory`, or None for a new run.

    Raises:
      UserError: when the directory holds checkpoints but no config.json (another program's files).
    """
    path = pathlib.Path(directory)
    saved = load(path)
    if saved is None and (path / INDEX_FILENAME).exists():
        raise errors.UserError(
            f"{path} holds checkpoints that gan_tf did not write (no {CONFIG_FILENAME}): use another --checkpoint-dir."
        )
    return saved

"""Every setting of a picture GAN run, in one dataclass, with the reason for each default beside it.

The config is saved as `config.json` beside the checkpoints. When a run resumes, the saved
architecture wins: the networks must be rebuilt exactly as they were saved, so a flag that asks for
other networks is an error rather than something silently ignored. Training settings (epochs,
learning rates, ...) may change between runs. The settings every kind of run shares (how long it
trains, when it saves, how fast it runs) are RunSettings', in runtime/settings.py; each field here says
which values it takes and whether it is part of the architecture, and validation reads those marks.

This module imports no TensorFlow, so the command line checks a run's flags, and the config saved
beside its checkpoints, before TensorFlow loads.
"""

import dataclasses

from gan_tf import mnist
from gan_tf.runtime import errors
from gan_tf.runtime import settings
from gan_tf.runtime.settings import ON_OFF
from gan_tf.runtime.settings import interval
from gan_tf.runtime.settings import of_data
from gan_tf.runtime.settings import one_of
from gan_tf.runtime.settings import setting
from gan_tf.runtime.settings import whole

# The names of losses.py's four GAN losses, spelled out here so that the command line can check --loss without TensorFlow.
LOSSES = ("non-saturating", "least-squares", "hinge", "wasserstein-gp")
LOSSES_WITH_TARGETS = ("non-saturating", "least-squares")
NETWORK_SIZE = whole(1, 4096)
KIND = "pictures"  # config.json's "kind"; a text run's is "text" (gan_tf/text/config.py).  # Far beyond any sensible network: an extra zero or three is an error, not a crash.


@dataclasses.dataclass(frozen=True)
class Config(settings.RunSettings):
    # --- The pictures (MNIST's digits by default): fixed once a run has saved a checkpoint. ---
    kind: str = of_data(KIND, "What the run learns from: pictures.", architecture=False, repr=False)
    image_size: int = setting(
        28,
        "Train on square pictures of this many pixels a side, resizing the shorter side and cropping the centre.",
        one_of(28, 32, 64),
        architecture=True,
        default_help="the pictures' own size when it is 28, 32 or 64, else 64",
    )
    channels: int = of_data(1, "1 for grey pictures (digits), 3 for colour.")
    class_names: tuple = of_data(mnist.DIGIT_NAMES, "The pictures' classes, in label order (the digits); () for none.")
    data: str = of_data(
        "",
        "Where the pictures come from: 'mnist', another tensorflow-datasets name, or a path; '' not yet known.",
        architecture=False,
    )

    # --- Architecture: fixed once a run has saved a checkpoint. ---
    conditional: str = setting(
        "on",
        "on: the generator is told which class to draw and the discriminator which one a picture claims to be, "
        "which makes every class easier to learn. off: no labels; G learns from the pictures alone (see "
        "--clusters for the unconditional defaults); pictures without classes are trained so.",
        ON_OFF,
        architecture=True,
    )
    class_conditioning: str = setting(
        "concatenate",
        "How the label reaches the networks of a run with labels. concatenate: a one-hot beside z, and as "
        "channels beside the image in D (keras-io's conditional GAN). projection: every batch normalisation "
        "of G takes its gain and offset from the class, and D's verdict is projected on the class "
        "(Miyato & Koyama 2018), so the class shapes the picture, not only its tint.",
        one_of("concatenate", "projection"),
        architecture=True,
    )
    latent_dim: int = setting(
        64,
        "Length of the noise vector z: enough for ten classes and their styles, small enough for the encoder to invert.",
        NETWORK_SIZE,
        architecture=True,
    )
    generator_filters: int = setting(
        64,
        "Generator channels of the map before the picture (14x14 for digits), twice as many a block before: "
        "0.62 M weights for digits, quick on a laptop CPU.",
        NETWORK_SIZE,
        architecture=True,
    )
    discriminator_filters: int = setting(
        64,
        "Discriminator channels of its first map (14x14 for digits), twice as many each block after: 0.15 M "
        "weights for digits, a match for the generator.",
        NETWORK_SIZE,
        architecture=True,
    )
    encoder_filters: int = setting(
        32,
        "Encoder channels of its first map: it only regresses z, so it can be lean.",
        NETWORK_SIZE,
        architecture=True,
    )
    batchnorm_momentum: float = setting(
        0.9,
        "Generator BatchNormalization momentum: Keras's 0.99 lags weights that move every step.",
        interval("(0, 1)"),
        architecture=True,
    )
    projection_filters: int = setting(
        128,
        "Channels of the first map (7x7 for digits, 4x4 for 32 and 64 pixels) that the generator's Dense layer "
        "makes from z.",
        NETWORK_SIZE,
        architecture=True,
    )
    doublings: int = setting(
        0,
        "Times the generator doubles its first map to reach the picture, and D and E halve it; 0: until the "
        "first map is 7x7 or smaller (2 for 28 pixels, 3 for 32, 4 for 64).",
        whole(0, 6),
        architecture=True,
    )
    refine_first_map: str = setting(
        "off",
        "on: a stride-1 Conv2DTranspose at the first map before upsampling, as TensorFlow's tutorial has "
        "(--refine-7x7, its old name, still works); off: none, which trains faster here.",
        ON_OFF,
        architecture=True,
    )
    kernel_size: int = setting(
        4,
        "Convolution kernel size everywhere: 4 with stride 2 covers every pixel equally (no checkerboard).",
        whole(2, 14),
        architecture=True,
    )
    leaky_slope: float = setting(
        0.2, "Slope of LeakyReLU below 0, in all three networks: DCGAN's 0.2.", interval("[0, 1)"), architecture=True
    )
    discriminator_batchnorm: str = setting(
        "on",
        "BatchNormalization after the discriminator's second convolution, as in DCGAN (Radford et al. 2016).",
        ON_OFF,
        architecture=True,
    )
    discriminator_dropout: float = setting(
        0.0,
        "Dropout after each discriminator convolution (TensorFlow's tutorial uses 0.3); none by default.",
        interval("[0, 1)"),
        architecture=True,
    )
    encoder: str = setting(
        "on",
        "on: train an encoder beside the GAN (for reconstruct and interpolate); off: the GAN alone.",
        ON_OFF,
        architecture=True,
    )
    architecture: str = setting(
        "dcgan",
        "dcgan: convolutional networks (Radford et al. 2016); mlp: the fully connected MNIST GAN, Dense "
        "256-512-1024-784 in G and 784-512-256-1 in D.",
        one_of("dcgan", "mlp"),
        architecture=True,
    )
    spectral_norm: str = setting(
        "off",
        "on: Keras's SpectralNormalization on every discriminator layer, which bounds how fast D's verdict "
        "can change (Miyato et al. 2018).",
        ON_OFF,
        architecture=True,
    )
    generator_average: float = setting(
        0.0,
        "Also keep an exponential moving average of G's weights with this decay, and draw every picture with "
        "it (Yazici et al. 2019); 0: none.",
        interval("[0, 1)"),
        architecture=True,
    )
    clusters: int = setting(
        0,
        "With --conditional off: find this many clusters of the training pictures (k-means; digits deskewed "
        "first, no labels) and train conditioned on them, drawing each as often as the data fills it; 0: none.",
        whole(0, 1000),
        architecture=True,
    )

    # --- Training: may change when a run resumes. ---
    epochs: int = setting(
        5,
        "Total epochs of the run (a resumed run trains up to this many), each all the training pictures: enough "
        "for digits that the judge reads as well as real ones (docs/experiments.md).",
        whole(1, 100_000),
    )
    batch_size: int = setting(
        64,
        "Pictures per step: half the DCGAN paper's 128, so twice the updates an epoch for about the same time.",
        whole(1, 60_000),
    )
    generator_learning_rate: float = setting(
        4e-4, "Adam step size of the generator: twice the DCGAN paper's, for a batch half its size.", interval("(0, 1]")
    )
    discriminator_learning_rate: float = setting(
        4e-4, "Adam step size of the discriminator: equal to G's keeps the pair in balance.", interval("(0, 1]")
    )
    encoder_learning_rate: float = setting(
        2e-4,
        "Adam step size of the encoder: it chases a moving generator, and faster rates overshoot.",
        interval("(0, 1]"),
    )
    adam_beta_1: float = setting(
        0.5,
        "Adam's first-moment decay for all three: the default 0.9 oscillates in GANs; DCGAN uses 0.5.",
        interval("[0, 1)"),
    )
    reconstruction_weight: float = setting(
        1.0, "Weight of |G(E(x)) - x|^2 beside |E(G(z)) - z|^2 in the encoder's loss.", interval("[0, 1000]")
    )
    loss: str = setting(
        "non-saturating",
        "The GAN loss: non-saturating (Goodfellow et al. 2014), least-squares (Mao et al. 2017), hinge "
        "(Lim & Ye 2017) or wasserstein-gp (Gulrajani et al. 2017).",
        one_of(*LOSSES),
    )
    gradient_penalty_weight: float = setting(
        10.0,
        "With --loss wasserstein-gp: the weight of the gradient penalty, WGAN-GP's lambda = 10 (the paper's "
        "critic has no batch normalisation: add --discriminator-batchnorm off).",
        interval("[0, 1000]"),
    )
    critic_steps: int = setting(
        1,
        "Discriminator updates per generator update; the extra ones use the same real batch and fresh noise "
        "(WGAN-GP uses 5).",
        whole(1, 100),
    )
    label_smoothing: float = setting(
        0.0,
        "One-sided label smoothing: real pictures' target is 1 - S, fakes' stays 0 (Salimans et al. 2016); "
        "non-saturating and least-squares only.",
        interval("[0, 0.5]"),
    )
    feature_matching: float = setting(
        0.0,
        "Weight W of the generator's feature matching, W (|mean f(x) - mean f(G(z))|^2 + KL of the encoder's "
        "class mix of real and fake batches) (Salimans et al. 2016).",
        interval("[0, 1000]"),
    )
    class_loss: float = setting(
        0.0,
        "Weight W of a classification term with --class-conditioning projection: D also learns to name the class "
        "of real pictures, reading its projection on every class's embedding, and G to draw pictures D names as "
        "the class asked (AC-GAN's auxiliary classifier, Odena et al. 2017, without a head of its own); 0: none.",
        interval("[0, 1000]"),
    )
    augment: str = setting(
        "off",
        "on: DiffAugment (Zhao et al. 2020): the same random translation, cutout and brightness for real and "
        "fake pictures before D.",
        ON_OFF,
    )
    eval_every: int = setting(
        0, "Measure sample quality every this many epochs (0: never); the judge trains on first use.", whole(0, 100_000)
    )
    eval_samples: int = setting(
        2000, "Pictures generated for each evaluation during training: enough for a stable score.", whole(2, 100_000)
    )
    frame_grid: int = setting(
        10,
        "Each progress frame shows a grid of this many by this many pictures (in a conditional run, column c "
        "draws the class c mod the number of classes).",
        whole(1, 32),
    )

    def reads_class_projection(self):
        """Whether D projects its verdict on the class (--class-conditioning projection, a convolutional D), which
        --class-loss reads."""
        return self.class_conditioning == "projection" and self.architecture == "dcgan"

    def has_labels(self):
        """Whether the run has labels for G and D: its classes (--conditional on) or --clusters."""
        return self.conditional == "on" or self.clusters > 0

    def validate(self):
        """Raises UserError naming the first setting that cannot work, alone or with another; returns the config."""
        super().validate()
        if self.doublings and (self.image_size % 2**self.doublings or self.image_size // 2**self.doublings < 2):
            raise errors.UserError(
                f"--doublings {self.doublings} cannot halve {self.image_size} pixels evenly down to a map "
                f"of 2 or more: pick fewer, or 0 for the default."
            )
        if self.channels not in (1, 3):
            raise errors.UserError(f"pictures must have 1 or 3 channels, not {self.channels}.")
        if self.clusters and self.conditional == "on":
            raise errors.UserError(
                "--clusters is for --conditional off (a conditional run's labels are its classes): "
                "drop --clusters, or add --conditional off."
            )
        if self.conditional == "on" and not self.class_names:
            raise errors.UserError(
                "--conditional on needs pictures with classes (a sub-folder per class): "
                "add --conditional off, or sort the pictures into class folders."
            )
        if self.class_loss and not self.has_labels():
            raise errors.UserError(
                "--class-loss needs labels to name: the classes (--conditional on) or --clusters; or set --class-loss 0."
            )
        if self.class_loss and self.data and not self.reads_class_projection():  # Once the pictures are known.
            raise errors.UserError(
                "--class-loss reads the class from a projection discriminator's embedding: add --class-conditioning "
                "projection (and the dcgan architecture), or set --class-loss 0."
            )
        if self.class_conditioning == "projection" and not self.has_labels():
            raise errors.UserError(
                "--class-conditioning projection needs labels to project on: the classes (--conditional on) or "
                "--clusters; or drop --class-conditioning."
            )
        if self.label_smoothing and self.loss not in LOSSES_WITH_TARGETS:
            raise errors.UserError(
                f"--label-smoothing applies to --loss {' and '.join(LOSSES_WITH_TARGETS)}, which "
                f"have targets to smooth; --loss {self.loss} has none: set --label-smoothing 0, or add --loss non-saturating."
            )
        return self


# Old flag names that still work, and the settings they name now.
ALIASES = {"refine_7x7": "refine_first_map"}

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
        doublings=2,  # A first map a quarter of the picture: 7x7 for digits, 8x8 for 32 pixels, as a student adapts it.
        refine_first_map="on",
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


# The defaults of a new run on colour pictures, or pictures larger than MNIST's 28 pixels, in each mode, where they
# differ from the digits' (and in an unconditional run, from UNCONDITIONAL_DEFAULTS), chosen by 5-epoch runs on
# CIFAR-10 (docs/pictures.md, "Defaults for colour pictures"). A flag given explicitly still wins.
COLOUR_DEFAULTS = {
    # The class at every layer, the hinge loss, Adam without momentum (beta_1 = 0, as BigGAN and SNGAN train) and a
    # light class loss: a CIFAR-10 class is a shape, not a tint (Frechet 1.030, asked class 0.791, score 3.703).
    "on": {"class_conditioning": "projection", "loss": "hinge", "adam_beta_1": 0.0, "class_loss": 0.2},
    # No clusters: on photographs, clusters of pixels are no classes (Frechet 4.560 with 100, 3.624 without); the
    # hinge loss (4.865 without it); G's own weights, not their average, whose batch normalisation's statistics,
    # averaged too, fit it badly (4.683 against 6.144); beta_1 = 0 as told the class.
    "off": {"clusters": 0, "loss": "hinge", "generator_average": 0.0, "adam_beta_1": 0.0},
}


def colour_defaults(config, facts):
    """The COLOUR_DEFAULTS of config's mode that a new run of `config` on pictures with these facts takes; {} for
    digits (grey, 28 pixels)."""
    channels, size = facts.get("channels", config.channels), facts.get("image_size", config.image_size)
    return {} if channels == 1 and size <= 28 else COLOUR_DEFAULTS[config.conditional]


def flag_fields():
    """The fields that are flags of `train`."""
    return settings.flag_fields(Config)


def resolve(overrides, saved=None, preset=None):
    """The config that `train` with these flags runs, before its pictures are read: the saved one when
    resuming, else the preset; then the flags. with_pictures() completes it with the pictures' facts.

    Args:
      overrides: dict of field name -> value the user asked for explicitly.
      saved: the Config saved beside the checkpoints, or None for a new run.
      preset: the --preset given, or None (a new run starts from "default").
    Raises:
      UserError: a bad value or pair of values; or, resuming, a flag or a preset that builds networks other
        than the saved ones.
    """
    if saved is None:
        return new_config(overrides, preset).validate()
    settings.refuse_other_architecture(saved, overrides)
    if preset is not None:
        facts = {name: getattr(saved, name) for name in ("image_size", "channels", "class_names", "data")}
        if not settings.same_architecture(
            saved, with_pictures(new_config(overrides, preset), facts, overrides, preset)
        ):
            raise errors.UserError(
                f"--preset {preset} has other networks than the run saved here: drop --preset to resume "
                f"that run, or add --fresh to start over."
            )
    return dataclasses.replace(saved, **overrides).validate()


def new_config(overrides, preset=None):
    """The config of a new run, not yet validated: the preset, then the overrides. An unconditional run of the
    default preset starts from UNCONDITIONAL_DEFAULTS; a flag given explicitly still wins."""
    base = PRESETS[preset or "default"]
    if preset in (None, "default") and overrides.get("conditional") == "off":
        base = dataclasses.replace(base, conditional="off", **UNCONDITIONAL_DEFAULTS)
    return dataclasses.replace(base, **overrides)


def with_pictures(config, facts, overrides=(), preset=None):
    """`config` completed by the facts of the pictures it trains on (data.facts()): their size (when
    --image-size was not asked for), channels, classes and where they come from.

    A config that knows its pictures already (a resumed run's) must get the same kind. A new run on
    pictures without classes is unconditional, and with the default preset it takes the unconditional
    defaults of the settings not asked for; on colour pictures (or larger than 28 pixels), the colour ones
    (colour_defaults()).

    Args:
      overrides: the field names asked for explicitly (resolve()'s overrides).
      preset: the --preset given, or None.
    Raises:
      UserError: pictures other than the run's, or --conditional on asked for pictures without classes.
    """
    if config.data:  # The run knows its pictures: these must be the same kind.
        refuse_other_pictures(config, facts)
        return config
    filled = {name: value for name, value in facts.items() if name not in overrides}
    if not facts.get("class_names", config.class_names) and config.conditional == "on":
        if overrides and "conditional" in overrides:
            raise errors.UserError(
                "--conditional on needs pictures with classes (a sub-folder per class): "
                "drop --conditional, or sort the pictures into class folders."
            )
        filled["conditional"] = "off"
        if preset in (None, "default"):
            filled.update({name: value for name, value in UNCONDITIONAL_DEFAULTS.items() if name not in overrides})
    config = dataclasses.replace(config, **filled)
    if preset in (None, "default"):
        taken = {name: value for name, value in colour_defaults(config, facts).items() if name not in overrides}
        config = dataclasses.replace(config, **taken)
        if "class_loss" in taken and not config.reads_class_projection():  # Asked for concatenate, or the mlp.
            config = dataclasses.replace(config, class_loss=0.0)
    return config.validate()


def refuse_other_pictures(saved, facts):
    """Raises UserError when the pictures' facts differ from those of the saved run's pictures."""
    for name, what in [("image_size", "pixels a side"), ("channels", "channels"), ("class_names", "classes")]:
        if name in facts and facts[name] != getattr(saved, name):
            raise errors.UserError(
                f"the run was trained on pictures with {describe(getattr(saved, name))} {what} ({saved.data}), but "
                f"these have {describe(facts[name])}: give the run's pictures, or add --fresh (or use another "
                f"--checkpoint-dir) to start a new run."
            )


def describe(value):
    """A config value as an error message names it: classes as their names."""
    if isinstance(value, tuple):
        return ", ".join(value) if value else "no"
    return str(value)


def save(config, directory):
    """Writes config.json into `directory`, atomically so that a kill never leaves half a file."""
    settings.save(config, settings.settings_path(directory))


def load(directory):
    """The Config saved in `directory`, or None when it holds none.

    Raises:
      UserError: config.json is not one this program wrote, or `directory` holds checkpoints without one.
    """
    path = settings.settings_path(directory)
    values = settings.read(path)
    if values is None:
        settings.refuse_foreign_checkpoints(directory)
        return None
    return from_values(values, path)


def from_values(values, path):
    """The Config of config.json's values (saved by this version or an older one) read from `path`.

    Raises:
      UserError: values this program did not write.
    """
    if values.get("kind", KIND) != KIND:
        raise errors.UserError(
            f"{path.parent} holds a {values['kind']} run: this command works on picture runs (a text run writes "
            f"with make sample and is measured with make evaluate)."
        )
    values = dict(values)
    values.setdefault("conditional", "off")  # Runs saved before the field existed were unconditional.
    values["class_names"] = tuple(values.get("class_names", mnist.DIGIT_NAMES))  # JSON has lists, not tuples.
    for old, new in ALIASES.items():
        if old in values:
            values[new] = values.pop(old)
    try:
        return Config(**values).validate()
    except (ValueError, TypeError) as error:  # Unknown fields or out-of-range values.
        raise errors.UserError(
            f"{path} is not a gan_tf config ({error}): point --checkpoint-dir at a gan_tf run, "
            f"or add --fresh to start a new run there."
        ) from None

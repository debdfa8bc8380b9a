"""Every hyperparameter of a run, in one dataclass, with the reason for each default.

The config is saved as `config.json` beside the checkpoints. When a run resumes, the saved
architecture wins: the models must be rebuilt exactly as they were saved, so a flag that asks for
another architecture is an error rather than something silently ignored. Training settings (epochs,
learning rates, ...) may change between runs.

This module imports no TensorFlow, so the command line can check its flags instantly.
"""

import dataclasses
import json
import math
import pathlib

from gan_tf import errors

CONFIG_FILENAME = "config.json"


def knob(default, why):
    """A config field with its default and the reason for it; the reason is also the flag's --help."""
    return dataclasses.field(default=default, metadata={"why": why})


@dataclasses.dataclass(frozen=True)
class Config:
    # --- Architecture: fixed once a run has saved a checkpoint. ---
    latent_dim: int = knob(64, "Length of the noise vector z: enough for ten digits and their styles, small enough for the encoder to invert.")
    generator_filters: int = knob(64, "Generator channels at 14x14 (twice as many at 7x7): 0.54 M weights, quick on a laptop CPU.")
    discriminator_filters: int = knob(64, "Discriminator channels at 14x14 (twice as many at 7x7): 0.14 M weights, a match for the generator.")
    encoder_filters: int = knob(32, "Encoder channels at 14x14: it only regresses z, so it can be lean.")
    batchnorm_momentum: float = knob(0.9, "Generator BatchNormalization momentum: Keras's 0.99 lags weights that move every step.")

    # --- Training: may change when a run resumes. ---
    epochs: int = knob(10, "Total epochs of the run (a resumed run trains up to this many), each 60,000 digits.")
    batch_size: int = knob(128, "Images per step: the DCGAN paper's batch; larger ones make fewer, slower-learning steps.")
    generator_learning_rate: float = knob(2e-4, "Adam step size of the generator: the DCGAN paper's, stable here.")
    discriminator_learning_rate: float = knob(2e-4, "Adam step size of the discriminator: equal to G's keeps the pair in balance.")
    encoder_learning_rate: float = knob(2e-4, "Adam step size of the encoder: it chases a moving generator, and faster rates overshoot.")
    adam_beta_1: float = knob(0.5, "Adam's first-moment decay for all three: the default 0.9 oscillates in GANs; DCGAN uses 0.5.")
    reconstruction_weight: float = knob(1.0, "Weight of |G(E(x)) - x|^2 beside |E(G(z)) - z|^2 in the encoder's loss.")
    seed: int = knob(0, "Seeds the weights, the shuffling, the noise and the fixed noise of the progress frames.")
    keep_checkpoints: int = knob(3, "How many of the latest checkpoints to keep; CheckpointManager deletes older ones.")
    frame_grid: int = knob(8, "Each progress frame shows a grid of this many by this many digits.")
    eval_every: int = knob(0, "Measure sample quality every this many epochs (0: never); the judge trains on first use.")
    eval_samples: int = knob(2000, "Digits generated for each evaluation during training: enough for a stable score.")

    def validate(self):
        """Raises UserError naming the first setting that cannot work."""
        positive_ints = ["latent_dim", "generator_filters", "discriminator_filters", "encoder_filters",
                         "epochs", "batch_size", "keep_checkpoints", "frame_grid", "eval_samples"]
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise errors.UserError(f"{flag(name)} must be a positive whole number, got {value!r}.")
        if not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise errors.UserError(f"--eval-every must be a whole number, 0 or more, got {self.eval_every!r}.")
        for name in ["generator_learning_rate", "discriminator_learning_rate", "encoder_learning_rate"]:
            if not 0 < getattr(self, name) < math.inf:
                raise errors.UserError(f"{flag(name)} must be a finite number above 0, got {getattr(self, name)!r}.")
        if not 0 <= self.adam_beta_1 < 1:
            raise errors.UserError(f"--adam-beta-1 must be in [0, 1), got {self.adam_beta_1!r}.")
        if not 0 < self.batchnorm_momentum < 1:
            raise errors.UserError(f"--batchnorm-momentum must be in (0, 1), got {self.batchnorm_momentum!r}.")
        if not 0 <= self.reconstruction_weight < math.inf:
            raise errors.UserError(f"--reconstruction-weight must be a finite number, 0 or more, got {self.reconstruction_weight!r}.")
        return self


ARCHITECTURE_FIELDS = ("latent_dim", "generator_filters", "discriminator_filters", "encoder_filters",
                       "batchnorm_momentum")

PRESETS = {
    # The default: recognisable digits within a few minutes on a 2-core laptop CPU.
    "default": Config(),
    # Good for debugging on a laptop, and what the tests use: a few seconds per epoch on tiny data.
    "tiny": Config(latent_dim=8, generator_filters=8, discriminator_filters=8, encoder_filters=4,
                   epochs=2, batch_size=16, frame_grid=2),
}


def flag(field_name):
    """The command-line flag of a config field: `batch_size` -> `--batch-size`."""
    return "--" + field_name.replace("_", "-")


def resolve(overrides, saved=None, preset="default"):
    """The config of a run: the saved one when resuming, else the preset; then the overrides.

    Args:
      overrides: dict of field name -> value the user asked for explicitly.
      saved: the Config saved beside the checkpoints, or None for a new run.
      preset: the preset a new run starts from.
    Raises:
      UserError: when an override asks for another architecture than the saved one.
    """
    if saved is None:
        return dataclasses.replace(PRESETS[preset], **overrides).validate()
    for name in ARCHITECTURE_FIELDS:
        if name in overrides and overrides[name] != getattr(saved, name):
            raise errors.UserError(
                f"the checkpoints were trained with {flag(name)} {getattr(saved, name)}, not "
                f"{overrides[name]}: drop the flag to resume, or add --fresh (or use another "
                f"--checkpoint-dir) to start a new run.")
    return dataclasses.replace(saved, **overrides).validate()


def save(config, directory):
    """Writes config.json into `directory`, atomically so that a kill never leaves half a file."""
    path = pathlib.Path(directory) / CONFIG_FILENAME
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    temporary.replace(path)


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
        return Config(**values).validate()
    except (ValueError, TypeError) as error:  # Bad JSON, unknown fields or out-of-range values.
        raise errors.UserError(
            f"{path} is not a gan_tf config ({error}): point --checkpoint-dir at a gan_tf run, "
            f"or add --fresh to start a new run there.") from None

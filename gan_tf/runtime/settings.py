"""Settings: dataclass fields that carry their reason, their range and their role, and the ones every run shares.

A kind of run (the picture GAN of gan_tf/config.py) declares its settings as a frozen dataclass whose
fields come from setting() and of_data(): each states, beside its default, why it has that default
(which is also the flag's --help), which values it takes, and whether it is part of the architecture,
fixed once a run has saved a checkpoint. Everything else reads those marks: validate() checks the
values, the command line makes one flag per setting, and a resumed run refuses a flag that asks for
other networks than the saved ones.

RunSettings holds what every kind of run shares: how long it trains, how it saves and how fast it
runs. This module imports no TensorFlow, so flags are checked before TensorFlow loads.
"""

import dataclasses
import json
import math
import pathlib

from gan_tf.runtime import errors
from gan_tf.runtime import files

SETTINGS_FILENAME = "config.json"  # A run's settings, beside its checkpoints.
INDEX_FILENAME = "checkpoint"  # The file tf.train.CheckpointManager keeps its list of a run's saves in.


@dataclasses.dataclass(frozen=True)
class Whole:
    """Whole numbers from `low` to `high`, both included."""

    low: int
    high: int

    def __contains__(self, value):
        return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high

    def requirement(self):
        return f"a whole number from {self.low} to {self.high:,}"


@dataclasses.dataclass(frozen=True)
class Interval:
    """Real numbers in an interval written as mathematicians do: "(0, 1]" leaves 0 out and takes 1."""

    text: str

    def __contains__(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            return False
        low, high = (float(end.strip(" ([])")) for end in self.text.split(","))
        above = value > low if self.text.startswith("(") else value >= low
        below = value < high if self.text.endswith(")") else value <= high
        return above and below

    def requirement(self):
        return f"a number in {self.text}"


@dataclasses.dataclass(frozen=True)
class OneOf:
    """One of a few words."""

    choices: tuple

    def __contains__(self, value):
        return value in self.choices

    def requirement(self):
        return f"one of {', '.join(map(str, self.choices))}"


def whole(low, high):
    return Whole(low, high)


def interval(text):
    return Interval(text)


def one_of(*choices):
    return OneOf(tuple(choices))


ON_OFF = one_of("on", "off")
AUTO_ON_OFF = one_of("auto", "on", "off")


def setting(default, why, values=None, architecture=False, default_help=None, repr=True):
    """A field that is also a flag of `train`: its default, the reason for it (the flag's --help, which names
    `default_help` as the default when the default depends on more than the field), the values it takes
    (whole(), interval() or one_of()), and whether it is part of the architecture."""
    metadata = {
        "why": why,
        "values": values,
        "architecture": architecture,
        "flag": True,
        "default_help": default_help or str(default),
    }
    return dataclasses.field(default=default, metadata=metadata, repr=repr)


def of_data(default, what, architecture=True, repr=True):
    """A field the run's data fills in (the pictures' size, their classes, where they come from), not a flag.
    Most are part of the architecture, as the networks are built for the data; where the data come from is not."""
    metadata = {"why": what, "values": None, "architecture": architecture, "flag": False, "default_help": ""}
    return dataclasses.field(default=default, metadata=metadata, repr=repr)


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """What every kind of run shares: how long it trains, when it saves, how fast it runs."""

    # --- Training: may change when a run resumes. ---
    epochs: int = setting(
        5,
        "Total epochs of the run (a resumed run trains up to this many), each a pass over every training example.",
        whole(1, 100_000),
    )
    batch_size: int = setting(64, "Examples per step.", whole(1, 60_000))
    seed: int = setting(
        0,
        "Seeds the weights, the shuffling, the noise and the fixed inputs of the progress frames.",
        whole(0, 2**31 - 1),
    )

    # --- Saving. ---
    keep_checkpoints: int = setting(
        3, "How many of the latest checkpoints to keep; CheckpointManager deletes older ones.", whole(1, 1000)
    )
    checkpoint_every_epochs: int = setting(
        1,
        "Save a checkpoint after every this many epochs (0: not by epochs); the last epoch is always saved.",
        whole(0, 100_000),
    )
    checkpoint_every_steps: int = setting(
        0, "Also save every this many train steps (0: not by steps).", whole(0, 10**9)
    )
    checkpoint_every_seconds: float = setting(
        300.0,
        "Also save when this many seconds have passed since the last save (0: not by time): a kill costs at "
        "most this much training.",
        interval("[0, 604800]"),
    )

    # --- Speed: how the same computation runs; "auto" picks what measured fastest on the device. ---
    jit_compile: str = setting(
        "auto", "Compile the train step with XLA: auto is off on a CPU (slower there), on on a GPU.", AUTO_ON_OFF
    )
    mixed_precision: str = setting(
        "auto",
        "Compute in 16 bits, keep weights in 32: auto is off on a CPU (slower there), bfloat16 on a GPU that "
        "has it. float16 adds loss scaling.",
        one_of("auto", "off", "bfloat16", "float16"),
    )
    steps_per_call: int = setting(
        0,
        "Train steps per compiled call (0: auto, 1 on a CPU, 16 on a GPU, where a call's overhead is as long as a step).",
        whole(0, 10_000),
    )
    cache_dataset: str = setting("on", "Keep the decoded training examples in memory after the first epoch.", ON_OFF)
    prefetch: str = setting(
        "on", "Prepare the next batches while the current step runs, so the step never waits.", ON_OFF
    )

    def validate(self):
        """Raises UserError naming the first setting that cannot work; returns the settings."""
        for field in dataclasses.fields(self):
            check_value(field, getattr(self, field.name))
        if not (self.checkpoint_every_epochs or self.checkpoint_every_steps or self.checkpoint_every_seconds):
            raise errors.UserError(
                "--checkpoint-every-epochs, --checkpoint-every-steps and --checkpoint-every-seconds "
                "are all 0, so nothing would be saved before the run ends: set one above 0."
            )
        return self


def check_value(field, value):
    """Raises UserError when `value` is not one the setting `field` takes."""
    values = field.metadata.get("values")
    if values is not None and value not in values:
        raise errors.UserError(f"{flag(field.name)} must be {values.requirement()}, got {value!r}.")


def check_values(settings_class, values):
    """Checks each of `values` (field name -> value) on its own, before a whole config is put together."""
    fields = {field.name: field for field in dataclasses.fields(settings_class)}
    for name, value in values.items():
        check_value(fields[name], value)


def refuse_flags_of_another_kind(overrides, settings_class, run_words):
    """Raises UserError when a flag given (a name of `overrides`) is no setting of `settings_class`: a picture
    run's flag given to a text run ("--image-size means nothing for a text run"), or the other way round."""
    names = {field.name for field in dataclasses.fields(settings_class)}
    for name in overrides:
        if name not in names:
            raise errors.UserError(f"{flag(name)} means nothing for {run_words}: drop it.")


def flag(field_name):
    """The command-line flag of a field: `batch_size` -> `--batch-size`."""
    return "--" + field_name.replace("_", "-")


def flag_fields(settings_class):
    """The fields of `settings_class` that are flags of `train`."""
    return [field for field in dataclasses.fields(settings_class) if field.metadata["flag"]]


def architecture_fields(settings_class):
    """The names of the fields that are fixed once a run has saved a checkpoint."""
    return [field.name for field in dataclasses.fields(settings_class) if field.metadata["architecture"]]


def same_architecture(settings, other):
    """Whether two settings build the same networks (a checkpoint of one restores into the other)."""
    return all(getattr(settings, name) == getattr(other, name) for name in architecture_fields(type(settings)))


def refuse_other_architecture(saved, overrides):
    """Raises UserError when `overrides` (field name -> value) ask for networks other than the saved settings'."""
    for name in architecture_fields(type(saved)):
        if name in overrides and overrides[name] != getattr(saved, name):
            raise errors.UserError(
                f"the checkpoints were trained with {flag(name)} {getattr(saved, name)}, not {overrides[name]}: "
                f"drop the flag to resume, or add --fresh (or use another --checkpoint-dir) to start a new run."
            )


def settings_path(directory):
    """Where the settings of the run in `directory` are saved."""
    return pathlib.Path(directory) / SETTINGS_FILENAME


def refuse_foreign_checkpoints(directory):
    """Raises UserError when `directory` holds checkpoints but no settings: another program's files."""
    path = pathlib.Path(directory)
    if (path / INDEX_FILENAME).exists() and not settings_path(path).exists():
        raise errors.UserError(
            f"{path} holds checkpoints that gan_tf did not write (no {SETTINGS_FILENAME}): use another --checkpoint-dir."
        )


def save(settings, path):
    """Writes `settings` as JSON to `path`, atomically so that a kill never leaves half a file."""
    files.write_text(path, json.dumps(dataclasses.asdict(settings), indent=2, ensure_ascii=False) + "\n")


def read(path):
    """The JSON object saved at `path`, or None when there is no file.

    Raises:
      UserError: when it is not a JSON object.
    """
    path = pathlib.Path(path)
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text())
    except ValueError as error:
        raise errors.UserError(
            f"{path} is not a gan_tf config ({error}): point --checkpoint-dir at a gan_tf run, "
            f"or add --fresh to start a new run there."
        ) from None
    if not isinstance(values, dict):
        raise errors.UserError(
            f"{path} is not a gan_tf config (not a JSON object): point --checkpoint-dir at a gan_tf run."
        )
    return values


# The command line's --device and --strategy (runtime/device.py and runtime/distribute.py say what each does).
DEVICES = ("auto", "cpu", "gpu")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")

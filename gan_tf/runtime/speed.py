"""How fast the same computation runs: XLA, mixed precision, steps per compiled call, and the input pipeline.

None of these settings changes what is learned (mixed precision changes the rounding), so each may
change when a run resumes. "auto" means what measured fastest on that kind of device: see docs/speed.md,
and `make bench`, which measures every setting on the machine it runs on.
"""

import contextlib
import dataclasses

import keras

# What `auto` picks on each kind of device, measured with `make bench` (CPU) and explained in docs/speed.md.
AUTO = {
    "cpu": {"jit_compile": "off", "mixed_precision": "off", "steps_per_call": 1},
    "gpu": {"jit_compile": "on", "mixed_precision": "bfloat16", "steps_per_call": 16},
}
POLICIES = {"off": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


@dataclasses.dataclass(frozen=True)
class Speed:
    """The speed settings of a run, with every "auto" resolved for its device."""

    jit_compile: bool
    mixed_precision: str  # "off", "bfloat16" or "float16".
    steps_per_call: int
    cache_dataset: bool
    prefetch: bool

    def describe(self):
        """One line for the training log, e.g. 'XLA off, mixed precision off, 1 step per call, ...'."""
        return (
            f"XLA {'on' if self.jit_compile else 'off'}, mixed precision {self.mixed_precision}, "
            f"{self.steps_per_call} step{'s' if self.steps_per_call > 1 else ''} per call, "
            f"dataset cache {'on' if self.cache_dataset else 'off'}, prefetch {'on' if self.prefetch else 'off'}"
        )

    @property
    def loss_scaling(self):
        """float16 has too few exponent bits for small gradients: they are scaled up, then back down."""
        return self.mixed_precision == "float16"


def resolve(config, on_gpu):
    """The Speed of `config` on a GPU (on_gpu=True) or a CPU."""
    auto = AUTO["gpu" if on_gpu else "cpu"]
    mixed_precision = auto["mixed_precision"] if config.mixed_precision == "auto" else config.mixed_precision
    jit_compile = auto["jit_compile"] if config.jit_compile == "auto" else config.jit_compile
    return Speed(
        jit_compile=jit_compile == "on",
        mixed_precision=mixed_precision,
        steps_per_call=config.steps_per_call or auto["steps_per_call"],
        cache_dataset=config.cache_dataset == "on",
        prefetch=config.prefetch == "on",
    )


@contextlib.contextmanager
def dtype_policy(mixed_precision):
    """Layers built inside compute in `mixed_precision` ("off", "bfloat16" or "float16"); weights stay float32.

    Keras keeps the policy globally; this sets it for the models built inside and puts it back after,
    so that nothing else (the judge, a sampling run) is built in 16 bits by accident.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICIES[mixed_precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

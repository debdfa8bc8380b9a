"""Which processor runs the work: TensorFlow places it on the GPU when one is visible."""

import os

import tensorflow as tf

from gan_tf.runtime import errors
from gan_tf.runtime import settings


def use(choice="auto"):
    """Makes TensorFlow run on the chosen device and returns a line naming it.

    Must be called before TensorFlow runs anything: visible devices cannot change afterwards.

    Args:
      choice: "auto" (the GPU when there is one, else the CPU), "cpu", or "gpu" (an error without one).
    Returns:
      e.g. "GPU: NVIDIA H100 80GB HBM3" or "CPU (2 cores)".
    """
    if choice not in settings.DEVICES:
        raise errors.UserError(f"--device must be one of {', '.join(settings.DEVICES)}, got {choice!r}.")
    gpus = tf.config.list_physical_devices("GPU")
    if choice == "gpu" and not gpus:
        raise errors.UserError("--device gpu: TensorFlow sees no GPU here; use --device cpu or auto.")
    if choice == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
        gpus = []
    if not gpus:
        return f"CPU ({os.cpu_count()} cores)"
    names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
    return "GPU: " + ", ".join(names)


def on_gpu():
    """Whether TensorFlow will place the work on a GPU (after use() has chosen the visible devices)."""
    return bool(tf.config.get_visible_devices("GPU"))

"""The device line and the --device choices."""

import os

import pytest
import tensorflow as tf

from gan_tf.runtime import device
from gan_tf.runtime import errors


def test_auto_names_what_tensorflow_sees():
    gpus = tf.config.list_physical_devices("GPU")
    line = device.use("auto")
    assert line.startswith("GPU: ") if gpus else line == f"CPU ({os.cpu_count()} cores)"
    assert device.on_gpu() == bool(gpus)


def test_gpu_without_one_is_a_clear_error():
    if tf.config.list_physical_devices("GPU"):
        assert device.use("gpu").startswith("GPU: ")
    else:
        with pytest.raises(errors.UserError, match="sees no GPU.*--device cpu"):
            device.use("gpu")


def test_unknown_device_is_refused():
    with pytest.raises(errors.UserError, match="--device must be one of auto, cpu, gpu"):
        device.use("tpu")

"""Run by test_distribute.py in a process of its own: the logical CPUs must be set before TensorFlow starts.

Trains the tiny preset for one epoch on one device and under MirroredStrategy on two logical CPUs,
with the same global batch, and prints the largest weight difference as JSON.
"""

import dataclasses
import json
import sys
import tempfile

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from gan_tf import config as config_lib  # noqa: E402  (after the device set-up above)
from tests.conftest import synthetic_digits  # noqa: E402
from tests.conftest import train_quietly  # noqa: E402


def final_weights(strategy):
    config = dataclasses.replace(config_lib.PRESETS["tiny"], epochs=1, batch_size=16)
    with tempfile.TemporaryDirectory() as directory:
        state = train_quietly(
            config, synthetic_digits(64), f"{directory}/checkpoints", f"{directory}/outputs", strategy=strategy
        )
    return [
        variable.numpy()
        for model in (state.networks["generator"], state.networks["discriminator"], state.networks["encoder"])
        for variable in model.weights
    ], int(state.step.numpy())


one, one_steps = final_weights(tf.distribute.get_strategy())
mirrored_strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
mirrored, mirrored_steps = final_weights(mirrored_strategy)
print(
    json.dumps(
        {
            "replicas": mirrored_strategy.num_replicas_in_sync,
            "steps": [one_steps, mirrored_steps],
            "max_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(one, mirrored)),
            "max_weight": max(float(np.max(np.abs(a))) for a in one),
        }
    )
)
sys.stdout.flush()

"""Training on several devices or machines with tf.distribute.

one          one device: the GPU when there is one, else the CPU (tf.distribute's default strategy).
mirrored     every local GPU (or every logical CPU) holds a copy of the models; each step splits the
             batch between them and adds their gradients (MirroredStrategy).
multiworker  the same across machines, each started with the same command and its own TF_CONFIG
             (MultiWorkerMirroredStrategy). Worker 0 (or the "chief") is the chief: only it writes.
auto         multiworker when TF_CONFIG is set, mirrored with more than one GPU, else one.
"""

import json
import os

import tensorflow as tf

from gan_tf.runtime import errors
from gan_tf.runtime import settings


def make_strategy(choice="auto"):
    """The tf.distribute.Strategy for `choice`. Call it before TensorFlow runs anything else.

    Raises:
      UserError: for multiworker without a usable TF_CONFIG.
    """
    if choice not in settings.STRATEGIES:
        raise errors.UserError(f"--strategy must be one of {', '.join(settings.STRATEGIES)}, got {choice!r}.")
    if choice == "auto":
        if "TF_CONFIG" in os.environ:
            choice = "multiworker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            choice = "mirrored"
        else:
            choice = "one"
    if choice == "one":
        return tf.distribute.get_strategy()
    if choice == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy([device.name for device in gpus or tf.config.list_logical_devices("CPU")])
    read_tf_config()  # MultiWorkerMirroredStrategy reads it too, but a bad one would hang or raise a traceback.
    return tf.distribute.MultiWorkerMirroredStrategy()


def read_tf_config():
    """The cluster described by $TF_CONFIG, checked enough to give a clear error instead of a hang."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise errors.UserError(
            '--strategy multiworker needs TF_CONFIG, e.g. TF_CONFIG=\'{"cluster": {"worker": '
            '["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}\' '
            "(see docs/distributed.md)."
        )
    try:
        tf_config = json.loads(text)
        workers = tf_config["cluster"]["worker"]
        task = tf_config["task"]
        assert isinstance(workers, list) and workers and task["type"] in ("worker", "chief")
        assert 0 <= int(task["index"]) < len(tf_config["cluster"][task["type"]])
    except (ValueError, KeyError, TypeError, AssertionError):
        raise errors.UserError(
            f"TF_CONFIG is not a worker cluster with this machine's task in it: {text[:200]}"
        ) from None
    return tf_config


def is_chief(strategy):
    """Whether this process writes checkpoints, frames and logs: always, except a non-chief worker."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def describe(strategy):
    """One line for the training log, e.g. 'one device' or 'mirrored, 2 replicas'."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        kind = "multiworker"
    elif isinstance(strategy, tf.distribute.MirroredStrategy):
        kind = "mirrored"
    else:
        return "one device"
    return f"{kind}, {strategy.num_replicas_in_sync} replicas, {'chief' if is_chief(strategy) else 'not the chief'}"

"""Speed settings: every combination the command line accepts trains, and none changes the input."""

import dataclasses
import itertools

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import train
from gan_tf.runtime import compiled
from gan_tf.runtime import speed


def test_auto_resolves_per_device():
    config = config_lib.PRESETS["default"]
    on_cpu, on_gpu = speed.resolve(config, on_gpu=False), speed.resolve(config, on_gpu=True)
    assert (on_cpu.jit_compile, on_cpu.mixed_precision, on_cpu.steps_per_call) == (False, "off", 1)
    assert (on_gpu.jit_compile, on_gpu.mixed_precision, on_gpu.steps_per_call) == (True, "bfloat16", 16)
    forced = dataclasses.replace(config, jit_compile="on", mixed_precision="bfloat16", steps_per_call=3, prefetch="off")
    assert speed.resolve(forced, on_gpu=False) == speed.Speed(True, "bfloat16", 3, cache_dataset=True, prefetch=False)
    assert speed.resolve(forced, on_gpu=False).describe() == (
        "XLA on, mixed precision bfloat16, 3 steps per call, dataset cache on, prefetch off")


# Each setting on its own, then all of them together.
@pytest.mark.parametrize("jit_compile, mixed_precision, steps_per_call",
                         [("off", "off", 1), ("off", "off", 2), ("on", "off", 1), ("off", "bfloat16", 1),
                          ("off", "float16", 1), ("on", "float16", 2)])
def test_every_compiled_step_setting_trains(tiny_config, digits, jit_compile, mixed_precision, steps_per_call):
    config = dataclasses.replace(tiny_config, jit_compile=jit_compile, mixed_precision=mixed_precision,
                                 steps_per_call=steps_per_call)
    settings = speed.resolve(config, on_gpu=False)
    state = train.build_state(config, settings.mixed_precision)
    before = [variable.numpy() for variable in state.generator.trainable_variables]
    train_steps = compiled.compile_train_step(state, config, settings)
    full_batches, _ = data.epoch_batches(data.digit_dataset(digits), config.batch_size, config.seed, 0,
                                         config.latent_dim)[0]
    results = train_steps(iter(full_batches), steps_per_call)

    assert sorted(results) == ["discriminator", "encoder", "generator"]
    assert all(np.isfinite(float(value)) for value in results.values())
    assert int(state.step) == steps_per_call and int(state.epoch_images) == steps_per_call * config.batch_size
    after = [variable.numpy() for variable in state.generator.trainable_variables]
    assert all(variable.dtype == np.float32 for variable in after)  # Weights stay float32 in mixed precision.
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert state.generator(train.frame_inputs(config)).dtype == tf.float32  # So do the digits.


@pytest.mark.parametrize("cache, prefetch", list(itertools.product([True, False], [True, False])))
def test_cache_and_prefetch_leave_the_batches_unchanged(digits, cache, prefetch):
    def epoch(cache, prefetch):
        parts = data.epoch_batches(data.digit_dataset(digits, cache=cache), 16, 0, 1, 8, prefetch=prefetch)
        return [batch for part, _ in parts for batch in part]

    for batch, expected in zip(epoch(cache, prefetch), epoch(True, True), strict=True):
        for tensor, expected_tensor in zip(batch, expected, strict=True):  # Images, labels, noise.
            np.testing.assert_array_equal(tensor, expected_tensor)


def test_models_built_in_mixed_precision_leave_the_global_policy_alone():
    with speed.dtype_policy("bfloat16"):
        pass
    assert tf.keras.config.dtype_policy().name == "float32"

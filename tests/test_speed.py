"""Speed settings: every combination the command line accepts trains, and none changes the input."""

import dataclasses
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import models
from gan_tf import step as step_lib
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
        "XLA on, mixed precision bfloat16, 3 steps per call, dataset cache on, prefetch off"
    )


def plain_losses(config, batches):
    """The losses of step.train_step run eagerly, in float32, on a new state of `config`: what every
    compiled setting must report (within its rounding). {name: sum over the batches}."""
    state = train.build_state(config)
    totals = {}
    for batch in batches:
        for name, value in step_lib.train_step(state, config, *batch).items():
            totals[name] = totals.get(name, 0.0) + float(value)
    return totals


# Each setting on its own, then all of them together; the tolerance is the rounding of the precision.
@pytest.mark.parametrize(
    "jit_compile, mixed_precision, steps_per_call, tolerance",
    [
        ("off", "off", 1, 1e-5),
        ("off", "off", 2, 1e-5),
        pytest.param("on", "off", 1, 1e-4, marks=pytest.mark.slow),  # XLA compiles for seconds.
        ("off", "bfloat16", 1, 3e-2),
        ("off", "float16", 1, 1e-2),
        pytest.param("on", "float16", 2, 1e-2, marks=pytest.mark.slow),
    ],
)
def test_every_compiled_step_setting_trains_as_the_plain_step(
    tiny_config, digits, jit_compile, mixed_precision, steps_per_call, tolerance
):
    config = dataclasses.replace(
        tiny_config, jit_compile=jit_compile, mixed_precision=mixed_precision, steps_per_call=steps_per_call
    )
    settings = speed.resolve(config, on_gpu=False)
    state = train.build_state(config, settings.mixed_precision)
    before = [variable.numpy() for variable in state.networks["generator"].trainable_variables]
    train_steps = train.compile_gan_step(state, config, settings)
    full_batches, _ = data.epoch_batches(
        data.image_dataset(digits), config.batch_size, config.seed, 0, config.latent_dim
    )[0]
    results = train_steps(iter(full_batches), steps_per_call)

    expected = plain_losses(tiny_config, list(full_batches.take(steps_per_call)))
    assert sorted(results) == sorted(expected) == ["discriminator", "encoder", "generator"]
    for name, value in results.items():
        assert float(value) == pytest.approx(expected[name], rel=tolerance), name
    assert int(state.step) == steps_per_call and int(state.epoch_examples) == steps_per_call * config.batch_size
    after = [variable.numpy() for variable in state.networks["generator"].trainable_variables]
    assert all(variable.dtype == np.float32 for variable in after)  # Weights stay float32 in mixed precision.
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert state.networks["generator"](train.frame_inputs(config)).dtype == tf.float32  # So do the digits.


@pytest.mark.slow  # Three states, traced three times.
def test_several_steps_a_call_learn_what_one_step_a_call_learns(tiny_config, digits):
    """runtime/compiled.py's promise: steps_per_call changes how the steps are dispatched, not what they learn.

    Not bitwise: the graph of the loop is optimised as a whole, and orders a few float32 sums otherwise.
    After four steps every weight and Adam moment is within 1e-6 of one step a call's; each setting
    run twice is bitwise the same (Keras's blank state gives both runs the same layer names).
    """

    def weights_after_four_steps(steps_per_call):
        config = dataclasses.replace(tiny_config, steps_per_call=steps_per_call)
        settings = speed.resolve(config, on_gpu=False)
        keras.backend.clear_session(free_memory=False)  # As train.train does: the same names, the same graph.
        state = train.build_state(config)
        train_steps = train.compile_gan_step(state, config, settings)
        ((full_batches, _),) = data.epoch_batches(
            data.image_dataset(digits), config.batch_size, config.seed, 0, config.latent_dim
        )
        iterator = iter(full_batches.repeat())
        totals = [train_steps(iterator, steps_per_call) for _ in range(4 // steps_per_call)]
        losses = {name: sum(float(total[name]) for total in totals) for name in totals[0]}
        learned = [
            *state.networks["generator"].weights,
            *state.networks["discriminator"].weights,
            *state.networks["encoder"].weights,
            *state.optimizers["generator"].variables,
            *state.optimizers["discriminator"].variables,
            *state.optimizers["encoder"].variables,
        ]
        return [variable.numpy() for variable in learned], losses, int(state.step)

    one, one_losses, one_steps = weights_after_four_steps(1)
    four, four_losses, four_steps = weights_after_four_steps(4)
    again, _, _ = weights_after_four_steps(4)
    assert one_steps == four_steps == 4 and len(one) == len(four) == len(again)
    for a, b, c in zip(one, four, again, strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(c, b)
    assert four_losses == pytest.approx(one_losses, rel=1e-6)


@pytest.mark.parametrize("cache, prefetch", list(itertools.product([True, False], [True, False])))
def test_cache_and_prefetch_leave_the_batches_unchanged(digits, cache, prefetch):
    def epoch(cache, prefetch):
        parts = data.epoch_batches(data.image_dataset(digits, cache=cache), 16, 0, 1, 8, prefetch=prefetch)
        return [batch for part, _ in parts for batch in part]

    for batch, expected in zip(epoch(cache, prefetch), epoch(True, True), strict=True):
        for tensor, expected_tensor in zip(batch, expected, strict=True):  # Images, labels, noise.
            np.testing.assert_array_equal(tensor, expected_tensor)


def test_models_built_in_mixed_precision_leave_the_global_policy_alone(tiny_config):
    with speed.dtype_policy("bfloat16"):
        generator = models.build_generator(tiny_config)
    assert tf.keras.config.dtype_policy().name == "float32"
    # Inside, the layers compute in bfloat16 with float32 weights; the last one computes in float32.
    assert generator.layers[0].dtype_policy.name == "mixed_bfloat16"
    assert generator.layers[0].compute_dtype == "bfloat16" and generator.layers[0].kernel.dtype == "float32"
    assert generator.layers[-1].compute_dtype == "float32"
    # Built after, a model is float32 throughout.
    assert {layer.compute_dtype for layer in models.build_generator(tiny_config).layers} == {"float32"}


def test_the_train_step_runs_with_grappler_remapping_off_and_puts_the_setting_back():
    steps = compiled.CompiledSteps(lambda *batch: {"loss": tf.constant(0.0)})
    seen = []
    steps.one_step = lambda iterator: seen.append(tf.config.optimizer.get_experimental_options().get("remapping"))
    steps.several_steps = lambda iterator, count: seen.append(
        tf.config.optimizer.get_experimental_options().get("remapping")
    )
    steps(iter([]), 1)
    steps(iter([]), 3)
    assert seen == [False, False]
    assert tf.config.optimizer.get_experimental_options().get("remapping", True) is True
    on = compiled.CompiledSteps(lambda *batch: {"loss": tf.constant(0.0)}, remapping=True)
    on.one_step = steps.one_step
    on(iter([]), 1)
    assert seen == [False, False, True]

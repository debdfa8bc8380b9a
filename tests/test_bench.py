"""The benchmark's reference models and its timer."""

import dataclasses
import time

import keras
import pytest
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import models
from gan_tf.runtime import speed
from gan_tf.tools import bench
from tests.conftest import synthetic_digits
from tests.conftest import synthetic_pictures


def test_tutorial_models_have_the_tutorials_sizes():
    # Counted by hand from the tutorial's layers: Dense 100 x 12544, three BatchNormalizations (4 weights a
    # channel), Conv2DTranspose 5x5 kernels 256->128->64->1 without biases.
    assert bench.tutorial_generator().count_params() == 1_254_400 + 50_176 + 819_200 + 512 + 204_800 + 256 + 1_600
    # Conv2D 5x5 1->64 and 64->128 with biases, Dense 7*7*128 -> 1 with a bias.
    assert bench.tutorial_discriminator().count_params() == 1_664 + 204_928 + 6_273


def test_the_tutorial_models_adapt_to_colour_pictures_of_32_pixels():
    # Its first map a quarter of the picture (8x8x256), the last layer three channels, D reading colour.
    generator = bench.tutorial_generator((32, 32, 3))
    assert generator.output_shape == (None, 32, 32, 3)
    assert generator.count_params() == 100 * 8 * 8 * 256 + 4 * 8 * 8 * 256 + 819_200 + 512 + 204_800 + 256 + 64 * 25 * 3
    assert bench.tutorial_discriminator((32, 32, 3)).count_params() == (75 * 64 + 64) + 204_928 + (8 * 8 * 128 + 1)


def test_the_profiler_counts_two_flops_per_multiply_add():
    # (8 x 16) @ (16 x 4): 8 * 4 outputs of 16 multiply-adds each. A 5x5 convolution of one channel to two,
    # stride 2 on 8x8: 4 * 4 * 2 outputs of 25 multiply-adds each.
    product = tf.function(tf.matmul).get_concrete_function(tf.TensorSpec((8, 16)), tf.TensorSpec((16, 4)))
    assert bench.graph_flops(product) == 2 * 8 * 4 * 16
    kernel = tf.zeros((5, 5, 1, 2))
    convolution = tf.function(lambda images: tf.nn.conv2d(images, kernel, 2, "SAME"))
    assert bench.graph_flops(convolution.get_concrete_function(tf.TensorSpec((1, 8, 8, 1)))) == 2 * 4 * 4 * 2 * 25


def test_a_batched_product_with_its_first_factor_transposed_counts_its_inner_dimension():
    # (3 x [16 x 8]^T) @ (3 x [16 x 4]): 3 * 8 * 4 outputs of 16 multiply-adds each, which the profiler alone
    # counts as 8 each (the first factor's last axis); the gradient of a (3, 5, 8) x (8, 4) product with respect
    # to its second factor is such a product, (3 x [5 x 8]^T) @ (3 x [5 x 4]), then the sum of its 3 (8 x 4)
    # matrices: 2 additions for each of 8 x 4 entries.
    transposed = tf.function(lambda a, b: tf.matmul(a, b, adjoint_a=True))
    traced = transposed.get_concrete_function(tf.TensorSpec((3, 16, 8)), tf.TensorSpec((3, 16, 4)))
    assert bench.graph_flops(traced) == 2 * 3 * 8 * 4 * 16
    weights = tf.Variable(tf.zeros((8, 4)))

    def weights_gradient(x):
        with tf.GradientTape() as tape:
            outputs = tf.matmul(x, weights)
        return tape.gradient(outputs, weights)

    traced = tf.function(weights_gradient).get_concrete_function(tf.TensorSpec((3, 5, 8)))
    assert bench.graph_flops(traced) == 2 * 3 * 8 * 4 * 5 + 2 * 8 * 4


def test_the_flops_of_gradients_that_nothing_uses_are_not_counted():
    # A convolution and its gradient with respect to its input alone: TensorFlow's graph also holds the
    # filter's gradient, which it never runs. Counted: the convolution and the input's gradient, as many each.
    kernel = tf.zeros((5, 5, 1, 2))

    def convolution_and_input_gradient(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            outputs = tf.nn.conv2d(images, kernel, 2, "SAME")
        return outputs, tape.gradient(outputs, images)

    traced = tf.function(convolution_and_input_gradient).get_concrete_function(tf.TensorSpec((1, 8, 8, 1)))
    assert "Conv2DBackpropFilter" in {op.type for op in traced.graph.get_operations()}
    assert bench.graph_flops(traced) == 2 * (2 * 4 * 4 * 2 * 25)


@pytest.mark.slow
def test_each_loop_counts_the_images_of_its_short_last_batch():
    """Both loops are timed over whole epochs: the tutorial's pipeline keeps its short last batch, as published."""
    batches = bench.tutorial_dataset(synthetic_digits(300).images)
    assert [len(batch) for batch in batches] == [256, 44]  # 300 = 256 + 44.
    tiny = config_lib.PRESETS["tiny"]
    our_call = bench.ours(tiny, synthetic_digits(40), speed.resolve(tiny, on_gpu=False))
    assert [our_call()[1] for _ in range(4)] == [16, 16, 8, 16]


def test_images_per_second_counts_the_images_of_each_call_and_takes_windows_in_turns():
    calls = []

    def call(name, seconds):
        def timed():
            calls.append(name)
            time.sleep(seconds)
            return tf.constant(0.0), 40

        return timed

    fast, slow = bench.rates([call("fast", 0.01), call("slow", 0.02)], warmup_calls=2, windows=3, window_seconds=0.05)
    assert 0 < slow < fast <= 40 / 0.01  # At most 40 images per 10 ms call.
    # Warm-up calls first, then windows alternate: fast, slow, fast, slow, fast, slow.
    assert calls[:4] == ["fast", "fast", "slow", "slow"]
    turns = [name for index, name in enumerate(calls[4:]) if index == 0 or calls[4 + index - 1] != name]
    assert turns == ["fast", "slow"] * 3


def test_tutorial_preset_builds_the_tutorials_networks():
    preset = config_lib.PRESETS["tutorial"]
    assert models.build_generator(preset).count_params() == bench.tutorial_generator().count_params()
    assert models.build_discriminator(preset).count_params() == bench.tutorial_discriminator().count_params()
    ours = [
        (type(layer).__name__, layer.output.shape)
        for layer in models.build_generator(preset).layers
        if not isinstance(layer, keras.layers.Activation)
    ]
    theirs = [(type(layer).__name__, layer.output.shape) for layer in bench.tutorial_generator().layers]
    assert ours == theirs  # The same layers in the same order, with the same shapes.


def test_speed_variants_change_one_setting_each():
    auto = speed.resolve(config_lib.PRESETS["default"], on_gpu=False)
    variants = bench.speed_variants(auto)
    assert variants[0][1] == auto
    for label, variant in variants[1:]:
        changed = [name for name in vars(auto) if getattr(auto, name) != getattr(variant, name)]
        assert len(changed) == 1, label
    assert "dataset cache off" in dict(variants)
    assert [label for label, _ in bench.speed_variants(auto, cache=False)] == [
        label for label, _ in variants if label != "dataset cache off"
    ]


@pytest.mark.slow
def test_time_to_quality_stops_at_the_first_epoch_that_reaches_the_target(monkeypatch):
    """The trial's bookkeeping, with a tiny model and the judge's scores stubbed: 5.0, then 9.5."""
    monkeypatch.setitem(config_lib.PRESETS, "default", config_lib.PRESETS["tiny"])
    scores = iter([5.0, 9.5, 9.9])
    figures = {"score": 0.5, "frechet_distance": 20.0}

    def during_training(*args, **kwargs):
        return lambda state: {**figures, "score": next(scores)}

    monkeypatch.setattr(bench.evaluate, "during_training", during_training)
    trial = bench.time_to_quality(
        config_lib.PRESETS["tiny"],
        synthetic_digits(40),
        synthetic_digits(20, seed=1),
        judge_directory=None,
        target=9.0,
        minutes=10,
        on_gpu=False,
        log=lambda line: None,
    )
    assert [(epoch, score) for epoch, _, score in trial] == [(1, 5.0), (2, 9.5)]
    assert 0 < trial[0][1] < trial[1][1]  # Training seconds, growing.


def test_on_colour_pictures_the_colour_defaults_are_timed_against_the_digits_in_turns(monkeypatch):
    pictures = synthetic_pictures(48)
    facts = data.facts(pictures, "/pets")
    default = dataclasses.replace(config_lib.with_pictures(config_lib.resolve({}), facts), batch_size=16)
    digits = dataclasses.replace(
        config_lib.with_pictures(config_lib.resolve({}), facts, tuple(config_lib.COLOUR_DEFAULTS["on"])), batch_size=16
    )
    timed = []
    monkeypatch.setattr(bench, "rates", lambda calls, window_seconds: timed.append(len(calls)) or [100.0, 80.0])
    monkeypatch.setattr(bench, "ours", lambda config, pictures, speed: config)
    lines = []
    bench.log_colour_defaults(default, digits, pictures, speed.resolve(default, on_gpu=False), 0.05, lines.append)
    assert timed == [2]  # One call of rates(): the two in turns.
    for flag in ["--class-conditioning concatenate", "--loss non-saturating"]:
        assert flag in lines[1]  # The digits' defaults, as flags over the colour ones.
    assert lines[1].split()[-1] == "100" and lines[2].split()[-2:] == ["80", "(0.80x)"]

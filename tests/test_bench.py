"""The benchmark's reference models and its timer."""

import tensorflow as tf

from gan_tf import bench


def test_tutorial_models_have_the_tutorials_sizes():
    # Counted by hand from the tutorial's layers: Dense 100 x 12544, three BatchNormalizations (4 weights a
    # channel), Conv2DTranspose 5x5 kernels 256->128->64->1 without biases.
    assert bench.tutorial_generator().count_params() == 1_254_400 + 50_176 + 819_200 + 512 + 204_800 + 256 + 1_600
    # Conv2D 5x5 1->64 and 64->128 with biases, Dense 7*7*128 -> 1 with a bias.
    assert bench.tutorial_discriminator().count_params() == 1_664 + 204_928 + 6_273


def test_tutorial_step_trains_on_a_batch_of_256():
    step = bench.tutorial_train_step()
    loss = step(tf.zeros((bench.TUTORIAL_BATCH, 28, 28, 1)))
    assert loss.shape == () and bool(tf.math.is_finite(loss))


def test_steps_per_second_counts_calls():
    calls = []

    def step(batch):
        calls.append(batch)
        return tf.constant(0.0)

    rate = bench.steps_per_second(step, 1, warmup_steps=2, windows=3, window_seconds=0.05)
    assert rate > 0 and len(calls) >= 2 + 3  # Warm-up calls, then at least one call a window.

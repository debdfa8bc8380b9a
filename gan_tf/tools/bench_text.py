"""`make bench` on texts: how fast the language model's step and the GAN's run, against a same-run tf.matmul.

Both steps are timed as a run trains them (runtime/compiled.py, the input pipeline of runtime/batches.py), in
tokens per second: the positions of the real texts a step learns from, B x (T - 1). The GAN's step writes as
many texts as it reads, one position at a time (text/sample.py), then reads both with D and its texts with G
and the language model. Its floating-point operations are counted from its graph (tools/bench.graph_flops),
which holds the writing loop's body once: the body's operations, counted on their own, are added for each
position the loop runs.
"""

import itertools
import resource

import tensorflow as tf

from gan_tf.runtime import batches as batches_lib
from gan_tf.runtime import compiled
from gan_tf.runtime import speed as speed_lib
from gan_tf.text import data
from gan_tf.text import models
from gan_tf.text import train
from gan_tf.tools import bench


def calls_of(train_steps, state, ids, config, speed):
    """A call of the loop: the next compiled call of an endless run of epochs; returns (losses, tokens trained on)."""
    examples = data.token_dataset(ids)

    def calls():
        trained = 0
        for epoch in itertools.count():
            batches = batches_lib.epoch_batches(
                examples, config.batch_size, config.seed, epoch, prefetch=speed.prefetch
            )
            for losses, _ in compiled.calls(train_steps, batches, speed.steps_per_call):
                texts, trained = int(state.epoch_examples.numpy()) - trained, int(state.epoch_examples.numpy())
                yield losses, texts * (config.sequence_length - 1)

    return calls().__next__


def phases(config, speed):
    """(name, state, the phase's step) of the language model and of the GAN, from new networks."""
    language_model = train.build_language_model_state(config, speed.mixed_precision)
    weights = language_model.networks["language_model"].get_weights()
    gan = train.build_gan_state(config, weights, speed.mixed_precision)
    from gan_tf.text import step as step_lib

    return [("language model", language_model, step_lib.language_model_step), ("GAN", gan, train.gan_step(config))]


def step_flops(config, state, step, speed):
    """Floating-point operations of one step on a full batch, the GAN's writing loop counted at every position."""
    batch = tf.TensorSpec((config.batch_size, config.sequence_length), tf.int32)
    flops = bench.graph_flops(tf.function(compiled.make_train_step(step, state, speed)).get_concrete_function(batch))
    if "generator" in state.networks:  # The loop's body, once for each of T - 1 positions.
        decoder = models.Decoder(state.networks["generator"])
        caches = decoder.empty_cache(config.batch_size)
        decode = tf.function(lambda tokens, caches: decoder.decode_step(tokens, tf.constant(0), caches))
        body = decode.get_concrete_function(tf.TensorSpec((config.batch_size,), tf.int32), caches)
        flops += (config.sequence_length - 1) * bench.graph_flops(body)
    return flops


def run(config, texts, on_gpu=False, window_seconds=4.0, log=print):
    """The text benchmark: each phase's tokens per second, its FLOP/s as a share of tf.matmul's, peak memory.

    Each step is timed in turns with a tf.matmul of two 2048 x 2048 float32 matrices (a window of one, then of
    the other), so that the share compares the two at the same moments of a machine whose speed drifts.
    """
    ids = data.encode(texts.texts, texts.labels, config.vocabulary, config.sequence_length, config.class_names)
    speed = speed_lib.resolve(config, on_gpu)
    log(f"text run: {len(ids)} texts of {config.sequence_length} tokens, batch {config.batch_size}, "
        f"vocabulary {data.vocabulary_size(config.vocabulary)}; {speed.describe()}")  # fmt: skip
    matmul = bench.matmul_call()
    for name, state, step in phases(config, speed):
        train_steps = compiled.compile_train_step(step, state, speed)
        step_call = calls_of(train_steps, state, ids, config, speed)
        rate, peak = bench.rates([step_call, matmul], window_seconds=window_seconds)  # In turns: the same moments.
        flops = step_flops(config, state, step, speed) / (config.batch_size * (config.sequence_length - 1))
        achieved = flops * rate
        log(f"  {name + ' step:':22}{rate:9.0f} tokens/s  {flops / 1e6:7.3g} MFLOP a token  "
            f"{achieved / 1e9:6.1f} GFLOP/s  ({achieved / peak:.0%} of tf.matmul's {peak / 1e9:.0f}, timed in turns)")  # fmt: skip
    log(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (maximum resident set size)")

"""`make bench` on texts: how fast the language model's step and the GAN's run, against a same-run tf.matmul.

Both steps are timed as a run trains them (runtime/compiled.py, the input pipeline of runtime/batches.py), in
tokens per second: the positions of the real texts a step learns from, B x (T - 1). The GAN's step writes as
many texts as it reads, one position at a time (text/sample.py), then reads both with D and its texts with G
and the language model. Its floating-point operations are counted from its graph (tools/bench.graph_flops),
which holds the writing loop's body once: the body's operations, counted on their own, are added for each
position the loop runs. Then where a step's time goes (its parts timed in turns with it: the language model's forward
pass, up to its logits, and with its gradients; the GAN's writing, and its step without the KL term), and both steps
under each speed setting changed alone, as the pictures' benchmark times its step (tools/bench.py).
"""

import dataclasses
import gc
import itertools
import resource

import tensorflow as tf

from gan_tf.runtime import batches as batches_lib
from gan_tf.runtime import compiled
from gan_tf.runtime import speed as speed_lib
from gan_tf.text import data
from gan_tf.text import losses
from gan_tf.text import models
from gan_tf.text import sample
from gan_tf.text import step as step_lib
from gan_tf.text import train
from gan_tf.tools import bench


def calls_of(step, state, ids, config, speed):
    """A call of the loop for step(state, tokens, average) compiled with `speed`: the next compiled call of an
    endless run of epochs; returns (losses, tokens trained on)."""
    train_steps = compiled.compile_train_step(step, state, speed)
    examples = data.token_dataset(ids)

    def calls():
        trained = 0
        for epoch in itertools.count():
            batches = batches_lib.epoch_batches(
                examples, config.batch_size, config.seed, epoch, prefetch=speed.prefetch
            )
            for step_losses, _ in compiled.calls(train_steps, batches, speed.steps_per_call):
                texts, trained = int(state.epoch_examples.numpy()) - trained, int(state.epoch_examples.numpy())
                yield step_losses, texts * (config.sequence_length - 1)

    return calls().__next__


def phases(config, speed):
    """(name, state, the phase's step) of the language model and of the GAN, from new networks."""
    steps = {"language model": step_lib.language_model_step, "GAN": train.gan_step(config)}
    return [(phase, new_state(phase, config, speed), step) for phase, step in steps.items()]


def language_model_forward(state, tokens, average=tf.reduce_mean):
    """The language model step's forward pass alone (step.language_model_step without its gradients)."""
    logits = state.networks["language_model"](tokens[:, :-1], training=True)
    return {"language_model": average(losses.language_model_loss(logits, tokens[:, 1:]))}


def language_model_logits(state, tokens, average=tf.reduce_mean):
    """The language model step's forward pass up to its logits, without the loss: the forward pass less this is the
    softmax cross-entropy over the vocabulary."""
    logits = state.networks["language_model"](tokens[:, :-1], training=True)
    return {"language_model": average(logits[:, -1, 0])}  # One logit of each text, whose product computes them all.


def language_model_gradients(state, tokens, average=tf.reduce_mean):
    """The language model step's forward pass and gradients, without the optimizer's update: returns the gradients'
    global norm (which the update's clipping computes too), since TensorFlow leaves out what no result needs."""
    model = state.networks["language_model"]
    with tf.GradientTape() as tape:
        loss = language_model_forward(state, tokens, average)["language_model"]
    return {"language_model": tf.linalg.global_norm(tape.gradient(loss, model.trainable_variables))}


def gan_writing(config):
    """The GAN step's first part alone, as step(state, tokens, average): G writes as many texts as the batch holds,
    with the step's seed (step.gan_step)."""

    def write(state, real_tokens, average=tf.reduce_mean):
        _, write_seed = step_lib.step_seeds(state, config)
        written = sample.Writer(state.networks["generator"], config).write_ids(real_tokens[:, 0], write_seed)
        return {"generator": average(tf.cast(written[:, -1], tf.float32))}  # A scalar that needs the whole loop.

    return write


def gan_without_kl(config):
    """The GAN step with --kl-weight 0: the whole step less this is the KL term, over the whole vocabulary."""
    return train.gan_step(dataclasses.replace(config, kl_weight=0.0))


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


def run(config, texts, on_gpu=False, window_seconds=4.0, log=print, variants=None):
    """The text benchmark: each phase's tokens per second, its FLOP/s as a share of tf.matmul's and the memory that
    training both takes; then where a step's time goes, and each step under each speed setting changed alone.

    Each step is timed in turns with a tf.matmul of two 2048 x 2048 float32 matrices (a window of one, then of
    the other), so that the share compares the two at the same moments of a machine whose speed drifts.
    variants: the (label, speed.Speed) to time after that, by default bench.speed_variants() of the run's own.
    """
    ids = data.encode(texts.texts, texts.labels, config.vocabulary, config.sequence_length, config.class_names)
    speed = speed_lib.resolve(config, on_gpu)
    log(f"text run: {len(ids)} texts of {config.sequence_length} tokens, batch {config.batch_size}, "
        f"vocabulary {data.vocabulary_size(config.vocabulary)}; {speed.describe()}")  # fmt: skip
    whole_steps = log_steps(config, ids, speed, window_seconds, log)
    log(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (maximum resident set "
        f"size, training both steps; the parts and the settings below build networks of their own)")  # fmt: skip
    log_parts(config, ids, speed, whole_steps, window_seconds, log)
    del whole_steps
    variants = bench.speed_variants(speed, cache=False) if variants is None else variants  # No cache: ids in memory.
    log_speed_settings(config, ids, variants, window_seconds, log)


def log_steps(config, ids, speed, window_seconds, log):
    """Each phase's tokens per second and FLOP/s, in turns with tf.matmul; returns {phase: its call (calls_of)}."""
    matmul, whole_steps = bench.matmul_call(), {}
    for name, state, step in phases(config, speed):
        whole_steps[name] = calls_of(step, state, ids, config, speed)
        rate, peak = bench.rates([whole_steps[name], matmul], window_seconds=window_seconds)  # In turns.
        flops = step_flops(config, state, step, speed) / (config.batch_size * (config.sequence_length - 1))
        achieved = flops * rate
        log(f"  {name + ' step:':22}{rate:9.0f} tokens/s  {flops / 1e6:7.3g} MFLOP a token  "
            f"{achieved / 1e9:6.1f} GFLOP/s  ({achieved / peak:.0%} of tf.matmul's {peak / 1e9:.0f}, timed in turns)")  # fmt: skip
    return whole_steps


def log_parts(config, ids, speed, whole_steps, window_seconds, log):
    """Milliseconds a step of each step's parts, each timed in turns with its whole step (whole_steps: each phase's
    call, calls_of): the language model's forward pass, up to its logits (the rest of it is the loss), and with its
    gradients (the rest of the step is the optimizer's update); the GAN's writing, and its step without the KL term."""
    parts = {
        "language model": {
            "forward": language_model_forward,
            "forward to the logits": language_model_logits,
            "forward and gradients": language_model_gradients,
        },
        "GAN": {"G writing its texts": gan_writing(config), "without its KL term": gan_without_kl(config)},
    }
    log("parts of a step, milliseconds a step (each part in turns with its whole step):")
    for phase, steps in parts.items():
        calls = [whole_steps[phase]]
        for step in steps.values():  # Each on a state of its own, whose counters count its own texts.
            state = new_state(phase, config, speed)
            calls.append(calls_of(step, state, ids, config, speed))
        rates = bench.rates(calls, window_seconds=window_seconds)
        times = ", ".join(f"{label} {1000 * config.batch_size * (config.sequence_length - 1) / rate:.0f}"
                          for label, rate in zip(["whole step", *steps], rates, strict=True))  # fmt: skip
        log(f"  {phase + ':':22}{times}")


def new_state(phase, config, speed):
    """A new runtime.state.TrainingState of the phase "language model" or "GAN" (G starting from a new language model)."""
    language_model = train.build_language_model_state(config, speed.mixed_precision)
    if phase == "language model":
        return language_model
    weights = language_model.networks["language_model"].get_weights()
    return train.build_gan_state(config, weights, speed.mixed_precision)


def log_speed_settings(config, ids, variants, window_seconds, log):
    """Both steps' tokens per second under each of `variants`, (label, speed.Speed), one after another."""
    log("speed settings, each changed alone, tokens per second (one setting after another, not in turns):")
    log(f"  {'':86}{'language model':>15}{'GAN':>9}")
    for label, speed in variants:
        rates = [
            bench.rates([calls_of(step, state, ids, config, speed)], window_seconds=window_seconds)[0]
            for _, state, step in phases(config, speed)
        ]
        log(f"  {label + ':':86}{rates[0]:15.0f}{rates[1]:9.0f}")
        gc.collect()  # The setting's networks and functions, which refer to each other, before the next's are built.

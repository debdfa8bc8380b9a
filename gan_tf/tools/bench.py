"""`make bench`: how fast the train step runs, against TensorFlow's DCGAN tutorial, and how soon the
default run draws good digits.

Both train steps are timed in the same process, after warm-up, over several timed windows taken in
turns; the median window is reported, because timings on a shared machine are noisy.

The tutorial (tensorflow/docs, site/en/tutorials/generative/dcgan.ipynb) is timed as published: its
models, its Adam(1e-4) optimizers, its `train_step` with noise of BATCH_SIZE rows, and its pipeline
`Dataset.from_tensor_slices(train_images).shuffle(60000).batch(256)`, which keeps the short last batch
of 96 images (60,000 = 234 x 256 + 96). It departs in two places, both outside what is timed or
needed to run it here: the images come from gan_tf's loader (the tutorial calls
tf.keras.datasets.mnist.load_data(), a download), and its loop over epochs, which also draws and
saves a picture and a checkpoint, is left out: a timing window calls train_step on the next batch.
"""

import dataclasses
import itertools
import resource
import statistics
import tempfile
import time

import keras
import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import data
from gan_tf import evaluate
from gan_tf import mnist
from gan_tf import models
from gan_tf import train
from gan_tf.runtime import compiled
from gan_tf.runtime import speed as speed_lib
from gan_tf.tools import clock
from gan_tf.tools import variants

TUTORIAL_BATCH = 256
TUTORIAL_NOISE_DIM = 100


# --- TensorFlow's DCGAN tutorial (tensorflow/docs, tutorials/generative/dcgan), as written there. ---


def tutorial_generator(image_shape=(28, 28, 1)):
    """The tutorial's generator: 100-d noise -> 7x7x256 -> 7x7x128 -> 14x14x64 -> 28x28x1 (tanh). For other
    pictures its first map is a quarter of their size (8x8 for 32 pixels) and its output has their channels,
    as a student adapts it."""
    start = image_shape[0] // 4
    model = keras.Sequential(name="tutorial_generator")
    model.add(keras.Input(shape=(TUTORIAL_NOISE_DIM,)))
    model.add(keras.layers.Dense(start * start * 256, use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Reshape((start, start, 256)))
    model.add(keras.layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.LeakyReLU())
    model.add(
        keras.layers.Conv2DTranspose(image_shape[-1], 5, strides=2, padding="same", use_bias=False, activation="tanh")
    )
    assert model.output_shape == (None, *image_shape)
    return model


def tutorial_discriminator(image_shape=(28, 28, 1)):
    """The tutorial's discriminator: two 5x5 strided convolutions with dropout, then one logit."""
    model = keras.Sequential(name="tutorial_discriminator")
    model.add(keras.Input(shape=image_shape))
    model.add(keras.layers.Conv2D(64, 5, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Conv2D(128, 5, strides=2, padding="same"))
    model.add(keras.layers.LeakyReLU())
    model.add(keras.layers.Dropout(0.3))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(1))
    assert model.output_shape == (None, 1)
    return model


def tutorial_train_step(image_shape=(28, 28, 1)):
    """The tutorial's train_step (Adam 1e-4 for both; noise of BATCH_SIZE rows, even for the short last batch)."""
    generator, discriminator = tutorial_generator(image_shape), tutorial_discriminator(image_shape)
    generator_optimizer, discriminator_optimizer = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([TUTORIAL_BATCH, TUTORIAL_NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator, discriminator.trainable_variables))
        return gen_loss

    return train_step


# --- Measuring. ---


def rates(calls, warmup_calls=3, windows=5, window_seconds=4.0):
    """For each call in `calls`: the median, over `windows` timed windows, of examples (images, tokens) per second
    when call() is repeated. Each call trains on what comes next and returns (its result, examples trained on).

    Each call trains on the next batches of an input pipeline, so the pipeline is part of what is
    timed: a step that waits for its batch is slower. The windows are taken in turns (the first window
    of each call, then the second of each, ...), so that a machine that gets faster or slower during the
    measurement affects every call alike.
    """
    for call in calls:
        for _ in range(warmup_calls):  # The first call traces and compiles; the next ones settle the caches.
            call()
    rates = [[] for _ in calls]
    for _ in range(windows):
        for call, call_rates in zip(calls, rates):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < window_seconds:
                result, images = call()
                count += images
            tf.nest.map_structure(lambda tensor: tensor.numpy(), result)  # Wait until the last step has finished.
            call_rates.append(count / (time.perf_counter() - start))
    return [statistics.median(call_rates) for call_rates in rates]


def ours(config, pictures, speed, remapping=False):
    """A call of our training loop for `config` with `speed`: the next compiled call of an endless run of
    epochs, through our input pipeline and runtime/compiled.calls, short last batches included.
    remapping: Grappler's remapper on (compiled.grappler_remapping)."""
    state = train.build_state(config, speed.mixed_precision)
    train_steps = train.compile_gan_step(state, config, speed, remapping=remapping)
    dataset = data.image_dataset(pictures, cache=speed.cache_dataset)

    def calls():
        trained = 0
        for epoch in itertools.count():
            batches = data.epoch_batches(
                dataset, config.batch_size, config.seed, epoch, config.latent_dim, prefetch=speed.prefetch
            )
            for losses, _ in compiled.calls(train_steps, batches, speed.steps_per_call):
                # The state counts the examples each step trained on (and a full epoch in all, never reset here).
                examples, trained = int(state.epoch_examples.numpy()) - trained, int(state.epoch_examples.numpy())
                yield losses, examples

    return calls().__next__


def tutorial_dataset(train_images):
    """The tutorial's pipeline, as published: its images in [-1, 1], shuffled, in batches of 256, the
    short last batch kept (`.batch(BATCH_SIZE)`, without drop_remainder)."""
    images = tf.data.Dataset.from_tensor_slices(data.to_unit_range(train_images))
    return images.shuffle(len(train_images)).batch(TUTORIAL_BATCH)


def tutorial(train_images):
    """A call of the tutorial's own loop: its train_step on the next batch of its pipeline, epoch after epoch."""
    train_step = tutorial_train_step(train_images.shape[1:])
    batches = iter(tutorial_dataset(train_images).repeat())

    def call():
        batch = next(batches)
        return train_step(batch), int(batch.shape[0])

    return call


# --- How close a step comes to the processor's limit. ---

MATMUL_SIZE = 2048  # tf.matmul of two 2048 x 2048 float32 matrices: 17 GFLOP, the yardstick of the machine.


def graph_flops(concrete_function):
    """Floating-point operations of one call of a traced function, as TensorFlow's profiler counts them:
    convolutions (forward and both gradients), matrix products and the elementwise rest.

    Only the operations that a call runs are counted. A gradient tape's graph also holds gradients that
    nothing uses (a convolution's filter gradient when only its input's is needed), which TensorFlow
    prunes before it runs the graph: so do we, keeping what the outputs and the variable updates need.
    """
    graph = concrete_function.graph
    needed = [tensor.op.name for tensor in concrete_function.outputs]
    needed += [op.name for op in graph.get_operations() if op.op_def.is_stateful]  # Updates, reads, noise.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # The v1 graph tools warn that they are deprecated.
    try:
        graph_def = tf.compat.v1.graph_util.extract_sub_graph(graph.as_graph_def(add_shapes=True), needed)
        pruned = tf.Graph()
        with pruned.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        counted = tf.compat.v1.profiler.profile(graph=pruned, options=options).total_float_ops
        return counted + transposed_batch_products_correction(pruned)
    finally:
        logger.setLevel(level)


def transposed_batch_products_correction(graph):
    """What TensorFlow's profiler miscounts in `graph`, to add: it counts a batched matrix product (BatchMatMul)
    whose first factor is transposed (adj_x, as in a product's gradient) as if it were not, reading the inner
    dimension from the wrong axis (it looks for MatMul's transpose_a). 2 x outputs x inner dimension is right."""
    correction = 0
    for op in graph.get_operations():
        if op.type.startswith("BatchMatMul") and op.get_attr("adj_x"):
            first, outputs = op.inputs[0].shape, op.outputs[0].shape.num_elements()
            correction += 2 * outputs * (first[-2] - first[-1])
    return correction


def our_step_flops(config, speed):
    """FLOPs of one train step of `config` on a full batch."""
    state = train.build_state(config, speed.mixed_precision)
    batch = config.batch_size
    step = tf.function(
        compiled.make_train_step(train.gan_step(config), state, speed, after_step=train.after_step(config))
    )
    return graph_flops(
        step.get_concrete_function(
            tf.TensorSpec((batch, *models.image_shape(config)), tf.float32),
            tf.TensorSpec((batch,), tf.int32),
            tf.TensorSpec((batch, config.latent_dim), tf.float32),
        )
    )


def tutorial_step_flops(image_shape):
    """FLOPs of one step of the tutorial's train_step on a full batch of TUTORIAL_BATCH."""
    step = tutorial_train_step(image_shape)
    return graph_flops(step.get_concrete_function(tf.TensorSpec((TUTORIAL_BATCH, *image_shape), tf.float32)))


def matmul_flops_per_second(size=MATMUL_SIZE, window_seconds=4.0):
    """The median, over 5 timed windows, of the FLOP/s of tf.matmul on two size x size float32 matrices
    (2 size^3 operations a product): what the processor reaches on TensorFlow's best-tuned operation."""
    (rate,) = rates([matmul_call(size)], window_seconds=window_seconds)
    return rate


def matmul_call(size=MATMUL_SIZE):
    """A call for rates(): one tf.matmul of two size x size float32 matrices, and its floating-point operations."""
    first = tf.random.stateless_normal((size, size), seed=(0, 0))
    second = tf.random.stateless_normal((size, size), seed=(0, 1))
    product = tf.function(tf.matmul)

    def call():
        return product(first, second), 2 * size**3

    return call


def speed_variants(auto, cache=True):
    """(label, speed.Speed) for `auto`, the device's auto settings, and each choice changed alone; the dataset
    cache's only with cache=True (an input pipeline that decodes its examples: the pictures', not the texts')."""
    variants = [
        ("auto (" + auto.describe() + ")", auto),
        ("XLA " + ("off" if auto.jit_compile else "on"), dataclasses.replace(auto, jit_compile=not auto.jit_compile)),
    ]
    for precision in ("off", "bfloat16", "float16"):
        if precision != auto.mixed_precision:
            variants.append((f"mixed precision {precision}", dataclasses.replace(auto, mixed_precision=precision)))
    other_steps = 1 if auto.steps_per_call > 1 else 8
    variants.append((f"{other_steps} steps per call", dataclasses.replace(auto, steps_per_call=other_steps)))
    if cache:
        variants.append(("dataset cache off", dataclasses.replace(auto, cache_dataset=False)))
    variants.append(("prefetch off", dataclasses.replace(auto, prefetch=False)))
    return variants


def log_processor_share(default, speed, image_shape, tutorial_rate, default_rate, window_seconds, log):
    """The FLOP/s of the tutorial's step and of the default one, as a share of a large tf.matmul's."""
    peak = matmul_flops_per_second(window_seconds=window_seconds)
    steps = [
        ("TensorFlow's tutorial", tutorial_step_flops(image_shape) / TUTORIAL_BATCH, tutorial_rate),
        ("default configuration", our_step_flops(default, speed) / default.batch_size, default_rate),
    ]
    log(
        f"share of the processor: a step's FLOP/s (TensorFlow's profiler's count of its graph x images per second) "
        f"against tf.matmul of two {MATMUL_SIZE}x{MATMUL_SIZE} float32 matrices, {peak / 1e9:.0f} GFLOP/s here:"
    )
    for name, flops, rate in steps:
        achieved = flops * rate
        label = f"{name} ({flops / 1e6:.0f} MFLOP an image, {rate:.0f} images/s):"
        log(f"  {label:86}{achieved / 1e9:8.1f} GFLOP/s  ({achieved / peak:.0%})")


class TrialOver(Exception):
    """Raised from the evaluation hook to end the time-to-quality trial."""


def time_to_quality(config, train_pictures, test_pictures, judge_directory, target, minutes, on_gpu, log=print):
    """Trains `config` (the default configuration), measuring the MNIST score after every epoch as make train
    does with --eval-every 1, until the score first reaches `target` or `minutes` of training have passed.

    Returns:
      The scores as (epoch, training seconds, score). Training seconds leave out the time spent evaluating.
    """
    config = dataclasses.replace(config, epochs=10_000, eval_every=1, eval_samples=2000)
    measure = evaluate.during_training(config, judge_directory, train_pictures, test_pictures, log=log)
    training_clock = clock.TrainingClock()
    scores = []

    def evaluation(state):
        with training_clock.paused():
            figures = measure(state)
        training_seconds = training_clock.seconds()
        # train.train evaluates an epoch before its counters say it is done: this is epoch state.epoch + 1.
        scores.append((int(state.epoch.numpy()) + 1, training_seconds, figures["score"]))
        if figures["score"] >= target or training_seconds >= minutes * 60:
            raise TrialOver
        return figures

    with tempfile.TemporaryDirectory() as directory:
        try:
            run = train.open_run(f"{directory}/checkpoints", f"{directory}/outputs", log=log)
            train.train(config, train_pictures, run, progress=False, evaluation=evaluation, on_gpu=on_gpu)
        except TrialOver:
            pass
    return scores


def run(where, train_pictures, test_pictures, judge_directory, on_gpu=False, target=9.0, trial_minutes=10.0,
        window_seconds=4.0, log=print):  # fmt: skip
    """The whole benchmark on the pictures from `where` (data.load_named); prints its report through `log`."""
    facts = data.facts(train_pictures, where)
    preset = config_lib.with_pictures(config_lib.resolve({}, preset="tutorial"), facts, preset="tutorial")
    log(f"TensorFlow DCGAN tutorial, images per second (median of 5 windows of {window_seconds:g} s):")
    log(
        "  (its train_step runs as published, with Grappler's remapper on: TensorFlow logs 'remapper failed' "
        "for it once; docs/design.md, The console)"
    )
    theirs, mine = rates(
        [tutorial(train_pictures.images), ours(preset, train_pictures, speed_lib.resolve(preset, on_gpu))],
        window_seconds=window_seconds,
    )
    log(f"  {'its train_step and pipeline (batch 256, short last batch kept):':86}{theirs:8.0f}")
    log(f"  {'--preset tutorial through gan_tf:':86}{mine:8.0f}   ({mine / theirs:.2f}x)")

    default = config_lib.with_pictures(config_lib.resolve({}), facts)
    auto = speed_lib.resolve(default, on_gpu)
    log(f"default configuration (batch {default.batch_size}, with the encoder), images per second:")
    for label, speed in speed_variants(auto):
        (rate,) = rates([ours(default, train_pictures, speed)], window_seconds=window_seconds)
        log(f"  {label + ':':86}{rate:8.0f}")
    if colour := config_lib.colour_defaults(default, facts):
        log_colour_defaults(default, config_lib.with_pictures(config_lib.resolve({}), facts, tuple(colour)), train_pictures,
                            auto, window_seconds, log)  # fmt: skip
    log(
        "Grappler's remapper for the train step (off in training: it fails on this graph), images per second, in turns:"
    )
    off, on = rates(
        [ours(default, train_pictures, auto), ours(default, train_pictures, auto, remapping=True)],
        window_seconds=window_seconds,
    )
    log(f"  {'remapper off (the default):':86}{off:8.0f}")
    log(f"  {'remapper on:':86}{on:8.0f}   ({on / off:.2f}x)")
    log_processor_share(default, auto, train_pictures.images.shape[1:], theirs, off, window_seconds, log)

    if not mnist.treatment(where).time_to_quality:
        log("time to quality: measured on MNIST's digits only (make evaluate measures a run on any pictures)")
    else:
        log(
            f"time to quality: default configuration, MNIST score on 2,000 samples after each epoch, "
            f"until {target} or {trial_minutes:g} min of training"
        )
        scores = time_to_quality(
            default, train_pictures, test_pictures, judge_directory, target, trial_minutes, on_gpu, log
        )
        log_time_to_quality(scores, target, log)
    log(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (maximum resident set size)")


def log_colour_defaults(default, digits_defaults, pictures, speed, window_seconds, log):
    """Images per second of the colour pictures' defaults and of the digits' on the same pictures, in turns."""
    digits_rate, rate = rates(
        [ours(digits_defaults, pictures, speed), ours(default, pictures, speed)], window_seconds=window_seconds
    )
    log("the defaults for colour pictures against the digits' on these pictures, images per second, in turns:")
    label = f"the digits' defaults ({variants.flags(digits_defaults, data.facts(pictures, default.data))}):"
    log(f"  {label:86}{digits_rate:8.0f}")
    log(f"  {'the colour defaults:':86}{rate:8.0f}   ({rate / digits_rate:.2f}x)")


def log_time_to_quality(scores, target, log):
    """The time-to-quality trial's lines of the report."""
    for epoch, seconds, score in scores:
        log(f"  epoch {epoch}: {seconds:.0f} s of training, MNIST score {score:.3f}")
    reached = [seconds for _, seconds, score in scores if score >= target]
    if reached:
        log(f"time to MNIST score {target}: {reached[0]:.0f} s of training")
    else:
        best = max(scores, key=lambda entry: entry[2]) if scores else (0, 0.0, float("nan"))
        log(
            f"time to MNIST score {target}: not reached in {scores[-1][1] if scores else 0:.0f} s of training "
            f"(best {best[2]:.3f} at epoch {best[0]})"
        )

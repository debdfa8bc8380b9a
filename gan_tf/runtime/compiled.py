"""The train step of step.py, wrapped for speed and for several devices.

Nothing here changes what the step learns beyond float32's last bits: several steps a call (a graph
optimised as a whole) and XLA order a few sums otherwise, replicas add their gradients in another
order, and mixed precision rounds to 16 bits (tests/test_speed.py measures each against the plain step).

From the inside out:
  1. float16 loss scaling: the step sees Keras's LossScaleOptimizer around each saved Adam;
  2. XLA: each replica's step compiled as a whole (tf.function(jit_compile=True));
  3. replicas: under a tf.distribute strategy each replica runs the step on its share of the batch,
     averaging every loss over the global batch, and the optimizers add the replicas' gradients, so
     the update is the one a single device would make on the whole batch;
  4. the run's counters (steps, images and loss sums of the epoch), which checkpoints save;
  5. several steps per compiled call, looping over the dataset's iterator inside the graph;
  6. each call with Grappler's remapper off (grappler_remapping).
"""

import contextlib
import dataclasses
import functools

import keras
import tensorflow as tf

from gan_tf import step as step_lib


def compile_train_step(state, config, speed, strategy=None, remapping=False):
    """train_steps(iterator, steps) -> dict of losses summed over `steps` steps, compiled with tf.function.

    Args:
      remapping: run the step with Grappler's remapper on (see grappler_remapping); `make bench` measures both.
    """
    return CompiledSteps(make_train_step(state, config, speed, strategy), remapping)


def with_loss_scaling(state, strategy):
    """A copy of `state` whose optimizers are Keras's LossScaleOptimizer around the saved ones.

    The wrappers are not saved: a resumed run starts again from the initial loss scale.
    """

    def wrap(optimizer, model):
        with strategy.scope():
            wrapped = keras.optimizers.LossScaleOptimizer(optimizer)
            wrapped.build(model.trainable_variables)
        return wrapped

    return dataclasses.replace(
        state,
        generator_optimizer=wrap(state.generator_optimizer, state.generator),
        discriminator_optimizer=wrap(state.discriminator_optimizer, state.discriminator),
        encoder_optimizer=wrap(state.encoder_optimizer, state.encoder),
    )


def make_train_step(state, config, speed, strategy=None):
    """One step on every replica, counted in the state's counters.

    Returns:
      train_step(real_images float32 (B, 28, 28, 1) in [-1, 1], labels int32 (B,), latent_vectors
        float32 (B, latent_dim)) -> dict of scalar losses, each the mean over the whole batch.
    """
    strategy = strategy or tf.distribute.get_strategy()
    step_state = with_loss_scaling(state, strategy) if speed.loss_scaling else state

    def replica_step(real_images, labels, latent_vectors):
        batch_size = tf.shape(real_images)[0]
        global_batch_size = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, batch_size)
        average = functools.partial(tf.nn.compute_average_loss, global_batch_size=global_batch_size)
        step_losses = step_lib.train_step(step_state, config, real_images, labels, latent_vectors, average)
        return step_losses, batch_size

    if speed.jit_compile:
        # XLA compiles the replica's step as a whole: once per batch shape (the short last batch is a second).
        replica_step = tf.function(replica_step, jit_compile=True, reduce_retracing=True)

    def train_step(real_images, labels, latent_vectors):
        step_losses, batch_size = strategy.run(replica_step, args=(real_images, labels, latent_vectors))
        step_losses = {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for name, value in step_losses.items()
        }
        if state.average_generator is not None:  # After the replicas' updates, in the cross-replica context.
            step_lib.average_generator_update(state, config)
        state.step.assign_add(1)
        state.epoch_images.assign_add(
            tf.cast(strategy.reduce(tf.distribute.ReduceOp.SUM, batch_size, axis=None), tf.int64)
        )
        for name, value in step_losses.items():
            state.epoch_loss_sums[name].assign_add(tf.cast(value, tf.float64))
        return step_losses

    return train_step


@contextlib.contextmanager
def grappler_remapping(on):
    """Grappler's remapper on or off for the TensorFlow functions called inside the block.

    The remapper is the graph optimiser's pass that fuses a convolution, its bias and its activation
    into one kernel. On the train step's graph it fails: a network called twice under a gradient tape
    (D on the real and the fake batch, E on both) has a LeakyReLU whose gradient reads the bias's
    output, which the fusion removes, and TensorFlow logs "remapper failed: ... Mutation::Apply error"
    on every trace. The step runs at least as fast without it (`make bench` measures both; docs/design.md),
    so the train step runs with it off. TensorFlow reads the setting when it prepares a function for a call, and keeps
    one prepared function per setting, so switching it around each call costs a microsecond.
    """
    previous = tf.config.optimizer.get_experimental_options().get("remapping", True)
    tf.config.optimizer.set_experimental_options({"remapping": on})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": previous})


class CompiledSteps:
    """train_steps(iterator, steps: int): one compiled call of `steps` train steps on the iterator's batches.

    One call per step costs a few hundred microseconds of Python and dispatch; on a GPU that is as
    long as the step itself, so several steps can run inside one tf.function (Keras's
    steps_per_execution), looping over the iterator in the graph. The loop is not inside the
    XLA-compiled step because XLA cannot compile the iterator. One step a call (the CPU's default)
    has a function of its own without the loop, which is traced in half the time.
    """

    def __init__(self, train_step, remapping=False):
        self.remapping = remapping
        self.one_step = tf.function(lambda iterator: train_step(*next(iterator)))

        @tf.function
        def several_steps(iterator, steps):
            totals = train_step(*next(iterator))
            for _ in tf.range(steps - 1):
                step_losses = train_step(*next(iterator))
                totals = {name: totals[name] + step_losses[name] for name in totals}
            return totals

        self.several_steps = several_steps

    def __call__(self, iterator, steps):
        with grappler_remapping(self.remapping):
            if steps == 1:
                return self.one_step(iterator)
            return self.several_steps(iterator, tf.constant(steps))

    def tracing_count(self):
        """How often the step was traced (for each batch shape, and each of the two functions used)."""
        return self.one_step.experimental_get_tracing_count() + self.several_steps.experimental_get_tracing_count()

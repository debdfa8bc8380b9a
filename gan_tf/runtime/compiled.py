"""A train step, wrapped for speed and for several devices.

The step is the story's: a function `step(state, *batch, average)` that updates the networks of a
runtime.state.TrainingState on one batch and returns a dict of scalar losses (step.py's GAN step, or
any other). Nothing here changes what it learns beyond float32's last bits: several steps a call (a
graph optimised as a whole) and XLA order a few sums otherwise, replicas add their gradients in another
order, and mixed precision rounds to 16 bits (tests/test_speed.py measures each against the plain step).

From the inside out:
  1. float16 loss scaling: the step sees Keras's LossScaleOptimizer around each saved optimizer;
  2. XLA: each replica's step compiled as a whole (tf.function(jit_compile=True));
  3. replicas: under a tf.distribute strategy each replica runs the step on its share of the batch,
     averaging every loss over the global batch, and the optimizers add the replicas' gradients, so
     the update is the one a single device would make on the whole batch;
  4. what follows the replicas' updates (`after_step`, e.g. a moving average of weights), and the run's
     counters (steps, examples and loss sums of the epoch), which checkpoints save;
  5. several steps per compiled call, looping over the dataset's iterator inside the graph;
  6. each call with Grappler's remapper off (grappler_remapping).
"""

import contextlib
import functools

import keras
import tensorflow as tf


def compile_train_step(step, state, speed, strategy=None, after_step=None, remapping=False):
    """train_steps(iterator, steps) -> dict of losses summed over `steps` steps, compiled with tf.function.

    Args:
      step: step(state, *batch, average) -> dict of scalar losses, the story's train step.
      state: the run's runtime.state.TrainingState.
      speed: runtime.speed.Speed.
      after_step: None, or a function of the state run after every step, outside the replicas.
      remapping: run the step with Grappler's remapper on (see grappler_remapping); `make bench` measures both.
    """
    return CompiledSteps(make_train_step(step, state, speed, strategy, after_step), remapping)


def with_loss_scaling(state, strategy):
    """A copy of `state` whose optimizers are Keras's LossScaleOptimizer around the saved ones.

    The wrappers are not saved: a resumed run starts again from the initial loss scale.
    """
    wrapped = {}
    with strategy.scope():
        for name, optimizer in state.optimizers.items():
            wrapped[name] = keras.optimizers.LossScaleOptimizer(optimizer)
            wrapped[name].build(state.networks[name].trainable_variables)
    return state.with_optimizers(wrapped)


def make_train_step(step, state, speed, strategy=None, after_step=None):
    """One step on every replica, counted in the state's counters.

    Returns:
      train_step(*batch) -> dict of scalar losses, each the mean over the whole batch. A batch is a tuple of
        tensors whose first dimension is the batch (for the GAN: images, labels and latent vectors).
    """
    strategy = strategy or tf.distribute.get_strategy()
    step_state = with_loss_scaling(state, strategy) if speed.loss_scaling else state

    def replica_step(*batch):
        batch_size = tf.shape(batch[0])[0]
        global_batch_size = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, batch_size)
        average = functools.partial(tf.nn.compute_average_loss, global_batch_size=global_batch_size)
        return step(step_state, *batch, average=average), batch_size

    if speed.jit_compile:
        # XLA compiles the replica's step as a whole: once per batch shape (the short last batch is a second).
        replica_step = tf.function(replica_step, jit_compile=True, reduce_retracing=True)

    def train_step(*batch):
        step_losses, batch_size = strategy.run(replica_step, args=batch)
        step_losses = {
            name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None) for name, value in step_losses.items()
        }
        if after_step is not None:  # After the replicas' updates, in the cross-replica context.
            after_step(state)
        state.step.assign_add(1)
        state.epoch_examples.assign_add(
            tf.cast(strategy.reduce(tf.distribute.ReduceOp.SUM, batch_size, axis=None), tf.int64)
        )
        for name, value in step_losses.items():
            state.epoch_loss_sums[name].assign_add(tf.cast(value, tf.float64))
        return step_losses

    return train_step


def calls(train_steps, batches, steps_per_call, strategy=None):
    """Trains on one epoch's batches, steps_per_call steps a compiled call, yielding after each call.

    Args:
      train_steps: compile_train_step()'s function.
      batches: a list of (dataset, number of batches in it), trained on in order (the full batches,
        then the short last one).
    Yields:
      (the call's losses, name -> summed over its steps, and how many steps it ran).
    """
    strategy = strategy or tf.distribute.get_strategy()
    for part, part_steps in batches:
        iterator = iter(strategy.experimental_distribute_dataset(part))
        while part_steps:
            call_steps = min(steps_per_call, part_steps)
            yield train_steps(iterator, call_steps), call_steps
            part_steps -= call_steps


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

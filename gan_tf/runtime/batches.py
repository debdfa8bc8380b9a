"""The batches of an epoch, in an order that a resumed run can find again.

Because the order depends only on the seed and the epoch, a run resumed in the middle of an epoch skips
the examples it already trained on and sees exactly the ones an uninterrupted run would. Each batch
knows the place of its first example in the epoch, from which the story can draw the batch's own noise
statelessly (the pictures' latent vectors), with no random state to save.

The full batches and the short last batch (the leftover examples, when the epoch's size is not a
multiple of the batch size) come as two datasets. Then the full batches have a static shape, and
TensorFlow compiles the train step for exactly that shape, which measured 3% faster on a CPU than one
step for every batch size; the short batch gets a second compiled step of its own.
"""

import tensorflow as tf


def epoch_batches(examples, batch_size, seed, epoch, skip=0, prefetch=True, complete=None):
    """The batches of one epoch, shuffled in an order fixed by (seed, epoch).

    Args:
      examples: a dataset of examples, each a tuple of tensors, of known, finite length.
      skip: how many of the epoch's examples a resumed run already trained on.
      prefetch: prepare the next batches while the current step runs.
      complete: None, or a function (place of the batch's first example in the epoch, int64; the batch's
        tensors...) -> the batch as the train step takes it.
    Returns:
      A list of (dataset, number of batches in it), to be trained on in order: the full batches, then the
      short one; parts without a batch are left out.
    """
    count = int(examples.cardinality())
    if count < 0:
        raise ValueError("epoch_batches needs a dataset of known, finite length")
    complete = complete or (lambda first, *batch: batch)
    # The whole set in the buffer: the examples fit in memory, and a full buffer shuffles perfectly.
    unseen = examples.shuffle(count, seed=seed * 1_000_003 + epoch, reshuffle_each_iteration=False).skip(skip)
    full_batches, leftover = divmod(count - skip, batch_size)
    full = (
        unseen.batch(batch_size, drop_remainder=True)
        .enumerate()
        .map(lambda index, batch: complete(skip + index * batch_size, *batch))
    )
    short = (
        unseen.skip(full_batches * batch_size)
        .batch(batch_size)
        .map(lambda *batch: complete(tf.constant(count - leftover, tf.int64), *batch))
    )
    # Each worker of a multi-worker run builds the same batches and keeps its share of every one.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    # tf.data's autotuner gives each iterator a thread that sleeps up to a minute between its passes, and
    # deleting the iterator waits for that sleep to end: up to a minute lost at every epoch's end
    # (docs/pictures.md, "64 pixels"). The examples are in memory and need no tuning: off.
    options.autotune.enabled = False
    parts = []
    for batches, number in [(full, full_batches), (short, int(leftover > 0))]:
        if number:
            batches = batches.with_options(options)
            parts.append((batches.prefetch(tf.data.AUTOTUNE) if prefetch else batches, number))
    return parts

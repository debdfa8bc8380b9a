"""The state of a training run: its networks, their optimizers, and the counters a checkpoint saves with them.

Any kind of run fits: a GAN's generator, discriminator and encoder, a language model, or one Dense
layer on a regression. The networks come as a mapping from their names, and the optimizers as a
mapping from the name of the network each one trains; whatever else a run keeps (a moving average of
weights, cluster centroids) comes as a third mapping. A checkpoint saves each under its name.
"""

import dataclasses

import tensorflow as tf

# The checkpoint's name of the count of examples already trained on in the current epoch. It is
# "epoch_images" because the first runs held pictures only; keeping it keeps their checkpoints loading.
EPOCH_EXAMPLES_NAME = "epoch_images"


@dataclasses.dataclass
class TrainingState:
    """Everything a checkpoint saves: together, enough to continue a run exactly where it stopped.

    There is no random state to save beside it: the noise of every step is a function of (seed, step)
    or of (seed, epoch, place in the epoch), drawn where it is used.
    """

    networks: dict  # name -> keras.Model.
    optimizers: dict  # name of a network -> the optimizer that trains it.
    kept: dict  # name -> any other tf.Variable or Keras object the run keeps.
    epoch: tf.Variable  # Epochs completed.
    step: tf.Variable  # Train steps completed, over all epochs.
    epoch_examples: tf.Variable  # Examples of the current epoch already trained on (a resume skips them).
    # Loss name -> the sum of its per-step means over the current epoch, so that the epoch's mean loss in
    # the log covers the whole epoch even when it was interrupted and resumed.
    epoch_loss_sums: dict

    def trackables(self):
        """name -> object, for tf.train.Checkpoint.

        Besides the networks, their optimizers (as "<network>_optimizer"), what the run keeps and the
        counters: the states of Keras's random-seed generators (Dropout draws its masks from one each),
        when the networks have any, so that a resumed run draws the masks it would have drawn.
        """
        trackables = {
            **self.networks,
            **{f"{name}_optimizer": optimizer for name, optimizer in self.optimizers.items()},
            "epoch": self.epoch,
            "step": self.step,
            EPOCH_EXAMPLES_NAME: self.epoch_examples,
            "epoch_loss_sums": self.epoch_loss_sums,
            **self.kept,
        }
        seed_states = [
            layer.seed_generator.state
            for network in self.networks.values()
            for layer in network._flatten_layers(include_self=False)  # Layers inside layers too (a block's Dropout).
            if getattr(layer, "seed_generator", None) is not None
        ]
        if seed_states:
            trackables["seed_states"] = seed_states
        return trackables

    def mean_losses(self, steps_in_epoch):
        """Loss name -> its mean over the epoch's steps_in_epoch steps."""
        return {name: float(total.numpy()) / steps_in_epoch for name, total in self.epoch_loss_sums.items()}

    def with_optimizers(self, optimizers):
        """A copy of the state that trains with other optimizers (the same ones wrapped, for loss scaling)."""
        return dataclasses.replace(self, optimizers=optimizers)


def new_state(networks, optimizers, loss_names, kept=None):
    """A TrainingState at its start: counters at zero, and each optimizer's variables made for its network.

    Adam's moment variables exist only once it is built: building them now lets a checkpoint restore
    them before the first step.
    """
    for name, optimizer in optimizers.items():
        optimizer.build(networks[name].trainable_variables)

    def counter():
        return tf.Variable(0, dtype=tf.int64, trainable=False)

    return TrainingState(
        networks=dict(networks),
        optimizers=dict(optimizers),
        kept=dict(kept or {}),
        epoch=counter(),
        step=counter(),
        epoch_examples=counter(),
        epoch_loss_sums={name: tf.Variable(0.0, dtype=tf.float64, trainable=False) for name in loss_names},
    )

"""Training a text run: the language model, then the GAN that starts from it, each a phase of its own.

The story of one run, top to bottom, as the pictures' (gan_tf/train.py):
  1. the language model: for each epoch, maximum likelihood on its shuffled batches, the held-out texts'
     loss, a frame of texts written from fixed seeds, a checkpoint (checkpoints/language-model/);
  2. the GAN: its generator a copy of the language model, its discriminator new, the same loop with the
     GAN's step (checkpoints/gan/), the language model kept beside it for the KL term;
  3. training.md, which lines the frames of both phases up.
Each phase is a runtime.run.TrainingRun: it resumes on its own, and can be extended with more epochs
(--epochs for the language model, --gan-epochs for the GAN).
"""

import functools
import math

import keras
import numpy as np
import tensorflow as tf

from gan_tf.runtime import batches as batches_lib
from gan_tf.runtime import errors
from gan_tf.runtime import run as run_lib
from gan_tf.runtime import speed as speed_lib
from gan_tf.runtime import state as state_lib
from gan_tf.text import data
from gan_tf.text import frames
from gan_tf.text import losses
from gan_tf.text import models
from gan_tf.text import sample
from gan_tf.text import step as step_lib

LANGUAGE_MODEL, GAN = "language-model", "gan"  # The phases, and their folders.


def build_language_model_state(config, mixed_precision="off"):
    """A new language model and its optimizer, from config.seed (runtime/state.py)."""
    keras.utils.set_random_seed(config.seed)
    with speed_lib.dtype_policy(mixed_precision):
        model = models.build_language_model(config)
    # Clipping the gradient's norm at 1, as GPT's training does, keeps an early large step from undoing the start.
    optimizer = keras.optimizers.Adam(config.learning_rate, global_clipnorm=1.0)
    return state_lib.new_state({"language_model": model}, {"language_model": optimizer}, ["language_model"])


def build_gan_state(config, language_model_weights, mixed_precision="off"):
    """A new GAN: a generator that is a copy of the language model (with --pretrain off, a new one), a new
    discriminator, their optimizers, and, kept beside them for the KL term, the language model itself."""
    keras.utils.set_random_seed(config.seed)
    with speed_lib.dtype_policy(mixed_precision):
        networks = {
            "generator": models.build_language_model(config, "generator"),
            "discriminator": models.build_discriminator(config),
        }
        kept = {}
        if config.pretrain == "on":
            networks["generator"].set_weights(language_model_weights)
            kept["reference"] = models.build_language_model(config, "reference")
            kept["reference"].set_weights(language_model_weights)
    optimizers = {
        "generator": keras.optimizers.Adam(config.generator_learning_rate, beta_1=0.5, global_clipnorm=1.0),
        "discriminator": keras.optimizers.Adam(config.discriminator_learning_rate, beta_1=0.5),
    }
    return state_lib.new_state(networks, optimizers, ["generator", "discriminator"], kept)


def gan_step(config):
    """step.py's GAN step for `config`, as runtime/compiled.py calls it: (state, real token ids, average) -> losses."""

    def step(state, real_tokens, average):
        return step_lib.gan_step(state, config, real_tokens, average)

    return step


def open_runs(checkpoint_dir, output_dir, fresh=False, strategy=None, log=print):
    """The two phases' runtime.run.TrainingRun, {LANGUAGE_MODEL: ..., GAN: ...}: every input about where they live
    checked, nothing changed yet."""
    return {
        phase: run_lib.TrainingRun(checkpoint_dir, output_dir, fresh, None, strategy, log, phase=phase)
        for phase in (LANGUAGE_MODEL, GAN)
    }


def train(config, texts, held_out, runs, progress=True, on_gpu=False, stop=None):
    """Trains a text run's two phases: the language model to config.epochs, then the GAN to config.gan_epochs.

    Args:
      config: the run's TextConfig, complete with its texts' facts (config.with_texts).
      texts, held_out: data.Texts, the training texts and the held-out ones (whose loss is logged each epoch).
      runs: open_runs()'s two runs.
      stop: None, or a function of the state called after every compiled call: True saves and ends the phase.
    Returns:
      The two phases' states: {LANGUAGE_MODEL: ..., GAN: ... (absent with --gan-epochs 0)}.
    """
    if len(texts.texts) < config.batch_size:
        raise errors.UserError(
            f"only {len(texts.texts)} training texts, fewer than one batch of {config.batch_size}: add texts, "
            f"or lower --batch-size."
        )
    ids = data.encode(texts.texts, texts.labels, config.vocabulary, config.sequence_length, config.class_names)
    held_out_ids = fitting_ids(config, held_out)
    if runs[LANGUAGE_MODEL].fresh:
        runs[GAN].clear()  # A GAN started from an old language model is no part of the new run.
    speed = speed_lib.resolve(config, on_gpu)
    build = functools.partial(build_language_model_state, config, speed.mixed_precision)
    run = runs[LANGUAGE_MODEL]
    learning_rates = {"language_model": "learning_rate"}
    state, train_steps = run.prepare(config, build, step_lib.language_model_step, speed, None, learning_rates, "texts")
    states = {LANGUAGE_MODEL: state}
    if not train_phase(run, state, train_steps, "language_model", config, ids, held_out_ids, speed, progress, stop):
        return states
    if config.gan_epochs:
        weights = state.networks["language_model"].get_weights()
        build = functools.partial(build_gan_state, config, weights, speed.mixed_precision)
        run, learning_rates = (
            runs[GAN],
            {"generator": "generator_learning_rate", "discriminator": "discriminator_learning_rate"},
        )
        states[GAN], train_steps = run.prepare(
            config, build, gan_step(config), speed, None, learning_rates, "texts", "gan_epochs"
        )
        train_phase(run, states[GAN], train_steps, "generator", config, ids, held_out_ids, speed, progress, stop)
    return states


def train_phase(run, state, train_steps, writer_name, config, ids, held_out_ids, speed, progress, stop):
    """The epoch loop of one phase: train, then measure the held-out texts' loss, write the frame, log and save.
    Returns False when `stop` ended it early."""
    run.start()
    model = state.networks[writer_name]
    writer, examples = sample.Writer(model, config), data.token_dataset(ids)
    with run.saving_on_interrupt():
        for epoch in run.epochs_to_train():
            skip = int(state.epoch_examples.numpy())  # A resumed epoch skips what it trained on.
            batches = batches_lib.epoch_batches(
                examples, config.batch_size, config.seed, epoch - 1, skip, speed.prefetch
            )
            if not run.train_epoch(train_steps, batches, speed.steps_per_call, progress, stop):
                return False

            # The held-out texts' loss, and the epoch's frame: the same seeds' texts every epoch.
            loss = mean_token_loss(model, held_out_ids)
            frame = frames.Frame(sample.write(writer, config.frame_texts, config.seed, sample.FRAME_STREAM))
            run.end_epoch(epoch, frame, {"held_out_loss": loss, "held_out_perplexity": math.exp(loss)})
            run.log(f"  held-out texts: {loss:.3f} a token (perplexity {math.exp(loss):.2f})")
            if stop is not None and stop(state):
                return False
    run.finish(frames.write_training_page)
    return True


# --- The held-out texts' loss. ---

LOSS_BATCH = 256  # Texts a call when measuring a loss.


def fitting_ids(config, texts):
    """Token ids of the texts that fit the run's sequence length (held-out texts may be longer than every
    training text): int32 (N, T)."""
    fitting = [index for index, text in enumerate(texts.texts) if len(text) <= config.sequence_length - 2]
    kept = [texts.texts[index] for index in fitting]
    labels = np.asarray(texts.labels)[fitting]
    return data.encode(kept, labels, config.vocabulary, config.sequence_length, config.class_names)


def mean_token_loss(model, ids):
    """The model's mean loss a token, -log p(x_t+1 | x_<=t), over every token of `ids` (N, T) (pad left out):
    the log of the perplexity."""
    total, count = 0.0, 0.0
    for start in range(0, len(ids), LOSS_BATCH):
        inputs, targets = ids[start : start + LOSS_BATCH, :-1], ids[start : start + LOSS_BATCH, 1:]
        mask = losses.target_mask(targets)
        token_losses = -losses.token_log_probabilities(model(inputs, training=False), targets)
        total, count = total + float(tf.reduce_sum(token_losses * mask)), count + float(tf.reduce_sum(mask))
    return total / max(count, 1.0)

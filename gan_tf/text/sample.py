"""Writing texts with a language model (or the GAN's generator), one token at a time.

At each position the model's logits for the next token are divided by the temperature, cut to the top k
tokens and to the smallest set whose probability reaches top p, and a token drawn from what is left; tokens
it must never write (PAD, UNK, the start tokens) get -inf first, as in TensorFlow's "Text generation with an
RNN". The draw is the Gumbel-max trick: argmax(logits + g), g = -log(-log U) with U uniform, which draws from
softmax(logits) and lets the GAN's Gumbel-softmax reuse the very noise that drew a text (gumbel_noise()).

The loop is compiled, over a fixed length, with each Transformer block's keys and values cached
(models.Decoder): one pass a text. Every random number comes from a seed, so the same seed writes the
same texts: text i of `write()` depends on (seed, stream, i) alone, whatever else is written beside it.

A prompt is written first and carried on ("床前明月光，", "The best way to"); an acrostic's characters begin
its lines, a line beginning after each line-ending punctuation mark (LINE_ENDS), the 藏头诗 of Chinese poetry.
"""

import collections
import pathlib

import numpy as np
import tensorflow as tf

from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.text import data
from gan_tf.text import models

WRITE_BATCH = 100  # Texts written at a time: text i's noise depends on (seed, stream, i // WRITE_BATCH, i).
LINE_ENDS = "，。！？；,.!?;"  # A line of a poem ends after one of these.
# Streams of random numbers, so that different uses of one seed draw independently.
SAMPLE_STREAM, FRAME_STREAM, EVALUATE_STREAM, GAN_STREAM, ROLLOUT_STREAM = 1, 2, 3, 4, 5


def never_written(config):
    """Tokens no text holds after its start: PAD, UNK and the start tokens. bool (V,)."""
    never = np.zeros(data.vocabulary_size(config.vocabulary), bool)
    never[: data.END_ID] = True  # PAD and UNK.
    never[data.END_ID + 1 : data.END_ID + 1 + len(data.start_tokens(config.class_names))] = True
    return never


def line_ends(config):
    """Tokens after which a line begins (an acrostic's next character goes there). bool (V,)."""
    ends = np.zeros(data.vocabulary_size(config.vocabulary), bool)
    ids = data.ids_of(LINE_ENDS, config.vocabulary)
    ends[ids[ids > data.END_ID]] = True
    return ends


def filtered(logits, temperature=1.0, top_k=0, top_p=1.0):
    """Logits (B, V) divided by the temperature, those outside the top k (0: all) and outside the smallest set
    of tokens whose probability reaches top_p (1: all) set to -inf."""
    logits = tf.cast(logits, tf.float32) / temperature
    logits = only_if(top_k > 0, lambda: top_k_only(logits, top_k), logits)
    return only_if(top_p < 1.0, lambda: nucleus_only(logits, top_p), logits)


def top_k_only(logits, top_k):
    kth = tf.math.top_k(logits, k=tf.minimum(top_k, tf.shape(logits)[-1])).values[:, -1:]
    return tf.where(logits < kth, -np.inf, logits)


def nucleus_only(logits, top_p):
    ordered = tf.sort(logits, direction="DESCENDING")
    probabilities = tf.nn.softmax(ordered)
    before = tf.cumsum(probabilities, axis=-1, exclusive=True)  # The probability of the tokens before each.
    smallest_kept = tf.reduce_min(tf.where(before < top_p, ordered, np.inf), axis=-1, keepdims=True)
    return tf.where(logits < smallest_kept, -np.inf, logits)


def only_if(condition, function, otherwise):
    """function() where `condition` holds, else `otherwise`: decided in Python for Python values (make sample's),
    in the graph for tensors (an export's arguments)."""
    if tf.is_tensor(condition):
        return tf.cond(condition, function, lambda: otherwise)
    return function() if condition else otherwise


def gumbel(seed, shape):
    """Gumbel noise -log(-log U) of `shape`, U uniform in (0, 1), from a stateless seed int (2,)."""
    uniform = tf.random.stateless_uniform(shape, seed=seed, minval=1e-20, maxval=1.0)
    return -tf.math.log(-tf.math.log(uniform))


def position_seed(seed, position):
    return tf.random.experimental.stateless_fold_in(seed, tf.cast(position, tf.int64))


def gumbel_noise(seed, batch_size, length, vocabulary_size):
    """The noise write_ids() draws tokens 1..length with, float32 (B, length, V): position p's from (seed, p)."""
    return tf.stack([gumbel(position_seed(seed, p), (batch_size, vocabulary_size)) for p in range(length)], axis=1)


class Writer:
    """write_ids() for one model and run: tokens it never writes, line ends, and the compiled loop."""

    def __init__(self, model, config):
        self.model, self.config = model, config
        self.never = tf.constant(never_written(config))
        self.line_ends = tf.constant(line_ends(config))
        self.write_ids = tf.function(self.write_ids_eagerly, reduce_retracing=True)

    def write_ids_eagerly(self, starts, seed, temperature=1.0, top_k=0, top_p=1.0, forced=None, acrostic=None):
        """Token ids int32 (B, T) of new texts, T = config.sequence_length: position 0 `starts`, then drawn tokens.

        Args:
          starts: int32 (B,), each text's start token (its class's).
          seed: int64 (2,), the stateless seed of the texts' noise.
          forced: None, or int32 (B, T): the token to write at each position instead of drawing one, -1 where
            none is (a prompt is forced at positions 1..n).
          acrostic: None, or int32 (A,): the first characters of the first A lines.
        Returns:
          int32 (B, T); after END only PAD.
        """
        batch_size, length = tf.shape(starts)[0], self.config.sequence_length
        decoder = models.Decoder(self.model)  # The model's weights, read once for the whole loop.
        caches = decoder.empty_cache(batch_size)
        token = starts
        written = models.set_position(tf.zeros((batch_size, length), tf.int32), 0, starts)
        finished = tf.zeros((batch_size,), bool)
        line_start, lines_begun = tf.ones((batch_size,), bool), tf.zeros((batch_size,), tf.int32)
        for position in tf.range(length - 1):
            logits, caches = decoder.decode_step(token, position, caches)
            logits = tf.where(self.never, -np.inf, tf.cast(logits, tf.float32))
            noise = gumbel(position_seed(seed, position + 1), tf.shape(logits))
            token = tf.argmax(filtered(logits, temperature, top_k, top_p) + noise, axis=-1, output_type=tf.int32)
            if acrostic is not None:  # Its next character begins each line, while it has characters left.
                due = line_start & (lines_begun < tf.shape(acrostic)[0])
                with_end = tf.concat([acrostic, [data.PAD_ID]], axis=0)  # Its last entry is never due.
                token = tf.where(due, tf.gather(with_end, tf.minimum(lines_begun, tf.shape(acrostic)[0])), token)
                lines_begun += tf.cast(line_start, tf.int32)
            if forced is not None:  # A prompt's tokens win over what was drawn.
                token = tf.where(forced[:, position + 1] >= 0, forced[:, position + 1], token)
            token = tf.where(finished, data.PAD_ID, token)
            finished |= token == data.END_ID
            line_start = tf.gather(self.line_ends, token)
            written = models.set_position(written, position + 1, token)
        return written


def labels_in_turn(num, class_names, label=None):
    """The class of each of `num` texts: `label` every time, else the classes in turn (0 without classes)."""
    if label is not None:
        return np.full(num, label, np.int32)
    return (np.arange(num) % max(len(class_names), 1)).astype(np.int32)


def write(writer, num, seed, stream=SAMPLE_STREAM, temperature=1.0, top_k=0, top_p=1.0, label=None, prompt="",
          acrostic=""):  # fmt: skip
    """`num` new texts (str), WRITE_BATCH at a time; text i is a function of (seed, stream, i) alone.

    Args:
      label: the class to write (an index), or None: the classes in turn.
      prompt: the beginning every text carries on; acrostic: characters that begin its lines, in turn.
    """
    config = writer.config
    labels = labels_in_turn(num, config.class_names, label)
    starts = data.END_ID + 1 + (labels if config.class_names else np.zeros(num, np.int32))
    forced = None
    if prompt:
        prompt_ids = data.ids_of(prompt, config.vocabulary)
        forced = np.full((WRITE_BATCH, config.sequence_length), -1, np.int32)
        forced[:, 1 : 1 + len(prompt_ids)] = prompt_ids[: config.sequence_length - 1]
    acrostic_ids = data.ids_of(acrostic, config.vocabulary) if acrostic else None
    texts = []
    for first in range(0, num, WRITE_BATCH):
        chunk = np.resize(
            starts[first : first + WRITE_BATCH], WRITE_BATCH
        )  # Always full: the same shape, the same noise.
        seed_of_chunk = tf.constant([seed, stream * 2**32 + first // WRITE_BATCH], tf.int64)
        ids = writer.write_ids(
            tf.constant(chunk, tf.int32), seed_of_chunk, tf.constant(temperature, tf.float32), top_k, top_p,
            None if forced is None else tf.constant(forced), None if acrostic_ids is None else tf.constant(acrostic_ids),
        )  # fmt: skip
        texts += data.decode(ids.numpy()[: num - first], config.vocabulary)
    return texts


# A trained text model: its config, the model that writes, and what it is ("the GAN (gan/ckpt-288)").
Restored = collections.namedtuple("Restored", ["model", "description"])
MODELS = {"lm": ("language-model", "language_model", "the language model"), "gan": ("gan", "generator", "the GAN")}


def restore(checkpoint_dir, config, model=None, checkpoint=None):
    """The language model ("lm") or the GAN's generator ("gan") of the text run in checkpoint_dir, from its
    latest checkpoint or the one named; model None: the GAN when the run has trained one, else the language model.

    Raises:
      UserError: no such model or checkpoint, or a damaged one.
    """
    if model is None:
        model = "gan" if has_model(checkpoint_dir, "gan") else "lm"
    phase, name, words = MODELS[model]
    directory = pathlib.Path(checkpoint_dir) / phase
    if checkpoints.latest(directory) is None:
        raise errors.UserError(
            f"this text run has no {words} yet (nothing in {directory}): train it first with make train."
        )
    path = checkpoints.checkpoint_path(directory, checkpoint)
    network = models.build_language_model(config, name)
    checkpoints.restore(tf.train.Checkpoint(**{name: network}), path, partial=True)
    return Restored(network, f"{words} ({phase}/{pathlib.Path(path).name})")


def has_model(checkpoint_dir, model):
    """Whether the text run in checkpoint_dir has saved the model ("lm" or "gan")."""
    return checkpoints.checkpoint_state(pathlib.Path(checkpoint_dir) / MODELS[model][0]) is not None


def label_asked(config, name=None):
    """The class index --label NAME (a class name, or an index) asks for; None for none.

    Raises:
      UserError: a class the run does not have.
    """
    if name is None:
        return None
    if not config.class_names:
        raise errors.UserError("this text run has no classes (no sub-folders of texts): drop --label.")
    if name in config.class_names:
        return config.class_names.index(name)
    if name.isdigit() and int(name) < len(config.class_names):
        return int(name)
    raise errors.UserError(
        f"this run has no class {name!r}: its classes are {', '.join(config.class_names)} (or their index)."
    )

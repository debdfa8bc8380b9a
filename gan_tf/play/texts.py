"""make play on a text run: what its page writes, the language model's texts beside the GAN's.

Both models write through their export's signature (text/export.py), from a run's checkpoints or from an
export directory: a press writes TEXTS texts with each model from the same seed, as `make sample NUM=8` would.
A prompt that is too long, or holds characters the run has never seen, is refused with a sentence the page
shows.
"""

import json
import pathlib

import tensorflow as tf

from gan_tf import export as pictures_export
from gan_tf.runtime import errors
from gan_tf.text import export as text_export
from gan_tf.text import sample

TEXTS = 8  # Texts each model writes a press.
TEMPERATURES = (0.5, 1.5)  # The page's temperature slider.
NAMES = {"lm": "the language model", "gan": "the GAN"}


class TextWriters:
    """Each model's writing: write(model, seed, temperature, prompt, acrostic, label) -> TEXTS texts (str).

    Attributes:
      models: the models there are, "lm" and (once trained) "gan"; class_names: the run's classes, or ();
      longest_text: the most characters a text holds; vocabulary: the characters, or None (an export's are
      inside its SavedModel, which then refuses unknown characters itself).
    """

    def __init__(self, signatures, class_names, longest_text, vocabulary=None):
        self.signatures, self.class_names, self.longest_text = signatures, tuple(class_names), longest_text
        self.models = [model for model in ("lm", "gan") if model in signatures]
        self.vocabulary = None if vocabulary is None else set(vocabulary)

    def write(self, model, seed, temperature, prompt="", acrostic="", label=None):
        self.check(prompt, acrostic)
        arguments = {
            "count": tf.constant(TEXTS),
            "seed": tf.constant(seed, tf.int64),
            "temperature": tf.constant(temperature, tf.float32),
            "top_k": tf.constant(0),
            "top_p": tf.constant(1.0),
            "prompt": tf.constant(prompt),
            "acrostic": tf.constant(acrostic),
        }
        if self.class_names:
            arguments["label"] = tf.constant(-1 if label is None else label)
        try:
            texts = self.signatures[model](**arguments)["texts"]
        except tf.errors.InvalidArgumentError:  # An export's own refusal of characters it has never seen.
            raise errors.UserError(
                "the run has never seen a character of the beginning or the acrostic: use characters of its texts."
            ) from None
        return [text.decode() for text in texts.numpy()]

    def check(self, prompt, acrostic):
        if len(prompt) > self.longest_text - 1:
            raise errors.UserError(
                f"the beginning has {len(prompt)} characters, and a text here holds at most {self.longest_text}: "
                f"give at most {self.longest_text - 1}."
            )
        if len(acrostic) > self.longest_text // 2:
            raise errors.UserError(f"the acrostic is too long: give at most {self.longest_text // 2} characters.")
        unknown = [c for c in prompt + acrostic if self.vocabulary is not None and c not in self.vocabulary]
        if unknown:
            raise errors.UserError(
                f"the run has never seen {''.join(dict.fromkeys(unknown))} in its texts: write with characters "
                f"of its texts."
            )


def of_run(config, checkpoint_dir):
    """The TextWriters of a text run's latest checkpoints: its language model and, once trained, its GAN."""
    signatures = {}
    for model in ("lm", "gan"):
        if model == "lm" or sample.has_model(checkpoint_dir, model):
            network = sample.restore(checkpoint_dir, config, model).model
            signatures[model] = text_export.TextServing(config, network).write
    characters = [token for token in config.vocabulary if len(token) == 1]
    return TextWriters(signatures, config.class_names, config.sequence_length - 2, characters)


def of_export(directory):
    """The TextWriters of an export directory (make export on a text run)."""
    description = pictures_export.read_signature_file(directory)
    loaded = tf.saved_model.load(str(directory))
    signatures = {model: loaded.signatures[name] for model, name in text_export.SIGNATURES.items() if name in
                  loaded.signatures}  # fmt: skip
    writers = TextWriters(signatures, description["class_names"], description["longest_text"])
    writers.loaded = loaded  # Keeps the SavedModel alive.
    return writers


def is_text_export(directory):
    path = pathlib.Path(directory) / pictures_export.SIGNATURE_FILE
    try:
        return json.loads(path.read_text()).get("kind") == "text"
    except (OSError, ValueError):
        return False

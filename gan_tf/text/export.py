"""A text run outside gan_tf: its models as a SavedModel whose signatures write texts, the vocabulary inside.

`python -m gan_tf export --out DIR` on a text run writes a new directory:
  saved_model.pb, variables/  one SavedModel, for tf.saved_model.load(DIR), with a signature a model:
      write_lm (the language model) and, once the run has trained one, write_gan (the GAN's generator):
        count int32 (), seed int64 (), temperature float32 (), top_k int32 (), top_p float32 (),
        prompt string (), acrostic string () [, label int32 (): a run with classes; -1 for the classes in turn]
        -> texts string (count,), UTF-8: the texts `make sample` writes with the same arguments
  signature.json              the inputs, the classes and the run's settings, for programs
  README.md                   the same for people, with the few lines of TensorFlow that call it
No LiteRT file: see LITE_REASON.

Writing runs sample.Writer's compiled loop, as make sample does, so the same arguments write the same texts;
the characters of a prompt or an acrostic become ids, and the ids become text, by keras.layers.StringLookup
layers of the run's vocabulary, saved with the model.
"""

import dataclasses
import json
import shutil

import keras
import tensorflow as tf

from gan_tf import export as pictures_export
from gan_tf.runtime import files
from gan_tf.text import data
from gan_tf.text import sample

SIGNATURES = {"lm": "write_lm", "gan": "write_gan"}  # make sample's --model, and its signature.
LITE_REASON = (
    "There is no LiteRT file. A text is written by a loop that draws each character with TensorFlow's stateless "
    "random numbers and reads strings through lookup tables: TensorFlow's LiteRT converter refuses these with "
    "LiteRT's built-in operations (StatelessRandomUniformV2, UnicodeDecode, HashTableV2 among them), and with "
    "TensorFlow operations allowed (SELECT_TF_OPS) it converts, but the file then needs the Flex delegate, "
    "which tf.lite.Interpreter of TensorFlow's pip package does not link ('FlexHashTableV2 failed to prepare')."
)


class TextServing(tf.Module):
    """A text model's writing as the export's function: write(count, seed, ...) -> {"texts": string (count,)}.

    The texts are make sample's: chunks of sample.WRITE_BATCH texts, chunk c drawn with the seed
    (seed, SAMPLE_STREAM 2^32 + c), labels in turn (or the one asked), the prompt forced at positions 1..n.
    """

    def __init__(self, config, model):
        super().__init__()
        self.config, self.model = config, model
        self.writer = sample.Writer(model, config)
        self.to_ids = data.lookup(config.vocabulary)
        self.to_tokens = data.lookup(config.vocabulary, invert=True)
        for layer in (self.to_ids, self.to_tokens):
            layer.build((None,))  # Built, as a SavedModel wants them, before their first call.
        inputs = [
            tf.TensorSpec((), tf.int32, name="count"),
            tf.TensorSpec((), tf.int64, name="seed"),
            tf.TensorSpec((), tf.float32, name="temperature"),
            tf.TensorSpec((), tf.int32, name="top_k"),
            tf.TensorSpec((), tf.float32, name="top_p"),
            tf.TensorSpec((), tf.string, name="prompt"),
            tf.TensorSpec((), tf.string, name="acrostic"),
        ]
        if config.class_names:
            self.write = tf.function(self.write_texts, input_signature=[*inputs, tf.TensorSpec((), tf.int32, "label")])
        else:
            self.write = tf.function(self.write_unlabelled, input_signature=inputs)

    def write_unlabelled(self, count, seed, temperature, top_k, top_p, prompt, acrostic):
        return self.write_texts(count, seed, temperature, top_k, top_p, prompt, acrostic, tf.constant(-1))

    def write_texts(self, count, seed, temperature, top_k, top_p, prompt, acrostic, label):
        tf.debugging.assert_positive(count, message="count must be 1 or more")
        tf.debugging.assert_positive(temperature, message="temperature must be above 0")
        prompt_ids, acrostic_ids = self.ids(prompt), self.ids(acrostic)
        length, batch = self.config.sequence_length, sample.WRITE_BATCH
        forced_row = tf.concat([[-1], prompt_ids[: length - 1]], axis=0)
        forced_row = tf.pad(forced_row, [[0, length - tf.shape(forced_row)[0]]], constant_values=-1)
        forced = tf.tile(forced_row[tf.newaxis], [batch, 1])
        texts = tf.TensorArray(tf.string, size=0, dynamic_size=True, infer_shape=False)
        for chunk in tf.range((count + batch - 1) // batch):
            starts = self.starts(chunk * batch + tf.range(batch), label)
            chunk_seed = tf.stack([seed, sample.SAMPLE_STREAM * 2**32 + tf.cast(chunk, tf.int64)])
            ids = self.writer.write_ids(starts, chunk_seed, temperature, top_k, top_p, forced, acrostic_ids)
            texts = texts.write(chunk, self.decode(ids))
        return {"texts": texts.concat()[:count]}

    def ids(self, characters):
        """The ids int32 (n,) of a string's characters; an error naming them if the vocabulary lacks any."""
        characters = tf.strings.unicode_split(characters, "UTF-8")
        ids = tf.cast(self.to_ids(characters), tf.int32)
        tf.debugging.assert_none_equal(
            ids, data.UNK_ID, message="the run has never seen a character of the prompt or the acrostic"
        )
        return ids

    def starts(self, indices, label):
        """The start token int32 (B,) of texts `indices`: their class's (`label`, or the classes in turn)."""
        if not self.config.class_names:
            return tf.fill(tf.shape(indices), data.END_ID + 1)
        classes = len(self.config.class_names)
        tf.debugging.assert_less(label, classes, message="label must be -1 or the index of one of the classes")
        labels = tf.where(label >= 0, label, indices % classes)
        return data.END_ID + 1 + labels

    def decode(self, ids):
        """data.decode() in the graph: the characters after position 0 (after END only PAD follows)."""
        tokens = self.to_tokens(tf.cast(ids[:, 1:], tf.int64))
        return tf.strings.reduce_join(tf.where(ids[:, 1:] > data.END_ID, tokens, ""), axis=1)


def export(config, restored, out):
    """Writes the export of `restored` ({"lm" or "gan": sample.Restored}) to the new or empty directory `out`,
    through a hidden directory renamed when complete (as the pictures' export). Returns signature.json's dict."""
    out = pictures_export.check_out(out)
    description = describe(config, restored)
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        archive = keras.export.ExportArchive()
        for model, (network, _) in restored.items():
            serving = TextServing(config, network)
            for layer in (network, serving.to_ids, serving.to_tokens):  # The vocabulary's tables travel too.
                archive.track(layer)
            archive.add_endpoint(SIGNATURES[model], serving.write)
        archive.write_out(str(staging), verbose=False)
        (staging / pictures_export.SIGNATURE_FILE).write_text(json.dumps(description, indent=2) + "\n")
        (staging / "README.md").write_text(readme(description))
        if out.is_dir():
            out.rmdir()
        staging.rename(out)
    except OSError as error:
        raise files.unwritable(out, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return description


def describe(config, restored):
    """signature.json: each signature's inputs and output, the classes, and the run."""
    inputs = {
        "count": "int32 (): how many texts to write",
        "seed": "int64 (): the same seed writes the same texts, as make sample's SEED",
        "temperature": "float32 (): above 0; 1 writes as the model learned, lower is safer, higher wilder",
        "top_k": "int32 (): draw from the k likeliest characters only; 0 for all",
        "top_p": "float32 (): draw from the smallest set of characters whose probability reaches p; 1 for all",
        "prompt": "string (): UTF-8, the beginning every text carries on; '' for none",
        "acrostic": "string (): UTF-8, characters that begin the lines in turn; '' for none",
    }
    if config.class_names:
        inputs["label"] = f"int32 (): the class to write, 0 to {len(config.class_names) - 1}; -1 for each in turn"
    outputs = {"texts": "string (count,): UTF-8 texts, the same as make sample writes with these arguments"}
    return {
        "made_by": "gan_tf export",
        "kind": "text",
        "models": {SIGNATURES[model]: description for model, (_, description) in restored.items()},
        "class_names": list(config.class_names),
        "longest_text": config.sequence_length - 2,
        **{SIGNATURES[model]: {"inputs": inputs, "outputs": outputs} for model in restored},
        "lite": LITE_REASON,
        "config": {**dataclasses.asdict(config), "vocabulary": None},  # The vocabulary is inside the SavedModel.
    }


def readme(description):
    """The export's README.md: its signatures and the lines of TensorFlow that call them."""
    name = SIGNATURES["gan"] if SIGNATURES["gan"] in description else SIGNATURES["lm"]
    label = ", label=tf.constant(-1)" if description["class_names"] else ""
    lines = [
        "# A gan_tf text model",
        "",
        "Exported by `python -m gan_tf export`: "
        + "; ".join(f"`{signature}`, {model}" for signature, model in description["models"].items())
        + ". No gan_tf is needed to use it: TensorFlow (2.21 or later) alone.",
        "",
        "```python",
        "import tensorflow as tf",
        "",
        'model = tf.saved_model.load("THIS_DIRECTORY")',
        f'texts = model.signatures["{name}"](',
        "    count=tf.constant(8), seed=tf.constant(0, tf.int64), temperature=tf.constant(1.0),",
        f'    top_k=tf.constant(0), top_p=tf.constant(1.0), prompt=tf.constant(""), acrostic=tf.constant(""){label},',
        ')["texts"]',
        'print("\\n".join(text.decode() for text in texts.numpy()))',
        "```",
        "",
    ]
    if description["class_names"]:
        lines += ["Classes, by index: " + ", ".join(f"{i} {n}" for i, n in enumerate(description["class_names"])), ""]
    lines += ["Inputs and output:", ""]
    lines += [f"- in `{key}`: {text}" for key, text in description[name]["inputs"].items()]
    lines += [f"- out `{key}`: {text}" for key, text in description[name]["outputs"].items()]
    lines += ["", description["lite"], ""]
    return "\n".join(lines)


def export_run(config, checkpoint_dir, checkpoint_name, out):
    """Exports the text run in checkpoint_dir: its language model and, once trained, its GAN (each from its latest
    checkpoint; `checkpoint_name` names the GAN's, or the language model's in a run without a GAN).

    Raises:
      UserError: no trained model, a damaged checkpoint, or an `out` that is a file, holds files or cannot be
        written; all checked before anything is written.
    """
    pictures_export.check_out(out)
    has_gan = sample.has_model(checkpoint_dir, "gan")
    restored = {"lm": sample.restore(checkpoint_dir, config, "lm", None if has_gan else checkpoint_name)}
    if has_gan:
        restored["gan"] = sample.restore(checkpoint_dir, config, "gan", checkpoint_name)
    return export(config, restored, out)

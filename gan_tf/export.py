"""A trained run outside gan_tf: its generator and encoder as a TensorFlow SavedModel.

`python -m gan_tf export --out DIR` writes a new directory:
  saved_model.pb, variables/  one SavedModel with these signatures, for tf.saved_model.load(DIR):
      generate: latent float32 (N, latent_dim) [and digits, classes or clusters, int32 (N,)]
                -> images uint8 (N, H, W) grey, (N, H, W, 3) colour: (N, 28, 28) for MNIST's digits
      blend:    (a run with labels) latent, and weights float32 (N, L) that mix the labels
                -> images: generate with one_hot(labels) replaced by any mix, to morph one class into another
      encode:   images uint8 as generate gives them
                -> latent float32 (N, latent_dim) [and digit_logits, class_logits or cluster_logits (N, L)]
  generator.tflite            generate alone, for LiteRT (tf.lite.Interpreter, or ai_edge_litert)
  signature.json              the shapes, ranges, class names and settings, for programs
  README.md                   the same for people, with the few lines of TensorFlow that call it

Serving holds these functions for a restored run, Loaded for an export directory: `make play` draws
with one or the other, so the page shows what the export computes.
"""

import dataclasses
import json
import pathlib
import shutil

import keras
import numpy as np
import tensorflow as tf

from gan_tf import data
from gan_tf import mnist
from gan_tf import models
from gan_tf.runtime import checkpoints
from gan_tf.runtime import errors
from gan_tf.runtime import files

SIGNATURE_FILE = "signature.json"
LITE_FILE = "generator.tflite"


def label_name(config):
    """What the generator's second input is called: "digits" (conditional on digits), "classes" (conditional on
    other pictures), "clusters", or None (no labels)."""
    if models.conditional(config):
        return mnist.treatment(config.data).label_argument
    return "clusters" if config.clusters else None


LOGITS_NAMES = {"digits": "digit_logits", "classes": "class_logits", "clusters": "cluster_logits"}


def picture_shape(config):
    """One picture as the export takes and gives it: (H, W) grey ((28, 28) for digits), (H, W, 3) colour."""
    shape = models.image_shape(config)
    return shape[:2] if config.channels == 1 else shape


class Functions:
    """The functions of an export and what they need to be called; draw(), draw_blend() and read() take numpy.

    Attributes:
      generate: latent float32 (N, latent_dim)[, labels int32 (N,)] -> {"images": uint8 (N, *picture_shape)}.
      blend: latent, label weights float32 (N, num_labels) -> {"images": ...}, or None (no labels).
      encode: images uint8 (N, *picture_shape) -> {"latent": ...[, LOGITS_NAMES[label_name]: ...]}, or None.
      latent_dim, label_name (label_name(config)), num_labels, label_shares (float32 (K,) for clusters, else None).
      picture_shape: (H, W) grey or (H, W, 3) colour; class_names: the names of the classes a conditional
      run draws (the digits' for MNIST), else empty; preparation: how a picture is made ready for the
      encoder, MNIST_DIGITS or FIT (see preparation()).
    """

    def draw(self, latent, labels=None):
        """uint8 pictures (N, *picture_shape) of float (N, latent_dim) latent vectors and int (N,) labels (unused
        without labels)."""
        latent = tf.constant(latent, tf.float32)
        if self.label_name:
            return self.generate(latent, tf.constant(labels, tf.int32))["images"].numpy()
        return self.generate(latent)["images"].numpy()

    def draw_blend(self, latent, weights):
        """uint8 pictures of latent vectors and label weights float (N, num_labels), e.g. 0.3 of a 1 and 0.7 of a 7."""
        return self.blend(tf.constant(latent, tf.float32), tf.constant(weights, tf.float32))["images"].numpy()

    def read(self, images):
        """E(x) of uint8 pictures (N, *picture_shape): (latent float32 (N, latent_dim), label logits (N, L) or None)."""
        outputs = self.encode(tf.constant(images, tf.uint8))
        logits = outputs.get(LOGITS_NAMES.get(self.label_name))
        return outputs["latent"].numpy(), None if logits is None else logits.numpy()


class Serving(Functions):
    """A restored run's generator and encoder as the export's functions: tf.functions of fixed signatures.

    They run the networks in inference mode (BatchNormalization's moving statistics), so each picture
    depends on its own inputs only, as in generate.sample().
    """

    def __init__(self, config, generator, encoder=None, label_shares=None):
        self.config, self.generator, self.encoder = config, generator, encoder
        self.picture_shape, self.preparation = picture_shape(config), preparation(config)
        self.class_names = tuple(config.class_names) if models.conditional(config) else ()
        self.latent_dim, self.label_name, self.num_labels = (
            config.latent_dim,
            label_name(config),
            models.num_labels(config),
        )
        self.label_shares = None if label_shares is None else np.asarray(label_shares, np.float32)
        latent = tf.TensorSpec((None, config.latent_dim), tf.float32, name="latent")
        self.blend = None
        if self.label_name:
            self.generate = tf.function(
                self.generate_labelled, input_signature=[latent, tf.TensorSpec((None,), tf.int32, name=self.label_name)]
            )
            self.blend = tf.function(
                self.generate_blended,
                input_signature=[latent, tf.TensorSpec((None, self.num_labels), tf.float32, name="weights")],
            )
        else:
            self.generate = tf.function(self.generate_unlabelled, input_signature=[latent])
        pictures = tf.TensorSpec((None, *picture_shape(config)), tf.uint8, name="images")
        self.encode = None if encoder is None else tf.function(self.encode_images, input_signature=[pictures])

    def pictures(self, images):
        """The generator's float images (N, H, W, C) as the export gives them: uint8 (N, H, W) grey, (N, H, W, 3) colour."""
        pictures = data.to_uint8_tensor(images)
        return {"images": pictures[..., 0] if self.config.channels == 1 else pictures}

    def generate_labelled(self, latent, labels):
        return self.pictures(self.generator(models.generator_inputs(self.config, latent, labels), training=False))

    def generate_blended(self, latent, weights):
        # models.generator_inputs, with the one-hot label replaced by a mix of labels.
        return self.pictures(self.generator(tf.concat([latent, weights], axis=-1), training=False))

    def generate_unlabelled(self, latent):
        return self.pictures(self.generator(latent, training=False))

    def encode_images(self, images):
        if self.config.channels == 1:
            images = images[..., tf.newaxis]
        latent, logits = models.encoder_outputs(self.config, self.encoder(data.to_unit_range(images), training=False))
        outputs = {"latent": tf.cast(latent, tf.float32)}
        if logits is not None:
            outputs[LOGITS_NAMES[self.label_name]] = tf.cast(logits, tf.float32)
        return outputs


class Loaded(Functions):
    """The functions of an export directory, loaded with tf.saved_model.load: what `make play --export` uses."""

    def __init__(self, directory):
        description = read_signature_file(directory)
        signatures = tf.saved_model.load(str(directory)).signatures
        generate = description["generate"]
        self.latent_dim, self.label_name, self.num_labels = (
            generate["latent_dim"],
            generate["label"],
            generate["num_labels"],
        )
        shares = description.get("label_shares")
        self.label_shares = None if shares is None else np.asarray(shares, np.float32)
        # Exports made before pictures other than digits had these two entries: MNIST's.
        self.picture_shape = tuple(description.get("picture_shape", (28, 28)))
        self.preparation = description.get("preparation", MNIST_DIGITS)
        digit_names = [str(digit) for digit in range(10)] if self.label_name == "digits" else []
        self.class_names = tuple(description.get("class_names", digit_names))
        self.signatures = signatures  # Keeps the loaded model alive.
        self.blend = None
        if self.label_name:
            self.generate = lambda latent, labels: signatures["generate"](latent=latent, **{self.label_name: labels})
            self.blend = lambda latent, weights: signatures["blend"](latent=latent, weights=weights)
        else:
            self.generate = lambda latent: signatures["generate"](latent=latent)
        self.encode = (lambda images: signatures["encode"](images=images)) if "encode" in signatures else None


def read_signature_file(directory):
    """The signature.json of an export directory, or a UserError saying what is wrong."""
    path = pathlib.Path(directory) / SIGNATURE_FILE
    if not path.is_file() or not (pathlib.Path(directory) / "saved_model.pb").is_file():
        raise errors.UserError(
            f"{directory} is not a gan_tf export (no {SIGNATURE_FILE} and saved_model.pb): make one "
            f"with 'make export', or pass the directory it wrote."
        )
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise errors.UserError(f"cannot read {path} ({error}): export the run again with 'make export'.") from None


def check_out(out):
    """Checks that `out` is a new or empty directory that can be written; creates nothing."""
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise errors.UserError(f"--out {out} is a file: name a new directory for the export.")
    if out.is_dir() and any(out.iterdir()):
        raise errors.UserError(f"--out {out} already holds files: name a new directory, or delete that one first.")
    files.check_directory(out)
    return out


def export(serving, checkpoint_name, out):
    """Writes the export of `serving` (see the module's docstring) to the new or empty directory `out`.

    Everything is written into a hidden directory beside `out` first and renamed to `out` when
    complete, so a failure leaves no half export. Returns the description written as signature.json.
    """
    out = check_out(out)
    description = describe(serving, checkpoint_name)
    staging = out.with_name(f".{out.name}.partial")  # Left by a killed export: replaced.
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        archive = keras.export.ExportArchive()
        archive.track(serving.generator)
        archive.add_endpoint("generate", serving.generate)
        if serving.blend is not None:
            archive.add_endpoint("blend", serving.blend)
        if serving.encode is not None:
            archive.track(serving.encoder)
            archive.add_endpoint("encode", serving.encode)
        archive.write_out(str(staging), verbose=False)
        (staging / LITE_FILE).write_bytes(lite_generator(staging))
        (staging / SIGNATURE_FILE).write_text(json.dumps(description, indent=2) + "\n")
        (staging / "README.md").write_text(readme(description))
        if out.is_dir():
            out.rmdir()  # Empty (check_out): the complete export takes its place.
        staging.rename(out)
    except OSError as error:
        raise files.unwritable(out, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return description


def lite_generator(saved_model_directory):
    """The generate signature converted for LiteRT (TensorFlow's TFLiteConverter): the .tflite file's bytes."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_directory), signature_keys=["generate"])
    return converter.convert()


def describe(serving, checkpoint_name):
    """signature.json: what each signature takes and gives, and the run it came from."""
    config = serving.config
    generate_inputs = {
        "latent": f"float32 (N, {config.latent_dim}): the latent vectors; the generator was trained "
        f"on standard normal ones"
    }
    if serving.label_name == "digits":
        generate_inputs["digits"] = "int32 (N,): the digit to draw, 0 to 9"
    elif serving.label_name == "classes":
        generate_inputs["classes"] = (
            f"int32 (N,): the class to draw, 0 to {serving.num_labels - 1}, by its index in class_names"
        )
    elif serving.label_name == "clusters":
        generate_inputs["clusters"] = (
            f"int32 (N,): a cluster of the training pictures, 0 to {config.clusters - 1}; "
            f"draw each in proportion to label_shares for the training data's mix"
        )
    description = {
        "made_by": "gan_tf export",
        "checkpoint": checkpoint_name,
        "picture_shape": list(serving.picture_shape),
        "class_names": list(serving.class_names),
        "preparation": serving.preparation,
        "generate": {
            "inputs": generate_inputs,
            "latent_dim": config.latent_dim,
            "label": serving.label_name,
            "num_labels": serving.num_labels,
            "outputs": {"images": pictures_text(config)},
        },
        "config": dataclasses.asdict(config),
    }
    if serving.blend is not None:
        description["blend"] = {
            "inputs": {
                "latent": generate_inputs["latent"],
                "weights": f"float32 (N, {serving.num_labels}): how much of each of the {serving.label_name} to "
                f"draw, summing to 1; generate is blend with one-hot weights",
            },
            "outputs": description["generate"]["outputs"],
        }
    if serving.label_shares is not None:
        description["label_shares"] = [float(share) for share in serving.label_shares]
    if serving.encode is not None:
        outputs = {"latent": f"float32 (N, {config.latent_dim}): what generate needs to redraw each image"}
        if serving.label_name:
            outputs[LOGITS_NAMES[serving.label_name]] = (
                f"float32 (N, {serving.num_labels}): which of the {serving.label_name} the encoder reads (the argmax)"
            )
        description["encode"] = {
            "inputs": {"images": pictures_text(config) + preparation_text(config)},
            "outputs": outputs,
        }
    return description


MNIST_DIGITS = mnist.DIGITS.preparation  # Ink cropped, scaled to 20 pixels and centred by its mass in 28 x 28.
FIT = mnist.OTHER_PICTURES.preparation  # The shorter side scaled to the picture's size, the centre cropped: data.fit.


def preparation(config):
    """How a picture is made ready for the encoder, as the run's training pictures were: MNIST_DIGITS or FIT."""
    return mnist.treatment(config.data).preparation


def pictures_text(config):
    """What the export's pictures are, for signature.json."""
    shape = "(N, " + ", ".join(str(side) for side in picture_shape(config)) + ")"
    if preparation(config) == MNIST_DIGITS:
        return f"uint8 {shape}: 0 is the background, 255 the ink"
    return f"uint8 {shape}: " + ("grey levels, 0 black, 255 white" if config.channels == 1 else "RGB, 0 to 255")


def preparation_text(config):
    """How a picture is prepared for the encoder, as the training pictures were."""
    if preparation(config) == MNIST_DIGITS:
        return "; white digits on black, centred as MNIST's"
    side = config.image_size
    return f"; the shorter side scaled to {side} pixels and the centre cropped, as the training pictures"


def readme(description):
    """The export's README.md: its files and how to call it from plain TensorFlow."""
    generate = description["generate"]
    label = generate["label"]
    label_argument = (
        f", {label}=tf.constant([7, 7, 7, 7], tf.int32)"
        if label == "digits"
        else (
            f", {label}=tf.constant({[index % generate['num_labels'] for index in range(4)]}, tf.int32)"
            if label
            else ""
        )
    )
    shape = ", ".join(str(side) for side in [4, *description["picture_shape"]])
    lines = [
        "# A gan_tf generator",
        "",
        f"Exported by `python -m gan_tf export` from checkpoint {description['checkpoint']}. No gan_tf is needed "
        "to use it: TensorFlow (2.21 or later) alone.",
        "",
        "```python",
        "import tensorflow as tf",
        "",
        'model = tf.saved_model.load("THIS_DIRECTORY")',
        f"latent = tf.random.normal((4, {generate['latent_dim']}))",
        f'images = model.signatures["generate"](latent=latent{label_argument})["images"]  # uint8 ({shape})',
    ]
    if "encode" in description:
        lines.append(
            'codes = model.signatures["encode"](images=images)  # the encoder: '
            + ", ".join(description["encode"]["outputs"])
        )
    lines += ["```", ""]
    if description["class_names"]:
        lines += [
            "Classes, by index: " + ", ".join(f"{i} {name}" for i, name in enumerate(description["class_names"])),
            "",
        ]
    lines += ["Inputs and outputs:", ""]
    for name, signature in (
        ("generate", generate),
        ("blend", description.get("blend")),
        ("encode", description.get("encode")),
    ):
        if signature:
            lines += (
                [f"- `{name}`:"]
                + [f"  - in `{key}`: {text}" for key, text in signature["inputs"].items()]
                + [f"  - out `{key}`: {text}" for key, text in signature["outputs"].items()]
            )
    lines += [
        "",
        f"`{LITE_FILE}` holds `generate` for LiteRT; `{SIGNATURE_FILE}` says all of this for programs, "
        "with the run's settings.",
        "",
    ]
    return "\n".join(lines)


def export_run(checkpoint_dir, checkpoint_name, out):
    """Exports the run in `checkpoint_dir` (its latest checkpoint, or `checkpoint_name`) to `out`; returns the description.

    Raises:
      UserError: no run there, a damaged or mismatched checkpoint, or an `out` that is a file, holds files
        or cannot be written; all checked before anything is written.
    """
    check_out(out)
    return export(*restore_serving(checkpoint_dir, checkpoint_name), out)


def open_functions(checkpoint_dir, checkpoint_name=None, export_dir=None):
    """The functions to draw with, of an export directory or else of a run's checkpoint: (Functions, what they are).

    Raises:
      UserError: no export or run there, or a damaged checkpoint.
    """
    if export_dir is not None:
        return Loaded(export_dir), f"the export in {export_dir}"
    serving, name = restore_serving(checkpoint_dir, checkpoint_name)
    return serving, f"{name} of {checkpoint_dir}"


def restore_serving(checkpoint_dir, checkpoint_name=None):
    """The Serving of a run's checkpoint (the latest, or `checkpoint_name`), and that checkpoint's name."""
    from gan_tf import generate

    config, generator, encoder, label_shares = generate.restore_models(checkpoint_dir, checkpoint_name)
    name = pathlib.Path(checkpoints.checkpoint_path(checkpoint_dir, checkpoint_name)).name
    return Serving(config, generator, encoder, label_shares), name

"""What the play page shows, as uint8 pictures: every picture is a function of its request's numbers.

Each function takes `functions`, an export.Functions (a run's generator and encoder as the export's
signatures), and returns what the page puts on screen. A style is a latent vector: style i of seed s
is row i of stateless_normal((STYLES, latent_dim), seed=(s, STREAM)), so the same numbers always give
the same picture.
"""

import io

import numpy as np
import PIL.Image
import tensorflow as tf

from gan_tf import data
from gan_tf import export
from gan_tf import generate
from gan_tf import images
from gan_tf.runtime import errors

STYLES = 16  # The grid: 4 x 4 new handwriting styles.
STREAM = 3  # The seed's stream for the page's styles (sample uses 1, evaluate 2).
DIRECTIONS = 4  # Sliders.
SLIDER_RANGE = 3.0  # A slider moves the style up to 3 standard deviations along its direction.
MORPH_STEPS = 9
MAX_UPLOAD_PIXELS = 4096 * 4096  # A bigger picture is refused before it is decoded.
INK_THRESHOLD = 32  # Pixels above it (of 255) count as ink when a drawing is cropped.


def styles(functions, seed):
    """The STYLES latent vectors of `seed`: float32 (STYLES, latent_dim)."""
    return tf.random.stateless_normal((STYLES, functions.latent_dim), seed=(seed, STREAM)).numpy()


def directions(latent_dim):
    """DIRECTIONS orthonormal directions of the latent space, the same for every run: float32 (DIRECTIONS, latent_dim).

    In a standard normal latent space every direction is as likely as any other, so these are drawn
    once at random (seed 0) and made orthogonal, so that each slider moves the style its own way.
    """
    random = tf.random.stateless_normal((latent_dim, DIRECTIONS), seed=(0, STREAM + 1), dtype=tf.float64)
    orthonormal, _ = np.linalg.qr(random.numpy())
    return orthonormal.T.astype(np.float32)


def style(functions, seed, index, offsets=()):
    """Style `index` of `seed`, moved by offsets[k] (in [-SLIDER_RANGE, SLIDER_RANGE]) along directions k: (latent_dim,)."""
    offsets = np.pad(np.asarray(offsets, np.float32), (0, DIRECTIONS - len(offsets)))  # Missing offsets are 0.
    return styles(functions, seed)[index] + offsets @ directions(functions.latent_dim)


def tile(pictures, columns):
    """images.grid of the export's pictures, as the page shows it: uint8 (H, W) grey, (H, W, 3) colour."""
    return images.displayable(images.grid(pictures, columns))


def labels_shown(functions, count):
    """The labels of `count` pictures when no class is asked, as `make sample` draws them (generate.labels_to_draw)."""
    return generate.labels_to_draw(count, functions.num_labels, functions.label_shares)


def asks_for_classes(functions):
    """Whether the run draws the class it is asked for: a conditional run, on digits or other classes."""
    return functions.label_name in ("digits", "classes")


def grid(functions, seed, label=None):
    """The grid: STYLES new styles of class `label` (a conditional run), or of the run's own mix."""
    labels = labels_shown(functions, STYLES) if label is None else np.full(STYLES, label, np.int32)
    return tile(functions.draw(styles(functions, seed), labels), columns=4)


def labels_in_a_row(functions):
    """What "one style, every class" draws: the classes (the first ten), the ten largest clusters, or the
    one style alone."""
    if asks_for_classes(functions):
        return np.arange(min(functions.num_labels, 10), dtype=np.int32)
    if functions.label_name == "clusters":
        return np.argsort(-functions.label_shares, kind="stable")[:10].astype(np.int32)
    return np.zeros(1, np.int32)


def every_label(functions, seed, index, offsets=()):
    """One style, moved by the sliders, drawing each of labels_in_a_row(): one row."""
    labels = labels_in_a_row(functions)
    latent = np.repeat(style(functions, seed, index, offsets)[np.newaxis], len(labels), axis=0)
    return tile(functions.draw(latent, labels), columns=len(labels))


def morph(functions, seed, start, end, label_from=None, label_to=None):
    """MORPH_STEPS pictures from style `start` to style `end` of `seed` (and from one class to another): one row.

    The style follows the great circle between the two latent vectors (generate.slerp) and the class
    blends linearly, as `make interpolate` does.
    """
    fractions = np.linspace(0.0, 1.0, MORPH_STEPS)
    all_styles = styles(functions, seed)
    latent = generate.slerp(all_styles[start], all_styles[end], fractions)
    if not asks_for_classes(functions) or label_from is None or label_to is None:
        labels = np.repeat(labels_shown(functions, STYLES)[[start]], MORPH_STEPS)
        return tile(functions.draw(latent, labels), columns=MORPH_STEPS)
    weights = generate.blended_labels(functions.num_labels, label_from, label_to, fractions)
    return tile(functions.draw_blend(latent, weights), columns=MORPH_STEPS)


def decode_picture(content):
    """An uploaded or drawn picture (the bytes of a PNG, JPEG, ...) as a PIL picture in RGB mode; what is
    transparent is put on black, as the page draws.

    Raises:
      UserError: empty, not a picture, or bigger than MAX_UPLOAD_PIXELS.
    """
    if not content:
        raise errors.UserError("the picture is empty: draw on the pad or choose a picture file.")
    not_a_picture = errors.UserError("that is not a picture this page can read: upload a PNG, JPEG, GIF or BMP.")
    try:
        picture = PIL.Image.open(io.BytesIO(content))  # Reads the header only.
    except (PIL.UnidentifiedImageError, OSError, ValueError):
        raise not_a_picture from None
    width, height = picture.size
    if width * height > MAX_UPLOAD_PIXELS:
        raise errors.UserError(
            f"the picture is {width} x {height} pixels, too big: use one of at most "
            f"{MAX_UPLOAD_PIXELS:,} pixels (a photo of one digit can be much smaller)."
        )
    try:
        picture.load()
    except (OSError, ValueError, SyntaxError):  # Truncated or damaged data; PIL raises SyntaxError for some.
        raise not_a_picture from None
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:  # Transparent: on black, as drawn.
        background = PIL.Image.new("RGBA", picture.size, (0, 0, 0, 255))
        picture = PIL.Image.alpha_composite(background, picture.convert("RGBA"))
    return picture.convert("RGB")


def prepare(functions, picture):
    """A decoded picture made ready as the run's training pictures were: uint8 (*functions.picture_shape).

    Digits are cropped and centred as MNIST's (as_mnist_digit); any other pictures are scaled by the
    shorter side and centre cropped (data.fit), and made grey for a grey run.
    """
    if functions.preparation == export.MNIST_DIGITS:
        return as_mnist_digit(np.asarray(picture.convert("L")))
    grey = len(functions.picture_shape) == 2
    fitted = data.fit(picture.convert("L" if grey else "RGB"), functions.picture_shape[0])
    return fitted[..., 0] if grey else fitted


def as_mnist_digit(picture):
    """A grayscale picture of one digit as MNIST draws its digits: uint8 (28, 28), white on black.

    Dark ink on light paper is inverted; the ink is cropped, scaled so its longer side is 20 pixels
    and placed with its centre of mass at the middle of 28 x 28, as MNIST was made (LeCun et al. 1998).
    Raises:
      UserError: a picture without ink.
    """
    picture = np.asarray(picture, np.uint8)
    if picture.mean() > 127:  # Mostly light: dark ink on paper.
        picture = 255 - picture
    rows, columns = np.nonzero(picture > INK_THRESHOLD)
    if len(rows) == 0:
        raise errors.UserError("the picture is blank: draw a digit (white on black, or dark on light).")
    ink = picture[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = 20.0 / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = np.asarray(PIL.Image.fromarray(ink).resize(size, PIL.Image.Resampling.LANCZOS), np.float64)
    weights = small.sum()
    centre_row = (small.sum(axis=1) @ np.arange(small.shape[0])) / weights if weights else small.shape[0] / 2
    centre_column = (small.sum(axis=0) @ np.arange(small.shape[1])) / weights if weights else small.shape[1] / 2
    top = int(np.clip(round(13.5 - centre_row), 0, 28 - small.shape[0]))
    left = int(np.clip(round(13.5 - centre_column), 0, 28 - small.shape[1]))
    digit = np.zeros((28, 28), np.float64)
    digit[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.clip(np.round(digit), 0, 255).astype(np.uint8)


def read_picture(functions, content):
    """The encoder's reading of an uploaded or drawn picture and the generator's redrawing of it, G(E(x)).

    Returns:
      dict: "picture" uint8 (*picture_shape), the picture as the encoder sees it (prepare()); "redrawn",
      G's redrawing, likewise; "label" int and "probability" float, what the encoder reads (None for a
      run without labels).
    Raises:
      UserError: see decode_picture() and as_mnist_digit(); a run without an encoder.
    """
    if functions.encode is None:
        raise errors.UserError("this run was trained with --encoder off, so it cannot read a drawing.")
    picture = prepare(functions, decode_picture(content))
    latent, logits = functions.read(picture[np.newaxis])
    if logits is None:
        return {"picture": picture, "redrawn": functions.draw(latent)[0], "label": None, "probability": None}
    probabilities = tf.nn.softmax(logits[0]).numpy()
    label = int(np.argmax(probabilities))
    return {
        "picture": picture,
        "redrawn": functions.draw(latent, [label])[0],
        "label": label,
        "probability": float(probabilities[label]),
    }


def png(picture):
    """The bytes of a PNG of a uint8 picture (H, W), (H, W, 1) grey or (H, W, 3) colour."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(images.displayable(picture)).save(buffer, format="PNG")
    return buffer.getvalue()

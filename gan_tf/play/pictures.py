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
    """The labels of `count` digits when no digit is asked, as `make sample` draws them (generate.labels_to_draw)."""
    return generate.labels_to_draw(count, functions.num_labels, functions.label_shares)


def grid(functions, seed, digit=None):
    """The grid: STYLES new styles of `digit` (a conditional run), or of the run's own mix: uint8 (H, W)."""
    labels = labels_shown(functions, STYLES) if digit is None else np.full(STYLES, digit, np.int32)
    return tile(functions.draw(styles(functions, seed), labels), columns=4)


def ten_labels(functions):
    """What "one style, every digit" writes: the ten digits, the ten largest clusters, or the one style alone."""
    if functions.label_name == "digits":
        return np.arange(10, dtype=np.int32)
    if functions.label_name == "clusters":
        return np.argsort(-functions.label_shares, kind="stable")[:10].astype(np.int32)
    return np.zeros(1, np.int32)


def every_digit(functions, seed, index, offsets=()):
    """One style, moved by the sliders, writing each of ten_labels(): uint8 (H, W), one row."""
    labels = ten_labels(functions)
    latent = np.repeat(style(functions, seed, index, offsets)[np.newaxis], len(labels), axis=0)
    return tile(functions.draw(latent, labels), columns=len(labels))


def morph(functions, seed, start, end, digit_from=None, digit_to=None):
    """MORPH_STEPS digits from style `start` to style `end` of `seed` (and from one digit to another): one row.

    The style follows the great circle between the two latent vectors (generate.slerp) and the digit
    blends linearly, as `make interpolate` does.
    """
    fractions = np.linspace(0.0, 1.0, MORPH_STEPS)
    all_styles = styles(functions, seed)
    latent = generate.slerp(all_styles[start], all_styles[end], fractions)
    if functions.label_name != "digits" or digit_from is None or digit_to is None:
        labels = np.repeat(labels_shown(functions, STYLES)[[start]], MORPH_STEPS)
        return tile(functions.draw(latent, labels), columns=MORPH_STEPS)
    weights = generate.blended_labels(functions.num_labels, digit_from, digit_to, fractions)
    return tile(functions.draw_blend(latent, weights), columns=MORPH_STEPS)


def decode_picture(content):
    """An uploaded or drawn picture (the bytes of a PNG, JPEG, ...) as uint8 grayscale (H, W).

    Raises:
      UserError: empty, not a picture, or bigger than MAX_UPLOAD_PIXELS.
    """
    if not content:
        raise errors.UserError("the picture is empty: draw a digit or choose a picture file.")
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
    return np.asarray(picture.convert("L"))


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
    """The encoder's reading of an uploaded or drawn digit and the generator's redrawing of it, G(E(x)).

    Returns:
      dict: "digit" uint8 (28, 28), the picture as the encoder sees it; "redrawn" uint8 (28, 28);
      "label" int and "probability" float, what the encoder reads (None for a run without labels).
    Raises:
      UserError: see decode_picture() and as_mnist_digit(); a run without an encoder.
    """
    if functions.encode is None:
        raise errors.UserError("this run was trained with --encoder off, so it cannot read a drawing.")
    digit = as_mnist_digit(decode_picture(content))
    latent, logits = functions.read(digit[np.newaxis])
    if logits is None:
        return {"digit": digit, "redrawn": functions.draw(latent)[0], "label": None, "probability": None}
    probabilities = tf.nn.softmax(logits[0]).numpy()
    label = int(np.argmax(probabilities))
    return {
        "digit": digit,
        "redrawn": functions.draw(latent, [label])[0],
        "label": label,
        "probability": float(probabilities[label]),
    }


def png(picture):
    """The bytes of a PNG of a uint8 picture (H, W), (H, W, 1) grey or (H, W, 3) colour."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(images.displayable(picture)).save(buffer, format="PNG")
    return buffer.getvalue()

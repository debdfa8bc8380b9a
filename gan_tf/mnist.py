"""What is special to MNIST's digits, asked in one place.

gan_tf treats every picture alike, except where MNIST's handwritten digits have a treatment of their
own. Each is named here, in Treatment, and the code asks `treatment(where)` which one a run's pictures
get, so a reader finds every special case of the digits by looking for its name:
  - the words: a digit, a digit's class, the MNIST score;
  - deskewing: the clusters of an unconditional run are found among digits sheared upright (clusters.py);
  - centring: a drawing or an upload is cropped and centred as MNIST's digits were (play/pictures.py);
  - the judge's bar: 99% test accuracy, where other pictures' judges need half way from chance (evaluate.py);
  - the export's `digits=` argument and `digit_logits` output (export.py);
  - make bench's time-to-quality trial, whose target is an MNIST score (tools/bench.py).
MNIST's digits come from tensorflow-datasets or from a Keras-layout .npz (data.py): the same digits.
"""

import dataclasses

MNIST = "mnist"  # tensorflow-datasets' name of the digits, and the default pictures.
DIGIT_NAMES = tuple(str(digit) for digit in range(10))


def is_mnist(where):
    """Whether pictures from `where` (data.load's) are MNIST's: tensorflow-datasets' copy or a Keras-layout .npz,
    which stand in for each other; "" is a run that does not know its pictures yet, so the default, MNIST."""
    return where in ("", MNIST) or str(where).endswith(".npz")


@dataclasses.dataclass(frozen=True)
class Treatment:
    """How a run's pictures are treated where MNIST's digits differ from other pictures."""

    picture: str  # What one picture is called in messages.
    class_word: str  # What one class is called in reports.
    score_name: str  # The judge's score in reports.
    deskew: bool  # Whether clusters are found among pictures sheared upright by their moments.
    preparation: str  # How a drawing or an upload is made ready for the encoder (export.py's names).
    label_argument: str  # The export's name for its class input ("digits=7").
    judge_bar: float | None  # The judge's least test accuracy, refused below; None: half way from chance, advised.
    judge_file: str | None  # The judge's file in the checkpoint directory; None: named after the pictures.
    time_to_quality: bool  # Whether make bench trains until an MNIST score.


DIGITS = Treatment(
    picture="digit",
    class_word="digit",
    score_name="MNIST score",
    deskew=True,
    preparation="mnist-digits",
    label_argument="digits",
    judge_bar=0.99,
    judge_file="judge.keras",
    time_to_quality=True,
)
OTHER_PICTURES = Treatment(
    picture="picture",
    class_word="class",
    score_name="judge's score",
    deskew=False,
    preparation="fit",
    label_argument="classes",
    judge_bar=None,
    judge_file=None,
    time_to_quality=False,
)


def treatment(where):
    """The treatment of pictures from `where` (a config's `data`): DIGITS for MNIST's, else OTHER_PICTURES."""
    return DIGITS if is_mnist(where) else OTHER_PICTURES

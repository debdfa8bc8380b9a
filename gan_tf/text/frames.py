"""A text run's progress frames, and the page that lines them up: the text counterpart of the pictures' GIF.

After each epoch of either phase the same seeds write the same number of texts again, one a line, in
outputs/frames/<phase>/epoch_NNNN.txt, and TensorBoard's Text tab shows them. training.md then lines them up
seed by seed: a student reads one seed's text grow from noise into a poem, epoch after epoch, language model
first and GAN after.
"""

import pathlib

from gan_tf.runtime import files
from gan_tf.runtime import frames

PHASE_NAMES = {"language-model": "language model", "gan": "GAN"}


class Frame:
    """The texts of one epoch's frame: a file of one text a line, and a TensorBoard text summary."""

    suffix = ".txt"

    def __init__(self, texts):
        self.texts = list(texts)

    def write(self, path):
        files.write_text(path, "".join(text + "\n" for text in self.texts))

    def summarise(self, step):
        import tensorflow as tf

        lines = [f"{number}. {text}" for number, text in enumerate(self.texts, start=1)]  # Markdown, a list.
        tf.summary.text("samples", "\n".join(lines), step=step)


def write_training_page(frames_dir, output_dir):
    """training.md in `output_dir`: for each seed, its text after every epoch of every phase under output_dir/frames/.
    Returns the line that says what it wrote."""
    frames_root = pathlib.Path(output_dir) / "frames"
    columns = []  # (phase, epoch, texts)
    for phase, name in PHASE_NAMES.items():
        for path in frames.frame_paths(frames_root / phase, Frame.suffix):
            columns.append((name, frames.frame_epoch(path), path.read_text(encoding="utf-8").splitlines()))
    seeds = max((len(texts) for _, _, texts in columns), default=0)
    lines = ["# The same seeds after every epoch", ""]
    for seed in range(seeds):
        lines += [f"## Text {seed + 1}", "", "| model | epoch | text |", "| --- | --- | --- |"]
        for name, epoch, texts in columns:
            text = texts[seed] if seed < len(texts) else ""
            lines.append(f"| {name} | {epoch} | {text.replace('|', '&#124;')} |")
        lines.append("")
    page = pathlib.Path(output_dir) / "training.md"
    files.write_text(page, "\n".join(lines))
    return f"wrote {page} ({len(columns)} frames of {seeds} texts)"

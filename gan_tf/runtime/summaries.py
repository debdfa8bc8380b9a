"""A run's logs: TensorBoard summaries (tf.summary) and metrics.csv, one row per evaluation.

Both live in OUTPUT_DIR/logs/. TensorBoard's step is the epoch, so a resumed run continues the curves.
A resumed run redoes the epochs after its checkpoint, so it first makes the logs forget them
(forget_after): each epoch is then logged exactly once, however often the run was killed.
"""

import csv
import pathlib

import numpy as np
import tensorflow as tf

from gan_tf.runtime import files

CSV_FILENAME = "metrics.csv"
CSV_COLUMNS = [
    "epoch",
    "step",
    "mnist_score",
    "frechet_distance",
    "confident_share",
    "asked_digit_share",
    "min_class_share",
    "max_class_share",
    "latent_nearest_neighbour_accuracy",
    "digit_accuracy",
    "reconstruction_error",
]


class RunLog:
    """Writes a run's losses, progress frames and evaluations under `logs_dir`."""

    def __init__(self, logs_dir):
        self.logs_dir = pathlib.Path(logs_dir)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.logs_dir))

    def epoch(self, epoch, losses, images_per_second, picture):
        """One epoch's mean losses (name -> float), its speed and its progress frame (uint8 (H, W, C))."""
        with self.writer.as_default(step=epoch):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            tf.summary.scalar("speed/images_per_second", images_per_second)
            tf.summary.image("progress", np.asarray(picture)[np.newaxis])  # (1, H, W, C).
        self.writer.flush()

    def evaluation(self, epoch, step, figures):
        """One evaluation (a dict with the CSV_COLUMNS besides epoch and step) to TensorBoard and metrics.csv."""
        with self.writer.as_default(step=epoch):
            for name, value in figures.items():
                tf.summary.scalar(f"quality/{name}", value)
        self.writer.flush()
        path = self.logs_dir / CSV_FILENAME
        row = {"epoch": epoch, "step": step, **{name: f"{value:.6g}" for name, value in figures.items()}}
        write_csv(path, read_csv(path) + [row])


def read_csv(path):
    """The rows of metrics.csv (a list of dicts of strings), [] when there is none."""
    path = pathlib.Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def write_csv(path, rows):
    """Writes metrics.csv whole and atomically: a kill leaves the old rows or the new ones, never half a row."""
    with files.atomic_path(path) as temporary, temporary.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def forget_after(logs_dir, epoch):
    """Removes from metrics.csv and the TensorBoard event files everything logged for epochs after `epoch`."""
    logs_dir = pathlib.Path(logs_dir)
    rows = read_csv(logs_dir / CSV_FILENAME)
    kept_rows = [row for row in rows if int(row["epoch"]) <= epoch]
    if not kept_rows:
        (logs_dir / CSV_FILENAME).unlink(missing_ok=True)
    elif len(kept_rows) != len(rows):
        write_csv(logs_dir / CSV_FILENAME, kept_rows)
    for path in sorted(logs_dir.glob("events.out.tfevents.*")):
        forget_events_after(path, epoch)


def forget_events_after(path, epoch):
    """Rewrites one TensorBoard event file without its events of steps (epochs) after `epoch`.

    An event file is a TFRecord file of tf.compat.v1.Event protos. A kill while it was being written
    can leave its last record cut short; that record is dropped too. A file left with no summaries
    (only the file-version event every file starts with) is deleted.
    """
    records, complete = [], True
    try:
        for record in tf.data.TFRecordDataset(str(path)):
            records.append(record.numpy())
    except tf.errors.DataLossError:  # A record cut short: the rest of the file is unreadable.
        complete = False
    events = [tf.compat.v1.Event.FromString(record) for record in records]
    kept = [record for record, event in zip(records, events) if event.step <= epoch]
    if complete and len(kept) == len(records):
        return
    if not any(event.HasField("summary") for event in events if event.step <= epoch):
        path.unlink()
        return
    with files.atomic_path(path) as temporary, tf.io.TFRecordWriter(str(temporary)) as writer:
        for record in kept:
            writer.write(record)

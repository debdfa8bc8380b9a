"""A run's logs: TensorBoard summaries (tf.summary) and metrics.csv, one row per evaluation.

Both live in OUTPUT_DIR/logs/. TensorBoard's step is the epoch, so a resumed run continues the curves.
A resumed run redoes the epochs after its checkpoint, so it first makes the logs forget them
(forget_after): each epoch is then logged exactly once, however often the run was killed.
"""

import csv
import pathlib

import tensorflow as tf

from gan_tf.runtime import files

CSV_FILENAME = "metrics.csv"


class RunLog:
    """Writes a run's losses, speed, progress frames and evaluations under `logs_dir`."""

    def __init__(self, logs_dir):
        self.logs_dir = pathlib.Path(logs_dir)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.logs_dir))

    def epoch(self, epoch, losses, speeds, frame=None):
        """One epoch's mean losses and speeds (name -> float; "loss/<name>", "speed/<name>") and its progress
        frame (runtime/frames.py), which writes its own summary."""
        with self.writer.as_default(step=epoch):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            for name, value in speeds.items():
                tf.summary.scalar(f"speed/{name}", value)
            if frame is not None:
                frame.summarise(epoch)
        self.writer.flush()

    def evaluation(self, epoch, step, figures):
        """One evaluation (name -> float) to TensorBoard ("quality/<name>") and as a row of metrics.csv, whose
        columns are epoch, step and the figures' names."""
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
    """Writes metrics.csv whole and atomically: a kill leaves the old rows or the new ones, never half a row.
    Its columns are every name of the rows, in the order they first appear."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    with files.atomic_path(path) as temporary, temporary.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
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

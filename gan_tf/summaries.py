"""A run's logs: TensorBoard summaries (tf.summary) and metrics.csv, one row per evaluation.

Both live in OUTPUT_DIR/logs/. TensorBoard's step is the epoch, so a resumed run continues the curves.
"""

import csv
import pathlib

import numpy as np
import tensorflow as tf

CSV_FILENAME = "metrics.csv"
CSV_COLUMNS = ["epoch", "step", "mnist_score", "frechet_distance", "confident_share", "min_class_share",
               "max_class_share", "nearest_neighbour_accuracy", "reconstruction_error"]


class RunLog:
    """Writes a run's losses, progress frames and evaluations under `logs_dir`."""

    def __init__(self, logs_dir):
        self.logs_dir = pathlib.Path(logs_dir)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.logs_dir))

    def epoch(self, epoch, losses, images_per_second, picture):
        """One epoch's mean losses (name -> float), its speed and its progress frame (uint8 (H, W))."""
        with self.writer.as_default(step=epoch):
            for name, value in losses.items():
                tf.summary.scalar(f"loss/{name}", value)
            tf.summary.scalar("speed/images_per_second", images_per_second)
            tf.summary.image("progress", np.asarray(picture)[np.newaxis, :, :, np.newaxis])
        self.writer.flush()

    def evaluation(self, epoch, step, figures):
        """One evaluation (a dict with the CSV_COLUMNS besides epoch and step) to TensorBoard and metrics.csv."""
        with self.writer.as_default(step=epoch):
            for name, value in figures.items():
                tf.summary.scalar(f"quality/{name}", value)
        self.writer.flush()
        path = self.logs_dir / CSV_FILENAME
        new_file = not path.exists()
        with path.open("a", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
            if new_file:
                writer.writeheader()
            writer.writerow({"epoch": epoch, "step": step, **{name: f"{value:.6g}" for name, value in figures.items()}})

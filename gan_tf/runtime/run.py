"""TrainingRun: everything that makes a training run safe to stop, kill and resume.

train.train meets it in a few lines: `run.restore(state)` before training, `run.start()` when the
files may change, `run.maybe_save()` after each compiled call, `run.end_epoch(epoch)` after an epoch,
`with run.saving_on_interrupt():` around the loop. What a stop costs (docs/guarantees.md):
  - A checkpoint is saved every config.checkpoint_every_epochs epochs, every
    config.checkpoint_every_steps steps and every config.checkpoint_every_seconds seconds (each 0:
    never), and after the last epoch. A kill loses the training since the last one, no more.
  - An epoch's frame and logs are written before its checkpoint; a resumed run first removes the
    frames and logs of epochs after the checkpoint it restored, then redoes those epochs, so each
    epoch is in the frames, the GIF, TensorBoard and metrics.csv exactly once.
  - Ctrl-C saves a checkpoint of the step it stopped at, then re-raises KeyboardInterrupt.
  - A loss that is NaN or infinite, or a file that cannot be written (a full disk, a read-only
    directory), stops the run with a UserError; the latest checkpoint stays the last good one.
"""

import contextlib
import dataclasses
import math
import pathlib
import shutil
import tempfile
import time

import tensorflow as tf

from gan_tf import config as config_lib
from gan_tf import images as images_lib
from gan_tf.runtime import checkpoints
from gan_tf.runtime import distribute
from gan_tf.runtime import errors
from gan_tf.runtime import summaries


@dataclasses.dataclass
class LastSave:
    """The latest checkpoint of the run: its path (None before the first), counters and monotonic time."""

    name: str | None
    epoch: int
    step: int
    time: float

    def sentence(self):
        """What a message about a stopped run says of the checkpoint to resume from."""
        if self.name is None:
            return "No checkpoint had been saved yet."
        return (
            f"The latest checkpoint, {pathlib.Path(self.name).name} (epoch {self.epoch}, step {self.step}), is "
            f"intact: run the same command to resume from it."
        )


class TrainingRun:
    """The checkpoints, frames and logs of one run, and when to save them.

    Creating it checks every input and changes nothing: the directories, --fresh against
    --checkpoint, and the checkpoint to resume from. Files change only from start() on.
    """

    def __init__(self, config, checkpoint_dir, output_dir, fresh=False, resume_from=None, strategy=None, log=print):
        self.config, self.log = config, log
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = distribute.is_chief(self.strategy)
        self.fresh = fresh
        self.checkpoint_dir = checkpoints.check_directory(checkpoint_dir)
        self.output_dir = checkpoints.check_directory(output_dir)
        self.frames_dir, self.logs_dir = self.output_dir / "frames", self.output_dir / "logs"
        self.resume_path = checkpoints.resume_point(self.checkpoint_dir, fresh, resume_from)
        # Every worker of a multi-worker run must save at the same step, and their clocks differ:
        # there, checkpoints are saved by epochs and steps only.
        multiworker = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        self.seconds_between_saves = 0 if multiworker else config.checkpoint_every_seconds
        self.state = self.checkpoint = self.manager = self.run_log = self.scratch_dir = None
        self.last_save = self.looked_at_step = None

    @property
    def epoch(self):
        """Epochs completed."""
        return int(self.state.epoch.numpy())

    @property
    def step(self):
        """Train steps completed, over all epochs."""
        return int(self.state.step.numpy())

    def restore(self, state):
        """Restores `state` from the checkpoint to resume from, if any; a refused one changes no file."""
        self.state = state
        self.checkpoint = tf.train.Checkpoint(**state.trackables())
        if self.resume_path:
            checkpoints.restore(self.checkpoint, self.resume_path)
            # Learning rates are training settings: the ones asked for now win over the saved ones.
            state.generator_optimizer.learning_rate = self.config.generator_learning_rate
            state.discriminator_optimizer.learning_rate = self.config.discriminator_learning_rate
            state.encoder_optimizer.learning_rate = self.config.encoder_learning_rate
            self.log(f"resumed {self.resume_path}: epoch {self.epoch}, step {self.step}")
        self.last_save = LastSave(self.resume_path, self.epoch, self.step, time.monotonic())
        self.looked_at_step = self.step

    def start(self):
        """The checkpoint is good: only now may files change. Epochs after it are redone, so their
        frames and logs go (a fresh run redoes everything, and first deletes the old run)."""
        if self.chief and self.fresh:
            checkpoints.remove_run(self.checkpoint_dir)
        checkpoints.prepare_directory(self.checkpoint_dir)
        checkpoints.prepare_directory(self.output_dir)
        # A worker that is not the chief must still take part in each save (it may involve collective
        # operations), but into a scratch directory of its own: only the chief's files are kept.
        save_dir = self.checkpoint_dir
        if not self.chief:
            save_dir = self.scratch_dir = tempfile.mkdtemp(prefix="gan_tf_worker_")
        self.manager = checkpoints.make_manager(self.checkpoint, save_dir, self.config.keep_checkpoints)
        if self.chief:
            self.frames_dir.mkdir(exist_ok=True)
            images_lib.remove_frames_after(self.frames_dir, self.epoch)
            summaries.forget_after(self.logs_dir, self.epoch)
            config_lib.save(self.config, self.checkpoint_dir)
            self.run_log = summaries.RunLog(self.logs_dir)
        if self.epoch >= self.config.epochs:
            self.log(f"already trained for {self.epoch} epochs: raise --epochs to train more.")

    @contextlib.contextmanager
    def writing(self, what, directory):
        """Turns a failed write into one line: a full disk or a read-only directory stops the run."""
        try:
            yield
        except (OSError, tf.errors.OpError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else checkpoints.summary(error)
            raise errors.UserError(
                f"cannot write {what} in {directory} ({reason}): training stopped. "
                f"{self.last_save.sentence()} Free some disk space or fix the directory's "
                f"permissions first."
            ) from None

    def save(self):
        """Saves a checkpoint of the current step.

        Checkpoints are named by step, and a saved one is never written over: that could leave the
        checkpoint the index names half old, half new. So a step that is saved already is not saved
        again: after Ctrl-C between an epoch's last step and its frame, the resumed run redraws the
        frame and counts the epoch without saving, and the next save records the count (after the
        run's last epoch there is none, so a later run redraws that frame once more).
        """
        if self.step != self.last_save.step or self.last_save.name is None:
            with self.writing("a checkpoint", self.checkpoint_dir):
                name = self.manager.save(checkpoint_number=self.step)
            self.last_save = LastSave(name, self.epoch, self.step, self.last_save.time)
        self.last_save.time = time.monotonic()

    def save_due(self):
        """Whether a multiple of checkpoint_every_steps was passed since the last look, or the time is up."""
        every_steps = self.config.checkpoint_every_steps
        passed = every_steps and self.step // every_steps > self.looked_at_step // every_steps
        self.looked_at_step = self.step
        return bool(
            passed
            or (self.seconds_between_saves and time.monotonic() - self.last_save.time >= self.seconds_between_saves)
        )

    def maybe_save(self):
        """Saves when a checkpoint is due by steps or by seconds; called after each compiled call."""
        if self.save_due():
            self.save()

    def check_finite(self, call_losses, call_steps):
        """Stops the run when a loss of the last call is NaN or infinite, before anything saves the weights.

        Args:
          call_losses: name -> the loss summed over the call's steps (one NaN step makes the sum NaN).
          call_steps: how many steps the call ran (the step counter already counts them).
        """
        bad = {name: value for name, value in call_losses.items() if not math.isfinite(value)}
        if not bad:
            return
        first = self.step - call_steps + 1
        where = f"step {first}" if call_steps == 1 else f"steps {first}-{self.step}"
        losses_text = " and ".join(f"the {name} loss became {value}" for name, value in bad.items())
        raise errors.UserError(
            f"training diverged at {where}: {losses_text}, so the run stopped without saving. "
            f"{self.last_save.sentence()} Lower the learning rates (e.g. --generator-learning-rate "
            f"and --discriminator-learning-rate) before resuming."
        )

    def write_epoch(self, epoch, mean_losses, images_per_second, picture):
        """The epoch's progress frame and TensorBoard summaries (the chief's only)."""
        if self.chief:
            with self.writing("the progress frame and logs", self.output_dir):
                images_lib.save_png(picture, images_lib.frame_path(self.frames_dir, epoch))
                self.run_log.epoch(epoch, mean_losses, images_per_second, picture)

    def write_evaluation(self, epoch, figures):
        if self.chief:
            with self.writing("the evaluation", self.logs_dir):
                self.run_log.evaluation(epoch, self.step, figures)

    def end_epoch(self, epoch):
        """Counts epoch `epoch` (1, 2, ...) as done, then saves if a checkpoint is due.

        Its frame and logs are written before: a kill before the save redoes the epoch, and the resumed
        run removes what the first try wrote; Ctrl-C before the counters change saves a checkpoint that
        redoes only the frame and logs.
        """
        start_next_epoch(self.state)
        every_epochs = self.config.checkpoint_every_epochs
        due = self.save_due()  # Always look, so the step count of the look is this one.
        if epoch == self.config.epochs or (every_epochs and epoch % every_epochs == 0) or due:
            self.save()

    @contextlib.contextmanager
    def saving_on_interrupt(self):
        """Ctrl-C inside saves a checkpoint of the step it stopped at, then re-raises KeyboardInterrupt."""
        try:
            yield
        except KeyboardInterrupt:
            self.save()
            self.log(
                f"\ninterrupted: saved {self.last_save.name} (epoch {self.last_save.epoch}, step "
                f"{self.last_save.step}); run the same command again to resume."
            )
            raise
        finally:
            if self.scratch_dir:
                shutil.rmtree(self.scratch_dir, ignore_errors=True)

    def finish(self):
        """Animates the frames into training.gif (the chief's only)."""
        if self.chief:
            gif = self.output_dir / "training.gif"
            with self.writing("training.gif", self.output_dir):
                count = images_lib.gif_from_frames(self.frames_dir, gif)
            self.log(f"wrote {gif} ({count} frames); checkpoints in {self.checkpoint_dir}")


def start_next_epoch(state):
    """Counts an epoch as done and zeroes the epoch's sums: in one compiled call, so Ctrl-C cannot split it."""
    reset_epoch_counters(state.epoch, state.epoch_images, state.epoch_loss_sums)


@tf.function
def reset_epoch_counters(epoch, epoch_images, epoch_loss_sums):
    epoch.assign_add(1)
    epoch_images.assign(0)
    for loss_sum in epoch_loss_sums.values():
        loss_sum.assign(0.0)

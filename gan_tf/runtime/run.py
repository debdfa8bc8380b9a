"""TrainingRun: everything that makes a training run safe to stop, kill and resume, for any kind of run.

A run is given what it needs and nothing more: where it lives, its settings (runtime/settings.RunSettings:
epochs, batch size, when to save), a function that builds its networks and optimizers
(runtime/state.TrainingState), its step (compiled by runtime/compiled.py), and after each epoch a
progress frame (runtime/frames.py). The story's training loop (gan_tf/train.py) meets it in a few lines:
`run.prepare(...)` builds or restores the state, `run.start()` marks when files may change, `run.train_epoch(...)` trains,
`run.end_epoch(...)` writes the frame and logs and saves, `with run.saving_on_interrupt():` around the
loop. What a stop costs (docs/guarantees.md):
  - A checkpoint is saved every checkpoint_every_epochs epochs, every checkpoint_every_steps steps and
    every checkpoint_every_seconds seconds (each 0: never), and after the last epoch. A kill loses the
    training since the last one, no more.
  - An epoch's frame and logs are written before its checkpoint; a resumed run first removes the
    frames and logs of epochs after the checkpoint it restored, then redoes those epochs, so each
    epoch is in the frames, TensorBoard and metrics.csv exactly once.
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

import keras
import tensorflow as tf

from gan_tf.runtime import checkpoints
from gan_tf.runtime import compiled
from gan_tf.runtime import distribute
from gan_tf.runtime import errors
from gan_tf.runtime import files
from gan_tf.runtime import frames
from gan_tf.runtime import settings as settings_lib
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

    Creating it checks every input about where the run lives and changes nothing: the directories,
    --fresh against --checkpoint, and the checkpoint to resume from. prepare() gives it the rest; files
    change only from start() on.

    Args:
      checkpoint_dir, output_dir: where the checkpoints and settings go, and where frames/ and logs/ go.
      fresh: delete the run already in checkpoint_dir (and its frames and logs) and start over.
      resume_from: the name of a checkpoint to resume from (e.g. "ckpt-4690"); None: the latest.
      strategy: a tf.distribute.Strategy; only its chief writes files.
      log: called with each line of the training log.
      phase: None, or the name of one phase of a run trained in several (a text run's "language-model"
        and "gan"): its checkpoints go to checkpoint_dir/phase, its frames and logs to frames/phase and
        logs/phase, and the run's settings stay in checkpoint_dir.
    """

    def __init__(self, checkpoint_dir, output_dir, fresh=False, resume_from=None, strategy=None, log=print, phase=None):
        self.log, self.fresh = log, fresh
        self.strategy = strategy or tf.distribute.get_strategy()
        self.chief = distribute.is_chief(self.strategy)
        self.settings_dir = files.check_directory(checkpoint_dir)
        self.checkpoint_dir = files.check_directory(self.settings_dir / phase) if phase else self.settings_dir
        self.output_dir = files.check_directory(output_dir)
        self.frames_dir, self.logs_dir = self.output_dir / "frames", self.output_dir / "logs"
        if phase:
            self.frames_dir, self.logs_dir = self.frames_dir / phase, self.logs_dir / phase
        self.resume_path = checkpoints.resume_point(self.checkpoint_dir, fresh, resume_from)
        self.settings = self.state = self.checkpoint = self.manager = self.run_log = self.scratch_dir = None
        self.learning_rates, self.unit, self.epochs, self.epochs_setting = {}, "examples", 0, "epochs"
        self.last_save = self.looked_at_step = None
        # The epoch being trained: its seconds, and its examples and steps before this process trained it.
        self.epoch_seconds, self.examples_before, self.epoch_steps = 0.0, 0, 0

    @property
    def epoch(self):
        """Epochs completed."""
        return int(self.state.epoch.numpy())

    @property
    def step(self):
        """Train steps completed, over all epochs."""
        return int(self.state.step.numpy())

    @property
    def new(self):
        """Whether the run starts from nothing (no checkpoint to resume from)."""
        return self.resume_path is None

    @property
    def seconds_between_saves(self):
        """Every worker of a multi-worker run must save at the same step, and their clocks differ: there,
        checkpoints are saved by epochs and steps only."""
        if isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return 0
        return self.settings.checkpoint_every_seconds

    def epochs_to_train(self):
        """The epochs (1, 2, ...) left to train."""
        return range(self.epoch + 1, self.epochs + 1)

    # --- Building and restoring. ---

    def prepare(self, settings, build_state, step, speed, after_step=None, learning_rates=None, unit="examples",
                epochs_setting="epochs"):  # fmt: skip
        """The run's state, restored when it resumes, and its compiled train step: (state, train_steps).

        Args:
          settings: the run's settings (a runtime.settings.RunSettings): epochs, batch size, when to save and
            what to keep; saved as config.json when files may change.
          build_state: a function that builds a new runtime.state.TrainingState (seeded, so always the same).
          step, after_step: the story's train step and what follows it (runtime/compiled.py).
          speed: runtime.speed.Speed.
          learning_rates: network name -> the setting that holds its optimizer's learning rate.
          unit: what the run learns from, for the log ("images", "texts").
          epochs_setting: the setting that holds how many epochs to train (a phase's own, "gan_epochs").
        """
        self.settings, self.learning_rates, self.unit = settings, dict(learning_rates or {}), unit
        self.epochs, self.epochs_setting = getattr(settings, epochs_setting), epochs_setting
        # Keras numbers layer names in the order layers are made (conv2d, conv2d_1, ...); the names reach
        # the graph's ops, and how TensorFlow's graph optimiser (Grappler) rewrites the graph, down to the
        # last bits of the weights, depends on them. From Keras's blank state every run has the same
        # names, so it trains bitwise the same in any process (docs/guarantees.md).
        keras.backend.clear_session(free_memory=False)
        with self.strategy.scope():
            state = build_state()
            self.restore(state)
            train_steps = compiled.compile_train_step(step, state, speed, self.strategy, after_step)
        self.log(f"speed: {speed.describe()}; strategy: {distribute.describe(self.strategy)}")
        return state, train_steps

    def restore(self, state):
        """Restores `state` from the checkpoint to resume from, if any; a refused one changes no file."""
        self.state = state
        self.checkpoint = tf.train.Checkpoint(**state.trackables())
        if self.resume_path:
            checkpoints.restore(self.checkpoint, self.resume_path)
            # Learning rates are training settings: the ones asked for now win over the saved ones.
            for network, setting in self.learning_rates.items():
                state.optimizers[network].learning_rate = getattr(self.settings, setting)
            self.log(f"resumed {self.resume_path}: epoch {self.epoch}, step {self.step}")
        self.last_save = LastSave(self.resume_path, self.epoch, self.step, time.monotonic())
        self.looked_at_step = self.step

    def start(self):
        """The checkpoint is good: only now may files change. Epochs after it are redone, so their
        frames and logs go (a fresh run redoes everything, and first deletes the old run)."""
        if self.fresh:
            self.clear()
        files.prepare_directory(self.checkpoint_dir)
        files.prepare_directory(self.output_dir)
        # A worker that is not the chief must still take part in each save (it may involve collective
        # operations), but into a scratch directory of its own: only the chief's files are kept.
        save_dir = self.checkpoint_dir
        if not self.chief:
            save_dir = self.scratch_dir = tempfile.mkdtemp(prefix="gan_tf_worker_")
        self.manager = checkpoints.make_manager(self.checkpoint, save_dir, self.settings.keep_checkpoints)
        if self.chief:
            self.frames_dir.mkdir(parents=True, exist_ok=True)
            frames.remove_frames_after(self.frames_dir, self.epoch)
            summaries.forget_after(self.logs_dir, self.epoch)
            settings_lib.save(self.settings, checkpoints.settings_path(self.settings_dir))
            self.run_log = summaries.RunLog(self.logs_dir)
        if self.epoch >= self.epochs:
            self.log(
                f"already trained for {self.epoch} epochs: raise {settings_lib.flag(self.epochs_setting)} to train more."
            )

    def clear(self):
        """Deletes the run's checkpoints, frames and logs (the chief's only): what --fresh starts without."""
        if self.chief:
            checkpoints.remove_run(self.checkpoint_dir)
            frames.remove_frames_after(self.frames_dir, 0)
            summaries.forget_after(self.logs_dir, 0)

    # --- Training. ---

    def train_epoch(self, train_steps, batches, steps_per_call=1, progress=False, stop=None):
        """Trains on the rest of one epoch's batches, steps_per_call steps a compiled call (compiled.calls).

        Args:
          batches: a list of (dataset, number of batches in it), trained on in order (the full batches,
            then the short last one).
          progress: show a Keras progress bar with the epoch's running mean losses (the chief's only).
          stop: None, or a function of the state called after every compiled call: True saves and ends.
        Returns:
          True when the epoch is done, False when `stop` ended it early (after saving).
        """
        state, start = self.state, time.perf_counter()
        steps_left = sum(part_steps for _, part_steps in batches)
        self.examples_before = int(state.epoch_examples.numpy())
        steps_before = -(-self.examples_before // self.settings.batch_size)  # A resumed epoch's steps so far.
        show = progress and self.chief
        progress_bar = keras.utils.Progbar(steps_left, verbose=1 if show else 0, unit_name="batch")
        steps_trained = 0
        for call_losses, call_steps in compiled.calls(train_steps, batches, steps_per_call, self.strategy):
            self.check_finite({name: float(value) for name, value in call_losses.items()}, call_steps)
            steps_left, steps_trained = steps_left - call_steps, steps_trained + call_steps
            if show:  # The epoch's running means (Keras 3's Progbar shows values as given).
                totals = state.epoch_loss_sums.items()
                progress_bar.update(
                    steps_trained,
                    [(name, float(total.numpy()) / (steps_before + steps_trained)) for name, total in totals],
                )
            if steps_left:  # The epoch's last call is saved by end_epoch, after the epoch's frame.
                self.maybe_save()
                if stop is not None and stop(state):
                    self.save()  # Stopped early: keep what was trained; the epoch has no frame.
                    return False
        self.epoch_seconds = time.perf_counter() - start
        self.epoch_steps = steps_before + steps_trained
        return True

    def end_epoch(self, epoch, frame=None, figures=None):
        """Ends epoch `epoch` (1, 2, ...): writes its frame and logs, counts it as done, saves if a checkpoint
        is due, and logs its line.

        Its frame and logs are written before the save: a kill before the save redoes the epoch, and the
        resumed run removes what the first try wrote; Ctrl-C before the counters change saves a checkpoint
        that redoes only the frame and logs.

        Args:
          frame: the epoch's progress frame (runtime/frames.py), or None.
          figures: None, or a dict of quality figures measured after the epoch, for metrics.csv.
        """
        examples_per_second = (int(self.state.epoch_examples.numpy()) - self.examples_before) / max(
            self.epoch_seconds, 1e-9
        )
        mean_losses = self.state.mean_losses(self.epoch_steps)
        if self.chief:
            with self.writing("the progress frame and logs", self.output_dir):
                if frame is not None:
                    frame.write(frames.frame_path(self.frames_dir, epoch, frame.suffix))
                self.run_log.epoch(epoch, mean_losses, {f"{self.unit}_per_second": examples_per_second}, frame)
                if figures is not None:
                    self.run_log.evaluation(epoch, self.step, figures)
        start_next_epoch(self.state)
        every_epochs = self.settings.checkpoint_every_epochs
        due = self.save_due()  # Always look, so the step count of the look is this one.
        if epoch == self.epochs or (every_epochs and epoch % every_epochs == 0) or due:
            self.save()
        losses = "  ".join(f"{name} {value:.3f}" for name, value in mean_losses.items())
        self.log(
            f"epoch {epoch}/{self.epochs}  {losses}  {self.epoch_seconds:.1f} s  "
            f"{examples_per_second:.0f} {self.unit}/s"
        )

    def finish(self, write_animation=None):
        """Ends the run: `write_animation(frames_dir, output_dir)`, which animates the frames and returns a line
        saying what it wrote, is called (the chief's only) and the line logged."""
        if self.chief and write_animation is not None:
            with self.writing("the animation of the frames", self.output_dir):
                line = write_animation(self.frames_dir, self.output_dir)
            self.log(f"{line}; checkpoints in {self.checkpoint_dir}")

    # --- Saving, and what stops a run. ---

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
        every_steps = self.settings.checkpoint_every_steps
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
        learning_rates = " and ".join(settings_lib.flag(name) for name in list(self.learning_rates.values())[:2])
        raise errors.UserError(
            f"training diverged at {where}: {losses_text}, so the run stopped without saving. "
            f"{self.last_save.sentence()} Lower the learning rates"
            + (f" (e.g. {learning_rates})" if learning_rates else "")
            + " before resuming."
        )

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


def start_next_epoch(state):
    """Counts an epoch as done and zeroes the epoch's sums: in one compiled call, so Ctrl-C cannot split it."""
    reset_epoch_counters(state.epoch, state.epoch_examples, state.epoch_loss_sums)


@tf.function
def reset_epoch_counters(epoch, epoch_examples, epoch_loss_sums):
    epoch.assign_add(1)
    epoch_examples.assign(0)
    for loss_sum in epoch_loss_sums.values():
        loss_sum.assign(0.0)

"""The machinery the story leans on, the same for every kind of run: read the story first (see gan_tf/__init__.py).

Nothing here imports the story's modules: a run is given its settings, its networks and optimizers, its step
and its frames, and tests/test_runtime.py trains one Dense layer on a regression through all of it.

settings     dataclass fields with their reason, values and role; the settings every run shares; config.json
state        TrainingState: the networks, optimizers and counters a checkpoint saves
run          TrainingRun: resuming, the loop over an epoch's batches, saving by epochs, steps and seconds,
             Ctrl-C, NaN checks, write failures
compiled     the train step compiled with tf.function, on replicas, with loss scaling and several steps a call
checkpoints  tf.train.Checkpoint files, and every way a run can fail to load
frames       the progress frame of each epoch, and forgetting those a resumed run redoes
summaries    TensorBoard summaries and metrics.csv, and forgetting the epochs a resumed run redoes
files        writing files atomically
speed        XLA, mixed precision, steps per call, the input pipeline's cache and prefetch
distribute   tf.distribute strategies: several GPUs or machines
device       the CPU or the GPU
console      TensorFlow's start-up notices held back: the console starts with gan_tf's lines
errors       UserError: bad input, reported as one line with exit status 2
"""

"""The machinery the GAN story leans on: read the story first (see gan_tf/__init__.py).

run          TrainingRun: resuming, saving by epochs, steps and seconds, Ctrl-C, NaN checks, write failures
compiled     the train step compiled with tf.function, on replicas, with loss scaling and several steps a call
checkpoints  tf.train.Checkpoint files, config.json beside them, and every way a run can fail to load
summaries    TensorBoard summaries and metrics.csv, and forgetting the epochs a resumed run redoes
files        writing files atomically
speed        XLA, mixed precision, steps per call, the input pipeline's cache and prefetch
distribute   tf.distribute strategies: several GPUs or machines
device       the CPU or the GPU
console      TensorFlow's start-up notices held back: the console starts with gan_tf's lines
errors       UserError: bad input, reported as one line with exit status 2
"""

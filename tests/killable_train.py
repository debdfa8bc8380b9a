"""`python -m gan_tf train ARGS` that SIGKILLs itself at a chosen moment, for tests/test_kill.py.

    python tests/killable_train.py WHEN ARGS...

WHEN is one of
  none             never: an ordinary run;
  step:N           inside the compiled train call, once step N has updated the weights in memory;
  index:N          in the save of ckpt-N, when its files are complete but before CheckpointManager
                   names it in the index (the file named "checkpoint").
The kill is a real SIGKILL of this process: no Python cleanup, no finally blocks, no flushed buffers.
"""

import os
import pathlib
import signal
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from gan_tf import __main__ as cli  # noqa: E402
from gan_tf.runtime import console  # noqa: E402

console.set_default_log_level()
with console.start_up_notices_held_back():  # As the command line loads TensorFlow.
    import tensorflow as tf
    from tensorflow.python.checkpoint import checkpoint_management  # The index writer to intercept.

from gan_tf.runtime import compiled  # noqa: E402


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def kill_inside_step(kill_step):
    make_train_step = compiled.make_train_step

    def make_killing_step(step, state, *args, **kwargs):
        train_step = make_train_step(step, state, *args, **kwargs)

        def killing_step(*batch):
            results = train_step(*batch)
            # A py_function inside the compiled call: it runs after this step's updates, mid-call.
            tf.py_function(lambda step: die() if int(step) == kill_step else None, [state.step], [])
            return results

        return killing_step

    compiled.make_train_step = make_killing_step


def kill_before_the_index(kill_step):
    update_index = checkpoint_management.update_checkpoint_state_internal

    def killing_update_index(save_dir, model_checkpoint_path, *args, **kwargs):
        if pathlib.Path(model_checkpoint_path).name == f"ckpt-{kill_step}":
            assert pathlib.Path(model_checkpoint_path + ".index").is_file()  # The files are complete.
            die()
        return update_index(save_dir, model_checkpoint_path, *args, **kwargs)

    checkpoint_management.update_checkpoint_state_internal = killing_update_index


def main():
    when, argv = sys.argv[1], sys.argv[2:]
    kind, _, number = when.partition(":")
    if kind == "step":
        kill_inside_step(int(number))
    elif kind == "index":
        kill_before_the_index(int(number))
    elif kind != "none":
        raise SystemExit(f"unknown WHEN {when!r}")
    return cli.main(["train", *argv])


if __name__ == "__main__":
    sys.exit(main())

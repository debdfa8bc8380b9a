"""A console that starts with gan_tf's own lines: TensorFlow's start-up notices held back.

Importing TensorFlow 2.21 prints the same notices twice, once for each of its two native libraries,
before any of its logging settings is read: "All log messages before absl::InitializeLog() is
called are written to STDERR", "oneDNN custom operations are on", "Could not find cuda drivers" (and
on some processors "This TensorFlow binary is optimized to use available CPU instructions"). The
first look for a GPU on a machine without one adds "failed call to cuInit". TF_CPP_MIN_LOG_LEVEL
does not silence the first group (tensorflow/tensorflow#100442), and none of them is a problem.

start_up_notices_held_back() sends the process's standard error to a temporary file while
TensorFlow starts, then writes back every line but those notices: a real error still shows.
With TF_CPP_MIN_LOG_LEVEL set below 2 in the environment, nothing is held back.
"""

import contextlib
import os
import sys
import tempfile

# TensorFlow's C++ log level, set before TensorFlow loads: 2 shows errors and hides information and
# warnings. TF_CPP_MIN_LOG_LEVEL=0 in the environment shows everything, the start-up notices included.
DEFAULT_LOG_LEVEL = "2"

# Parts of the start-up notices, as TensorFlow 2.21 prints them.
START_UP_NOTICES = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "port.cc:153] oneDNN custom operations are on",
    "cudart_stub.cc:31] Could not find cuda drivers on your machine",
    "cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "cuda_platform.cc:52] failed call to cuInit",
    "cuda_executor.cc:1228] INTERNAL: CUDA Runtime error: Failed call to cudaGetRuntimeVersion",
)


def set_default_log_level():
    """Sets TF_CPP_MIN_LOG_LEVEL to DEFAULT_LOG_LEVEL unless the environment sets it. Before TensorFlow loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LOG_LEVEL)


def is_start_up_notice(line):
    return any(notice in line for notice in START_UP_NOTICES)


@contextlib.contextmanager
def start_up_notices_held_back():
    """Inside the block, standard error (file descriptor 2, which TensorFlow's C++ writes to) goes to a
    temporary file; after it, every line that is not a start-up notice is written to standard error."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LOG_LEVEL) < DEFAULT_LOG_LEVEL:
        yield
        return
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not is_start_up_notice(line)))
            sys.stderr.flush()

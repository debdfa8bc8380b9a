"""runtime/console.py: TensorFlow's start-up notices are held back, every other line written to stderr gets through."""

import os

from gan_tf.runtime import console

NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796139930.441450    4439 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1796139930.442161    4439 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.\n",
    "E0000 00:00:1796139995.473201    4599 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)\n",
]
A_REAL_ERROR = "E0000 00:00:1796139997.830255    4599 meta_optimizer.cc:967] remapper failed: INVALID_ARGUMENT\n"


def test_start_up_notices_are_held_back_and_every_other_line_gets_through(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with console.start_up_notices_held_back():
        for line in NOTICES[:2] + [A_REAL_ERROR] + NOTICES[2:]:
            os.write(2, line.encode())  # As TensorFlow's C++ writes: to file descriptor 2.
        os.write(1, b"stdout is left alone\n")
    captured = capfd.readouterr()
    assert captured.err == A_REAL_ERROR
    assert captured.out == "stdout is left alone\n"


def test_a_log_level_below_2_shows_everything(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with console.start_up_notices_held_back():
        os.write(2, NOTICES[0].encode())
    assert capfd.readouterr().err == NOTICES[0]


def test_what_was_written_comes_out_even_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    try:
        with console.start_up_notices_held_back():
            os.write(2, b"ImportError: a broken installation\n")
            raise ImportError("a broken installation")
    except ImportError:
        pass
    assert capfd.readouterr().err == "ImportError: a broken installation\n"
    os.write(2, b"after\n")  # File descriptor 2 is the terminal's (here pytest's) again.
    assert capfd.readouterr().err == "after\n"

"""The clock of `make bench`'s and `make compare`'s training time: what is spent measuring is left out."""

import contextlib
import time


class TrainingClock:
    """Seconds since the clock was made, less the time spent inside `with clock.paused():` blocks."""

    def __init__(self):
        self.start = time.perf_counter()
        self.paused_seconds = 0.0

    def seconds(self):
        """Seconds of training so far."""
        return time.perf_counter() - self.start - self.paused_seconds

    @contextlib.contextmanager
    def paused(self):
        """A block whose time is not training (an evaluation)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.paused_seconds += time.perf_counter() - started

"""Time for the local API: a ``Clock`` protocol so job progress can be driven by real time or by a test.

Job status is a pure function of stored timestamps and "now"; "now" is ``clock.now()`` plus an offset that
the admin endpoint ``POST /_ftops/clock/advance`` stores in SQLite (so a fast-forward survives restarts).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """Wall-clock time, the default."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            self._now = when

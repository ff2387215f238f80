"""A settable clock for the refresh cycle, the poller and the soak tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FakeClock:
    """A settable UTC clock; read from the poller's thread too, so changes are locked."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


def start_time() -> datetime:
    # Near the real time, so reset times in the fake API's bodies lie ahead of the fake clock.
    return datetime.now(UTC).replace(microsecond=0)

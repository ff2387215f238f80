"""The tray's background thread: refresh when the schedule says so, publish every new state.

It sleeps on an Event (no busy loop) and wakes for: the schedule (whose interval stretches while
nothing moves, see core/schedule.py), "Refresh now", a change of credentials (Claude Code
refreshed or the user logged in again), a window's reset time passing, a change of the shared
store by another process (the statusline bridge, a hook: signs of activity the schedule weighs),
and a jump of the wall clock against the monotonic clock (resume from sleep). It never draws.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from claude_usage_gauge.core.state import State
from claude_usage_gauge.refresh import Refresher

log = logging.getLogger(__name__)

# The longest sleep between cheap checks (a stat of two files). Also bounds how late a credentials
# change or another process's write is noticed.
TICK_SECONDS = 10.0
# Wall time running ahead of monotonic time by more than this means the machine slept.
JUMP_SECONDS = 30.0
# Refresh the published view at least this often, so "Updated 3 min ago" stays true.
REPUBLISH = timedelta(seconds=60)

Listener = Callable[[State], None]


class Poller:
    def __init__(
        self,
        refresher: Refresher,
        signature: Callable[[], str],
        *,
        tick: float = TICK_SECONDS,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresher = refresher
        self._signature = signature
        self._tick = tick
        self._wall = wall
        self._monotonic = monotonic
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._manual = threading.Event()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self.last_state: State | None = None

    # -- public --------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="usage-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def refresh_now(self) -> None:
        self._manual.set()
        self._wake.set()

    def poke(self) -> None:
        """Re-read and republish soon (e.g. after a credentials reset from the menu)."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        next_due: datetime | None = None  # None: due at once
        last_signature: str | None = None
        last_store_mtime: tuple[int | None, ...] | None = None
        last_publish: datetime | None = None
        wall0, mono0 = self._wall(), self._monotonic()
        while not self._stopping.is_set():
            try:
                now = self._refresher.clock()
                signature = self._signature()
                manual = self._manual.is_set()
                self._manual.clear()
                wall1, mono1 = self._wall(), self._monotonic()
                jumped = abs((wall1 - wall0) - (mono1 - mono0)) > JUMP_SECONDS
                wall0, mono0 = wall1, mono1
                if jumped:
                    log.info("wall clock jumped (resume from sleep?); refreshing")

                # Another process wrote (Claude Code's numbers through the bridge, a hook, a
                # `status --refresh`): a sign of activity may shorten the wait, so ask again.
                mtime = self._store_mtime()
                store_changed = last_store_mtime is not None and mtime != last_store_mtime
                due = (
                    manual
                    or jumped
                    or next_due is None
                    or now >= next_due
                    or signature != last_signature
                    or store_changed
                )
                last_signature = signature
                state: State | None = None
                if due:
                    outcome = self._refresher.refresh(manual=manual, signature=signature)
                    state = outcome.state
                    if outcome.requested:
                        next_due = now  # ask the schedule again on the next turn
                    elif outcome.decision is not None and outcome.decision.at is not None:
                        next_due = outcome.decision.at
                    else:
                        # Waiting for new credentials: only a signature change wakes us.
                        next_due = now + timedelta(days=365)
                    mtime = self._store_mtime()  # our own write is no news
                if state is None and (last_publish is None or now - last_publish >= REPUBLISH):
                    # The refresher's view: while the disk cannot be written it holds newer state.
                    state = self._refresher.current_state()
                last_store_mtime = mtime
                if state is not None:
                    self._publish(state)
                    last_publish = now
                    next_reset = self._next_reset(state, now)
                    if next_reset is not None and next_due is not None and next_reset < next_due:
                        next_due = next_reset
                wait = self._tick
                if next_due is not None:
                    wait = min(wait, max((next_due - self._refresher.clock()).total_seconds(), 0.0))
            except Exception:  # the thread must outlive any single bad turn
                log.exception("poller turn failed; continuing")
                wait = self._tick
            # A floor keeps a mistake in the arithmetic from becoming a busy loop.
            self._wake.wait(max(wait, 1.0) if not self._manual.is_set() else 0)
            self._wake.clear()

    def _publish(self, state: State) -> None:
        self.last_state = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                log.exception("a listener failed")

    def _store_mtime(self) -> tuple[int | None, ...]:
        """The modification times of every file the store reads (state, bridge, Claude Code's
        state file): a change in any of them is news to publish."""
        times: list[int | None] = []
        for path in self._refresher.store.watched_files():
            try:
                times.append(path.stat().st_mtime_ns)
            except OSError:
                times.append(None)
        return tuple(times)

    @staticmethod
    def _next_reset(state: State, now: datetime) -> datetime | None:
        if state.snapshot is None:
            return None
        upcoming = [
            w.resets_at for w in state.snapshot.windows if w.resets_at and w.resets_at > now
        ]
        return min(upcoming, default=None)

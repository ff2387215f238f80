"""The tray's main loop on Linux: one thread waits on the bus socket and on a wake-up pipe.

Other threads (the poller, menu actions) and signal handlers never touch the connection: they
`post` a function, or `stop`, and the loop does the rest. Nothing here waits without a deadline,
and a signal only writes one byte, so SIGTERM ends the loop at once in every state.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import select
import socket
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from jeepney import Message, MessageType, new_method_call
from jeepney.bus_messages import MatchRule

from claude_usage_gauge.desktop.dbus.connection import (
    BUS,
    BusError,
    CallError,
    Connection,
    ReplyHandler,
)

log = logging.getLogger(__name__)

CALL_TIMEOUT = 5.0

Task = Callable[[], None]
SignalHandler = Callable[[Message], None]


class Loop:
    def __init__(self, connection: Connection, on_call: Callable[[Message], None]) -> None:
        self.connection = connection
        self._on_call = on_call
        self._tasks: deque[Task] = deque()  # append and popleft are atomic across threads
        self._subscriptions: list[tuple[MatchRule, SignalHandler]] = []
        self._timers: list[tuple[float, int, Task]] = []  # a heap: (when, order, task)
        self._order = itertools.count()
        self._stopping = False
        # Socket objects, not raw pipe fds: once closed, a late write from another thread fails
        # on the object instead of landing in whatever file reused the number.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    # -- from any thread, and from signal handlers ---------------------------------------------

    def post(self, task: Task) -> None:
        self._tasks.append(task)
        self._wake()

    def stop(self) -> None:
        """Safe in a signal handler: one assignment and one write."""
        self._stopping = True
        self._wake()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full buffer already wakes the loop; closed: ended
            self._wake_w.send(b"\0")

    # -- on the loop's thread ------------------------------------------------------------------

    def subscribe(self, rule: MatchRule, handler: SignalHandler) -> None:
        """Receive the signals that match `rule` (the bus sends them once asked to)."""
        self._subscriptions.append((rule, handler))
        self.call(new_method_call(BUS, "AddMatch", "s", (rule.serialise(),)), _log_failure)

    def call(self, message: Message, on_reply: ReplyHandler, timeout: float = CALL_TIMEOUT) -> None:
        self.connection.call(message, on_reply, timeout)

    def call_later(self, delay: float, task: Task) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._order), task))

    def run(self) -> None:
        """Until `stop`. A `BusError` (the bus went away) ends it too, raised to the caller."""
        connection = self.connection
        try:
            self._dispatch(connection.take_backlog())  # what arrived during start-up calls
            while not self._stopping:
                self._run_tasks()
                if self._stopping:
                    break
                deadlines = [d for d in (connection.next_deadline(), self._next_timer()) if d]
                timeout = max(min(deadlines) - time.monotonic(), 0.0) if deadlines else None
                bus, wake = connection.fileno(), self._wake_r.fileno()
                readable, _, _ = select.select([bus, wake], [], [], timeout)
                if wake in readable:
                    self._drain_wake()
                if bus in readable and not self._stopping:
                    self._dispatch(connection.read())
                connection.expire()
                self._run_timers()
        finally:
            self._wake_r.close()
            self._wake_w.close()

    def _next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            self._tasks.append(heapq.heappop(self._timers)[2])

    def _drain_wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(512):
                pass

    def _run_tasks(self) -> None:
        while self._tasks and not self._stopping:
            task = self._tasks.popleft()
            try:
                task()
            except Exception:
                log.exception("a tray task failed")

    def _dispatch(self, messages: list[Message]) -> None:
        for message in messages:
            kind = message.header.message_type
            try:
                if kind == MessageType.method_call:
                    self._on_call(message)
                elif kind == MessageType.signal:
                    for rule, handler in self._subscriptions:
                        if rule.matches(message):
                            handler(message)
            except BusError:
                raise
            except Exception:  # a malformed message from a peer must not end the tray
                log.exception("handling a D-Bus message failed")


def _log_failure(_body: tuple[Any, ...] | None, error: CallError | None) -> None:
    if error is not None:
        log.warning("D-Bus call failed: %s", error)

"""Desktop notifications for the trays that do not speak D-Bus themselves (the XEmbed fallback).

The SNI tray sends its notifications on its own loop. An old XEmbed tray runs GTK's loop instead,
and pystray's notifier shows one notification at a time: a status change would wipe the
confirmation of a credentials reset it causes. This gives that tray the same `Notifier` (one
notification per topic, markup escaped where the server reads it, a failing service logged once)
on a small loop of its own, started at the first notification, on a daemon thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from jeepney import Message

from claude_usage_gauge.desktop.dbus.connection import BusError, Connection, wants_reply
from claude_usage_gauge.desktop.dbus.loop import Loop
from claude_usage_gauge.desktop.dbus.notifications import Notifier

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0


class ThreadedNotifications:
    def __init__(self, bus_address: str) -> None:
        self._address = bus_address
        self._lock = threading.Lock()
        self._loop: Loop | None = None
        self._notifier: Notifier | None = None
        self._closed = False
        self._unreachable = False

    def notify(self, topic: str, title: str, body: str) -> bool:
        """Queue one notification; False when the session bus cannot be reached (then the
        caller may fall back to what its toolkit offers)."""
        loop = self._started()
        if loop is None:
            return False
        notifier = self._notifier
        if notifier is not None:
            loop.post(lambda: notifier.notify(topic, title, body))
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._loop is not None:
                self._loop.stop()

    def _started(self) -> Loop | None:
        with self._lock:
            if self._loop is not None or self._closed or self._unreachable:
                return self._loop
            try:
                connection = Connection.open(self._address, CONNECT_TIMEOUT)
            except BusError as exc:
                log.warning("no session D-Bus for notifications (%s)", exc)
                self._unreachable = True
                return None
            loop = Loop(connection, _refuse_calls(connection))
            self._notifier = Notifier(loop.call)
            self._loop = loop
            threading.Thread(
                target=_serve, args=(loop, connection), name="notifications", daemon=True
            ).start()
            return loop


def _refuse_calls(connection: Connection) -> Callable[[Message], None]:
    """Nobody should call this connection; answer any call with an error rather than silence."""

    def handle(call: Message) -> None:
        if wants_reply(call):
            connection.reply_error(call, "org.freedesktop.DBus.Error.UnknownObject", "no objects")

    return handle


def _serve(loop: Loop, connection: Connection) -> None:
    try:
        loop.run()
    except BusError as exc:
        log.warning("the session bus went away (%s); no more notifications", exc)
    finally:
        connection.close()

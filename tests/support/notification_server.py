"""A minimal org.freedesktop.Notifications service on a private bus, for system tests without a
display: it takes the name, answers GetCapabilities and Notify (a new id each), and keeps the
summary of every notification it was asked to show."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from jeepney import MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


class NotificationServer:
    def __init__(self) -> None:
        self.summaries: list[str] = []
        self._lock = threading.Lock()

    def shown(self) -> list[str]:
        with self._lock:
            return list(self.summaries)

    def _serve(self, address: str, ready: threading.Event, stop: threading.Event) -> None:
        with open_dbus_connection(bus=address) as conn:
            conn.send_and_get_reply(message_bus.RequestName(NAME), timeout=10)
            ready.set()
            next_id = 1
            while not stop.is_set():
                try:
                    msg = conn.receive(timeout=0.2)
                except TimeoutError:
                    continue
                header = msg.header
                if header.message_type != MessageType.method_call:
                    continue
                member = header.fields.get(3)  # HeaderFields.member
                if member == "GetCapabilities":
                    conn.send(new_method_return(msg, "as", (["body"],)))
                elif member == "Notify":
                    with self._lock:
                        self.summaries.append(str(msg.body[3]))
                    replaces = int(msg.body[1])
                    conn.send(new_method_return(msg, "u", (replaces or next_id,)))
                    next_id += 1
                elif member == "GetServerInformation":
                    info = ("test", "claude-usage-gauge", "1", "1.2")
                    conn.send(new_method_return(msg, "ssss", info))
                else:
                    conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


@contextlib.contextmanager
def notification_server(address: str) -> Iterator[NotificationServer]:
    """The service, running on the bus at `address` while the block runs."""
    server = NotificationServer()
    ready, stop = threading.Event(), threading.Event()
    thread = threading.Thread(target=server._serve, args=(address, ready, stop), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the notification service did not take its name")
    try:
        yield server
    finally:
        stop.set()
        thread.join(10)

"""Watch the tray's StatusNotifierItem come and go on a bus, and open its menu as a host does.

Listens for the watcher's own signals instead of polling, so the start-up figure is the moment
the item is registered, not the next poll after it.
"""

from __future__ import annotations

import select
import subprocess
import time
from types import TracebackType
from typing import Any

from jeepney import DBusAddress, HeaderFields, Message, new_method_call
from jeepney.bus_messages import MatchRule

from claude_usage_gauge.desktop.dbus.connection import BUS, Connection

WATCHER = "org.kde.StatusNotifierWatcher"
MENU = "com.canonical.dbusmenu"
TIMEOUT = 30.0


class ItemWatch:
    def __init__(self, address: str) -> None:
        self._address = address
        self._connection: Connection | None = None
        self.name = ""

    def __enter__(self) -> ItemWatch:
        self._connection = Connection.open(self._address, 2.0)
        for rule in (
            MatchRule(type="signal", interface=WATCHER, member="StatusNotifierItemRegistered"),
            MatchRule(type="signal", interface="org.freedesktop.DBus", member="NameOwnerChanged"),
        ):
            self._connection.request(
                new_method_call(BUS, "AddMatch", "s", (rule.serialise(),)), 2.0
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None:
            self._connection.close()

    def wait_registered(self, proc: subprocess.Popen[bytes]) -> None:
        prefix = f"org.kde.StatusNotifierItem-{proc.pid}-"

        def registered(message: Message) -> bool:
            member = message.header.fields.get(HeaderFields.member)
            body: Any = message.body
            if member == "StatusNotifierItemRegistered" and str(body[0]).startswith(prefix):
                self.name = str(body[0]).split("/")[0]
                return True
            return False

        self._wait(registered, lambda: proc.poll() is not None, "registered")

    def wait_gone(self) -> None:
        def gone(message: Message) -> bool:
            body: Any = message.body
            member = message.header.fields.get(HeaderFields.member)
            return member == "NameOwnerChanged" and body[0] == self.name and not body[2]

        self._wait(gone, lambda: False, "gone")

    def open_menu(self) -> None:
        """One menu open, as a host makes it: AboutToShow, then the whole layout."""
        assert self._connection is not None
        menu = DBusAddress("/MenuBar", bus_name=self.name, interface=MENU)
        self._connection.request(new_method_call(menu, "AboutToShow", "i", (0,)), 5.0)
        self._connection.request(new_method_call(menu, "GetLayout", "iias", (0, -1, [])), 5.0)
        self._connection.take_backlog()  # signals meanwhile are of no interest here

    def _wait(self, found: Any, failed: Any, what: str) -> None:
        connection = self._connection
        assert connection is not None
        deadline = time.monotonic() + TIMEOUT
        messages = connection.take_backlog()
        while True:
            if any(found(message) for message in messages):
                return
            if failed() or time.monotonic() > deadline:
                raise RuntimeError(f"the tray's item was never {what}")
            readable, _, _ = select.select([connection.fileno()], [], [], 0.2)
            messages = connection.read() if readable else []

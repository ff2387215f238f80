"""The connection and loop under the tray, against a real private dbus-daemon: every wait has a
deadline, posted work runs on the loop's thread, and a vanished bus ends the loop."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jeepney import DBusAddress, new_method_call

from claude_usage_gauge.desktop.dbus.connection import (
    NO_REPLY,
    BusError,
    CallError,
    Connection,
)
from claude_usage_gauge.desktop.dbus.loop import Loop
from claude_usage_gauge.testing.session_bus import SessionBus
from tests.support.sni import private_bus

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="D-Bus is Linux-only here")

SILENT = "org.example.NeverAnswers"


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SessionBus]:
    with private_bus(tmp_path / "bus", watcher=False) as running:
        yield running


def test_a_peer_that_never_speaks_is_given_up(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    try:
        with pytest.raises(BusError):
            Connection.open(f"unix:path={path}", 0.5)
    finally:
        server.close()


def test_an_unanswered_call_times_out_and_the_loop_goes_on(bus: SessionBus) -> None:
    # The bus starts this "service" for the call; it never takes its name, so nobody answers.
    bus.add_service(SILENT, "/bin/sleep 30")
    connection = Connection.open(bus.address, 2.0)
    loop = Loop(connection, lambda _call: None)
    events: list[Any] = []

    def later() -> None:
        events.append("later")
        loop.stop()

    def answered(body: tuple[Any, ...] | None, error: CallError | None) -> None:
        events.append(error.name if error else body)
        loop.call_later(0.05, later)

    address = DBusAddress("/", bus_name=SILENT, interface=SILENT)
    loop.call(new_method_call(address, "Anything"), answered, timeout=0.3)
    # Work posted from another thread runs on the loop's thread.
    ran_on: list[str] = []
    poster = threading.Thread(
        target=lambda: loop.post(lambda: ran_on.append(threading.current_thread().name))
    )
    poster.start()
    poster.join()
    loop.call_later(10.0, loop.stop)  # bounds this test if the timeout never fired
    try:
        loop.run()
    finally:
        connection.close()
    assert ran_on == [threading.current_thread().name]
    assert events == [NO_REPLY, "later"]


def test_a_vanished_bus_ends_the_loop(bus: SessionBus) -> None:
    connection = Connection.open(bus.address, 2.0)
    loop = Loop(connection, lambda _call: None)
    loop.post(bus.stop)  # the daemon goes away while the loop waits on it
    with pytest.raises(BusError):
        loop.run()
    connection.close()

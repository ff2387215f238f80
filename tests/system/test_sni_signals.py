"""SIGTERM and SIGINT end the SNI tray in every state, and a broken desktop never hangs it:
a notification service that fails to start or never answers, a watcher that left, a bus that
closed. The real tray (CLI subprocess), a private bus, the real watcher; no display."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import (
    SessionBus,
    wait_until,
)
from claude_usage_gauge.testing.tray_home import E2E_TOKEN, TrayHome
from tests.support.sni import TrayOnBus, private_bus

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="D-Bus trays are Linux-only")

NOTIFICATIONS = "org.freedesktop.Notifications"
UNAVAILABLE = "desktop notifications are unavailable"
# A generous bound that only a hang exceeds; the tray itself ends in well under a second.
ENDS_WITHIN = 5


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SessionBus]:
    with private_bus(tmp_path / "bus") as running:
        yield running


@pytest.fixture
def api() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, api: FakeUsageAPI, bus: SessionBus) -> TrayHome:
    return TrayHome(tmp_path / "home", api.url, bus.env, display=False)


def _ends_cleanly(tray: TrayOnBus, signum: int) -> None:
    tray.proc.send_signal(signum)
    try:
        code = tray.proc.wait(ENDS_WITHIN)
    finally:
        tray.stop()
    assert code == 0
    output = tray.output()
    assert "Traceback" not in output
    assert E2E_TOKEN not in output + tray.home.log_text()


def _ask_for_details(tray: TrayOnBus) -> None:
    """The header row's action: the details as a notification (no toolkit to pop a menu)."""
    tray.click(tray.menu().find("Claude Max plan usage").id)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_ends_a_running_tray(bus: SessionBus, home: TrayHome, signum: int) -> None:
    tray = TrayOnBus(bus, home)
    assert tray.wait_tooltip("5h 20 %")
    _ends_cleanly(tray, signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signal_ends_a_tray_whose_watcher_left(
    bus: SessionBus, home: TrayHome, signum: int
) -> None:
    tray = TrayOnBus(bus, home)
    bus.stop_watcher()
    assert wait_until(lambda: "StatusNotifierWatcher left" in home.log_text(), 10)
    _ends_cleanly(tray, signum)


@pytest.mark.parametrize(
    "command", ["/bin/false", "/bin/sleep 30"], ids=["fails-to-start", "never-answers"]
)
def test_a_broken_notification_service_never_blocks_the_tray(
    bus: SessionBus, home: TrayHome, command: str
) -> None:
    bus.add_service(NOTIFICATIONS, command)
    tray = TrayOnBus(bus, home)
    assert tray.wait_tooltip("5h 20 %")
    _ask_for_details(tray)
    _ask_for_details(tray)
    if command == "/bin/false":
        assert wait_until(lambda: UNAVAILABLE in home.log_text(), 10), home.log_text()
        _ask_for_details(tray)
    # The bus is served all along: the host can still read the item and open the menu.
    assert tray.prop("Status") == "Active"
    assert tray.menu().find("Refresh now").enabled
    # Said once, not once per notification; a service that never answered has not failed yet.
    assert home.log_text().count(UNAVAILABLE) == (1 if command == "/bin/false" else 0)
    _ends_cleanly(tray, signal.SIGTERM)


def test_the_tray_ends_by_itself_when_the_bus_closes(bus: SessionBus, home: TrayHome) -> None:
    tray = TrayOnBus(bus, home)
    assert tray.wait_tooltip("5h 20 %")
    bus.stop()  # the session ends: its bus goes away
    try:
        code = tray.proc.wait(ENDS_WITHIN)
    finally:
        tray.stop()
    assert code == 0
    assert "Traceback" not in tray.output()
    assert "session bus went away" in home.log_text()


def test_a_signal_while_the_menu_action_runs_still_ends_the_tray(
    bus: SessionBus, home: TrayHome, api: FakeUsageAPI
) -> None:
    # A refresh in flight (the fake API answers slowly): the poller is busy, the bus is not.
    tray = TrayOnBus(bus, home)
    assert tray.wait_tooltip("5h 20 %")
    api.script([], default=replace(ok(30.0, 10.0), delay=20.0))
    requests = api.request_count
    tray.click(tray.menu().find("Refresh now").id)
    assert api.wait_for_requests(requests + 1, 10)
    _ends_cleanly(tray, signal.SIGTERM)

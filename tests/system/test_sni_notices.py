"""Threshold notices across restarts: the real tray (CLI subprocess) on a private bus, the fake
usage API at 97 %, a notification service on that bus, and every Notify call recorded with the
bus monitor.

A first start past a threshold tells the user once; a restart in the same period does not tell
it again (the tray keeps what it told in its state folder)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import SessionBus, read_monitor, wait_until
from claude_usage_gauge.testing.tray_home import TrayHome
from tests.support.notification_server import notification_server
from tests.support.sni import TrayOnBus, private_bus

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="D-Bus trays are Linux-only")


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SessionBus]:
    with private_bus(tmp_path / "bus") as running, notification_server(running.address):
        yield running


def _notified(log: Path) -> list[str]:
    """The summary of each Notify call on the bus."""
    return [
        str(m["payload"]["data"][3])
        for m in read_monitor(log)
        if m.get("type") == "method_call" and m.get("member") == "Notify"
    ]


def _run_until_shown(bus: SessionBus, home: TrayHome) -> None:
    tray = TrayOnBus(bus, home)
    try:
        assert tray.wait_tooltip("5h 97 %"), tray.tooltip()
        # The notice follows the frame that showed it; the memory is saved before it is sent.
        assert wait_until(home.paths.notices_file.exists, 10)
        tray.proc.send_signal(signal.SIGTERM)
        assert tray.proc.wait(10) == 0
    finally:
        tray.stop()
    assert "Traceback" not in tray.output()


def test_a_start_at_97_percent_tells_once_and_a_restart_does_not_repeat_it(
    tmp_path: Path, bus: SessionBus
) -> None:
    with FakeUsageAPI(default=ok(97.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, bus.env, display=False)
        with bus.monitor("first-start") as log:
            _run_until_shown(bus, home)
            assert wait_until(lambda: _notified(log) != [], 10)
        assert _notified(log) == ["5-hour session at 97 %"]

        with bus.monitor("restart") as log:
            tray = TrayOnBus(bus, home)
            try:
                # The same period, shown again (the numbers the first run stored are fresh)...
                assert tray.wait_tooltip("5h 97 %"), tray.tooltip()
                # ...and the details notification, asked for after that frame, comes after any
                # notice the frame would have sent: one sender's calls arrive in order.
                tray.click(tray.menu().find("Claude Max plan usage").id)
                assert wait_until(lambda: _notified(log) != [], 10)
            finally:
                tray.stop()
        assert _notified(log) == ["Claude usage"]

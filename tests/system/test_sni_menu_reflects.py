"""The menu shows what changed behind the tray's back when it opens: "Start at login" switched
from the CLI, notifications switched off in the settings file by hand, a credentials file that
went away. The real tray (CLI subprocess) on a private bus with the real status-notifier-watcher;
the menu is opened as a host opens it (AboutToShow, then GetLayout)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import (
    SessionBus,
    wait_until,
)
from claude_usage_gauge.testing.tray_home import TrayHome
from tests.support.sni import MenuItem, TrayOnBus, private_bus

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="D-Bus trays are Linux-only")


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SessionBus]:
    with private_bus(tmp_path / "bus") as running:
        yield running


@pytest.fixture
def tray(tmp_path: Path, bus: SessionBus) -> Iterator[TrayOnBus]:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, bus.env, display=False)
        running = TrayOnBus(bus, home)
        try:
            assert running.wait_tooltip("5h 20 %"), running.tooltip()
            yield running
        finally:
            running.stop()


def _opened(tray: TrayOnBus) -> MenuItem:
    tray.about_to_show()
    return tray.menu()


def _checked(tray: TrayOnBus, label: str) -> bool:
    return bool(_opened(tray).find(label).props["toggle-state"])


def _cli(tray: TrayOnBus, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", *args],
        env=tray.home.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_at_login_switched_from_the_cli_shows_when_the_menu_opens(tray: TrayOnBus) -> None:
    assert not _checked(tray, "Start at login")
    assert _cli(tray, "autostart", "enable").returncode == 0
    assert _checked(tray, "Start at login")
    assert _cli(tray, "autostart", "disable").returncode == 0
    assert not _checked(tray, "Start at login")


def test_notifications_switched_off_by_hand_show_when_the_menu_opens(tray: TrayOnBus) -> None:
    assert _checked(tray, "Notifications")
    config = tray.home.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("notifications = false\n", encoding="utf-8")
    config.chmod(0o600)
    assert not _checked(tray, "Notifications")
    # And the tray's own toggle goes on from what the file says (on again), not the old state.
    item = _opened(tray).find("Notifications")
    tray.click(item.id)
    assert wait_until(lambda: _checked(tray, "Notifications"), 10)
    assert "notifications = true" in config.read_text(encoding="utf-8")


def test_without_a_credentials_file_the_menu_offers_signing_in(tray: TrayOnBus) -> None:
    labels = [item.label for item in _opened(tray).walk()]
    assert "Reset credentials file…" in labels
    tray.home.credentials.unlink()
    menu = _opened(tray)
    labels = [item.label for item in menu.walk()]
    assert "Reset credentials file…" not in labels
    how = menu.find("How to sign in")
    said = " ".join(child.label for child in how.children)
    assert "/login" in said
    assert "Reset" not in said

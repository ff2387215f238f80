"""The real tray icon, docked in a real tray (trayer) on Xvfb, driven with xdotool.

The app runs as a subprocess of the real CLI against the project's fake usage API on 127.0.0.1.
Screenshots go to artifacts/e2e/ for a reviewer (and were looked at by the author).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import Desktop, Geometry
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import read_monitor, wait_until
from claude_usage_gauge.testing.tray_home import E2E_TOKEN, TrayHome
from tests.support.desktop_host import ARTIFACTS, crop_icon, differs, docked_icon, e2e_desktop
from tests.support.notify_log import notify_calls, summaries

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the Xvfb tray host is Linux-only"),
]

TOKEN = E2E_TOKEN


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    with e2e_desktop(tmp_path_factory.mktemp("desktop")) as running:
        yield running


@pytest.fixture
def api() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, api: FakeUsageAPI, desktop: Desktop) -> TrayHome:
    return TrayHome(tmp_path / "home", api.url, desktop.env)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def _open_menu(desktop: Desktop, geometry: Geometry, shot: str | None = None) -> None:
    before = set(desktop.window_names())
    desktop.click(*geometry.centre, button=3)
    # The menu is a new popup window of the tray process.
    assert wait_until(lambda: len(desktop.window_names()) > len(before), 5), "menu did not open"
    time.sleep(0.3)
    if shot:
        desktop.screenshot(ARTIFACTS / f"{shot}.png")


def _choose(desktop: Desktop, home: TrayHome, text: str) -> None:
    desktop.keys(*["Down"] * home.menu_position(text), "Return")


def _wait_icon_change(
    desktop: Desktop, geometry: Geometry, reference: Image.Image, name: str
) -> Image.Image:
    latest: list[Image.Image] = []

    def changed() -> bool:
        latest.append(crop_icon(desktop, geometry, name))
        return differs(latest[-1], reference)

    assert wait_until(changed, 15, interval=0.5), "icon pixels never changed"
    return latest[-1]


def test_docks_refreshes_from_menu_redraws_and_quits(
    desktop: Desktop, home: TrayHome, api: FakeUsageAPI
) -> None:
    proc = home.launch()
    try:
        geometry = docked_icon(desktop)
        assert api.wait_for_requests(1, 20), "the tray never asked the fake API"
        assert wait_until(lambda: Store(home.paths).read().snapshot is not None, 10)
        time.sleep(1.0)  # let the GLib loop apply the new icon
        low = crop_icon(desktop, geometry, "usage-20")

        # The usage rises to 95 %; "Refresh now" from the real menu must fetch and redraw.
        api.script([], default=ok(95.0, 40.0))
        _open_menu(desktop, geometry, shot="menu-open")
        requests_before = api.request_count
        _choose(desktop, home, "Refresh now")
        assert api.wait_for_requests(requests_before + 1, 15), "Refresh now made no request"
        high = _wait_icon_change(desktop, geometry, low, "usage-95")
        assert differs(low, high)
        # The 95 % icon carries more warm (red) pixels than the 20 % one.
        assert _warm_pixels(high) > _warm_pixels(low)

        _open_menu(desktop, geometry, shot="menu-95")
        desktop.keys("Up", "Return")  # with nothing selected, Up selects the last item: Quit
        assert proc.wait(10) == 0, _stderr(proc)
    finally:
        _stop(proc)
    _assert_no_token(home, proc)


def _warm_pixels(image: Image.Image) -> int:
    data = image.convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 150 and r > g + 60 and r > b + 60)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signals_end_the_tray_cleanly(
    desktop: Desktop, home: TrayHome, api: FakeUsageAPI, signum: int
) -> None:
    proc = home.launch()
    try:
        docked_icon(desktop)
        assert api.wait_for_requests(1, 20)
        proc.send_signal(signum)
        assert proc.wait(5) == 0, _stderr(proc)
        assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")
    finally:
        _stop(proc)


def test_second_launch_does_not_make_a_second_icon(
    desktop: Desktop, home: TrayHome, api: FakeUsageAPI
) -> None:
    first = home.launch()
    try:
        docked_icon(desktop)
        second = subprocess.run(  # noqa: PLW1510 (the exit code is asserted below)
            [sys.executable, "-m", "claude_usage_gauge"],
            env=home.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 0
        assert "already running" in second.stdout
        assert (
            len([w for w in desktop.find_windows(cls=APP_NAME) if desktop.docked_icon(APP_NAME)])
            >= 1
        )
    finally:
        first.terminate()
        first.wait(10)
        _stop(first)


def _assert_no_token(home: TrayHome, proc: subprocess.Popen[str]) -> None:
    out = (proc.stdout.read() if proc.stdout else "") + (proc.stderr.read() if proc.stderr else "")
    assert TOKEN not in out
    for path in home.root.rglob("*"):
        if path.is_file() and path.name != ".credentials.json":
            assert TOKEN.encode() not in path.read_bytes(), f"token leaked into {path}"


def test_reset_from_the_menu_moves_the_credentials_aside(
    desktop: Desktop, home: TrayHome, api: FakeUsageAPI
) -> None:
    credentials = home.root / ".claude" / ".credentials.json"
    original = credentials.read_bytes()
    proc = home.launch()
    try:
        geometry = docked_icon(desktop)
        assert api.wait_for_requests(1, 20)
        assert wait_until(lambda: Store(home.paths).read().snapshot is not None, 10)
        reset = home.menu_position("Reset credentials file…")
        with desktop.bus.monitor("xembed-reset") as log:
            # A stray Right + Return lands on the submenu's harmless first choice.
            windows = len(desktop.window_names())
            _open_menu(desktop, geometry)
            _into_submenu(desktop, reset)
            desktop.screenshot(ARTIFACTS / "menu-reset-confirm.png")
            desktop.keys("Return")  # "No, keep it"
            assert wait_until(lambda: len(desktop.window_names()) <= windows, 5), "menu stayed"
            # Then on purpose: past it to "Yes, move it aside".
            _open_menu(desktop, geometry)
            _into_submenu(desktop, reset)
            desktop.keys("Down", "Return")
            backups = home.paths.data_dir / "credential-backups"
            assert wait_until(lambda: not credentials.exists(), 10), "the file was not moved"
            moved = [p for p in backups.glob("*.json")]
            assert len(moved) == 1
            assert moved[0].read_bytes() == original  # every byte kept
            assert moved[0].stat().st_mode & 0o777 == 0o600
            # The tray now says the user is signed out.
            assert wait_until(lambda: Store(home.paths).read().last_error is not None, 15)
            assert Store(home.paths).read().last_error.kind.value == "no_credentials"  # type: ignore[union-attr]
            # The confirmation went out and dunst took it (what closes it is checked on the bus
            # below: dunst's own timeout may close it on a slow machine, and that is fine).
            assert wait_until(lambda: notify_calls(log) and notify_calls(log)[0]["id"], 10)
            desktop.screenshot(ARTIFACTS / "after-reset.png")
            # The sign-in comes back from elsewhere (the CLI): a status notice of another kind.
            restore = home.launch("credentials", "restore", "--yes")
            assert restore.wait(20) == 0, _stderr(restore)
            assert wait_until(lambda: len(summaries(log)) >= 2, 30), summaries(log)
        # Exactly: the "No" did nothing (a second reset would have said "Nothing to reset"),
        # and the sign-out the user chose was not announced as a problem (that notice would
        # have come before "readable again": one sender's calls arrive in order).
        assert summaries(log) == ["Credentials moved aside", "Claude usage is readable again"]
        # The status notice went beside the confirmation: it replaced nothing, closed nothing.
        assert [call["replaces"] for call in notify_calls(log)] == [0, 0]
        closed = [m for m in read_monitor(log) if m.get("member") == "CloseNotification"]
        assert closed == []
        desktop.screenshot(ARTIFACTS / "after-reset-and-restore.png")
    finally:
        _stop(proc)


def _into_submenu(desktop: Desktop, row: int) -> None:
    """Down to the `row`th row of the open menu and into its submenu, once it is on screen (a key
    sent before it opens would move in the parent menu instead)."""
    open_menus = len(desktop.menus())
    desktop.keys(*["Down"] * row, "Right")
    assert wait_until(lambda: len(desktop.menus()) > open_menus, 5), "the submenu did not open"
    time.sleep(0.2)  # GTK takes keys for a submenu once it has mapped and grabbed


def test_a_left_click_opens_the_same_menu(
    desktop: Desktop, home: TrayHome, api: FakeUsageAPI
) -> None:
    proc = home.launch()
    try:
        geometry = docked_icon(desktop)
        assert api.wait_for_requests(1, 20)
        before = len(desktop.window_names())
        desktop.click(*geometry.centre, button=1)
        assert wait_until(lambda: len(desktop.window_names()) > before, 5), "no menu on left click"
        time.sleep(0.3)
        desktop.screenshot(ARTIFACTS / "menu-left-click.png")
        desktop.keys("Up", "Return")  # Quit, the last item: it is the same menu
        assert proc.wait(10) == 0, _stderr(proc)
    finally:
        _stop(proc)


def _stderr(proc: subprocess.Popen[str]) -> str:
    """What the tray said on its way out, for the failure message."""
    return proc.stderr.read() if proc.stderr is not None else ""


def test_the_xembed_tray_quits_cleanly_without_a_notification_service(
    desktop: Desktop, tmp_path: Path, api: FakeUsageAPI
) -> None:
    """An old tray on a session bus where no notification service runs (an autostart before the
    desktop's daemon is up): pystray's notifier fails on the way out, the tray still exits 0."""
    from claude_usage_gauge.testing.session_bus import SessionBus

    bus = SessionBus(tmp_path / "bus").start()
    try:
        env = dict(desktop.env, DBUS_SESSION_BUS_ADDRESS=bus.address)
        home = TrayHome(tmp_path / "quiet-home", api.url, env)
        proc = home.launch()
        try:
            docked_icon(desktop)
            assert api.wait_for_requests(1, 20)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0, _stderr(proc)
        finally:
            _stop(proc)
    finally:
        bus.stop()

"""The real tray in a real StatusNotifierItem host: status-notifier-watcher and
gtk-sni-tray-standalone (libdbusmenu-gtk3 draws our menu) on Xvfb, dunst for notifications.

The tray runs as the real CLI against the fake usage API, with no DISPLAY of its own: only the
host draws. Clicks and keys go to the host's widgets with xdotool. Screenshots go to
artifacts/e2e/sni-*.png for a reviewer (and were looked at by the author).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import Desktop, Geometry, missing_tools, running_desktop
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import read_monitor, wait_until
from claude_usage_gauge.testing.tray_home import E2E_TOKEN, TrayHome
from tests.support.sni import TrayOnBus

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the SNI host is Linux-only"),
]

ARTIFACTS = Path(os.environ.get("CLAUDE_USAGE_GAUGE_ARTIFACTS", "artifacts")) / "e2e"


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    missing = missing_tools("sni")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"SNI host tools missing: {', '.join(missing)}")
        pytest.skip(f"SNI host tools missing: {', '.join(missing)}")
    with running_desktop(tmp_path_factory.mktemp("sni-desktop"), host="sni") as running:
        yield running


@pytest.fixture
def api() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as server:
        yield server


@pytest.fixture
def tray(tmp_path: Path, api: FakeUsageAPI, desktop: Desktop) -> Iterator[TrayOnBus]:
    home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
    running = TrayOnBus(desktop.bus, home)
    try:
        assert running.wait_tooltip("5h 20 %"), running.tooltip()
        yield running
    finally:
        running.stop()
        # The next test starts from an empty bar.
        wait_until(lambda: desktop.sni_icon() is None, 10)


def _steady_icon(desktop: Desktop, name: str) -> tuple[Geometry, Image.Image]:
    """The icon as the host draws it, once two looks in a row agree (the host has redrawn)."""
    shots: list[tuple[Geometry, Image.Image]] = []

    def steady() -> bool:
        geometry = desktop.sni_icon()
        if geometry is None:
            return False
        shots.append((geometry, _crop(desktop, geometry, name)))
        return len(shots) > 1 and not _differs(shots[-1][1], shots[-2][1])

    assert wait_until(steady, 20, interval=0.3), "the icon never docked in the SNI host"
    return shots[-1]


def _crop(desktop: Desktop, geometry: Geometry, name: str) -> Image.Image:
    shot = desktop.screenshot(ARTIFACTS / f"sni-{name}-screen.png")
    icon = shot.crop(
        (geometry.x, geometry.y, geometry.x + geometry.width, geometry.y + geometry.height)
    )
    icon.resize((icon.width * 4, icon.height * 4), Image.Resampling.NEAREST).save(
        ARTIFACTS / f"sni-{name}-icon.png"
    )
    return icon


def _differs(a: Image.Image, b: Image.Image) -> bool:
    return a.size != b.size or ImageChops.difference(a, b).getbbox() is not None


def _warm_pixels(image: Image.Image) -> int:
    data = image.convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 150 and r > g + 60 and r > b + 60)


def _open_menu(desktop: Desktop, geometry: Geometry, shot: str, button: int = 3) -> None:
    before = len(desktop.window_names())
    desktop.click(*geometry.centre, button=button)
    # The host's menu is a new popup window.
    assert wait_until(lambda: len(desktop.window_names()) > before, 10), "the menu did not open"
    time.sleep(0.4)  # mapped is not yet drawn: give GTK a frame before the screenshot
    desktop.screenshot(ARTIFACTS / f"sni-{shot}.png")


def _choose(desktop: Desktop, tray: TrayOnBus, text: str) -> None:
    # GTK's keyboard skips separators and disabled rows (our information lines).
    desktop.keys(*["Down"] * tray.home.menu_position(text, skip_disabled=True), "Return")


def test_docks_refreshes_from_the_host_menu_redraws_and_quits(
    desktop: Desktop, tray: TrayOnBus, api: FakeUsageAPI
) -> None:
    assert "DISPLAY" not in tray.home.env  # only the host draws
    geometry, low = _steady_icon(desktop, "usage-20")

    # Usage rises to 95 %; "Refresh now" in the menu the host draws must fetch and redraw.
    api.script([], default=ok(95.0, 40.0))
    _open_menu(desktop, geometry, "menu-open")
    requests = api.request_count
    _choose(desktop, tray, "Refresh now")
    assert api.wait_for_requests(requests + 1, 15), "Refresh now made no request"
    assert tray.wait_tooltip("5h 95 %"), tray.tooltip()
    assert wait_until(lambda: _differs(_steady_icon(desktop, "usage-95")[1], low), 15)
    high = _steady_icon(desktop, "usage-95")[1]
    assert _warm_pixels(high) > _warm_pixels(low)

    _open_menu(desktop, geometry, "menu-95")
    desktop.keys("Up", "Return")  # with nothing selected, Up selects the last item: Quit
    assert tray.proc.wait(10) == 0
    assert wait_until(lambda: desktop.sni_icon() is None, 10), "the icon stayed after Quit"
    assert tray.name not in desktop.bus.registered_items()
    assert E2E_TOKEN not in tray.output() + tray.home.log_text()


def test_a_left_click_opens_the_same_menu(desktop: Desktop, tray: TrayOnBus) -> None:
    geometry, _ = _steady_icon(desktop, "left-click")
    _open_menu(desktop, geometry, "menu-left-click", button=1)
    desktop.keys("Up", "Return")  # Quit, the last item: it is the same menu
    assert tray.proc.wait(10) == 0


def _notifications(path: Path) -> list[dict[str, Any]]:
    """Each Notify call as {summary, replaces, id}, with the id the server answered."""
    messages = read_monitor(path)
    replies = {
        m.get("reply_cookie"): m["payload"]["data"][0]
        for m in messages
        if m.get("type") == "method_return" and m.get("payload", {}).get("type") == "u"
    }
    return [
        {
            "summary": m["payload"]["data"][3],
            "replaces": m["payload"]["data"][1],
            "id": replies.get(m.get("cookie")),
        }
        for m in messages
        if m.get("type") == "method_call" and m.get("member") == "Notify"
    ]


def test_a_credentials_confirmation_stays_beside_the_status_change_it_causes(
    desktop: Desktop, tray: TrayOnBus
) -> None:
    geometry, _ = _steady_icon(desktop, "before-reset")
    home = tray.home
    original = home.credentials.read_bytes()
    with desktop.bus.monitor("notify-reset") as log:
        _open_menu(desktop, geometry, "menu-reset")
        desktop.keys(*["Down"] * home.menu_position("Reset credentials file…", skip_disabled=True))
        desktop.keys("Right")  # into the confirming submenu the host draws
        time.sleep(0.4)  # let the submenu draw before the screenshot
        desktop.screenshot(ARTIFACTS / "sni-menu-reset-confirm.png")
        desktop.keys("Up", "Return")  # its last item: "Yes, move it aside"
        assert wait_until(lambda: not home.credentials.exists(), 10), "the file was not moved"
        assert wait_until(lambda: Store(home.paths).read().last_error is not None, 15)
        assert wait_until(lambda: len(_notifications(log)) >= 2, 15), _notifications(log)
        assert wait_until(lambda: all(n["id"] for n in _notifications(log)), 15)
    desktop.screenshot(ARTIFACTS / "sni-after-reset.png")
    sent = {n["summary"]: n for n in _notifications(log)}
    moved, problem = sent["Credentials moved aside"], sent["Claude usage cannot be read"]
    # Two topics, two notifications: the status change did not replace the next steps.
    assert moved["replaces"] == 0
    assert problem["replaces"] == 0
    assert moved["id"] != problem["id"]
    assert tray.prop("Status") == "NeedsAttention"  # signed out: the host draws attention

    # Restore from the menu: each topic replaces its own last notification, and only that.
    with desktop.bus.monitor("notify-restore") as log:
        _open_menu(desktop, geometry, "menu-restore")
        # With the file moved aside there is nothing to reset: the menu offers the restore.
        restore = home.menu_position("Restore credentials…")
        desktop.keys(*["Down"] * restore, "Right", "Up", "Return")
        assert wait_until(home.credentials.exists, 10), "the file was not restored"
        assert wait_until(lambda: len(_notifications(log)) >= 2, 20), _notifications(log)
    assert home.credentials.read_bytes() == original
    sent = {n["summary"]: n for n in _notifications(log)}
    assert sent["Credentials restored"]["replaces"] == moved["id"]
    assert sent["Claude usage is readable again"]["replaces"] == problem["id"]
    tray.proc.send_signal(signal.SIGTERM)
    assert tray.proc.wait(10) == 0

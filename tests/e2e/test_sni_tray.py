"""The real tray in a real StatusNotifierItem host: status-notifier-watcher and
gtk-sni-tray-standalone (libdbusmenu-gtk3 draws our menu) on Xvfb, dunst for notifications.

The tray runs as the real CLI against the fake usage API, with no DISPLAY of its own: only the
host draws. Clicks and keys go to the host's widgets with xdotool. Screenshots go to
artifacts/e2e/sni-*.png for a reviewer (and were looked at by the author), with the 22 px pixmap
of each state zoomed 8x. The icon's number must stand out in every pixmap the tray sends, on a
light and a dark panel (the measure is tests/support/icon_contrast.py, shared with the unit
tests).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.gauge_layout import layout
from claude_usage_gauge.core.gauge_view import GaugeView
from claude_usage_gauge.desktop.dbus.status_item import SIZES
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import Desktop, Geometry
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, html_error, ok, rate_limited
from claude_usage_gauge.testing.session_bus import wait_until
from claude_usage_gauge.testing.tray_home import E2E_TOKEN, TrayHome
from tests.support.desktop_host import ARTIFACTS, crop_icon, differs, e2e_desktop
from tests.support.icon_contrast import MIN_NUMBER_CONTRAST, icon_number_contrast
from tests.support.notify_log import notify_calls, summaries
from tests.support.sni import MenuItem, TrayOnBus

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the SNI host is Linux-only"),
]


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    with e2e_desktop(tmp_path_factory.mktemp("sni-desktop"), host="sni") as running:
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
        shots.append((geometry, crop_icon(desktop, geometry, f"sni-{name}")))
        return len(shots) > 1 and not differs(shots[-1][1], shots[-2][1])

    assert wait_until(steady, 20, interval=0.3), "the icon never docked in the SNI host"
    return shots[-1]


def _warm_pixels(image: Image.Image) -> int:
    data = image.convert("RGB").tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 150 and r > g + 60 and r > b + 60)


def _pixmaps(tray: TrayOnBus) -> dict[int, Image.Image]:
    """The icon as the tray sends it over D-Bus (IconPixmap: ARGB32, big-endian), by size."""
    out = {}
    for width, height, data in tray.prop("IconPixmap"):
        alpha, red, green, blue = Image.frombytes("RGBA", (width, height), bytes(data)).split()
        out[width] = Image.merge("RGBA", (red, green, blue, alpha))
    return out


def _assert_number_readable(tray: TrayOnBus, gauge: GaugeView, name: str) -> None:
    """The number stands out (tests/support/icon_contrast.py) in every pixmap the tray sends,
    on a light and a dark panel; the 22 px one is saved, zoomed, for a reviewer."""
    pixmaps = _pixmaps(tray)
    assert sorted(pixmaps) == sorted(SIZES)
    pixmaps[22].resize((22 * 8, 22 * 8), Image.Resampling.NEAREST).save(
        ARTIFACTS / f"sni-{name}-pixmap-22.png"
    )
    for size, image in pixmaps.items():
        measured = icon_number_contrast(image, gauge)
        assert measured >= MIN_NUMBER_CONTRAST, f"{name} at {size} px: {measured:.2f}"


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
    _assert_number_readable(tray, GaugeView(DisplayState.FRESH, 20.0, 10.0), "usage-20")

    # Usage rises to 95 %; "Refresh now" in the menu the host draws must fetch and redraw.
    api.script([], default=ok(95.0, 40.0))
    _open_menu(desktop, geometry, "menu-open")
    requests = api.request_count
    _choose(desktop, tray, "Refresh now")
    assert api.wait_for_requests(requests + 1, 15), "Refresh now made no request"
    assert tray.wait_tooltip("5h 95 %"), tray.tooltip()
    assert wait_until(lambda: differs(_steady_icon(desktop, "usage-95")[1], low), 15)
    high = _steady_icon(desktop, "usage-95")[1]
    assert _warm_pixels(high) > _warm_pixels(low)
    _assert_number_readable(tray, GaugeView(DisplayState.FRESH, 95.0, 40.0), "usage-95")

    _open_menu(desktop, geometry, "menu-95")
    desktop.keys("Up", "Return")  # with nothing selected, Up selects the last item: Quit
    assert tray.proc.wait(10) == 0
    assert wait_until(lambda: desktop.sni_icon() is None, 10), "the icon stayed after Quit"
    assert tray.name not in desktop.bus.registered_items()
    assert E2E_TOKEN not in tray.output() + tray.home.log_text()


@pytest.mark.parametrize(
    ("reply", "state"),
    [(rate_limited("900"), DisplayState.RATE_LIMITED), (html_error(502), DisplayState.STALE)],
    ids=["rate-limited", "stale"],
)
def test_a_failed_refresh_keeps_the_last_number_readable(
    desktop: Desktop, tray: TrayOnBus, api: FakeUsageAPI, reply: Reply, state: DisplayState
) -> None:
    """A 429 (rate limited: dashed ring and a pause badge) or a 502 (the numbers are old: a
    dashed ring) after a reading of 20 %: the 20 stays as readable as it was, nothing covers
    it, and the ring shows the change."""
    name = str(state).replace("_", "-")
    _steady_icon(desktop, f"before-{name}")
    fresh = _pixmaps(tray)
    api.script([reply], default=reply)
    requests = api.request_count
    tray.click(tray.menu().find("Refresh now").id)
    assert api.wait_for_requests(requests + 1, 15), "Refresh now made no request"
    assert wait_until(lambda: Store(tray.home.paths).read().last_error is not None, 15)
    assert wait_until(lambda: _pixmaps(tray)[22].tobytes() != fresh[22].tobytes(), 15)
    _steady_icon(desktop, name)
    error = Store(tray.home.paths).read().last_error
    assert error is not None
    assert (error.kind == ErrorKind.RATE_LIMITED) == (state is DisplayState.RATE_LIMITED)
    gauge = GaugeView(state, 20.0, 10.0)
    _assert_number_readable(tray, gauge, name)
    # Inside the number's box the icon is the fresh one (up to resampling ripple): no badge
    # over it, no dimming; outside it the ring (and the badge) changed.
    now = _pixmaps(tray)
    for size in (22, 24):
        box = layout(gauge, size).number
        assert box is not None
        inside = ImageChops.difference(now[size].crop(box), fresh[size].crop(box))
        assert max(inside.tobytes()) <= 64, f"the number changed at {size} px"
    tray.proc.send_signal(signal.SIGTERM)
    assert tray.proc.wait(10) == 0


def test_an_error_before_any_reading_shows_the_mark_large_in_the_middle(
    desktop: Desktop, tmp_path: Path
) -> None:
    with FakeUsageAPI(default=html_error(502)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        running = TrayOnBus(desktop.bus, home)
        try:
            assert api.wait_for_requests(1, 15)
            assert wait_until(lambda: Store(home.paths).read().last_error is not None, 15)
            assert layout(GaugeView(DisplayState.ERROR, None, None), 22).number is None

            def shows_the_mark() -> bool:
                # The middle of the 22 px pixmap: the red disc, and the white "!" on it.
                data = _pixmaps(running)[22].convert("RGB").tobytes()
                red = data[3 * (11 * 22 + 6) : 3 * (11 * 22 + 6) + 3]
                mark = data[3 * (8 * 22 + 11) : 3 * (8 * 22 + 11) + 3]
                return red[0] > 180 > red[1] + 60 and min(mark) > 200

            assert wait_until(shows_the_mark, 15), "no error mark in the icon"
            _steady_icon(desktop, "error-no-data")
            _pixmaps(running)[22].resize((176, 176), Image.Resampling.NEAREST).save(
                ARTIFACTS / "sni-error-no-data-pixmap-22.png"
            )
        finally:
            running.stop()
            wait_until(lambda: desktop.sni_icon() is None, 10)


def test_a_left_click_opens_the_same_menu(desktop: Desktop, tray: TrayOnBus) -> None:
    geometry, _ = _steady_icon(desktop, "left-click")
    _open_menu(desktop, geometry, "menu-left-click", button=1)
    desktop.keys("Up", "Return")  # Quit, the last item: it is the same menu
    assert tray.proc.wait(10) == 0


def test_a_credentials_confirmation_stays_beside_the_status_change_it_causes(
    desktop: Desktop, tray: TrayOnBus
) -> None:
    geometry, _ = _steady_icon(desktop, "before-reset")
    home = tray.home
    original = home.credentials.read_bytes()
    with desktop.bus.monitor("notify-reset") as log:
        _open_menu(desktop, geometry, "menu-reset")
        desktop.keys(*["Down"] * home.menu_position("Reset credentials file…", skip_disabled=True))
        desktop.keys("Right")  # into the confirming submenu the host draws: on "No, keep it"
        time.sleep(0.4)  # let the submenu draw before the screenshot
        desktop.screenshot(ARTIFACTS / "sni-menu-reset-confirm.png")
        desktop.keys("Down", "Return")  # past the harmless first choice: "Yes, move it aside"
        assert wait_until(lambda: not home.credentials.exists(), 10), "the file was not moved"
        assert wait_until(lambda: Store(home.paths).read().last_error is not None, 15)
        assert wait_until(lambda: notify_calls(log) and notify_calls(log)[0]["id"], 15)
    desktop.screenshot(ARTIFACTS / "sni-after-reset.png")
    moved = notify_calls(log)[0]
    assert moved["summary"] == "Credentials moved aside"
    assert moved["replaces"] == 0
    assert tray.prop("Status") == "NeedsAttention"  # signed out: the host draws attention

    # Restore from the menu: the confirmation replaces its own topic's last notification; the
    # status change it causes ("readable again") is a notification of its own beside it.
    with desktop.bus.monitor("notify-restore") as restore_log:
        _open_menu(desktop, geometry, "menu-restore")
        # With the file moved aside there is nothing to reset: the menu offers the restore.
        restore = home.menu_position("Restore credentials…")
        desktop.keys(*["Down"] * restore, "Right", "Down", "Return")
        assert wait_until(home.credentials.exists, 10), "the file was not restored"
        assert wait_until(lambda: len(notify_calls(restore_log)) >= 2, 20), notify_calls(
            restore_log
        )
    assert home.credentials.read_bytes() == original
    sent = {n["summary"]: n for n in notify_calls(restore_log)}
    assert sent["Credentials restored"]["replaces"] == moved["id"]
    assert sent["Claude usage is readable again"]["replaces"] == 0
    # The sign-out the user chose was never announced as a problem: the one notice after the
    # reset was its confirmation (a problem notice would have come before "readable again").
    told = summaries(log) + summaries(restore_log)
    assert "Claude usage cannot be read" not in told, told
    assert told.count("Credentials moved aside") == 1
    tray.proc.send_signal(signal.SIGTERM)
    assert tray.proc.wait(10) == 0


WORK_TOKEN = "sk-ant-oat01-E2eWorkTokenDoNotLeak_" + "y" * 40


def test_two_accounts_side_by_side_in_the_real_menu(tmp_path: Path, desktop: Desktop) -> None:
    """Two Claude Code config folders, each with its own sign-in: the tray polls both, the
    menu has a submenu each with its own numbers, the tooltip lists both, the icon shows the
    most constrained one, and a reset from one account's submenu moves that account's sign-in
    only."""
    from claude_usage_gauge.core.gauge import render
    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.core.view import build_view
    from claude_usage_gauge.desktop.dbus.status_item import SIZES, argb32
    from claude_usage_gauge.desktop.tray import gauge_view
    from claude_usage_gauge.refresh import utc_now
    from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file

    with FakeUsageAPI(default=ok(20.0, 10.0)) as api:
        api.script_token(E2E_TOKEN, default=ok(20.0, 10.0))
        api.script_token(WORK_TOKEN, default=ok(95.0, 40.0))
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        work_dir = home.root / ".claude-work"
        work_file = write_credentials_file(work_dir, credentials_document(WORK_TOKEN))
        config = home.paths.config_file
        config.parent.mkdir(mode=0o700, parents=True)
        config.write_text(
            '[[accounts]]\nname = "personal"\nconfig_dir = "~/.claude"\n\n'
            '[[accounts]]\nname = "work"\nconfig_dir = "~/.claude-work"\n'
        )
        config.chmod(0o600)
        personal_bytes = home.credentials.read_bytes()
        tray = TrayOnBus(desktop.bus, home)
        try:
            assert tray.wait_tooltip("work: 5h 95 %"), tray.tooltip()
            assert tray.wait_tooltip("personal: 5h 20 %"), tray.tooltip()
            # Each token asked for its own account only, once each.
            assert api.requests_with_token(E2E_TOKEN) == 1
            assert api.requests_with_token(WORK_TOKEN) == 1
            assert api.request_count == 2

            menu = tray.menu()
            labels = [item.label for item in menu.walk()]
            personal = next(i for i in menu.children if i.label.startswith("personal · "))
            work = next(i for i in menu.children if i.label.startswith("work · "))
            assert "5h 20 % · week 10 %" in personal.label, labels
            assert "5h 95 % · week 40 %" in work.label, labels
            assert any(i.label.startswith("5-hour session: 20") for i in personal.walk())
            assert any(i.label.startswith("5-hour session: 95") for i in work.walk())
            assert not any(i.label.startswith("5-hour session: 20") for i in work.walk())

            # Each reset names its own account's file (on rows of their own, cut after a "/").
            def said(item: MenuItem) -> str:
                return "".join(i.label.strip() for i in item.walk())

            # Written from ~ (the tray's HOME is the test's home).
            work_shown = f"~/{work_file.relative_to(home.root).as_posix()}"
            personal_shown = f"~/{home.credentials.relative_to(home.root).as_posix()}"
            assert work_shown in said(work)
            assert personal_shown in said(personal)
            assert personal_shown not in said(work)
            assert str(home.root) not in said(work) + said(personal)
            assert menu.find("Quit").enabled  # the app's part, once, at the top level
            assert sum(1 for label in labels if label == "Quit") == 1

            # The icon is the most constrained account's (work at 95 %), not the primary's.
            work_state = Store(home.paths.for_account("work")).read()
            personal_state = Store(home.paths).read()

            def drawn(state: object) -> list[list[int]]:
                from claude_usage_gauge.core.state import State

                assert isinstance(state, State)
                gauge = gauge_view(build_view(state, utc_now(), Settings()), Settings())
                return [list(argb32(render(gauge, size))[2]) for size in SIZES]

            shown = [data for _, _, data in tray.prop("IconPixmap")]
            assert shown == drawn(work_state)
            assert shown != drawn(personal_state)

            geometry, _ = _steady_icon(desktop, "accounts")
            _open_menu(desktop, geometry, "accounts-menu")
            # Into work's submenu (header, personal, work), for the reviewer's screenshot.
            windows = len(desktop.window_names())
            desktop.keys("Down", "Down", "Down", "Right")
            assert wait_until(lambda: len(desktop.window_names()) > windows, 10)
            time.sleep(0.4)  # mapped is not yet drawn
            desktop.screenshot(ARTIFACTS / "sni-accounts-submenu.png")
            desktop.keys("Escape", "Escape")

            # "Yes, move it aside" in work's submenu moves work's sign-in, nobody else's.
            tray.click(work.find("Yes, move it aside").id)
            assert wait_until(lambda: not work_file.exists(), 10), "work's sign-in stayed"
            assert home.credentials.read_bytes() == personal_bytes
            backups = home.paths.for_account("work").backups_dir
            assert wait_until(lambda: any(backups.glob("credentials-*.json")), 10)
            assert not home.paths.backups_dir.exists() or not any(home.paths.backups_dir.iterdir())
            assert tray.wait_tooltip("personal: 5h 20 %"), tray.tooltip()
            # Work's numbers stay, with its problem beside them; personal's line is unchanged.
            assert tray.wait_tooltip("· ⚠ Not signed in"), tray.tooltip()
            lines = tray.tooltip().splitlines()
            assert lines[1] == "personal: 5h 20 % · week 10 %", lines
            assert lines[2].startswith("work: "), lines
            assert "Not signed in" in lines[2], lines
        finally:
            tray.stop()
            wait_until(lambda: desktop.sni_icon() is None, 10)
        output = tray.output() + home.log_text()
        assert E2E_TOKEN not in output
        assert WORK_TOKEN not in output

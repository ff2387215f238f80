"""Every menu and submenu as the real StatusNotifierItem host draws it (gtk-sni-tray-standalone,
libdbusmenu-gtk3, the desktop's default font) on a 1280×800 Xvfb screen: each fits in 480 px and
no submenu covers the menu it opens from. One state per test: fresh numbers, signed out, no
credentials file at all, rate limited after numbers came. Screenshots go to
artifacts/e2e/sni-menus-*.png for a reviewer (and were looked at by the author).
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.desktop import (
    SCREEN,
    Desktop,
    Geometry,
)
from claude_usage_gauge.testing.fake_api import (
    FakeUsageAPI,
    ok,
    out_of_extra_usage,
    rate_limited,
    unauthorized,
)
from claude_usage_gauge.testing.session_bus import wait_until
from claude_usage_gauge.testing.tray_home import TrayHome
from tests.support.desktop_host import ARTIFACTS, e2e_desktop
from tests.support.sni import MenuItem, TrayOnBus

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the SNI host is Linux-only"),
]

# No menu wider than this at the default font (issue 12): about a third of a 1280 px screen.
MENU_MAX_WIDTH = 480
# GTK lets a submenu overlap its parent by its border and shadow, no more.
OVERLAP_ALLOWED = 12


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "sni-menus-widths.txt").write_text("", encoding="utf-8")
    with e2e_desktop(tmp_path_factory.mktemp("sni-menus"), host="sni") as running:
        assert SCREEN == (1280, 800)
        yield running


def _popups(desktop: Desktop) -> list[Geometry]:
    return desktop.menus()


def _wait_popups(desktop: Desktop, count: int) -> list[Geometry]:
    seen: list[list[Geometry]] = []

    def shown() -> bool:
        seen.append(_popups(desktop))
        return len(seen[-1]) >= count

    assert wait_until(shown, 10, interval=0.2), f"{count} menu(s) did not open: {seen[-1:]}"
    time.sleep(0.5)  # mapped is not yet drawn: give GTK a frame before the screenshot
    return _popups(desktop)


def _close_menus(desktop: Desktop) -> None:
    desktop.keys("Escape", "Escape", "Escape")
    assert wait_until(lambda: not _popups(desktop), 10), "a menu stayed open"


def _icon(desktop: Desktop) -> Geometry:
    found: list[Geometry] = []

    def docked() -> bool:
        geometry = desktop.sni_icon()
        if geometry is not None:
            found.append(geometry)
        return geometry is not None

    assert wait_until(docked, 20, interval=0.3), "the icon never docked in the SNI host"
    return found[-1]


def _check_fits(menus: list[Geometry], shot: str | None) -> None:
    if shot is not None:
        # The measured widths beside the screenshots, for a reviewer.
        with (ARTIFACTS / "sni-menus-widths.txt").open("a", encoding="utf-8") as widths:
            widths.write(f"sni-menus-{shot}.png: {', '.join(f'{m.width} px' for m in menus)}\n")
    for menu in menus:
        assert menu.width <= MENU_MAX_WIDTH, f"a menu is {menu.width} px wide: {menus}"
        assert menu.x >= 0, menus
        assert menu.x + menu.width <= SCREEN[0], menus
        assert menu.y + menu.height <= SCREEN[1], menus
    for parent, child in itertools.pairwise(menus):
        overlap = min(parent.x + parent.width, child.x + child.width) - max(parent.x, child.x)
        assert overlap <= OVERLAP_ALLOWED, f"a submenu covers its parent: {parent} / {child}"


def _open_main(desktop: Desktop, shot: str | None) -> Geometry:
    _close_menus(desktop)
    desktop.click(*_icon(desktop).centre, button=3)
    menus = _wait_popups(desktop, 1)
    if shot is not None:
        desktop.screenshot(ARTIFACTS / f"sni-menus-{shot}.png")
    _check_fits(menus, shot)
    return menus[0]


def _open_submenu(desktop: Desktop, tray: TrayOnBus, label: str, shot: str) -> list[Geometry]:
    """Open the main menu, walk to `label` with the keyboard (GTK's keyboard skips separators
    and the disabled information rows) and into its submenu."""
    _open_main(desktop, None)
    desktop.keys(*["Down"] * tray.home.menu_position(label), "Right")
    menus = _wait_popups(desktop, 2)
    desktop.screenshot(ARTIFACTS / f"sni-menus-{shot}.png")
    _check_fits(menus, shot)
    _close_menus(desktop)
    return menus


def _labels(item: MenuItem) -> list[str]:
    return [child.label for child in item.walk()]


def _start(desktop: Desktop, home: TrayHome, words: str) -> TrayOnBus:
    tray = TrayOnBus(desktop.bus, home)
    assert tray.wait_tooltip(words), tray.tooltip()
    return tray


@pytest.fixture
def stop_after(desktop: Desktop) -> Iterator[list[TrayOnBus]]:
    started: list[TrayOnBus] = []
    yield started
    for tray in started:
        tray.stop()
    with_menus = _popups(desktop)
    if with_menus:
        desktop.keys("Escape", "Escape", "Escape")
    # The next test starts from an empty bar.
    wait_until(lambda: desktop.sni_icon() is None, 10)


def test_the_menus_of_fresh_numbers_fit(
    tmp_path: Path, desktop: Desktop, stop_after: list[TrayOnBus]
) -> None:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        tray = _start(desktop, home, "5h 20 %")
        stop_after.append(tray)
        _open_main(desktop, "fresh")
        # The longest help (the reset note, once one ~230-character row) is rows of its own.
        _open_submenu(desktop, tray, "Sign-in help", "fresh-sign-in-help")
        _open_submenu(desktop, tray, "Reset credentials file…", "fresh-reset")


def test_the_menus_when_signed_out_fit(
    tmp_path: Path, desktop: Desktop, stop_after: list[TrayOnBus]
) -> None:
    with FakeUsageAPI(default=unauthorized()) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        tray = _start(desktop, home, "sign in again")
        stop_after.append(tray)
        menu = tray.menu()
        refresh = next(item for item in menu.walk() if item.label.startswith("Refresh now"))
        # Only a new sign-in can change anything: the row says so, and is not a click.
        assert refresh.label == "Refresh now — after you sign in again"
        assert not refresh.enabled
        _open_main(desktop, "signed-out")
        _open_submenu(desktop, tray, "Sign-in help", "signed-out-sign-in-help")
        problem = next(item for item in menu.walk() if item.label.startswith("⚠"))
        _open_submenu(desktop, tray, problem.label, "signed-out-problem")


def test_the_menus_without_a_credentials_file_suggest_signing_in(
    tmp_path: Path, desktop: Desktop, stop_after: list[TrayOnBus]
) -> None:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        home.credentials.unlink()
        tray = _start(desktop, home, "Not signed in")
        stop_after.append(tray)
        labels = _labels(tray.menu())
        assert "Reset credentials file…" not in labels
        assert "How to sign in" in labels
        assert "Refresh now — after you sign in" in labels
        assert api.request_count == 0
        _open_main(desktop, "no-credentials")
        _open_submenu(desktop, tray, "How to sign in", "no-credentials-how-to-sign-in")


def test_the_menus_when_rate_limited_fit_and_say_when_a_refresh_can_go(
    tmp_path: Path, desktop: Desktop, stop_after: list[TrayOnBus]
) -> None:
    with FakeUsageAPI(default=ok(42.0, 18.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        tray = _start(desktop, home, "5h 42 %")
        stop_after.append(tray)
        # The next answer: wait half an hour.
        api.script([rate_limited("1800")], default=rate_limited("1800"))
        requests = api.request_count
        tray.click(tray.menu().find("Refresh now").id)
        assert api.wait_for_requests(requests + 1, 15)
        assert tray.wait_tooltip("Rate limited"), tray.tooltip()
        menu = tray.menu()
        labels = _labels(menu)
        # No "Updated just now … (stale)": when the numbers are from and how old.
        assert not any("just now" in label or "(stale)" in label for label in labels), labels
        assert any(label.startswith("Numbers from ") for label in labels), labels
        refresh = next(item for item in menu.walk() if item.label.startswith("Refresh now"))
        assert re.fullmatch(r"Refresh now — possible at .*\d\d:\d\d \(rate limit\)", refresh.label)
        assert not refresh.enabled
        requests = api.request_count
        tray.click(refresh.id)  # a click that slips through (a script, a host) sends nothing
        _open_main(desktop, "rate-limited")
        problem = next(item for item in menu.walk() if item.label.startswith("⚠"))
        # What to do is where the problem is: the help's steps, in the width asserted below.
        said = _labels(problem)
        assert "What to do:" in said, said
        assert any(label.startswith("1. The usage service limits") for label in said), said
        _open_submenu(desktop, tray, problem.label, "rate-limited-problem")
        assert api.request_count == requests


def test_the_menus_when_claude_code_is_refused_fit(
    tmp_path: Path, desktop: Desktop, stop_after: list[TrayOnBus]
) -> None:
    with FakeUsageAPI(default=ok(5.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env, display=False)
        tray = _start(desktop, home, "5h 5 %")
        stop_after.append(tray)
        api.script([], default=out_of_extra_usage())
        requests = api.request_count
        tray.click(tray.menu().find("Refresh now").id)
        assert api.wait_for_requests(requests + 1, 15)
        assert tray.wait_tooltip("out of extra usage"), tray.tooltip()
        menu = tray.menu()
        # The whole line is longer than a row: the label is its first clause, the rest inside.
        problem = menu.find("⚠ The usage service says: out of extra usage")
        said = " ".join(child.label.strip() for child in problem.children)
        assert "but your plan is at 5 % (5-hour) / 10 % (week)" in said
        _open_main(desktop, "refused")
        _open_submenu(desktop, tray, problem.label, "refused-problem")
        # The cure, step by step: the longest help there is.
        _open_submenu(desktop, tray, "Sign-in help", "refused-sign-in-help")

"""The menus of the pystray backend (GTK, docked in trayer, an XEmbed tray) on a 1280×800 Xvfb
screen: each at most 480 px wide and beside the menu it opens from, information rows disabled,
and "Start at login" as it is when the menu opens, switched from the CLI while the tray runs.
Screenshots go to artifacts/e2e/xembed-menus-*.png for a reviewer (and were looked at by the
author).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import (
    SCREEN,
    Desktop,
    Geometry,
)
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import wait_until
from claude_usage_gauge.testing.tray_home import TrayHome
from tests.support.desktop_host import ARTIFACTS, docked_icon, e2e_desktop

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(sys.platform != "linux", reason="the Xvfb tray host is Linux-only"),
]

MENU_MAX_WIDTH = 480
OVERLAP_ALLOWED = 12
# The check boxes sit in this many pixels at the menu's left edge; no text reaches into them.
CHECK_COLUMN = 26


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    with e2e_desktop(tmp_path_factory.mktemp("xembed-menus")) as running:
        yield running


@pytest.fixture
def home(tmp_path: Path, desktop: Desktop) -> Iterator[TrayHome]:
    with FakeUsageAPI(default=ok(20.0, 10.0)) as api:
        home = TrayHome(tmp_path / "home", api.url, desktop.env)
        proc = home.launch()
        try:
            assert wait_until(lambda: Store(home.paths).read().snapshot is not None, 20)
            yield home
        finally:
            proc.terminate()
            proc.wait(10)


def _wait_menus(desktop: Desktop, count: int) -> list[Geometry]:
    assert wait_until(lambda: len(desktop.menus()) >= count, 10), "the menu did not open"
    time.sleep(0.5)  # mapped is not yet drawn: give GTK a frame before the screenshot
    menus = desktop.menus()
    for menu in menus:
        assert menu.width <= MENU_MAX_WIDTH, f"a menu is {menu.width} px wide: {menus}"
        assert 0 <= menu.x <= menu.x + menu.width <= SCREEN[0], menus
        assert menu.y + menu.height <= SCREEN[1], menus
    for parent, child in itertools.pairwise(menus):
        overlap = min(parent.x + parent.width, child.x + child.width) - max(parent.x, child.x)
        assert overlap <= OVERLAP_ALLOWED, f"a submenu covers its parent: {parent} / {child}"
    return menus


def _close(desktop: Desktop) -> None:
    desktop.keys("Escape", "Escape", "Escape")
    assert wait_until(lambda: not desktop.menus(), 10), "a menu stayed open"


def _open(desktop: Desktop, shot: str) -> tuple[Geometry, Image.Image]:
    desktop.click(*docked_icon(desktop).centre, button=3)
    menu = _wait_menus(desktop, 1)[0]
    screen = desktop.screenshot(ARTIFACTS / f"xembed-menus-{shot}.png")
    return menu, screen.crop((menu.x, menu.y, menu.x + menu.width, menu.y + menu.height))


def _checks(menu: Image.Image) -> Image.Image:
    return menu.crop((0, 0, CHECK_COLUMN, menu.height))


def _autostart(home: TrayHome, verb: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "autostart", verb],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_menus_fit_and_start_at_login_shows_what_the_cli_did(
    desktop: Desktop, home: TrayHome
) -> None:
    _, off = _open(desktop, "main")
    desktop.keys(*["Down"] * home.menu_position("Sign-in help"), "Right")
    _wait_menus(desktop, 2)
    desktop.screenshot(ARTIFACTS / "xembed-menus-sign-in-help.png")
    _close(desktop)

    # Switched on from a terminal while the tray runs: the menu opened next shows it.
    _autostart(home, "enable")
    _, on = _open(desktop, "autostart-on")
    _close(desktop)
    assert ImageChops.difference(_checks(off), _checks(on)).getbbox() is not None
    # And off again: the check column is as it was at first.
    _autostart(home, "disable")
    _, again = _open(desktop, "autostart-off")
    _close(desktop)
    assert ImageChops.difference(_checks(off), _checks(again)).getbbox() is None

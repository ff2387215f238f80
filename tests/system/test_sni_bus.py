"""The real tray (CLI subprocess) on a private session bus with the real status-notifier-watcher,
with no X display at all, read and driven with busctl like a tray host would."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok, unauthorized
from claude_usage_gauge.testing.session_bus import (
    ITEM_PATH,
    MENU,
    MENU_PATH,
    BusCallFailed,
    SessionBus,
    wait_until,
)
from claude_usage_gauge.testing.tray_home import E2E_TOKEN, TrayHome
from tests.support.sni import TrayOnBus, private_bus

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="D-Bus trays are Linux-only")


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


@pytest.fixture
def tray(bus: SessionBus, home: TrayHome) -> Iterator[TrayOnBus]:
    running = TrayOnBus(bus, home)
    try:
        yield running
    finally:
        running.stop()


def test_the_item_registers_without_a_display_and_shows_the_numbers(
    tray: TrayOnBus, home: TrayHome
) -> None:
    assert "DISPLAY" not in home.env
    assert "WAYLAND_DISPLAY" not in home.env
    assert tray.wait_tooltip("5h 20 %"), tray.tooltip()
    assert "week 10 %" in tray.tooltip()
    assert tray.prop("Id") == "claude-usage-gauge"
    assert tray.prop("Category") == "ApplicationStatus"
    assert tray.prop("Status") == "Active"
    assert tray.prop("ItemIsMenu") is True
    assert tray.prop("Menu") == MENU_PATH
    pixmaps = tray.prop("IconPixmap")
    assert [(w, h) for w, h, _ in pixmaps] == [(s, s) for s in (16, 22, 24, 32, 48, 64)]
    for width, height, data in pixmaps:
        assert len(data) == width * height * 4
        # ARGB, big-endian: the gauge's dark round face is opaque in the middle.
        centre = 4 * (height // 2 * width + width // 2)
        assert data[centre] == 255
    xml = tray.bus.call(tray.name, ITEM_PATH, "org.freedesktop.DBus.Introspectable", "Introspect")
    for name in ("org.kde.StatusNotifierItem", "org.freedesktop.DBus.Properties", "NewToolTip"):
        assert name in xml[0]


def test_the_menu_has_disabled_rows_checkboxes_and_submenus(tray: TrayOnBus) -> None:
    assert tray.wait_tooltip("5h 20 %")
    menu = tray.menu()
    assert menu.id == 0
    assert menu.props["children-display"] == "submenu"
    assert menu.find("Claude Max plan usage").enabled
    assert not menu.find("Extra usage: off").enabled  # information, not a command
    assert menu.find("Refresh now").enabled
    notifications = menu.find("Notifications")
    assert notifications.props["toggle-type"] == "checkmark"
    assert notifications.props["toggle-state"] == 1
    help_menu = menu.find("Sign-in help")
    assert help_menu.props["children-display"] == "submenu"
    assert help_menu.find("https://claude.ai/settings/usage").enabled
    assert [c.props.get("type") for c in menu.children].count("separator") >= 3
    refresh = menu.find("Refresh now").id
    group = tray.bus.call(
        tray.name, MENU_PATH, MENU, "GetGroupProperties", "aias", "1", str(refresh), "1", "label"
    )
    assert group == [[[refresh, {"label": {"type": "s", "data": "Refresh now"}}]]]
    version = tray.bus.get(tray.name, MENU_PATH, MENU, "Version")
    assert version == 3
    with pytest.raises(BusCallFailed):
        tray.click(123)  # no such item: an error reply, and the tray goes on
    assert tray.prop("Status") == "Active"


def test_refresh_now_asks_the_api_and_ids_survive_the_rebuild(
    tray: TrayOnBus, api: FakeUsageAPI
) -> None:
    assert tray.wait_tooltip("5h 20 %")
    revision, before = tray.layout()
    # Every command and submenu (the enabled items); information rows may come and go.
    ids = {item.label: item.id for item in before.walk() if item.enabled and item.label}
    assert {"Refresh now", "Quit", "Notifications", "Yes, move it aside"} <= set(ids)
    api.script([], default=ok(60.0, 30.0))
    requests = api.request_count
    tray.click(before.find("Refresh now").id)
    assert api.wait_for_requests(requests + 1, 15), "Refresh now made no request"
    assert tray.wait_tooltip("5h 60 %"), tray.tooltip()
    assert wait_until(lambda: "5-hour session: 60 %" in _labels(tray), 10), _labels(tray)
    _, after = tray.layout()
    for label, item_id in ids.items():
        # The same item by id; "Refresh now" now says when the next click can go.
        assert next(i for i in after.walk() if i.id == item_id).label.startswith(label), label
    refresh = next(i for i in after.walk() if i.id == ids["Refresh now"])
    assert refresh.label == "Refresh now — possible in under a minute"
    assert not refresh.enabled  # a click now would send nothing: the row says so instead

    # Past the 10 s spacing the click is back as the host opens the menu.
    def clickable_again() -> bool:
        tray.about_to_show()
        return any(i.label == "Refresh now" and i.enabled for i in tray.menu().walk())

    assert wait_until(clickable_again, 20)
    # A checkbox toggles in place: same id, new state.
    toggle = after.find("Notifications")
    tray.click(toggle.id)
    assert wait_until(lambda: tray.menu().find("Notifications").props["toggle-state"] == 0, 10)
    assert tray.menu().find("Notifications").id == toggle.id
    assert tray.layout()[0] >= revision


def _labels(tray: TrayOnBus) -> str:
    return " | ".join(item.label for item in tray.menu().walk())


def test_a_restarted_watcher_gets_the_item_again(tray: TrayOnBus, bus: SessionBus) -> None:
    bus.stop_watcher()
    assert wait_until(lambda: not bus.has_owner("org.kde.StatusNotifierWatcher"), 10)
    assert tray.proc.poll() is None  # a tray without a watcher waits for one
    bus.start_watcher()
    assert wait_until(lambda: tray.name in bus.registered_items(), 10), tray.home.log_text()
    assert "registering again" in tray.home.log_text()


@pytest.mark.parametrize(
    ("reply", "words"),
    [(unauthorized(), "sign in again"), (ok(100.0, 60.0), "5h 100 %")],
    ids=["signed-out", "limit-reached"],
)
def test_a_block_needs_attention(
    bus: SessionBus, home: TrayHome, api: FakeUsageAPI, reply: object, words: str
) -> None:
    api.script([], default=reply)  # type: ignore[arg-type]
    tray = TrayOnBus(bus, home)
    try:
        assert wait_until(lambda: tray.prop("Status") == "NeedsAttention", 15), tray.tooltip()
        assert words in tray.tooltip().lower() or words in tray.tooltip()
    finally:
        tray.stop()


def test_a_limit_that_clears_is_active_again(
    bus: SessionBus, home: TrayHome, api: FakeUsageAPI
) -> None:
    api.script([], default=ok(100.0, 60.0))
    tray = TrayOnBus(bus, home)
    try:
        assert wait_until(lambda: tray.prop("Status") == "NeedsAttention", 15)
        api.script([], default=ok(5.0, 60.0))
        requests = api.request_count
        tray.click(tray.menu().find("Refresh now").id)
        assert api.wait_for_requests(requests + 1, 15), tray.home.log_text()
        assert wait_until(lambda: tray.prop("Status") == "Active", 15)
    finally:
        tray.stop()


def test_exit_releases_the_item(tray: TrayOnBus, bus: SessionBus) -> None:
    assert tray.wait_tooltip("5h 20 %")
    tray.proc.send_signal(signal.SIGTERM)
    assert tray.proc.wait(5) == 0
    assert not bus.has_owner(tray.name)
    assert wait_until(lambda: tray.name not in bus.registered_items(), 10)
    output = tray.output()
    assert "Traceback" not in output
    assert E2E_TOKEN not in output + tray.home.log_text()
    assert "tray stopped" in tray.home.log_text()


def test_doctor_says_which_backend_and_why(bus: SessionBus, home: TrayHome) -> None:
    def doctor() -> str:
        return subprocess.run(
            [sys.executable, "-m", "claude_usage_gauge", "doctor"],
            env=home.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout

    text = doctor()
    assert "backend: sni (menus)" in text
    assert "why: a StatusNotifierWatcher" in text
    bus.stop_watcher()
    text = doctor()
    assert "backend: none (no menus)" in text
    assert "no StatusNotifierWatcher" in text


def test_no_watcher_and_no_display_is_one_sentence_and_exit_1(
    bus: SessionBus, home: TrayHome
) -> None:
    bus.stop_watcher()
    result = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge"],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot show a tray icon" in result.stderr
    assert "StatusNotifierWatcher" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_sni_tray_needs_neither_gtk_nor_pystray(
    bus: SessionBus, home: TrayHome, tmp_path: Path
) -> None:
    # As after a plain `pip install .`: PyGObject absent, and pystray never imported.
    blocked = tmp_path / "blocked"
    for name in ("gi", "pystray"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    home.env["PYTHONPATH"] = str(blocked)
    tray = TrayOnBus(bus, home)
    try:
        assert tray.wait_tooltip("5h 20 %"), tray.tooltip()
        assert tray.menu().find("Refresh now").enabled
    finally:
        tray.stop()

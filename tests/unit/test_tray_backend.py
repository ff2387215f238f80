"""Which tray backend this system would use, and what to install when it has no menus.

These environments have no session bus, so no StatusNotifierWatcher: the SNI choice itself is
tested against a real bus and watcher in tests/system/test_sni_tray.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from claude_usage_gauge.desktop.tray_backend import (
    LINUX_MENU_PACKAGES,
    probe_backend,
    watcher_on_bus,
)

PACKAGES = ("gir1.2-ayatanaappindicator3-0.1", "libayatana-appindicator-gtk3", "python3-gi")


def _has_typelibs() -> bool:
    """Whether GTK 3 and Ayatana AppIndicator are installed (asked in a child, to stay clean)."""
    if importlib.util.find_spec("gi") is None:
        return False
    code = (
        "import gi; gi.require_version('Gtk', '3.0'); "
        "gi.require_version('AyatanaAppIndicator3', '0.1')"
    )
    return subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


needs_linux_typelibs = pytest.mark.skipif(
    sys.platform != "linux" or not _has_typelibs(),
    reason="needs GTK 3 and Ayatana AppIndicator typelibs",
)


@pytest.mark.parametrize("platform", ["linux", "freebsd14"])
def test_no_graphical_session_means_none(platform: str) -> None:
    info = probe_backend({}, platform)
    assert info.name == "none"
    assert not info.has_menu
    assert info.advice is not None
    assert "DISPLAY" in info.advice
    assert "StatusNotifierWatcher" in info.advice


def test_empty_display_counts_as_none() -> None:
    assert probe_backend({"DISPLAY": "", "WAYLAND_DISPLAY": ""}, "linux").name == "none"


def test_wayland_without_a_watcher_has_no_tray() -> None:
    # Old trays are X windows; a Wayland session without a StatusNotifierWatcher has neither.
    assert probe_backend({"WAYLAND_DISPLAY": "wayland-0"}, "linux").name == "none"


def test_forced_xorg_has_no_menu_and_names_the_packages() -> None:
    info = probe_backend({"DISPLAY": ":0", "PYSTRAY_BACKEND": "xorg"}, "linux")
    assert (info.name, info.has_menu, info.advice) == ("xorg", False, LINUX_MENU_PACKAGES)
    assert "PYSTRAY_BACKEND" in info.reason
    assert info.advice is not None
    for package in PACKAGES:
        assert package in info.advice


@pytest.mark.parametrize("backend", ["appindicator", "gtk"])
def test_forced_menu_backends_are_taken_as_given(backend: str) -> None:
    info = probe_backend({"DISPLAY": ":0", "PYSTRAY_BACKEND": backend}, "linux")
    assert (info.name, info.has_menu, info.advice) == (backend, True, None)


@needs_linux_typelibs
def test_an_x_display_without_a_watcher_gives_gtks_xembed_tray() -> None:
    info = probe_backend({"DISPLAY": ":0"}, "linux")
    assert (info.name, info.has_menu) == ("gtk", True)
    assert "no StatusNotifierWatcher" in info.reason


def test_an_unreachable_bus_is_no_watcher(tmp_path: Path) -> None:
    address = f"unix:path={tmp_path / 'no-bus-here'}"
    assert not watcher_on_bus(address)
    assert not watcher_on_bus("tcp:host=localhost,port=1")
    assert not watcher_on_bus(None)


@pytest.mark.parametrize(("platform", "name"), [("darwin", "darwin"), ("win32", "win32")])
def test_macos_and_windows_have_their_own_backends(platform: str, name: str) -> None:
    # Neither needs DISPLAY, and both have menus.
    for environ in ({}, {"DISPLAY": ":0"}):
        info = probe_backend(environ, platform)
        assert (info.name, info.has_menu, info.advice) == (name, True, None)


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert probe_backend(platform="linux").name == "none"
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    assert probe_backend(platform="linux").name == "xorg"

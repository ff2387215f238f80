"""Which tray backend this system would use, and what to install when it has no menus."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from claude_usage_gauge.desktop.tray_backend import LINUX_MENU_PACKAGES, BackendInfo, probe_backend

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


def test_empty_display_counts_as_none() -> None:
    assert probe_backend({"DISPLAY": "", "WAYLAND_DISPLAY": ""}, "linux").name == "none"


def test_forced_xorg_has_no_menu_and_names_the_packages() -> None:
    info = probe_backend({"DISPLAY": ":0", "PYSTRAY_BACKEND": "xorg"}, "linux")
    assert info == BackendInfo("xorg", False, LINUX_MENU_PACKAGES)
    assert info.advice is not None
    for package in PACKAGES:
        assert package in info.advice


@pytest.mark.parametrize("backend", ["appindicator", "gtk"])
def test_forced_menu_backends_are_taken_as_given(backend: str) -> None:
    info = probe_backend({"DISPLAY": ":0", "PYSTRAY_BACKEND": backend}, "linux")
    assert info == BackendInfo(backend, True, None)


@needs_linux_typelibs
@pytest.mark.parametrize(
    "environ", [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}], ids=["x11", "wayland"]
)
def test_display_with_ayatana_typelibs_gives_appindicator(environ: dict[str, str]) -> None:
    info = probe_backend(environ, "linux")
    assert info == BackendInfo("appindicator", True, None)


@pytest.mark.parametrize(("platform", "name"), [("darwin", "darwin"), ("win32", "win32")])
def test_macos_and_windows_have_their_own_backends(platform: str, name: str) -> None:
    # Neither needs DISPLAY, and both have menus.
    assert probe_backend({}, platform) == BackendInfo(name, True)
    assert probe_backend({"DISPLAY": ":0"}, platform) == BackendInfo(name, True)


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    assert probe_backend(platform="linux").name == "none"
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    assert probe_backend(platform="linux").name == "xorg"

"""Which pystray backend this system would use, found without starting one.

pystray picks a backend at import time and its X11 fallback has no menus, which users read as
"the menu is broken". Knowing the answer up front lets the log and `doctor` name the packages
that would bring menus back.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

LINUX_MENU_PACKAGES = (
    "Debian/Ubuntu: sudo apt install gir1.2-ayatanaappindicator3-0.1 python3-gi; "
    "Fedora: sudo dnf install libayatana-appindicator-gtk3 python3-gobject; "
    "Arch: sudo pacman -S libayatana-appindicator python-gobject. "
    "With pip: pip install 'claude-usage-gauge[linux]' "
    "(needs libgirepository1.0-dev libcairo2-dev)."
)


@dataclass(frozen=True, slots=True)
class BackendInfo:
    name: str
    has_menu: bool
    advice: str | None = None


def _typelib_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def probe_backend(
    environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> BackendInfo:
    env = os.environ if environ is None else environ
    forced = env.get("PYSTRAY_BACKEND")
    if platform == "darwin":
        return BackendInfo("darwin", True)
    if platform == "win32":
        return BackendInfo("win32", True)
    if forced:
        return BackendInfo(
            forced, forced != "xorg", LINUX_MENU_PACKAGES if forced == "xorg" else None
        )
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return BackendInfo("none", False, "No graphical session (DISPLAY is not set).")
    if _typelib_available("Gtk", "3.0"):
        if _typelib_available("AyatanaAppIndicator3", "0.1") or _typelib_available(
            "AppIndicator3", "0.1"
        ):
            return BackendInfo("appindicator", True)
        return BackendInfo(
            "gtk",
            True,
            "Menus work, but some desktops (GNOME) only show AppIndicator icons: "
            + LINUX_MENU_PACKAGES,
        )
    return BackendInfo(
        "xorg", False, "Plain X tray without menus. For menus: " + LINUX_MENU_PACKAGES
    )

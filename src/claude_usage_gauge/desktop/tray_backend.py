"""Which tray backend this system gets, and why, found without starting one.

Linux: our own StatusNotifierItem when a StatusNotifierWatcher is on the session bus (KDE, GNOME
with its AppIndicator extension, XFCE, Cinnamon, LXQt, waybar...); else an old XEmbed tray
through pystray (GTK if PyGObject is there, else plain X without menus); else nothing, said
plainly. Windows and macOS: pystray's native backends. `doctor` prints the answer and the reason.
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
NO_TRAY = (
    "No tray found: no StatusNotifierWatcher on the session D-Bus (a desktop's tray or panel "
    "provides one) and no X display for an old tray (DISPLAY is not set)."
)
WATCHER_NAME = "org.kde.StatusNotifierWatcher"
PROBE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class BackendInfo:
    name: str
    has_menu: bool
    advice: str | None = None
    reason: str = ""
    # The session bus: the StatusNotifierItem tray talks on it; the X trays send notifications.
    bus_address: str | None = None


def _typelib_available(namespace: str, version: str) -> bool:
    try:
        import gi

        gi.require_version(namespace, version)
    except (ImportError, ValueError):
        return False
    return True


def watcher_on_bus(address: str | None) -> bool:
    """Whether a StatusNotifierWatcher owns its name on the bus at `address` (asked within 1 s)."""
    from jeepney import new_method_call

    from claude_usage_gauge.desktop.dbus.connection import BUS, BusError, CallError, Connection

    if address is None:
        return False
    try:
        connection = Connection.open(address, PROBE_TIMEOUT)
    except BusError:
        return False
    try:
        reply = connection.request(
            new_method_call(BUS, "NameHasOwner", "s", (WATCHER_NAME,)), PROBE_TIMEOUT
        )
    except (BusError, CallError):
        return False
    finally:
        connection.close()
    return bool(reply[0])


def probe_backend(
    environ: Mapping[str, str] | None = None, platform: str = sys.platform
) -> BackendInfo:
    env = os.environ if environ is None else environ
    if platform == "darwin":
        return BackendInfo("darwin", True, reason="macOS menu bar")
    if platform == "win32":
        return BackendInfo("win32", True, reason="Windows notification area")
    forced = env.get("PYSTRAY_BACKEND")
    if forced:
        return BackendInfo(
            forced,
            forced != "xorg",
            LINUX_MENU_PACKAGES if forced == "xorg" else None,
            reason="PYSTRAY_BACKEND is set",
        )
    from claude_usage_gauge.desktop.dbus.connection import session_bus_address

    address = session_bus_address(
        env.get("DBUS_SESSION_BUS_ADDRESS", ""), env.get("XDG_RUNTIME_DIR", "")
    )
    if watcher_on_bus(address):
        return BackendInfo(
            "sni",
            True,
            reason=f"a StatusNotifierWatcher ({WATCHER_NAME}) is on the session bus",
            bus_address=address,
        )
    if not env.get("DISPLAY"):
        return BackendInfo("none", False, NO_TRAY, reason="no StatusNotifierWatcher, no DISPLAY")
    why = "no StatusNotifierWatcher on the session bus; an XEmbed tray on the X display"
    if _typelib_available("Gtk", "3.0"):
        return BackendInfo("gtk", True, reason=why + " through GTK", bus_address=address)
    return BackendInfo(
        "xorg",
        False,
        "Plain X tray without menus. Desktops with a StatusNotifierItem tray show menus "
        "without extra packages; for menus in an old tray: " + LINUX_MENU_PACKAGES,
        reason=why + " (PyGObject is not installed)",
        bus_address=address,  # for notifications, which need no toolkit
    )

"""org.kde.StatusNotifierItem: the icon itself, as properties a tray host reads.

The icon travels in memory as pixmaps at several sizes (no temporary files, no icon theme), so
sandboxed apps' hosts and HiDPI panels get a sharp gauge. Signals say what changed; a host then
reads the property again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.desktop.dbus.menu import MENU_PATH
from claude_usage_gauge.desktop.dbus.objects import Interface, Method, Value

if TYPE_CHECKING:
    from PIL.Image import Image

ITEM_PATH = "/StatusNotifierItem"
INTERFACE = "org.kde.StatusNotifierItem"
# Panels draw tray icons at 16, 22 and 24 px, and at twice that on HiDPI: 32, 48 and 64 are
# those doubled (a 44 px slot gets the 48 scaled down a little, not a 24 blown up).
SIZES = (16, 22, 24, 32, 48, 64)
TITLE = "Claude usage"
ACTIVE = "Active"
NEEDS_ATTENTION = "NeedsAttention"

Pixmap = tuple[int, int, bytes]


def argb32(image: Image) -> Pixmap:
    """(width, height, ARGB32 in network byte order), as the specification asks."""
    from PIL import Image as PILImage

    rgba = image.convert("RGBA")
    red, green, blue, alpha = rgba.split()
    data = PILImage.merge("RGBA", (alpha, red, green, blue)).tobytes()
    return (rgba.width, rgba.height, data)


class StatusItem:
    """`on_activate(x, y)` for a left click where the host asks the item, `on_secondary` for a
    middle click; `emit` sends one of this interface's signals."""

    def __init__(
        self,
        on_activate: Callable[[], None],
        on_secondary: Callable[[], None],
        emit: Callable[[str, tuple[Any, ...]], None],
    ) -> None:
        self._on_activate = on_activate
        self._on_secondary = on_secondary
        self._emit = emit
        self.status = ACTIVE
        self.pixmaps: list[Pixmap] = []
        self.tooltip = ""

    def set_icon(self, pixmaps: list[Pixmap]) -> None:
        if pixmaps != self.pixmaps:
            self.pixmaps = pixmaps
            self._emit("NewIcon", ())
            self._emit("NewAttentionIcon", ())

    def set_tooltip(self, text: str) -> None:
        if text != self.tooltip:
            self.tooltip = text
            self._emit("NewToolTip", ())

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self._emit("NewStatus", (status,))

    def properties(self) -> dict[str, Value]:
        return {
            "Category": ("s", "ApplicationStatus"),
            "Id": ("s", APP_NAME),
            "Title": ("s", TITLE),
            "Status": ("s", self.status),
            "WindowId": ("i", 0),
            "IconName": ("s", ""),
            "IconThemePath": ("s", ""),
            "IconPixmap": ("a(iiay)", self.pixmaps),
            "OverlayIconName": ("s", ""),
            "OverlayIconPixmap": ("a(iiay)", []),
            "AttentionIconName": ("s", ""),
            # The gauge already draws the blocked state; hosts that swap icons keep showing it.
            "AttentionIconPixmap": ("a(iiay)", self.pixmaps),
            "AttentionMovieName": ("s", ""),
            "ToolTip": ("(sa(iiay)ss)", ("", [], TITLE, self.tooltip)),
            # Hosts that honour it open the menu on a left click, as the other trays do.
            "ItemIsMenu": ("b", True),
            "Menu": ("o", MENU_PATH),
        }

    def interface(self) -> Interface:
        return Interface(
            INTERFACE,
            {
                "Activate": Method("ii", "", self._activate),
                "SecondaryActivate": Method("ii", "", self._secondary),
                "ContextMenu": Method("ii", "", self._context_menu),
                "Scroll": Method("is", "", self._scroll),
            },
            self.properties,
            {
                "NewTitle": "",
                "NewIcon": "",
                "NewAttentionIcon": "",
                "NewOverlayIcon": "",
                "NewToolTip": "",
                "NewStatus": "s",
            },
        )

    def _activate(self, _x: int, _y: int) -> tuple[Any, ...]:
        self._on_activate()
        return ()

    def _secondary(self, _x: int, _y: int) -> tuple[Any, ...]:
        self._on_secondary()
        return ()

    def _context_menu(self, _x: int, _y: int) -> tuple[Any, ...]:
        # The host draws the menu from `Menu`; an item without a toolkit has nothing to pop up.
        return ()

    def _scroll(self, _delta: int, _orientation: str) -> tuple[Any, ...]:
        return ()

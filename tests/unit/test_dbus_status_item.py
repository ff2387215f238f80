"""The StatusNotifierItem's properties and signals, and its pixmaps' byte order."""

from __future__ import annotations

from typing import Any

from PIL import Image

from claude_usage_gauge.desktop.dbus.objects import split_signature
from claude_usage_gauge.desktop.dbus.status_item import (
    ACTIVE,
    NEEDS_ATTENTION,
    StatusItem,
    argb32,
)


def test_pixmaps_are_argb_in_network_byte_order() -> None:
    image = Image.new("RGBA", (2, 1))
    image.putpixel((0, 0), (10, 20, 30, 255))
    image.putpixel((1, 0), (200, 100, 50, 128))
    assert argb32(image) == (2, 1, bytes([255, 10, 20, 30, 128, 200, 100, 50]))


def _item() -> tuple[StatusItem, list[tuple[str, tuple[Any, ...]]], list[str]]:
    signals: list[tuple[str, tuple[Any, ...]]] = []
    clicks: list[str] = []
    item = StatusItem(
        lambda: clicks.append("activate"),
        lambda: clicks.append("secondary"),
        lambda member, body: signals.append((member, body)),
    )
    return item, signals, clicks


def test_signals_only_for_changes() -> None:
    item, signals, _ = _item()
    pixmaps = [(1, 1, b"\xff\x00\x00\x00")]
    item.set_icon(pixmaps)
    item.set_icon(list(pixmaps))
    item.set_tooltip("Claude · 5h 20 %")
    item.set_tooltip("Claude · 5h 20 %")
    item.set_status(ACTIVE)
    item.set_status(NEEDS_ATTENTION)
    assert signals == [
        ("NewIcon", ()),
        ("NewAttentionIcon", ()),
        ("NewToolTip", ()),
        ("NewStatus", ("NeedsAttention",)),
    ]


def test_properties_carry_the_tooltip_and_the_menu() -> None:
    item, _, clicks = _item()
    item.set_tooltip("Claude · 5h 20 % · week 10 %")
    props = item.properties()
    assert props["ToolTip"] == ("(sa(iiay)ss)", ("", [], "Claude usage", item.tooltip))
    assert props["ItemIsMenu"] == ("b", True)
    assert props["Menu"] == ("o", "/MenuBar")
    assert props["Status"] == ("s", "Active")
    methods = item.interface().methods
    methods["Activate"].handler(10, 20)
    methods["SecondaryActivate"].handler(10, 20)
    assert methods["ContextMenu"].handler(10, 20) == ()
    assert clicks == ["activate", "secondary"]


def test_signatures_split_into_complete_types() -> None:
    assert split_signature("isvu") == ["i", "s", "v", "u"]
    assert split_signature("u(ia{sv}av)") == ["u", "(ia{sv}av)"]
    assert split_signature("a(isvu)aai") == ["a(isvu)", "aai"]
    assert split_signature("") == []

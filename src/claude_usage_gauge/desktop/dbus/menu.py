"""com.canonical.dbusmenu: the tray's menu, as the desktop's tray host renders it.

Ids come from what an entry does: its action (or its key, for a submenu), qualified by the
submenu it sits in, through a table that never forgets. "Refresh now" keeps its id for the life
of the process, so a click that crosses a rebuild still reaches it. A rebuild changes labels and
properties in place (ItemsPropertiesUpdated); only a change of structure bumps the revision.
Informational rows are shown disabled: they are text, not commands.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from claude_usage_gauge.core.menu import Entry
from claude_usage_gauge.desktop.dbus.objects import Interface, InvalidArgs, Method, Value

log = logging.getLogger(__name__)

MENU_PATH = "/MenuBar"
INTERFACE = "com.canonical.dbusmenu"
ROOT = 0
_ID_SPAN = 2**31 - 1  # ids are positive int32
LAYOUT = "(ia{sv}av)"

Props = dict[str, Value]


class MenuIds:
    """Key -> id, the same id for the same key for as long as this process lives."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._taken: set[int] = {ROOT}

    def id_for(self, key: str) -> int:
        known = self._ids.get(key)
        if known is not None:
            return known
        # A hash of the key, not a counter: the same menu gets the same ids in every run too.
        candidate = zlib.crc32(key.encode()) % _ID_SPAN + 1
        while candidate in self._taken:
            candidate = candidate % _ID_SPAN + 1
        self._ids[key] = candidate
        self._taken.add(candidate)
        return candidate


@dataclass(frozen=True, slots=True)
class Item:
    props: Props
    children: tuple[int, ...]
    action: str | None


def _props(entry: Entry) -> Props:
    if entry.is_separator:
        return {"type": ("s", "separator"), "visible": ("b", True)}
    clickable = entry.action is not None or bool(entry.children)
    props: Props = {
        # An underscore marks a mnemonic in dbusmenu labels; paths and names keep theirs.
        "label": ("s", entry.text.replace("_", "__")),
        "enabled": ("b", entry.enabled and clickable),
        "visible": ("b", True),
    }
    if entry.checked is not None:
        props["toggle-type"] = ("s", "checkmark")
        props["toggle-state"] = ("i", 1 if entry.checked else 0)
    if entry.children:
        props["children-display"] = ("s", "submenu")
    return props


def flatten(entries: tuple[Entry, ...], ids: MenuIds) -> dict[int, Item]:
    """Every item by id, the root (0) included."""
    items: dict[int, Item] = {}

    def add(children: tuple[Entry, ...], parent_key: str) -> tuple[int, ...]:
        child_ids: list[int] = []
        seen: set[str] = set()
        for index, entry in enumerate(children):
            name = entry.key or entry.action
            key = f"{parent_key}/{name}" if name else f"{parent_key}/#{index}"
            if key in seen:  # the same action twice in one submenu
                key = f"{key}#{index}"
            seen.add(key)
            item_id = ids.id_for(key)
            grandchildren = add(entry.children, key) if entry.children else ()
            items[item_id] = Item(_props(entry), grandchildren, entry.action)
            child_ids.append(item_id)
        return tuple(child_ids)

    root_children = add(entries, "")
    items[ROOT] = Item({"children-display": ("s", "submenu")}, root_children, None)
    return items


def _only(props: Props, names: list[str]) -> Props:
    return {k: v for k, v in props.items() if k in names} if names else dict(props)


class DBusMenu:
    """The menu object. `rebuild` gives fresh entries (as of now) when a host opens the menu;
    `on_click` runs an action; `emit` sends one of this interface's signals."""

    def __init__(
        self,
        rebuild: Callable[[], tuple[Entry, ...]],
        on_click: Callable[[str], None],
        emit: Callable[[str, tuple[Any, ...]], None],
    ) -> None:
        self._rebuild = rebuild
        self._on_click = on_click
        self._emit = emit
        self._ids = MenuIds()
        self._items: dict[int, Item] = {ROOT: Item({}, (), None)}
        self.revision = 1

    # -- updates -------------------------------------------------------------------------------

    def update(self, entries: tuple[Entry, ...]) -> bool:
        """Show `entries`; True if anything changed (and the host was told)."""
        new = flatten(entries, self._ids)
        old, self._items = self._items, new
        if {i: item.children for i, item in old.items()} != {
            i: item.children for i, item in new.items()
        }:
            self.revision += 1
            self._emit("LayoutUpdated", (self.revision, ROOT))
            return True
        updated: list[tuple[int, Props]] = []
        removed: list[tuple[int, list[str]]] = []
        for item_id, item in new.items():
            before = old[item_id].props
            changed = {k: v for k, v in item.props.items() if before.get(k) != v}
            gone = [k for k in before if k not in item.props]
            if changed:
                updated.append((item_id, changed))
            if gone:
                removed.append((item_id, gone))
        if updated or removed:
            self._emit("ItemsPropertiesUpdated", (updated, removed))
            return True
        return False

    # -- the interface -------------------------------------------------------------------------

    def interface(self) -> Interface:
        return Interface(
            INTERFACE,
            {
                "GetLayout": Method("iias", "u" + LAYOUT, self._get_layout),
                "GetGroupProperties": Method("aias", "a(ia{sv})", self._get_group_properties),
                "GetProperty": Method("is", "v", self._get_property),
                "Event": Method("isvu", "", self._event),
                "EventGroup": Method("a(isvu)", "ai", self._event_group),
                "AboutToShow": Method("i", "b", self._about_to_show),
                "AboutToShowGroup": Method("ai", "aiai", self._about_to_show_group),
            },
            lambda: {
                "Version": ("u", 3),
                "TextDirection": ("s", "ltr"),
                "Status": ("s", "normal"),
                "IconThemePath": ("as", []),
            },
            {
                "ItemsPropertiesUpdated": "a(ia{sv})a(ias)",
                "LayoutUpdated": "ui",
                "ItemActivationRequested": "iu",
            },
        )

    def _item(self, item_id: int) -> Item:
        item = self._items.get(item_id)
        if item is None:
            raise InvalidArgs(f"no menu item {item_id}")
        return item

    def _layout(self, item_id: int, depth: int, names: list[str]) -> tuple[Any, ...]:
        item = self._items[item_id]
        children: list[tuple[str, Any]] = []
        if depth != 0:
            children = [(LAYOUT, self._layout(child, depth - 1, names)) for child in item.children]
        return (item_id, _only(item.props, names), children)

    def _get_layout(self, parent: int, depth: int, names: list[str]) -> tuple[Any, ...]:
        self._item(parent)
        return (self.revision, self._layout(parent, depth, names))

    def _get_group_properties(self, ids: list[int], names: list[str]) -> tuple[Any, ...]:
        wanted = ids or list(self._items)
        return ([(i, _only(self._items[i].props, names)) for i in wanted if i in self._items],)

    def _get_property(self, item_id: int, name: str) -> tuple[Any, ...]:
        value = self._item(item_id).props.get(name)
        if value is None:
            raise InvalidArgs(f"menu item {item_id} has no property {name}")
        return (value,)

    def _event(self, item_id: int, event: str, _data: Value, _timestamp: int) -> tuple[Any, ...]:
        item = self._item(item_id)
        if (
            event == "clicked"
            and item.action is not None
            and item.props.get("enabled", ("b", True))[1]
        ):
            self._on_click(item.action)
        return ()

    def _event_group(self, events: list[tuple[int, str, Value, int]]) -> tuple[Any, ...]:
        errors = [item_id for item_id, *_ in events if item_id not in self._items]
        for item_id, event, data, timestamp in events:
            if item_id in self._items:
                self._event(item_id, event, data, timestamp)
        return (errors,)

    def _about_to_show(self, item_id: int) -> tuple[Any, ...]:
        self._item(item_id)
        # The menu is opening: now is when "updated 2 min ago" must be true.
        return (self.update(self._rebuild()),)

    def _about_to_show_group(self, ids: list[int]) -> tuple[Any, ...]:
        errors = [i for i in ids if i not in self._items]
        changed = self.update(self._rebuild())
        return ([i for i in ids if i in self._items] if changed else [], errors)

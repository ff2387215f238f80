"""The dbusmenu model: ids that last, properties that say what a row is, updates as diffs."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from claude_usage_gauge.core.menu import SEPARATOR, Entry
from claude_usage_gauge.desktop.dbus.menu import ROOT, DBusMenu, MenuIds, flatten
from claude_usage_gauge.desktop.dbus.objects import InvalidArgs

MENU: tuple[Entry, ...] = (
    Entry("Claude Max plan usage", action="details", default=True),
    Entry("5-hour session: 20 %"),
    Entry("Updated just now"),
    SEPARATOR,
    Entry("Refresh now", action="refresh"),
    Entry(
        "Sign-in help",
        key="sign_in_help",
        children=(Entry("1. run claude"), SEPARATOR, Entry("usage page", "open_usage_page")),
    ),
    Entry("Open usage page", action="open_usage_page"),
    Entry("Notifications", action="toggle_notifications", checked=True),
    SEPARATOR,
    Entry("Quit", action="quit"),
)


class Recorder:
    def __init__(self) -> None:
        self.signals: list[tuple[str, tuple[Any, ...]]] = []
        self.clicks: list[str] = []
        self.entries = MENU

    def menu(self) -> DBusMenu:
        menu = DBusMenu(lambda: self.entries, self.clicks.append, self.emit)
        menu.update(self.entries)
        self.signals.clear()
        return menu

    def emit(self, member: str, body: tuple[Any, ...]) -> None:
        self.signals.append((member, body))


def _by_label(menu: DBusMenu) -> dict[str, tuple[int, dict[str, Any]]]:
    _, root = menu.interface().methods["GetLayout"].handler(ROOT, -1, [])
    out: dict[str, tuple[int, dict[str, Any]]] = {}

    def walk(node: tuple[Any, ...]) -> None:
        item_id, props, children = node
        if "label" in props:
            out[props["label"][1]] = (item_id, {k: v[1] for k, v in props.items()})
        for _signature, child in children:
            walk(child)

    walk(root)
    return out


def test_an_id_depends_on_the_key_only() -> None:
    first, second = MenuIds(), MenuIds()
    assert first.id_for("/refresh") == first.id_for("/refresh") == second.id_for("/refresh")
    assert first.id_for("/refresh") != first.id_for("/quit")
    assert 0 < first.id_for("/quit") < 2**31


def test_keys_whose_hashes_collide_still_get_their_own_ids() -> None:
    a, b = "/70755edee7d9", "/2aafdca574b0"  # found by search: the same id from the hash
    assert zlib.crc32(a.encode()) % (2**31 - 1) == zlib.crc32(b.encode()) % (2**31 - 1)
    ids = MenuIds()
    assert ids.id_for(a) != ids.id_for(b)
    assert ids.id_for(b) == ids.id_for(b)


def test_rows_say_what_they_are() -> None:
    rows = _by_label(Recorder().menu())
    assert rows["Claude Max plan usage"][1]["enabled"] is True
    assert rows["5-hour session: 20 %"][1]["enabled"] is False  # information, not a command
    assert rows["Notifications"][1]["toggle-type"] == "checkmark"
    assert rows["Notifications"][1]["toggle-state"] == 1
    assert rows["Sign-in help"][1]["children-display"] == "submenu"
    assert rows["Sign-in help"][1]["enabled"] is True


def test_underscores_are_not_mnemonics() -> None:
    items = flatten((Entry("/home/jo_doe/.claude", action="x"),), MenuIds())
    labels = [item.props["label"][1] for item in items.values() if "label" in item.props]
    assert labels == ["/home/jo__doe/.claude"]


def test_the_same_action_in_two_places_has_two_ids() -> None:
    rows = _by_label(Recorder().menu())
    assert rows["usage page"][0] != rows["Open usage page"][0]
    twice = (Entry("a", action="x"), Entry("b", action="x"))
    assert len(flatten(twice, MenuIds())) == 3  # the root and two items


def test_a_relabel_is_a_property_update_not_a_new_layout() -> None:
    recorder = Recorder()
    menu = recorder.menu()
    before = _by_label(menu)
    recorder.entries = tuple(
        Entry("Updated 2 min ago") if e.text == "Updated just now" else e for e in MENU
    )
    assert menu.update(recorder.entries)
    assert menu.revision == 2
    [(member, (updated, removed))] = recorder.signals
    assert member == "ItemsPropertiesUpdated"
    assert updated == [(before["Updated just now"][0], {"label": ("s", "Updated 2 min ago")})]
    assert removed == []
    assert not menu.update(recorder.entries)  # nothing changed, nothing sent


def test_a_new_row_is_a_new_layout_and_commands_keep_their_ids() -> None:
    recorder = Recorder()
    menu = recorder.menu()
    before = _by_label(menu)
    recorder.entries = (MENU[0], Entry("Extra usage: off"), *MENU[1:])
    assert menu.update(recorder.entries)
    assert recorder.signals == [("LayoutUpdated", (3, ROOT))]
    after = _by_label(menu)
    for label in ("Claude Max plan usage", "Refresh now", "Sign-in help", "usage page", "Quit"):
        assert after[label][0] == before[label][0], label


def test_a_checkbox_toggles_in_place() -> None:
    recorder = Recorder()
    menu = recorder.menu()
    item_id = _by_label(menu)["Notifications"][0]
    recorder.entries = tuple(
        Entry("Notifications", action="toggle_notifications", checked=False)
        if e.text == "Notifications"
        else e
        for e in MENU
    )
    menu.update(recorder.entries)
    assert recorder.signals == [
        ("ItemsPropertiesUpdated", ([(item_id, {"toggle-state": ("i", 0)})], []))
    ]


def test_clicks_reach_commands_only() -> None:
    recorder = Recorder()
    menu = recorder.menu()
    rows = _by_label(menu)
    event = menu.interface().methods["Event"].handler
    event(rows["Refresh now"][0], "clicked", ("s", ""), 0)
    event(rows["Refresh now"][0], "hovered", ("s", ""), 0)
    event(rows["5-hour session: 20 %"][0], "clicked", ("s", ""), 0)
    event(rows["Sign-in help"][0], "clicked", ("s", ""), 0)
    assert recorder.clicks == ["refresh"]
    with pytest.raises(InvalidArgs):
        event(424242, "clicked", ("s", ""), 0)
    group = menu.interface().methods["EventGroup"].handler
    errors = group([(rows["Quit"][0], "clicked", ("s", ""), 0), (7, "clicked", ("s", ""), 0)])
    assert errors == ([7],)
    assert recorder.clicks == ["refresh", "quit"]


def test_about_to_show_brings_time_words_up_to_date() -> None:
    recorder = Recorder()
    menu = recorder.menu()
    about = menu.interface().methods["AboutToShow"].handler
    assert about(ROOT) == (False,)  # nothing changed since the last update
    recorder.entries = tuple(
        Entry("Updated 3 min ago") if e.text == "Updated just now" else e for e in MENU
    )
    assert about(ROOT) == (True,)
    assert "Updated 3 min ago" in _by_label(menu)
    group = menu.interface().methods["AboutToShowGroup"].handler
    assert group([ROOT, 99]) == ([], [99])


def test_get_layout_honours_depth_and_names() -> None:
    menu = Recorder().menu()
    revision, (item_id, _props, children) = (
        menu.interface().methods["GetLayout"].handler(ROOT, 0, [])
    )
    assert (revision, item_id, children) == (menu.revision, ROOT, [])
    _, (_, _, children) = menu.interface().methods["GetLayout"].handler(ROOT, 1, ["label"])
    first = children[0][1]
    assert first[1] == {"label": ("s", "Claude Max plan usage")}
    assert first[2] == []  # depth 1: the children of the root, not theirs
    with pytest.raises(InvalidArgs):
        menu.interface().methods["GetLayout"].handler(31337, -1, [])

"""The running tray's StatusNotifierItem and dbusmenu, read and driven with busctl."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_usage_gauge.testing.session_bus import (
    ITEM,
    ITEM_PATH,
    MENU,
    MENU_PATH,
    SessionBus,
    missing_bus_tools,
    running_bus,
    wait_until,
)
from claude_usage_gauge.testing.tray_home import TrayHome


@contextlib.contextmanager
def private_bus(workdir: Path, *, watcher: bool = True) -> Iterator[SessionBus]:
    """A private session bus, with the real status-notifier-watcher unless `watcher` is False.
    Without the D-Bus tools the test fails in CI (they are part of the set-up) and is skipped
    elsewhere."""
    missing = missing_bus_tools()
    if missing:
        message = f"D-Bus tools missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with running_bus(workdir, watcher=watcher) as running:
        yield running


@dataclass(frozen=True)
class MenuItem:
    id: int
    props: dict[str, Any]
    children: tuple[MenuItem, ...]

    @property
    def label(self) -> str:
        return str(self.props.get("label", "")).replace("__", "_")

    @property
    def enabled(self) -> bool:
        return bool(self.props.get("enabled", True))

    def walk(self) -> list[MenuItem]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out

    def find(self, label: str) -> MenuItem:
        for item in self.walk():
            if item.label == label:
                return item
        raise AssertionError(f"{label!r} not in menu: {[i.label for i in self.walk()]}")


def _item(raw: list[Any]) -> MenuItem:
    item_id, props, children = raw
    return MenuItem(
        int(item_id),
        {name: value["data"] for name, value in props.items()},
        tuple(_item(child["data"]) for child in children),
    )


class TrayOnBus:
    """One running tray process and its well-known name on `bus`."""

    def __init__(self, bus: SessionBus, home: TrayHome) -> None:
        self.bus = bus
        self.home = home
        self.proc: subprocess.Popen[str] = home.launch()
        self._output: str | None = None
        found: list[str] = []

        def registered() -> bool:
            name = bus.item_name()
            if name is not None and name in bus.registered_items():
                found.append(name)
                return True
            return self.proc.poll() is not None

        assert wait_until(registered, 20), "the tray never registered its item"
        assert found, f"the tray ended: {self.output()}"
        self.name = found[0]

    def prop(self, name: str) -> Any:
        return self.bus.get(self.name, ITEM_PATH, ITEM, name)

    def tooltip(self) -> str:
        value = self.prop("ToolTip")
        return str(value[3]) if value else ""

    def layout(self) -> tuple[int, MenuItem]:
        revision, root = self.bus.call(
            self.name, MENU_PATH, MENU, "GetLayout", "iias", "--", "0", "-1", "0"
        )
        return int(revision), _item(root)

    def menu(self) -> MenuItem:
        return self.layout()[1]

    def about_to_show(self, item_id: int = 0) -> None:
        """Tell the tray its menu is opening, as a host does before it asks for the layout."""
        self.bus.call(self.name, MENU_PATH, MENU, "AboutToShow", "i", str(item_id))

    def click(self, item_id: int) -> None:
        self.bus.call(
            self.name, MENU_PATH, MENU, "Event", "isvu", str(item_id), "clicked", "s", "", "0"
        )

    def wait_tooltip(self, text: str, timeout: float = 15) -> bool:
        return wait_until(lambda: text in self.tooltip(), timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        """stdout and stderr, once the process has ended."""
        if self._output is None:
            if self.proc.poll() is None:
                return ""
            out, err = self.proc.communicate(timeout=10)
            self._output = out + err
        return self._output

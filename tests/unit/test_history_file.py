"""The history page's shell: where it is written, how it is opened, and that it never raises
on the tray's thread."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.history_file import PAGE_NAME, show_history
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from tests.support.usage_week import usage_week


def make_paths(root: Path) -> AppPaths:
    return AppPaths(root / "state", root / "data", root / "log", root / "config")


def test_the_menu_item_writes_a_private_page_and_opens_it(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    store = Store(paths)
    store.update(lambda _: usage_week(datetime.now(UTC)))
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    page = show_history(store, Settings(), paths, opener=browser)
    assert page == paths.state_dir / PAGE_NAME
    assert opened == [page.as_uri()]
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.state_dir.stat().st_mode) == 0o700
    assert "<svg" in page.read_text()


def test_the_menu_item_survives_a_broken_browser_and_an_unwritable_folder(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)

    def broken(url: str) -> bool:
        raise RuntimeError("no display")

    assert show_history(Store(paths), Settings(), paths, opener=broken) is not None
    blocker = tmp_path / "file"
    blocker.write_text("a file where the state folder should be\n")
    stuck = make_paths(blocker)
    assert show_history(Store(stuck), Settings(), stuck, opener=broken) is None

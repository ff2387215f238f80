"""The history page's shell: read the store, have the core write the page, save it, open it.

`claude-usage-gauge history [--open] [--output FILE]` and the tray's "Usage history…" both come
here. The page holds percents and times only (never the token, nor anything from the sign-in).
"""

from __future__ import annotations

import logging
import sys
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from claude_usage_gauge.core.history_page import history_page
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.files import write_atomically, write_private_file
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store

log = logging.getLogger(__name__)

PAGE_NAME = "usage-history.html"
EXIT_OK, EXIT_FAILED = 0, 1

Opener = Callable[[str], bool]


def default_page(paths: AppPaths) -> Path:
    return paths.state_dir / PAGE_NAME


def build_page(store: Store, settings: Settings, now: datetime) -> str:
    # The store folds in Claude Code's newest numbers on read, as the tray shows them.
    return history_page(store.read(), now, thresholds=settings.notify_percents)


def save_page(page: str, target: Path, *, ours: bool) -> None:
    """Our own folder is made private; a folder the user named is left as it is (the file is
    still 0600: usage is nobody else's business)."""
    if ours:
        write_private_file(target, page.encode())
    else:
        write_atomically(target, page.encode(), mode=0o600)


def open_page(target: Path, opener: Opener = webbrowser.open) -> bool:
    try:
        return bool(opener(target.resolve().as_uri()))
    except Exception as exc:  # a broken browser setup is not our crash
        log.warning("could not open a browser: %s", exc)
        return False


def history_command(
    paths: AppPaths,
    settings: Settings,
    *,
    output: str | None,
    open_browser: bool,
    now: datetime | None = None,
    opener: Opener = webbrowser.open,
) -> int:
    page = build_page(Store(paths), settings, now or datetime.now(UTC))
    if output == "-":
        sys.stdout.write(page)
        return EXIT_OK
    target = Path(output).expanduser() if output else default_page(paths)
    try:
        save_page(page, target, ours=output is None)
    except OSError as exc:
        print(f"Could not write {target}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    print(target, flush=True)
    if open_browser and not open_page(target, opener):
        print("No browser could be opened; open the file above yourself.", file=sys.stderr)
    return EXIT_OK


def show_history(
    store: Store, settings: Settings, paths: AppPaths, opener: Opener = webbrowser.open
) -> Path | None:
    """The tray's menu item: write the page to its usual place and open it. Never raises (it
    runs on a thread of its own); None when the page could not be written."""
    target = default_page(paths)
    try:
        save_page(build_page(store, settings, datetime.now(UTC)), target, ours=True)
    except Exception:
        log.exception("could not write the history page")
        return None
    open_page(target, opener)
    return target

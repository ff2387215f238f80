"""The tray menu as plain data (pure), so it is tested without a display.

The tray turns these entries into pystray items and maps each `action` name to a handler.
Confirmations are submenus ("Reset credentials file… ▸ Yes, move it aside"), which every backend
can show, instead of dialogs, which some cannot.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, replace
from datetime import datetime

from claude_usage_gauge.core.guidance import USAGE_PAGE, clock, help_steps
from claude_usage_gauge.core.text import MESSAGE_MAX, clean
from claude_usage_gauge.core.view import (
    View,
    error_line,
    summary_lines,
)

WRAP = 60


@dataclass(frozen=True, slots=True)
class Entry:
    text: str
    action: str | None = None  # None: an informational line
    checked: bool | None = None  # a checkbox when not None
    enabled: bool = True
    children: tuple[Entry, ...] = ()
    default: bool = False  # the left-click action where the backend has one
    # A name for an entry without an action (a submenu), so a backend that numbers entries can
    # keep its number across rebuilds; entries with an action are known by the action.
    key: str | None = None

    @property
    def is_separator(self) -> bool:
        return self.text == "-"


SEPARATOR = Entry("-")


@dataclass(frozen=True, slots=True)
class MenuContext:
    """What the menu needs beyond the view: facts the tray gathers from its shells."""

    plan: str | None = None
    notifications_on: bool = True
    autostart_on: bool | None = None  # None: autostart not available here
    newest_backup: str | None = None  # label of the newest credentials backup, if any
    credentials_path: str = ""
    backups_dir: str = ""
    platform: str = sys.platform


def _lines(text: str) -> tuple[Entry, ...]:
    # Paths stay whole: no breaks inside long words or at hyphens ("credential-backups").
    lines = textwrap.wrap(text, WRAP, break_long_words=False, break_on_hyphens=False)
    return tuple(Entry(line) for line in lines or [text])


def _header(context: MenuContext) -> str:
    # The plan is the credentials' own text: kept to a word's length, shown safe.
    plan = clean((context.plan or "").strip(), 24)
    return f"Claude {plan.capitalize()} plan usage" if plan else "Claude usage"


def _safe(entry: Entry) -> Entry:
    """Every label safe to show: no control, bidi or line-separator character reaches a menu."""
    children = tuple(_safe(child) for child in entry.children)
    text = clean(entry.text, limit=None)
    if text == entry.text and children == entry.children:
        return entry
    return replace(entry, text=text, children=children)


def _refresh_label(view: View) -> str:
    # Past the hourly budget a click still goes as soon as it fits: say when that is.
    if view.next_manual is None:
        return "Refresh now"
    return f"Refresh now (hourly limit; next {clock(view.next_manual)})"


def build_menu(view: View, now: datetime, context: MenuContext) -> tuple[Entry, ...]:
    entries: list[Entry] = [Entry(_header(context), action="details", default=True)]
    entries += [Entry(line) for line in summary_lines(view, now)]
    if view.usage is None and view.error is None:
        entries.append(Entry("Reading usage…"))

    problem = error_line(view)
    if problem is not None and view.error is not None:
        full = view.error.message + (f" ({view.error.detail})" if view.error.detail else "")
        details = _lines(clean(full, MESSAGE_MAX))
        if view.error.request_id:
            details += (Entry(f"Request id: {view.error.request_id}"),)
        # What support asks for, in one piece: versions, numbers, the last requests and their ids.
        details += (SEPARATOR, Entry("Copy a report for a bug filing", action="copy_report"))
        entries += [SEPARATOR, Entry(f"⚠ {problem}", children=details, key="problem")]

    kind = view.error.kind if view.error else None
    help_entries = tuple(
        Entry(f"{i}. {line}") for i, line in enumerate(help_steps(kind, context.platform), 1)
    )
    where = context.credentials_path or "the credentials file"
    # Paths on lines of their own: they are long, and a user may want to find them later.
    keychain: tuple[Entry, ...] = ()
    if context.platform == "darwin":
        # On macOS the sign-in lives in the Keychain; its backup is a Keychain item, not a file.
        keychain = (
            Entry('Moves the Keychain item "Claude Code-credentials"'),
            Entry('to the backup Keychain item "claude-usage-gauge-backup", and'),
        )
    reset = (
        *keychain,
        Entry("Moves the credentials file" + (", if there is one," if keychain else "")),
        Entry(f"    {where}"),
        Entry("to a backup in"),
        Entry(f"    {context.backups_dir}"),
        Entry("Nothing is deleted; 'Restore credentials…' undoes it."),
        Entry("Then log in again: run claude, then /login."),
        SEPARATOR,
        Entry("Yes, move it aside", action="reset_credentials"),
    )
    entries += [
        SEPARATOR,
        Entry(_refresh_label(view), action="refresh"),
        Entry("Usage history…", action="history"),
        Entry("Open usage page", action="open_usage_page"),
        Entry(
            "Sign-in help",
            children=(*help_entries, SEPARATOR, Entry(USAGE_PAGE, "open_usage_page")),
            key="sign_in_help",
        ),
        Entry("Reset credentials file…", children=reset, key="reset_confirm"),
    ]
    if context.newest_backup is not None:
        entries.append(
            Entry(
                "Restore credentials…",
                children=(
                    *_lines(f"Puts back the backup from {context.newest_backup}."),
                    Entry("Newer credentials, if any, are kept as another backup."),
                    SEPARATOR,
                    Entry("Yes, restore it", action="restore_credentials"),
                ),
                key="restore_confirm",
            )
        )
    entries += [
        SEPARATOR,
        Entry("Notifications", action="toggle_notifications", checked=context.notifications_on),
    ]
    if context.autostart_on is not None:
        entries.append(
            Entry("Start at login", action="toggle_autostart", checked=context.autostart_on)
        )
    entries += [SEPARATOR, Entry("Quit", action="quit")]
    return tuple(_safe(entry) for entry in entries)

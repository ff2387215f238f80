"""The tray menu as plain data (pure), so it is tested without a display.

The tray turns these entries into pystray items and maps each `action` name to a handler.
Confirmations are submenus ("Reset credentials file… ▸ Yes, move it aside"), which every backend
can show, instead of dialogs, which some cannot. Every text longer than a row is wrapped into
rows of at most `ROW_MAX` characters (`rows`), so no menu grows wider than ~480 px; rows
without an action are information, which backends show disabled.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.guidance import USAGE_PAGE, clock, help_steps
from claude_usage_gauge.core.schedule import BUDGET_SPENT, SPACED_OUT, Decision
from claude_usage_gauge.core.text import CONTINUATION, MESSAGE_MAX, ROW_MAX, clean, wrap
from claude_usage_gauge.core.view import (
    View,
    error_line,
    summary_lines,
)

WRAP = ROW_MAX
# The entry that undoes a reset; the reset's notification names it.
RESTORE_ENTRY = "Restore credentials…"
# The first choice of each confirmation, so that a stray Right + Return changes nothing.
KEEP_ACTION = "dismiss"


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

    @property
    def informational(self) -> bool:
        """Text, not a command: shown disabled where the backend can."""
        return self.action is None and not self.children and not self.is_separator

    @property
    def selectable(self) -> bool:
        """Reachable with the keyboard: not a separator, not information, not disabled."""
        return not self.is_separator and not self.informational and self.enabled


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
    # Whether there is a sign-in to move aside (None: not known; the view's problem decides).
    credentials_found: bool | None = None


def rows(text: str, *, indent: str = CONTINUATION) -> tuple[Entry, ...]:
    """`text` as informational rows of at most ROW_MAX characters, continuation rows indented.
    Every long text that becomes menu rows goes through here."""
    return tuple(Entry(line) for line in wrap(text, ROW_MAX, indent))


def _path_rows(path: str) -> tuple[Entry, ...]:
    # A path on rows of its own, indented: long, and a user may want to find it later.
    width = ROW_MAX - len(CONTINUATION)
    return tuple(Entry(CONTINUATION + line) for line in wrap(path, width, indent=""))


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


_AGAIN = "after you sign in again"
_SIGN_IN_WAIT = {
    ErrorKind.NO_CREDENTIALS: "after you sign in",
    ErrorKind.TOKEN_EXPIRED: "once Claude Code renews its sign-in",
}


def _manual_decision(view: View) -> Decision | None:
    if view.manual is None and view.next_manual is not None:
        return Decision(view.next_manual, BUDGET_SPENT)
    return view.manual


def refresh_possible_at(view: View, now: datetime) -> datetime | None:
    """When a held-back "Refresh now" becomes a click again (None: it is one, or only a new
    sign-in makes it one), so a tray can redraw its menu then."""
    decision = _manual_decision(view)
    if decision is None or decision.at is None or decision.at <= now:
        return None
    return decision.at


def refresh_entry(view: View, now: datetime) -> Entry:
    """The "Refresh now" row; when a click could not send a request, a disabled row saying when it
    can: during the spacing after a manual refresh, a rate limit, with the hourly budget spent,
    or while the sign-in is refused (only a new one helps)."""
    kind = view.error.kind if view.error is not None else None
    if kind is not None and kind.needs_new_credentials:
        # The tray looks at the sign-in every few seconds by itself: a click adds nothing.
        return Entry(f"Refresh now — {_SIGN_IN_WAIT.get(kind, _AGAIN)}", "refresh", enabled=False)
    decision = _manual_decision(view)
    if decision is None or decision.allows(now):
        return Entry("Refresh now", action="refresh")
    if decision.at is None:
        return Entry(f"Refresh now — {_AGAIN}", action="refresh", enabled=False)
    wait = decision.at - now
    when = "in under a minute" if wait < timedelta(minutes=1) else f"at {clock(decision.at)}"
    why = {
        "rate limited": " (rate limit)",
        BUDGET_SPENT: f" ({SPACED_OUT})",
    }.get(decision.reason, "")
    return Entry(f"Refresh now — possible {when}{why}", action="refresh", enabled=False)


def _problem_label(line: str) -> tuple[str, tuple[Entry, ...]]:
    """The problem submenu's one-row label, and the rows that open it when the whole line does
    not fit on that row (the label is then its first clause)."""
    label = f"⚠ {line}"
    if len(label) <= ROW_MAX:
        return label, ()
    for mark in (" — ", "; ", ": "):
        head = line.split(mark, 1)[0]
        if head != line and len(head) + 2 <= ROW_MAX:
            return f"⚠ {head}", (*rows(line), SEPARATOR)
    return f"⚠ {wrap(line, ROW_MAX - 3)[0]}…", (*rows(line), SEPARATOR)


def usage_section(view: View, now: datetime) -> list[Entry]:
    """One account's readings and its problem (if any): the numbers in words, when they are
    from, and the problem submenu with its full text and a report for a bug filing."""
    entries = [row for line in summary_lines(view, now) for row in rows(line)]
    if view.usage is None and view.error is None:
        entries.append(Entry("Reading usage…"))
    problem = error_line(view)
    if problem is not None and view.error is not None:
        label, lead = _problem_label(problem)
        detail = view.error.shown_detail
        full = view.error.message + (f" ({detail})" if detail else "")
        details = (*lead, *rows(clean(full, MESSAGE_MAX)))
        if view.error.request_id:
            details += rows(f"Request id: {view.error.request_id}")
        if not help_is_sign_in(view.error.kind):
            # What to do, where the problem is (the sign-in help is about signing in).
            details += (SEPARATOR, Entry("What to do:"), *_numbered(help_steps(view.error.kind)))
        # What support asks for, in one piece: versions, numbers, the last requests and their ids.
        details += (SEPARATOR, Entry("Copy a report for a bug filing", action="copy_report"))
        entries += [SEPARATOR, Entry(label, children=details, key="problem")]
    return entries


def _can_reset(view: View, context: MenuContext) -> bool:
    if context.credentials_found is not None:
        return context.credentials_found
    return not (view.error is not None and view.error.kind == ErrorKind.NO_CREDENTIALS)


def help_is_sign_in(kind: ErrorKind | None) -> bool:
    """Whether the help for `kind` is about the sign-in (the "Sign-in help" submenu shows it);
    other problems (rate limit, network, settings) carry their help in their own submenu."""
    return kind is None or kind.needs_new_credentials or kind == ErrorKind.OUT_OF_EXTRA_USAGE


def _numbered(steps: list[str]) -> tuple[Entry, ...]:
    return tuple(row for i, step in enumerate(steps, 1) for row in rows(f"{i}. {step}"))


def _help_entry(view: View, context: MenuContext, can_reset: bool) -> Entry:
    kind = view.error.kind if view.error else None
    if not help_is_sign_in(kind):
        kind = None  # that problem's help is in its own submenu; this one is how to sign in
    numbered = _numbered(help_steps(kind, context.platform, can_reset=can_reset))
    # Nothing to move aside: the help is how to sign in, and says so on the row.
    label = "Sign-in help" if can_reset else "How to sign in"
    children = (*numbered, SEPARATOR, Entry(USAGE_PAGE, "open_usage_page"))
    return Entry(label, children=children, key="sign_in_help")


def _reset_entry(context: MenuContext) -> Entry:
    where = context.credentials_path or "the credentials file"
    keychain: tuple[Entry, ...] = ()
    if context.platform == "darwin":
        # On macOS the sign-in lives in the Keychain; its backup is a Keychain item, not a file.
        keychain = rows(
            'Moves the Keychain item "Claude Code-credentials" to the backup Keychain item '
            '"claude-usage-gauge-backup", and'
        )
    confirm = (
        *keychain,
        *rows("Moves the credentials file" + (", if there is one," if keychain else "")),
        *_path_rows(where),
        Entry("to a backup in"),
        *_path_rows(context.backups_dir),
        *rows("Nothing is deleted; 'Restore credentials…' undoes it."),
        *rows("Then sign in again in Claude Code: run claude, then /login."),
        SEPARATOR,
        Entry("No, keep it", action=KEEP_ACTION),
        Entry("Yes, move it aside", action="reset_credentials"),
    )
    return Entry("Reset credentials file…", children=confirm, key="reset_confirm")


def _restore_entry(newest_backup: str) -> Entry:
    confirm = (
        *rows(f"Puts back the backup from {newest_backup}."),
        *rows("Newer credentials, if any, are kept as another backup."),
        SEPARATOR,
        Entry("No, leave it", action=KEEP_ACTION),
        Entry("Yes, restore it", action="restore_credentials"),
    )
    return Entry(RESTORE_ENTRY, children=confirm, key="restore_confirm")


def build_menu(view: View, now: datetime, context: MenuContext) -> tuple[Entry, ...]:
    entries: list[Entry] = [Entry(_header(context), action="details", default=True)]
    entries += usage_section(view, now)
    can_reset = _can_reset(view, context)
    entries += [
        SEPARATOR,
        refresh_entry(view, now),
        Entry("Usage history…", action="history"),
        Entry("Open usage page", action="open_usage_page"),
        _help_entry(view, context, can_reset),
    ]
    if can_reset:
        entries.append(_reset_entry(context))
    if context.newest_backup is not None:
        entries.append(_restore_entry(context.newest_backup))
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

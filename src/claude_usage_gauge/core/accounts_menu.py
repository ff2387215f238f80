"""The tray with several Claude accounts, as plain data (pure): which account the icon shows,
the tooltip that lists them all, and the menu with one submenu per account.

An account's submenu is the one-account menu (`menu.build_menu`) less what belongs to the whole
app (notifications, start at login, quit), with its actions named for the account
(`refresh@work`), so the tray knows whose credentials a reset moves. With one account none of
this is used: the menu is the one-account menu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from claude_usage_gauge.core.menu import (
    KEEP_ACTION,
    SEPARATOR,
    Entry,
    MenuContext,
    build_menu,
    refresh_possible_at,
)
from claude_usage_gauge.core.text import ROW_MAX, clean
from claude_usage_gauge.core.view import TOOLTIP_MAX, View, error_line
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

# Actions of the whole app: in the top menu once, not in each account's submenu.
APP_ACTIONS = frozenset(
    {"toggle_notifications", "toggle_autostart", "quit", "open_usage_page", KEEP_ACTION}
)
ACCOUNT_MARK = "@"


@dataclass(frozen=True, slots=True)
class AccountPanel:
    """One account as the menu shows it: its name, its view, the facts of its own sign-in."""

    name: str
    view: View
    context: MenuContext


def account_action(action: str, name: str) -> str:
    return f"{action}{ACCOUNT_MARK}{name}"


def split_action(action: str) -> tuple[str, str | None]:
    """`refresh@work` -> ("refresh", "work"); an app action -> (action, None)."""
    base, mark, name = action.partition(ACCOUNT_MARK)
    return (base, name) if mark else (action, None)


def _top_percent(view: View) -> float:
    percents = [p for p in (view.percent(FIVE_HOUR), view.percent(SEVEN_DAY)) if p is not None]
    return max(percents, default=-1.0)


def constraint(view: View) -> tuple[int, float]:
    """How constrained an account is, to compare: a limit reached, then a problem, then the
    highest percent."""
    top = _top_percent(view)
    if top >= 100:
        return (2, top)
    return (1 if view.error is not None else 0, top)


def most_constrained(views: Sequence[View]) -> int:
    """The index of the account the icon shows; the first (the primary) on a tie."""
    best = 0
    for index, view in enumerate(views):
        if constraint(view) > constraint(views[best]):
            best = index
    return best


def brief(view: View, *, short: bool = False) -> str:
    """'5h 42 % · week 18 %', with the problem in words if there is one (`short`: just ⚠)."""
    parts = []
    for window_id, label in ((FIVE_HOUR, "5h"), (SEVEN_DAY, "week")):
        percent = view.percent(window_id)
        if percent is not None:
            parts.append(f"{label} {percent:.0f} %")
    problem = error_line(view)
    if problem is not None:
        parts.append("⚠" if short else f"⚠ {problem}")
    elif not parts:
        parts.append("starting…")
    return " · ".join(parts)


def next_redraw(panels: Sequence[AccountPanel], now: datetime) -> datetime | None:
    """When the menu must be drawn again by itself: the first moment any account's held-back
    "Refresh now" turns back into a click (None: no account is waiting)."""
    moments = [m for panel in panels if (m := refresh_possible_at(panel.view, now)) is not None]
    return min(moments, default=None)


def accounts_tooltip(panels: Sequence[AccountPanel]) -> str:
    """Every account, a line each ('work: 5h 42 % · week 18 %'), at most TOOLTIP_MAX chars:
    the problems' words go first when they do not fit, then the tail."""
    text = ""
    for short in (False, True):
        lines = [clean(f"{p.name}: {brief(p.view, short=short)}", TOOLTIP_MAX) for p in panels]
        text = "\n".join(["Claude", *lines])
        if len(text) <= TOOLTIP_MAX:
            return text
    return text[: TOOLTIP_MAX - 1].rstrip() + "…"


def _for_account(entry: Entry, name: str) -> Entry:
    children = tuple(_for_account(child, name) for child in entry.children)
    action = entry.action
    if action is not None and action not in APP_ACTIONS:
        action = account_action(action, name)
    key = account_action(entry.key, name) if entry.key is not None else None
    return replace(entry, action=action, key=key, children=children)


def _tidy(entries: list[Entry]) -> tuple[Entry, ...]:
    """No separator first, last, or twice in a row."""
    out: list[Entry] = []
    for entry in entries:
        if entry.is_separator and (not out or out[-1].is_separator):
            continue
        out.append(entry)
    while out and out[-1].is_separator:
        out.pop()
    return tuple(out)


def account_section(panel: AccountPanel, now: datetime) -> tuple[Entry, ...]:
    """One account's submenu: its plan, numbers, problem, refresh, history, sign-in help, and
    reset/restore of its own credentials."""
    entries = list(build_menu(panel.view, now, panel.context))
    header, rest = entries[0], entries[1:]
    kept = [Entry(header.text)]  # the plan's name; the app's left-click action stays on top
    kept += [
        _for_account(entry, panel.name)
        for entry in rest
        if entry.action is None or entry.action not in APP_ACTIONS
    ]
    return _tidy(kept)


def accounts_menu(
    panels: Sequence[AccountPanel], now: datetime, context: MenuContext
) -> tuple[Entry, ...]:
    """The whole menu with several accounts: a submenu each, then what belongs to the app."""
    entries: list[Entry] = [Entry("Claude usage", action="details", default=True)]
    for panel in panels:
        # One row, so the menu stays narrow: the problem's words are in the submenu.
        label = clean(f"{panel.name} · {brief(panel.view, short=True)}", ROW_MAX)
        entries.append(
            Entry(
                label,
                children=account_section(panel, now),
                key=f"account{ACCOUNT_MARK}{panel.name}",
            )
        )
    # The app's own part of the one-account menu (wording kept in one place: menu.build_menu).
    app_part = [
        entry
        for entry in build_menu(panels[0].view, now, context)
        if entry.is_separator or (entry.action is not None and entry.action in APP_ACTIONS)
    ]
    entries += [SEPARATOR, Entry("Refresh all now", action="refresh"), *app_part]
    return _tidy(entries)

"""The tray with several accounts, as data: which account the icon shows, the tooltip that lists
them all, and one submenu per account whose actions name the account."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

from claude_usage_gauge.core.accounts_menu import (
    AccountPanel,
    account_section,
    accounts_menu,
    accounts_tooltip,
    constraint,
    most_constrained,
    split_action,
)
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.menu import Entry, MenuContext
from claude_usage_gauge.core.text import ROW_MAX
from claude_usage_gauge.core.view import TOOLTIP_MAX
from tests.unit.test_menu import CONTEXT, NOW, usage, view

RATE_LIMITED = Problem(ErrorKind.RATE_LIMITED, "Rate limited.")


def walk(entries: tuple[Entry, ...]) -> list[Entry]:
    out: list[Entry] = []
    for entry in entries:
        out += [entry, *walk(entry.children)]
    return out


def test_the_icon_shows_the_highest_percent_then_a_problem_then_a_limit_reached() -> None:
    low, high = view(usage(10.0, 5.0)), view(usage(80.0, 30.0))
    assert most_constrained([low, high]) == 1
    assert most_constrained([high, low]) == 0
    # The week counts as much as the session.
    assert most_constrained([low, view(usage(5.0, 60.0))]) == 1
    refused = view(usage(10.0, 5.0), error=RATE_LIMITED)
    assert most_constrained([high, refused]) == 1
    full = view(usage(100.0, 30.0))
    assert most_constrained([refused, full, high]) == 1
    # Nothing known yet ranks last; a tie keeps the primary.
    assert constraint(view()) < constraint(low)
    assert most_constrained([low, view(usage(10.0, 5.0))]) == 0


def test_the_tooltip_lists_every_account_within_the_limit() -> None:
    panels = [
        AccountPanel("personal", view(usage(12.0, 22.0)), MenuContext()),
        AccountPanel("work", view(usage(66.0, 77.0), error=RATE_LIMITED), MenuContext()),
        AccountPanel("new", view(), MenuContext()),
    ]
    two = accounts_tooltip(panels[:2]).splitlines()
    assert two[0] == "Claude"
    assert two[1] == "personal: 5h 12 % · week 22 %"
    assert two[2].startswith("work: 5h 66 % · week 77 % · ⚠ Rate")
    lines = accounts_tooltip(panels).splitlines()
    assert lines[1] == "personal: 5h 12 % · week 22 %"
    assert lines[2].startswith("work: 5h 66 % · week 77 % · ⚠")
    assert lines[3] == "new: starting…"
    assert len("\n".join(lines)) <= TOOLTIP_MAX
    # Too many problems to tell in words: each still marked, every number still there.
    crowded = [replace(panels[1], name=f"work{i}") for i in range(3)]
    short = accounts_tooltip(crowded).splitlines()
    assert short[1:] == [f"work{i}: 5h 66 % · week 77 % · ⚠" for i in range(3)]
    many = [AccountPanel(f"account{i}", view(usage()), MenuContext()) for i in range(9)]
    assert len(accounts_tooltip(many)) <= TOOLTIP_MAX


def test_an_accounts_section_acts_on_that_account_only() -> None:
    context = replace(CONTEXT, newest_backup="2026-11-29 10:00")
    section = account_section(AccountPanel("work", view(usage()), context), NOW)
    actions = {e.action for e in walk(section) if e.action is not None}
    assert {split_action(a) for a in actions} >= {
        ("refresh", "work"),
        ("history", "work"),
        ("reset_credentials", "work"),
        ("restore_credentials", "work"),
    }
    # The app's own entries are not repeated per account (the sign-in help's link may stay).
    bases = {split_action(a)[0] for a in actions}
    assert not bases & {"quit", "toggle_notifications", "toggle_autostart"}
    # A confirmation's "No" does nothing, for any account: it keeps its one name.
    assert all(
        split_action(a)[1] == "work" for a in actions if a not in ("open_usage_page", "dismiss")
    )
    # The header is the plan's name, no longer the app's left-click action.
    assert section[0] == Entry("Claude Max plan usage")
    assert not section[0].is_separator
    assert not section[-1].is_separator
    assert all(not (a.is_separator and b.is_separator) for a, b in pairwise(section))
    assert any(e.text.strip() == CONTEXT.credentials_path for e in walk(section))
    keys = [e.key for e in walk(section) if e.key is not None]
    assert keys
    assert all(k.endswith("@work") for k in keys)


def test_the_whole_menu_has_a_submenu_each_and_the_app_entries_once() -> None:
    panels = [
        AccountPanel("personal", view(usage(12.0, 22.0)), CONTEXT),
        AccountPanel("work", view(usage(66.0, 77.0)), CONTEXT),
    ]
    menu = accounts_menu(panels, NOW, replace(CONTEXT, autostart_on=False))
    assert menu[0].action == "details"
    assert menu[0].default
    assert [e.text for e in menu[1:3]] == [
        "personal · 5h 12 % · week 22 %",
        "work · 5h 66 % · week 77 %",
    ]
    assert menu[1].key != menu[2].key
    top_actions = [e.action for e in menu if e.action is not None]
    for action in ("refresh", "toggle_notifications", "toggle_autostart", "quit"):
        assert top_actions.count(action) == 1, top_actions
    everywhere = [e.action for e in walk(menu) if e.action is not None]
    assert everywhere.count("quit") == 1
    assert "refresh@personal" in everywhere
    assert "refresh@work" in everywhere


def test_an_accounts_problem_keeps_its_row_short_and_its_words_inside() -> None:
    problem = Problem(ErrorKind.RATE_LIMITED, "Rate limited.", retry_at=NOW + timedelta(hours=1))
    panels = [
        AccountPanel("personal", view(usage(12.0, 22.0)), CONTEXT),
        AccountPanel("work", view(usage(66.0, 77.0), error=problem), CONTEXT),
    ]
    menu = accounts_menu(panels, NOW, CONTEXT)
    assert menu[2].text == "work · 5h 66 % · week 77 % · ⚠"
    assert any(e.text.startswith("⚠ Rate limited") for e in menu[2].children)
    assert all(len(e.text) <= ROW_MAX for e in menu)


def test_the_menu_is_redrawn_when_the_first_accounts_refresh_becomes_a_click_again() -> None:
    from claude_usage_gauge.core.accounts_menu import AccountPanel, next_redraw
    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.core.state import State
    from claude_usage_gauge.core.view import build_view
    from tests.unit.test_menu import signed_in_state

    until = NOW + timedelta(minutes=35)
    limited = signed_in_state(
        last_kind=ErrorKind.RATE_LIMITED, rate_failures=1, rate_limited_until=until
    ).with_error(Problem(ErrorKind.RATE_LIMITED, "Rate limited.", retry_at=until), NOW)
    just_refreshed = replace(signed_in_state(last_success=NOW), last_manual=NOW)
    free = signed_in_state(last_success=NOW - timedelta(minutes=1))

    def panel(name: str, state: State) -> AccountPanel:
        return AccountPanel(name, build_view(state, NOW, Settings()), CONTEXT)

    alone = next_redraw([panel("personal", limited)], NOW)
    assert alone is not None
    assert alone >= until
    both = next_redraw([panel("personal", limited), panel("work", just_refreshed)], NOW)
    # The other account's short wait comes first: that is when the menu must change.
    assert both is not None
    assert NOW < both < until
    assert next_redraw([panel("personal", free), panel("work", free)], NOW) is None

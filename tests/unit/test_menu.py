"""The tray menu as plain data: what each line says, which actions exist, and when."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import USAGE_PAGE, clock, headline
from claude_usage_gauge.core.menu import SEPARATOR, WRAP, Entry, MenuContext, build_menu
from claude_usage_gauge.core.state import HistoryPoint
from claude_usage_gauge.core.usage import ExtraUsage, Source, Usage, Window
from claude_usage_gauge.core.view import View, window_line
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONTEXT = MenuContext(
    plan="max",
    credentials_path="/home/alice/.claude/.credentials.json",
    backups_dir="/home/alice/.local/share/claude-usage-gauge/credential-backups",
    platform="linux",
)


def usage(
    five: float = 42.0,
    week: float = 18.0,
    *,
    source: Source = "api",
    fetched_at: datetime = NOW,
    extra: ExtraUsage | None = None,
    five_resets: datetime | None = NOW + timedelta(hours=2),
) -> Usage:
    return Usage(
        windows=(
            Window(FIVE_HOUR, "5-hour session", five, five_resets),
            Window(SEVEN_DAY, "Week (all models)", week, NOW + timedelta(days=3)),
            Window("seven_day_opus", "Week (Opus)", 7.0, None),
        ),
        extra_usage=extra,
        fetched_at=fetched_at,
        source=source,
    )


def view(
    data: Usage | None = None,
    *,
    error: Problem | None = None,
    stale: bool = False,
    history: tuple[HistoryPoint, ...] = (),
) -> View:
    return View(
        usage=data,
        stale=stale,
        error=error,
        error_at=NOW if error else None,
        state=DisplayState.FRESH,
        history=history,
    )


def texts(entries: tuple[Entry, ...]) -> list[str]:
    return [e.text for e in entries]


def entry(entries: tuple[Entry, ...], prefix: str) -> Entry:
    found = [e for e in entries if e.text.startswith(prefix)]
    assert len(found) == 1, texts(entries)
    return found[0]


def has(entries: tuple[Entry, ...], prefix: str) -> bool:
    return any(e.text.startswith(prefix) for e in entries)


# -- the readings ----------------------------------------------------------------------------


def test_header_names_the_plan_and_opens_details() -> None:
    menu = build_menu(view(usage()), NOW, CONTEXT)
    assert menu[0] == Entry("Claude Max plan usage", action="details", default=True)
    plain = build_menu(view(usage()), NOW, MenuContext(plan=None))
    assert plain[0].text == "Claude usage"
    assert build_menu(view(usage()), NOW, MenuContext(plan="  "))[0].text == "Claude usage"


def test_one_line_per_window_in_order() -> None:
    data = usage()
    menu = build_menu(view(data), NOW, CONTEXT)
    assert texts(menu[1:4]) == [window_line(w, NOW) for w in data.windows]
    session_reset = clock(NOW + timedelta(hours=2))
    assert menu[1].text == f"5-hour session: 42 % · resets {session_reset} (in 2 h)"
    assert menu[2].text.startswith("Week (all models): 18 % · resets ")
    assert menu[3].text == "Week (Opus): 7 %"
    assert all(e.action is None and not e.children for e in menu[1:4])


def test_extra_usage_with_a_limit() -> None:
    extra = ExtraUsage(enabled=True, used=20.5, limit=50.0, currency="USD", percent=41.0)
    menu = build_menu(view(usage(extra=extra)), NOW, CONTEXT)
    assert entry(menu, "Extra usage").text == "Extra usage: $20.50 of $50.00"


def test_extra_usage_unlimited_and_off() -> None:
    unlimited = ExtraUsage(enabled=True, used=20.5, limit=None, currency="USD", percent=None)
    menu = build_menu(view(usage(extra=unlimited)), NOW, CONTEXT)
    assert entry(menu, "Extra usage").text == "Extra usage: $20.50 (no monthly limit)"
    off = ExtraUsage(enabled=False, used=None, limit=None, currency=None, percent=None)
    assert entry(build_menu(view(usage(extra=off)), NOW, CONTEXT), "Extra usage").text == (
        "Extra usage: off"
    )
    assert not has(build_menu(view(usage()), NOW, CONTEXT), "Extra usage")


def climbing(percent_then: float, percent_now: float, minutes: int) -> tuple[HistoryPoint, ...]:
    return (
        HistoryPoint(NOW - timedelta(minutes=minutes), {FIVE_HOUR: percent_then}),
        HistoryPoint(NOW, {FIVE_HOUR: percent_now}),
    )


def test_pace_line_when_the_limit_comes_before_the_reset() -> None:
    # 30 % → 60 % in 30 min: 1 % a minute, so 100 % in 40 min, well before the reset in 2 h.
    menu = build_menu(view(usage(60.0), history=climbing(30.0, 60.0, 30)), NOW, CONTEXT)
    reach = NOW + timedelta(minutes=40)
    assert entry(menu, "At this pace").text == (
        f"At this pace the session limit is reached at {clock(reach)}"
    )


def test_no_pace_line_when_the_reset_comes_first() -> None:
    data = usage(60.0, five_resets=NOW + timedelta(minutes=20))
    menu = build_menu(view(data, history=climbing(30.0, 60.0, 30)), NOW, CONTEXT)
    assert not has(menu, "At this pace")


def test_no_pace_line_without_a_climb() -> None:
    menu = build_menu(view(usage(60.0), history=climbing(60.0, 60.0, 30)), NOW, CONTEXT)
    assert not has(menu, "At this pace")


@pytest.mark.parametrize(
    ("source", "origin"), [("api", "from the API"), ("statusline", "from Claude Code")]
)
def test_updated_line_names_the_source(source: Source, origin: str) -> None:
    data = usage(source=source, fetched_at=NOW - timedelta(minutes=3))
    menu = build_menu(view(data), NOW, CONTEXT)
    assert entry(menu, "Updated").text == f"Updated 3 min ago · {origin}"
    stale = build_menu(view(data, stale=True), NOW, CONTEXT)
    assert entry(stale, "Updated").text == f"Updated 3 min ago · {origin} (stale)"


def test_nothing_known_yet_says_so() -> None:
    menu = build_menu(view(None), NOW, CONTEXT)
    assert menu[1].text == "Reading usage…"
    assert not has(menu, "Updated")
    assert not has(menu, "⚠")


# -- problems --------------------------------------------------------------------------------


def test_error_entry_holds_the_full_text() -> None:
    retry = NOW + timedelta(minutes=5)
    problem = Problem(
        ErrorKind.RATE_LIMITED,
        "Rate limited by the usage service.",
        retry_at=retry,
        detail="HTTP 429: Rate limited. Please try again later. The service gave no wait time.",
    )
    menu = build_menu(view(usage(), error=problem), NOW, CONTEXT)
    warning = entry(menu, "⚠")
    assert warning.text == f"⚠ {headline(problem)}"
    assert warning.action is None
    assert all(len(line.text) <= WRAP for line in warning.children)
    words = [e for e in warning.children if e.action is None and not e.is_separator]
    assert " ".join(texts(tuple(words))) == f"{problem.message} ({problem.detail})"
    assert warning.children[-1].action == "copy_report"
    # A separator sets the problem apart from the readings.
    assert menu[menu.index(warning) - 1] == SEPARATOR


def test_error_without_data_shows_no_reading_placeholder() -> None:
    problem = Problem(ErrorKind.NO_CREDENTIALS, "Not signed in to Claude Code.")
    menu = build_menu(view(None, error=problem), NOW, CONTEXT)
    assert not has(menu, "Reading usage")
    assert entry(menu, "⚠").text == "⚠ Not signed in to Claude Code"
    assert texts(entry(menu, "⚠").children)[0] == "Not signed in to Claude Code."
    assert entry(menu, "⚠").children[-1].action == "copy_report"


def test_out_of_extra_usage_shows_the_plans_own_percent() -> None:
    problem = Problem(
        ErrorKind.OUT_OF_EXTRA_USAGE, "The usage service says you are out of extra usage."
    )
    menu = build_menu(view(usage(5.0), error=problem), NOW, CONTEXT)
    line = entry(menu, "⚠").text
    assert "your plan is at 5 % (5-hour)" in line
    assert line.startswith("⚠ The server says: out of extra usage")


def test_sign_in_help_follows_the_problem() -> None:
    problem = Problem(ErrorKind.TOKEN_EXPIRED, "expired")
    help_menu = entry(build_menu(view(usage(), error=problem), NOW, CONTEXT), "Sign-in help")
    assert help_menu.children[0].text.startswith("1. Claude Code refreshes its sign-in")
    assert help_menu.children[-1] == Entry(USAGE_PAGE, "open_usage_page")
    plain = entry(build_menu(view(usage()), NOW, CONTEXT), "Sign-in help")
    assert plain.children[0].text == "1. Open a terminal and run: claude"


# -- credentials actions ---------------------------------------------------------------------


def test_reset_asks_for_confirmation_and_says_where_the_backup_goes() -> None:
    menu = build_menu(view(usage()), NOW, CONTEXT)
    reset = entry(menu, "Reset credentials file")
    assert reset.action is None  # the top entry only opens the confirmation
    said = " ".join(texts(reset.children))
    assert CONTEXT.credentials_path in said
    assert "Nothing is deleted" in said
    assert "/login" in said
    assert reset.children[-1] == Entry("Yes, move it aside", action="reset_credentials")
    assert [e.action for e in reset.children if e.action] == ["reset_credentials"]


def test_backup_folder_is_shown_in_one_piece() -> None:
    # A typical Linux backups folder is longer than one wrapped line.
    assert len(CONTEXT.backups_dir) > WRAP
    reset = entry(build_menu(view(usage()), NOW, CONTEXT), "Reset credentials file")
    assert any(CONTEXT.backups_dir in line.text for line in reset.children), texts(reset.children)


def test_restore_only_when_there_is_a_backup() -> None:
    assert not has(build_menu(view(usage()), NOW, CONTEXT), "Restore credentials")
    context = MenuContext(plan="pro", newest_backup="2026-03-10 11:42", platform="linux")
    restore = entry(build_menu(view(usage()), NOW, context), "Restore credentials")
    assert restore.action is None
    assert "2026-03-10 11:42" in " ".join(texts(restore.children))
    assert restore.children[-1] == Entry("Yes, restore it", action="restore_credentials")


# -- settings and the end --------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False])
def test_notifications_checkbox_reflects_the_setting(on: bool) -> None:
    menu = build_menu(view(usage()), NOW, MenuContext(notifications_on=on))
    assert entry(menu, "Notifications") == Entry(
        "Notifications", action="toggle_notifications", checked=on
    )


@pytest.mark.parametrize("on", [True, False])
def test_start_at_login_when_available(on: bool) -> None:
    assert not has(build_menu(view(usage()), NOW, MenuContext(autostart_on=None)), "Start at")
    menu = build_menu(view(usage()), NOW, MenuContext(autostart_on=on))
    assert entry(menu, "Start at login") == Entry(
        "Start at login", action="toggle_autostart", checked=on
    )


@pytest.mark.parametrize(
    "data_and_error",
    [
        (None, None),
        (usage(), None),
        (usage(), Problem(ErrorKind.NETWORK, "No connection.")),
        (None, Problem(ErrorKind.TOKEN_EXPIRED, "Expired.")),
    ],
)
def test_fixed_actions_and_quit_last(data_and_error: tuple[Usage | None, Problem | None]) -> None:
    data, error = data_and_error
    context = MenuContext(autostart_on=True, newest_backup="yesterday")
    menu = build_menu(view(data, error=error), NOW, context)
    assert menu[-1] == Entry("Quit", action="quit")
    assert menu[-2] == SEPARATOR
    actions = [e.action for e in menu if e.action]
    assert actions == [
        "details",
        "refresh",
        "history",
        "open_usage_page",
        "toggle_notifications",
        "toggle_autostart",
        "quit",
    ]
    # No two separators in a row, none first.
    assert not menu[0].is_separator
    assert all(not (a.is_separator and b.is_separator) for a, b in itertools.pairwise(menu))


def test_on_macos_the_reset_confirmation_names_the_keychain_backup() -> None:
    context = MenuContext(
        plan="max",
        credentials_path="/Users/a/.claude/.credentials.json",
        backups_dir="/Users/a/Library/Application Support/claude-usage-gauge/credential-backups",
        platform="darwin",
    )
    reset = entry(build_menu(view(usage()), NOW, context), "Reset credentials file")
    said = " ".join(texts(reset.children))
    assert "Keychain item" in said
    assert "claude-usage-gauge-backup" in said
    linux = entry(build_menu(view(usage()), NOW, CONTEXT), "Reset credentials file")
    assert "Keychain" not in " ".join(texts(linux.children))


def test_the_menu_says_when_the_next_check_and_the_next_manual_refresh_are() -> None:
    waiting = View(
        usage=usage(),
        stale=False,
        error=None,
        error_at=None,
        state=DisplayState.FRESH,
        next_check=NOW + timedelta(minutes=15),
        next_manual=NOW + timedelta(minutes=2),
    )
    menu = build_menu(waiting, NOW, MenuContext())
    assert entry(menu, "Next check").text == f"Next check {clock(NOW + timedelta(minutes=15))}"
    refresh = entry(menu, "Refresh now")
    assert refresh.text == f"Refresh now (hourly limit; next {clock(NOW + timedelta(minutes=2))})"
    assert refresh.action == "refresh"
    assert entry(menu, "Usage history").action == "history"
    # Within the budget, the plain label; with a problem, its own line says when the next try is.
    plain = build_menu(view(usage()), NOW, MenuContext())
    assert entry(plain, "Refresh now").text == "Refresh now"
    failing = build_menu(
        view(usage(), error=Problem(ErrorKind.NETWORK, "down")), NOW, MenuContext()
    )
    assert not has(failing, "Next check")

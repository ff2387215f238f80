"""The tray menu as plain data: what each line says, which actions exist, and when."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import USAGE_PAGE, clock, headline, help_steps
from claude_usage_gauge.core.menu import (
    KEEP_ACTION,
    SEPARATOR,
    WRAP,
    Entry,
    MenuContext,
    build_menu,
)
from claude_usage_gauge.core.schedule import Gate
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import HistoryPoint, State
from claude_usage_gauge.core.text import CONTINUATION
from claude_usage_gauge.core.usage import ExtraUsage, Source, Usage, Window
from claude_usage_gauge.core.view import View, build_view, window_line
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


def joined(entries: tuple[Entry, ...], prefix: str) -> str:
    """The line that starts with `prefix`, with its continuation rows put back together."""
    said = texts(entries)
    start = next(i for i, text in enumerate(said) if text.startswith(prefix))
    parts = [said[start]]
    for text in said[start + 1 :]:
        if not text.startswith(CONTINUATION):
            break
        parts.append(text.strip())
    return " ".join(parts)


@pytest.mark.parametrize(
    ("source", "origin"),
    [("api", "from the usage service"), ("statusline", "from Claude Code's status line")],
)
def test_updated_line_names_the_source(source: Source, origin: str) -> None:
    data = usage(source=source, fetched_at=NOW - timedelta(minutes=3))
    menu = build_menu(view(data), NOW, CONTEXT)
    assert joined(menu, "Updated") == f"Updated 3 min ago · {origin}"
    # Stale numbers say when they are from and how old, never "updated" or "just now".
    stale = build_menu(view(data, stale=True), NOW, CONTEXT)
    assert not has(stale, "Updated")
    from_line = joined(stale, "Numbers from")
    assert from_line == f"Numbers from {clock(NOW - timedelta(minutes=3))} (3 min old) · {origin}"
    just = usage(source=source, fetched_at=NOW - timedelta(seconds=20))
    assert "just now" not in " ".join(texts(build_menu(view(just, stale=True), NOW, CONTEXT)))
    assert (
        "under a minute old" in entry(build_menu(view(just, stale=True), NOW, CONTEXT), "Num").text
    )


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
    text = warning.children[: warning.children.index(SEPARATOR)]
    words = [e.text.strip() for e in text]
    assert " ".join(words) == f"{problem.message} ({problem.detail})"
    assert all(e.text.startswith(CONTINUATION) for e in text[1:])
    assert warning.children[-1].action == "copy_report"
    # A separator sets the problem apart from the readings.
    assert menu[menu.index(warning) - 1] == SEPARATOR


@pytest.mark.parametrize(
    "kind",
    [ErrorKind.RATE_LIMITED, ErrorKind.NETWORK, ErrorKind.SERVER_ERROR, ErrorKind.CONFIG],
)
def test_a_problem_not_about_the_sign_in_says_what_to_do_in_its_submenu(kind: ErrorKind) -> None:
    problem = Problem(kind, "words")
    menu = build_menu(view(usage(), error=problem), NOW, CONTEXT)
    warning = entry(menu, "⚠")
    said = texts(warning.children)
    start = said.index("What to do:")
    steps = " ".join(line.strip() for line in said[start + 1 : -2])
    assert steps == " ".join(f"{i}. {step}" for i, step in enumerate(help_steps(kind), 1))
    assert all(len(line) <= WRAP for line in said)
    assert warning.children[-1].action == "copy_report"
    # "Sign-in help" is about signing in, not a second copy of these steps.
    sign_in = " ".join(texts(entry(menu, "Sign-in help").children))
    assert help_steps(kind)[0] not in sign_in
    assert "claude" in sign_in


@pytest.mark.parametrize(
    "kind", [ErrorKind.TOKEN_EXPIRED, ErrorKind.NO_CREDENTIALS, ErrorKind.OUT_OF_EXTRA_USAGE]
)
def test_a_sign_in_problem_keeps_its_help_in_sign_in_help(kind: ErrorKind) -> None:
    menu = build_menu(view(usage(), error=Problem(kind, "words")), NOW, CONTEXT)
    assert "What to do:" not in texts(entry(menu, "⚠").children)


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
    # Too long for one row: the submenu's label is its first clause, the whole line opens it.
    warning = entry(menu, "⚠")
    assert warning.text == "⚠ The usage service says: out of extra usage"
    said = " ".join(e.text.strip() for e in warning.children if e.informational)
    assert "your plan is at 5 % (5-hour)" in said
    assert all(len(e.text) <= WRAP for e in warning.children)


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
    assert "sign in again in Claude Code" in said
    assert reset.children[-1] == Entry("Yes, move it aside", action="reset_credentials")
    # The first choice the keyboard reaches is the harmless one: a stray Return keeps the file.
    assert [e for e in reset.children if e.selectable] == [
        Entry("No, keep it", action=KEEP_ACTION),
        Entry("Yes, move it aside", action="reset_credentials"),
    ]


def test_backup_folder_is_cut_only_after_a_separator() -> None:
    # A typical Linux backups folder is longer than one row: it goes on indented rows of its
    # own, cut after a "/", so it reads back whole.
    assert len(CONTEXT.backups_dir) > WRAP
    reset = entry(build_menu(view(usage()), NOW, CONTEXT), "Reset credentials file")
    said = texts(reset.children)
    start = said.index("to a backup in") + 1
    parts = [line.strip() for line in said[start : start + 2]]
    assert parts[0].endswith("/")
    assert "".join(parts) == CONTEXT.backups_dir
    assert all(line.startswith(CONTINUATION) for line in said[start : start + 2])
    assert all(len(line) <= WRAP for line in said)


def test_restore_only_when_there_is_a_backup() -> None:
    assert not has(build_menu(view(usage()), NOW, CONTEXT), "Restore credentials")
    context = MenuContext(plan="pro", newest_backup="2026-03-10 11:42", platform="linux")
    restore = entry(build_menu(view(usage()), NOW, context), "Restore credentials")
    assert restore.action is None
    assert "2026-03-10 11:42" in " ".join(texts(restore.children))
    assert [e for e in restore.children if e.selectable] == [
        Entry("No, leave it", action=KEEP_ACTION),
        Entry("Yes, restore it", action="restore_credentials"),
    ]


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
    assert refresh.text == (
        f"Refresh now — possible at {clock(NOW + timedelta(minutes=2))} (spaced out)"
    )
    assert refresh.action == "refresh"
    assert not refresh.enabled  # a click would do nothing: the row says why instead
    assert entry(menu, "Usage history").action == "history"
    # Within the budget, the plain label; with a problem, its own line says when the next try is.
    plain = build_menu(view(usage()), NOW, MenuContext())
    assert entry(plain, "Refresh now").text == "Refresh now"
    failing = build_menu(
        view(usage(), error=Problem(ErrorKind.NETWORK, "down")), NOW, MenuContext()
    )
    assert not has(failing, "Next check")


# -- clicks that would do nothing say why ------------------------------------------------------


def built(state: State, now: datetime = NOW) -> tuple[Entry, ...]:
    return build_menu(build_view(state, now, Settings()), now, CONTEXT)


def signed_in_state(**gate: Any) -> State:
    data = usage(fetched_at=NOW - timedelta(minutes=1))
    return State(salt=b"s" * 16, snapshot=data).with_gate("fp", Gate(**gate))


def test_refresh_is_a_plain_click_when_it_would_ask() -> None:
    refresh = entry(built(signed_in_state(last_success=NOW - timedelta(minutes=1))), "Refresh")
    assert refresh == Entry("Refresh now", action="refresh")


def test_during_a_rate_limit_refresh_says_when_it_is_possible() -> None:
    until = NOW + timedelta(minutes=35)
    state = signed_in_state(
        last_kind=ErrorKind.RATE_LIMITED, rate_failures=1, rate_limited_until=until
    ).with_error(Problem(ErrorKind.RATE_LIMITED, "Rate limited.", retry_at=until), NOW)
    refresh = entry(built(state), "Refresh now")
    assert refresh.text == f"Refresh now — possible at {clock(until)} (rate limit)"
    assert refresh.action == "refresh"  # the same row (and id) as the clickable one
    assert not refresh.enabled
    # Once the wait is over, the click is back.
    assert entry(built(state, until), "Refresh now").enabled


def test_right_after_a_manual_refresh_the_row_says_it_is_a_moment() -> None:
    state = replace(signed_in_state(last_success=NOW), last_manual=NOW - timedelta(seconds=3))
    refresh = entry(built(state), "Refresh now")
    assert refresh.text == "Refresh now — possible in under a minute"
    assert not refresh.enabled


def test_with_the_hourly_budget_spent_refresh_says_until_when() -> None:
    state = signed_in_state(last_success=NOW)
    for seconds in range(0, 600, 60):  # ten requests in ten minutes: the bucket is empty
        state = state.with_request(NOW - timedelta(seconds=seconds))
    refresh = entry(built(state), "Refresh now")
    assert refresh.text.startswith("Refresh now — possible at ")
    assert refresh.text.endswith("(spaced out)")
    assert not refresh.enabled


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (ErrorKind.NO_CREDENTIALS, "after you sign in"),
        (ErrorKind.TOKEN_EXPIRED, "once Claude Code renews its sign-in"),
        (ErrorKind.BAD_CREDENTIALS, "after you sign in again"),
    ],
)
def test_a_sign_in_problem_found_locally_needs_no_click(kind: ErrorKind, words: str) -> None:
    # No token was ever used (no gate): the tray itself looks at the sign-in every few seconds.
    state = State(salt=b"s" * 16).with_error(Problem(kind, "x"), NOW)
    refresh = entry(built(state), "Refresh now")
    assert refresh.text == f"Refresh now — {words}"
    assert not refresh.enabled


def test_a_refused_sign_in_waits_for_a_new_one() -> None:
    state = signed_in_state(last_kind=ErrorKind.UNAUTHORIZED, failed_signature="").with_error(
        Problem(ErrorKind.UNAUTHORIZED, "Refused."), NOW
    )
    refresh = entry(built(state), "Refresh now")
    assert refresh.text == "Refresh now — after you sign in again"
    assert not refresh.enabled


# -- rows fit ----------------------------------------------------------------------------------


def every_row(entries: tuple[Entry, ...]) -> list[Entry]:
    out: list[Entry] = []
    for e in entries:
        out.append(e)
        out += every_row(e.children)
    return out


@pytest.mark.parametrize("kind", [None, *ErrorKind])
@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_no_row_is_wider_than_a_row(kind: ErrorKind | None, platform: str) -> None:
    error = None
    if kind is not None:
        error = Problem(kind, "A message the server wrote " * 12, detail="HTTP 500 " * 20)
    context = replace(CONTEXT, platform=platform, newest_backup="2026-03-10 11:42")
    extra = ExtraUsage(enabled=True, used=20.5, limit=50.0, currency="USD", percent=41.0)
    data = usage(extra=extra, fetched_at=NOW - timedelta(hours=2, minutes=13))
    menu = build_menu(view(data, error=error, stale=True), NOW, context)
    long_rows = [e.text for e in every_row(menu) if len(e.text) > WRAP]
    assert not long_rows


def test_information_rows_are_not_commands() -> None:
    menu = build_menu(view(usage()), NOW, CONTEXT)
    info = [e for e in every_row(menu) if e.informational]
    assert info
    assert all(e.action is None and not e.children for e in info)
    assert not any(e.selectable for e in info)


# -- without a sign-in ---------------------------------------------------------------------------


def test_without_credentials_the_menu_suggests_signing_in_not_a_reset() -> None:
    problem = Problem(ErrorKind.NO_CREDENTIALS, "Not signed in to Claude Code.")
    menu = build_menu(view(None, error=problem), NOW, CONTEXT)
    assert not has(menu, "Reset credentials")
    how = entry(menu, "How to sign in")
    said = " ".join(texts(how.children))
    assert "/login" in said
    assert "Reset" not in said
    # The file is gone but a sign-in was never reported missing: the shell's look decides.
    gone = build_menu(view(usage()), NOW, replace(CONTEXT, credentials_found=False))
    assert not has(gone, "Reset credentials")
    assert has(gone, "How to sign in")
    # A backup to restore is still offered, with the ellipsis of a confirmation.
    backup = replace(CONTEXT, credentials_found=False, newest_backup="2026-03-10 11:42")
    assert entry(build_menu(view(usage()), NOW, backup), "Restore").text == "Restore credentials…"
    there = build_menu(view(usage()), NOW, replace(CONTEXT, credentials_found=True))
    assert has(there, "Reset credentials file…")
    assert has(there, "Sign-in help")


def test_one_vocabulary_in_every_menu() -> None:
    for kind in [None, *ErrorKind]:
        error = Problem(kind, "x") if kind is not None else None
        for platform in ("linux", "darwin", "win32"):
            context = replace(CONTEXT, platform=platform, newest_backup="yesterday")
            said = " ".join(
                e.text for e in every_row(build_menu(view(usage(), error=error), NOW, context))
            )
            assert "log in" not in said.lower()
            assert "server" not in said.lower()

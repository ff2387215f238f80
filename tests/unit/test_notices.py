"""Desktop notifications: once per crossing (a restart does not repeat one), once per new
problem, problems silent on start-up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import clock, headline
from claude_usage_gauge.core.notices import Notice, NoticeMemory, notices_for
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.view import View
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
THRESHOLDS = (80.0, 95.0)


def view(
    five: float | None = 40.0,
    week: float | None = 10.0,
    *,
    error: ErrorKind | None = None,
    resets_at: datetime | None = None,
) -> View:
    windows = []
    if five is not None:
        windows.append(Window(FIVE_HOUR, "5-hour session", five, resets_at))
    if week is not None:
        windows.append(Window(SEVEN_DAY, "Week (all models)", week, None))
    usage = Usage(tuple(windows), None, NOW, "api") if windows else None
    problem = Problem(error, f"{error} happened") if error is not None else None
    return View(
        usage=usage,
        stale=False,
        error=problem,
        error_at=NOW if problem else None,
        state=DisplayState.FRESH,
    )


def run(views: Iterable[View], memory: NoticeMemory | None = None) -> list[list[Notice]]:
    """The notices each view in turn gives, starting from `memory` (a fresh start by default)."""
    memory = memory or NoticeMemory()
    out = []
    for item in views:
        notes, memory = notices_for(item, memory, THRESHOLDS)
        out.append(notes)
    return out


# -- start-up --------------------------------------------------------------------------------


def test_a_first_start_past_a_threshold_tells_it_once() -> None:
    notes, memory = notices_for(
        view(97.0, 85.0, error=ErrorKind.RATE_LIMITED), NoticeMemory(), THRESHOLDS
    )
    assert [n.title for n in notes] == ["5-hour session at 97 %", "Week (all models) at 85 %"]
    assert memory.started
    assert memory.announced == {FIVE_HOUR: 95.0, SEVEN_DAY: 80.0}
    # A problem already there at start-up is shown by the icon and the menu, not announced.
    assert memory.problem == ErrorKind.RATE_LIMITED
    assert run([view(97.0, 85.0, error=ErrorKind.RATE_LIMITED)] * 3, memory) == [[], [], []]


def restarted(memory: NoticeMemory) -> NoticeMemory:
    """The memory as the next run reads it back: through its JSON, as the tray saves it."""
    return NoticeMemory.from_json(json.loads(json.dumps(memory.to_json())))


def test_a_restart_does_not_repeat_what_this_period_was_told() -> None:
    resets = NOW + timedelta(hours=2)
    _, memory = notices_for(view(97.0, 85.0, resets_at=resets), NoticeMemory(), THRESHOLDS)
    again = restarted(memory)
    assert not again.started
    assert again.announced == {FIVE_HOUR: 95.0, SEVEN_DAY: 80.0}
    assert run([view(98.0, 86.0, resets_at=resets)] * 2, again) == [[], []]


def test_a_restart_still_tells_a_higher_threshold() -> None:
    _, memory = notices_for(view(85.0), NoticeMemory(), THRESHOLDS)
    results = run([view(96.0)], restarted(memory))
    assert [n.title for n in results[0]] == ["5-hour session at 96 %"]


def test_a_period_that_ended_while_the_tray_was_off_re_arms() -> None:
    # Told 97 % in one period; the next run sees the window resetting 5 hours later: new period.
    first = NOW + timedelta(hours=1)
    _, memory = notices_for(view(97.0, resets_at=first), NoticeMemory(), THRESHOLDS)
    results = run([view(85.0, resets_at=first + timedelta(hours=5))], restarted(memory))
    assert [(n.title, n.topic) for n in results[0]] == [
        ("5-hour session at 85 %", "threshold:five_hour")
    ]


def test_the_same_reset_re_announced_with_another_fraction_is_the_same_period() -> None:
    resets = NOW + timedelta(hours=1)
    _, memory = notices_for(view(97.0, resets_at=resets), NoticeMemory(), THRESHOLDS)
    moved = resets + timedelta(seconds=0.6)
    assert run([view(97.0, resets_at=moved)], restarted(memory)) == [[]]


def test_a_drop_seen_across_a_restart_re_arms_quietly() -> None:
    # No reset moment known: the saved last percent still shows the drop below every threshold.
    _, memory = notices_for(view(97.0), NoticeMemory(), THRESHOLDS)
    results = run([view(3.0), view(85.0)], restarted(memory))
    # The reset itself happened while the tray was off: not announced; the new 80 % is.
    assert [[n.title for n in notes] for notes in results] == [[], ["5-hour session at 85 %"]]


@pytest.mark.parametrize(
    "raw",
    [None, [], "x", {"five_hour": "x"}, {"five_hour": {"announced": "high"}}, {"1": {}}],
)
def test_an_unreadable_saved_memory_is_forgotten(raw: object) -> None:
    memory = NoticeMemory.from_json(raw)
    assert memory.announced == {}
    assert run([view(97.0)], memory)[0][0].title == "5-hour session at 97 %"


def test_memory_is_not_changed_in_place() -> None:
    memory = NoticeMemory()
    notices_for(view(85.0), memory, THRESHOLDS)
    assert memory == NoticeMemory()


# -- thresholds ------------------------------------------------------------------------------


def test_each_threshold_is_told_once() -> None:
    results = run(view(p) for p in (50, 85, 85, 90, 94, 96, 99, 100, 100))
    told = [(i, n.title, n.message) for i, notes in enumerate(results) for n in notes]
    assert told == [
        (1, "5-hour session at 85 %", "Past 80 %."),
        (5, "5-hour session at 96 %", "Past 95 %."),
    ]


def test_a_jump_past_both_thresholds_is_one_notice() -> None:
    results = run([view(10.0), view(97.0), view(98.0)])
    assert [len(notes) for notes in results] == [0, 1, 0]
    assert results[1][0].message == "Past 95 %."


def test_a_small_dip_is_not_a_new_period() -> None:
    # 85 → 82 → 86: still above the lowest threshold, so the 80 % notice is not repeated.
    results = run(view(p) for p in (50, 85, 82, 86))
    assert [len(notes) for notes in results] == [0, 1, 0, 0]


def test_windows_are_counted_apart() -> None:
    results = run([view(10.0, 10.0), view(85.0, 10.0), view(85.0, 85.0), view(85.0, 85.0)])
    titles = [[n.title for n in notes] for notes in results]
    assert titles == [[], ["5-hour session at 85 %"], ["Week (all models) at 85 %"], []]


def test_threshold_notice_says_when_the_window_resets() -> None:
    resets = NOW + timedelta(hours=2)
    results = run([view(50.0, resets_at=resets), view(81.0, resets_at=resets)])
    assert results[1] == [
        Notice(
            "5-hour session at 81 %", f"Past 80 %; resets {clock(resets)}.", "threshold:five_hour"
        )
    ]


# -- resets ----------------------------------------------------------------------------------


def test_reset_of_a_nearly_exhausted_window_is_told_once() -> None:
    results = run(view(p) for p in (97, 3, 3, 5))
    assert results == [
        [Notice("5-hour session at 97 %", "Past 95 %.", "threshold:five_hour")],
        [Notice("5-hour session has reset", "Now at 3 %.", "reset:five_hour")],
        [],
        [],
    ]


def test_reset_of_a_window_that_was_not_nearly_exhausted_is_quiet() -> None:
    results = run(view(p) for p in (50, 85, 2))
    assert [len(notes) for notes in results] == [0, 1, 0]


def test_after_a_reset_the_thresholds_count_again() -> None:
    results = run(view(p) for p in (50, 96, 1, 81, 96))
    titles = [[n.title for n in notes] for notes in results]
    assert titles == [
        [],
        ["5-hour session at 96 %"],
        ["5-hour session has reset"],
        ["5-hour session at 81 %"],
        ["5-hour session at 96 %"],
    ]


# -- problems --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", [ErrorKind.RATE_LIMITED, ErrorKind.TOKEN_EXPIRED, ErrorKind.UNAUTHORIZED]
)
def test_a_new_problem_is_told_once_and_so_is_recovery(kind: ErrorKind) -> None:
    healthy = view(40.0)
    failing = view(40.0, error=kind)
    results = run([healthy, failing, failing, failing, healthy, healthy])
    assert [len(notes) for notes in results] == [0, 1, 0, 0, 1, 0]
    assert results[1] == [
        Notice("Claude usage cannot be read", headline(failing.error), "problem")  # type: ignore[arg-type]
    ]
    assert results[4] == [
        # The recovery replaces the problem's notification: one topic.
        Notice("Claude usage is readable again", "The numbers are current.", "problem")
    ]


def test_a_different_problem_is_told_too() -> None:
    results = run(
        [
            view(40.0),
            view(40.0, error=ErrorKind.RATE_LIMITED),
            view(40.0, error=ErrorKind.TOKEN_EXPIRED),
            view(40.0, error=ErrorKind.TOKEN_EXPIRED),
        ]
    )
    assert [len(notes) for notes in results] == [0, 1, 1, 0]
    assert results[2][0].message == headline(Problem(ErrorKind.TOKEN_EXPIRED, ""))


@pytest.mark.parametrize(
    "kind", [ErrorKind.NETWORK, ErrorKind.SERVER_ERROR, ErrorKind.BAD_RESPONSE]
)
def test_passing_faults_are_not_told(kind: ErrorKind) -> None:
    results = run([view(40.0), view(40.0, error=kind), view(40.0, error=kind), view(40.0)])
    assert results == [[], [], [], []]


def test_a_network_blip_during_a_rate_limit_does_not_repeat_it() -> None:
    limited = view(40.0, error=ErrorKind.RATE_LIMITED)
    results = run([view(40.0), limited, view(40.0, error=ErrorKind.NETWORK), limited, view(40.0)])
    titles = [[n.title for n in notes] for notes in results]
    assert titles == [
        [],
        ["Claude usage cannot be read"],
        [],
        [],
        ["Claude usage is readable again"],
    ]


def test_recovery_needs_numbers() -> None:
    # No error but no data either (say, right after a reset of the credentials): not "readable".
    results = run([view(40.0), view(40.0, error=ErrorKind.TOKEN_EXPIRED), view(None, None)])
    assert [len(notes) for notes in results] == [0, 1, 0]


def test_claude_codes_refusal_is_told_once_with_the_plans_numbers() -> None:
    from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent
    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.core.state import State
    from claude_usage_gauge.core.view import build_view

    usage = Usage(
        (Window(FIVE_HOUR, "5-hour session", 5.0), Window(SEVEN_DAY, "Week", 18.0)),
        None,
        NOW,
        "api",
    )
    refused = ClaudeCodeEvent("StopFailure", NOW, "invalid_request", "You're out of extra usage.")
    calm = build_view(State(snapshot=usage), NOW, Settings())
    loud = build_view(State(snapshot=usage, claude_code_event=refused), NOW, Settings())
    assert loud.state is DisplayState.ERROR

    results = run([calm, loud, loud])

    assert results[1] == [
        Notice(
            "Claude Code is refused",
            "Claude Code is refused: out of extra usage — "
            "but your plan is at 5 % (5-hour) / 18 % (week)",
            "problem",
        )
    ]
    assert results[2] == []


# -- a sign-out the user chose ---------------------------------------------------------------


def test_a_sign_out_the_user_chose_is_not_announced() -> None:
    _, memory = notices_for(view(40.0), NoticeMemory(), THRESHOLDS, NOW)
    memory = memory.expecting_sign_out(NOW + timedelta(minutes=1))
    signed_out = view(None, None, error=ErrorKind.NO_CREDENTIALS)
    notes, memory = notices_for(signed_out, memory, THRESHOLDS, NOW + timedelta(seconds=5))
    assert notes == []
    assert memory.problem == ErrorKind.NO_CREDENTIALS
    assert memory.sign_out_chosen_until is None  # once only
    # Signing in again is still news.
    notes, _ = notices_for(view(40.0), memory, THRESHOLDS, NOW + timedelta(minutes=3))
    assert [n.title for n in notes] == ["Claude usage is readable again"]


def test_a_sign_out_long_after_the_reset_is_announced() -> None:
    _, memory = notices_for(view(40.0), NoticeMemory(), THRESHOLDS, NOW)
    memory = memory.expecting_sign_out(NOW + timedelta(minutes=1))
    signed_out = view(None, None, error=ErrorKind.NO_CREDENTIALS)
    notes, _ = notices_for(signed_out, memory, THRESHOLDS, NOW + timedelta(minutes=2))
    assert [n.title for n in notes] == ["Claude usage cannot be read"]


def test_other_problems_right_after_a_reset_are_still_announced() -> None:
    _, memory = notices_for(view(40.0), NoticeMemory(), THRESHOLDS, NOW)
    memory = memory.expecting_sign_out(NOW + timedelta(minutes=1))
    limited = view(40.0, error=ErrorKind.RATE_LIMITED)
    notes, memory = notices_for(limited, memory, THRESHOLDS, NOW)
    assert [n.title for n in notes] == ["Claude usage cannot be read"]
    assert memory.sign_out_chosen_until is not None  # still waiting for the sign-out itself

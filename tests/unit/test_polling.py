"""The schedule asked of the whole state: what moves, what counts as activity, when the next check
and the next manual refresh are. Pure: states built in memory, a fixed clock."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.polling import current_interval, decide, next_check, next_manual
from claude_usage_gauge.core.schedule import (
    AFTER_RESET,
    BURST,
    QUIET_MAX_INTERVAL,
    REQUEST_WINDOW,
    hourly_budget,
    record_attempt,
    record_failure,
    record_success,
)
from claude_usage_gauge.core.state import MAX_REQUESTS_KEPT, State, numbers_moved
from claude_usage_gauge.core.usage import Source, Usage, Window
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BASE = timedelta(minutes=3)
FP = "fingerprint-a"
SIG = "sig-a"
RATE_LIMITED = Problem(ErrorKind.RATE_LIMITED, "Rate limited. Please try again later.")


def usage(
    at: datetime,
    five: float = 42.0,
    week: float = 18.0,
    *,
    source: Source = "api",
    five_reset: datetime | None = None,
) -> Usage:
    return Usage(
        (
            Window(FIVE_HOUR, "5-hour session", five, five_reset),
            Window(SEVEN_DAY, "Week (all models)", week, T0 + timedelta(days=3)),
        ),
        None,
        at,
        source,
    )


def fetched(state: State, at: datetime, five: float = 42.0, **kwargs: object) -> State:
    """The state after a successful request at `at` (as refresh.py records one)."""
    gate = record_success(record_attempt(state.gate(FP), at), at)
    snapshot = usage(at, five, **kwargs)  # type: ignore[arg-type]
    return state.with_gate(FP, gate).with_request(at).with_snapshot(snapshot)


def when(state: State, now: datetime, *, manual: bool = False) -> datetime | None:
    return decide(state, now=now, base=BASE, fingerprint=FP, signature=SIG, manual=manual).at


# -- what moves ------------------------------------------------------------------------------


def test_a_changed_percent_is_a_move_and_the_same_one_is_not() -> None:
    state = fetched(State(), T0)
    assert state.moved_at == T0  # nothing known before: assume it moves
    same = fetched(state, T0 + timedelta(minutes=3))
    assert same.moved_at == T0
    moved = fetched(same, T0 + timedelta(minutes=6), five=43.0)
    assert moved.moved_at == T0 + timedelta(minutes=6)


def test_a_reset_that_came_as_announced_is_not_a_move() -> None:
    reset = T0 + timedelta(minutes=10)
    before = usage(T0, 80.0, five_reset=reset)
    after_reset = Usage(
        (Window(SEVEN_DAY, "Week (all models)", 18.0, T0 + timedelta(days=3)),),
        None,
        reset + timedelta(minutes=1),
        "api",
    )
    # The 5-hour window vanished (it reads 0 % until used): exactly what the reset announced.
    assert not numbers_moved(before, after_reset)
    # Used again right after the reset: that is a move.
    assert numbers_moved(before, usage(reset + timedelta(minutes=1), 2.0))
    # A drop nobody announced (a server correction) is a change too.
    assert numbers_moved(before, usage(T0 + timedelta(minutes=3), 60.0, five_reset=reset))


def test_numbers_from_claude_code_are_activity() -> None:
    state = fetched(State(), T0)
    assert state.activity_at is None
    bridged = state.with_snapshot(usage(T0 + timedelta(minutes=1), source="statusline"))
    assert bridged.activity_at == T0 + timedelta(minutes=1)
    hooked = state.with_activity(T0 + timedelta(minutes=2))
    assert hooked.activity_at == T0 + timedelta(minutes=2)
    # Never backwards.
    assert hooked.with_activity(T0).activity_at == T0 + timedelta(minutes=2)


def test_the_request_list_keeps_one_hour_and_is_bounded() -> None:
    state = State()
    for second in range(0, 2 * 3600, 5):
        state = state.with_request(T0 + timedelta(seconds=second))
    assert len(state.requests) <= MAX_REQUESTS_KEPT
    newest = T0 + timedelta(seconds=2 * 3600 - 5)
    assert all(newest - t < REQUEST_WINDOW for t in state.requests)
    assert state.requests[-1] == newest


def test_the_new_fields_survive_the_file() -> None:
    state = fetched(replace(State(), salt=b"s" * 16), T0, five_reset=T0 + timedelta(hours=2))
    state = state.with_activity(T0 + timedelta(seconds=30))
    again = State.from_json(state.to_json())
    assert again is not None
    assert again.moved_at == state.moved_at
    assert again.activity_at == state.activity_at
    assert again.requests == state.requests
    assert again.resets == {
        FIVE_HOUR: (T0 + timedelta(hours=2),),
        SEVEN_DAY: (T0 + timedelta(days=3),),
    }


# -- when to ask -----------------------------------------------------------------------------


def test_a_still_afternoon_stretches_the_wait_and_a_move_restores_it() -> None:
    state, now, sent = fetched(State(), T0), T0, [T0]
    while now < T0 + timedelta(hours=2):
        now += timedelta(seconds=10)
        at = when(state, now)
        if at is not None and at <= now:
            state = fetched(state, now)
            sent.append(now)
    gaps = [(b - a) / timedelta(minutes=1) for a, b in itertools.pairwise(sent)]
    # Three-minute polls for the first half hour, then longer steps, then every 15 minutes.
    assert gaps[:10] == [3.0] * 10
    assert gaps[-1] == QUIET_MAX_INTERVAL / timedelta(minutes=1)
    assert gaps == sorted(gaps)
    # The first change brings the base back.
    moved = fetched(state, now, five=50.0)
    assert current_interval(moved, BASE) == BASE


def test_claude_code_in_use_brings_the_base_back_at_once() -> None:
    state = fetched(State(), T0)
    quiet = fetched(state, T0 + timedelta(hours=2))
    assert current_interval(quiet, BASE) == QUIET_MAX_INTERVAL
    assert when(quiet, T0 + timedelta(hours=2, minutes=5)) == T0 + timedelta(hours=2, minutes=15)
    # A hook fires (a turn ended): the wait is the base from the newest numbers: due now.
    busy = quiet.with_activity(T0 + timedelta(hours=2, minutes=4))
    now = T0 + timedelta(hours=2, minutes=5)
    assert when(busy, now) == now


def test_a_minute_after_an_announced_reset_the_schedule_looks() -> None:
    reset = T0 + timedelta(hours=2, minutes=7)
    state = fetched(State(), T0, five_reset=reset)
    state = fetched(state, T0 + timedelta(hours=2), five_reset=reset)
    assert current_interval(state, BASE) == QUIET_MAX_INTERVAL
    assert when(state, T0 + timedelta(hours=2, minutes=1)) == reset + AFTER_RESET


def test_numbers_from_claude_code_after_a_429_lift_the_pause() -> None:
    state = fetched(State(), T0)
    failed_at = T0 + timedelta(minutes=3)
    gate = record_failure(
        record_attempt(state.gate(FP), failed_at),
        RATE_LIMITED,
        now=failed_at,
        signature=SIG,
        jitter=0.0,
    )
    state = state.with_gate(FP, gate).with_request(failed_at)
    now = failed_at + timedelta(minutes=2)
    assert when(state, now) == gate.rate_limited_until
    bridged = state.with_snapshot(usage(now, 44.0, source="statusline"))
    # Claude Code's fresh numbers stand for a poll; after them the base interval, not the step.
    assert when(bridged, now) == now + BASE


def test_a_new_token_has_no_pause() -> None:
    state = fetched(State(), T0)
    gate = record_failure(
        record_attempt(state.gate(FP), T0), RATE_LIMITED, now=T0, signature=SIG, jitter=0.0
    )
    state = state.with_gate(FP, gate)
    later = T0 + timedelta(minutes=4)
    assert decide(state, now=later, base=BASE, fingerprint=FP, signature=SIG).at == (
        gate.rate_limited_until
    )
    # The limit is per token: Claude Code's next token asks at once (its numbers are stale).
    fresh = decide(state, now=later, base=BASE, fingerprint="fingerprint-b", signature="sig-b")
    assert fresh.at == later


# -- what the menu and `status` say ----------------------------------------------------------


def test_next_check_is_what_the_schedule_will_do() -> None:
    state = fetched(State(), T0)
    assert next_check(state, T0 + timedelta(minutes=1), BASE) == T0 + BASE
    assert next_check(State(), T0, BASE) is None  # no token used yet
    refused = state.with_gate(
        FP,
        record_failure(
            state.gate(FP),
            Problem(ErrorKind.UNAUTHORIZED, "401"),
            now=T0,
            signature=SIG,
            jitter=0.0,
        ),
    )
    assert next_check(refused, T0 + timedelta(minutes=1), BASE) is None


def test_next_manual_is_said_only_past_the_hourly_budget() -> None:
    state = fetched(State(), T0)
    assert next_manual(state, T0 + timedelta(minutes=1), BASE) is None
    # A burst of clicks, ten seconds apart, right after the schedule's request: the bucket is
    # empty, and one more is owed.
    for i in range(1, BURST + 1):
        state = state.with_request(T0 + timedelta(seconds=10 * i))
    now = T0 + timedelta(seconds=10 * BURST + 5)
    waiting = next_manual(state, now, BASE)
    assert waiting is not None
    assert now < waiting <= now + 2 * (REQUEST_WINDOW / hourly_budget(BASE))
    assert when(state, now, manual=True) == waiting

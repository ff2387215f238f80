"""When the next request may go out: interval, 429s, backoff, credentials and manual refresh."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.schedule import (
    AFTER_RESET,
    BACKOFF_MAX,
    BURST,
    MANUAL_EXTRA,
    QUIET_AFTER,
    QUIET_MAX_INTERVAL,
    RATE_LIMIT_CEILING,
    REQUEST_WINDOW,
    Decision,
    Gate,
    adaptive_interval,
    backoff_delay,
    budget_until,
    hourly_budget,
    next_attempt,
    pause_lifted,
    rate_limit_delay,
    record_attempt,
    record_failure,
    record_success,
    reset_wake,
)
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=DEFAULT_POLL_INTERVAL)
SIG = "sig-a"

RATE_LIMITED = Problem(ErrorKind.RATE_LIMITED, "Rate limited. Please try again later.")


def decide(
    gate: Gate,
    now: datetime,
    *,
    last_data_at: datetime | None = None,
    signature: str = SIG,
    manual: bool = False,
    last_manual: datetime | None = None,
) -> Decision:
    return next_attempt(
        gate,
        now=now,
        interval=INTERVAL,
        last_data_at=last_data_at,
        signature=signature,
        manual=manual,
        last_manual=last_manual,
    )


def fail(
    gate: Gate, problem: Problem, now: datetime, jitter: float = 0.0, signature: str = SIG
) -> Gate:
    return record_failure(
        record_attempt(gate, now), problem, now=now, signature=signature, jitter=jitter
    )


# -- the poll interval -----------------------------------------------------------------------


def test_default_interval_is_three_minutes() -> None:
    assert Settings().poll_interval == 180


def test_first_request_goes_at_once() -> None:
    decision = decide(Gate(), T0)
    assert decision.allows(T0)
    assert decision.at == T0


def test_fresh_data_waits_one_interval_from_the_newest_source() -> None:
    gate = record_success(record_attempt(Gate(), T0), T0)
    decision = decide(gate, T0 + timedelta(seconds=60))
    assert decision.at == T0 + INTERVAL
    assert not decision.allows(T0 + timedelta(seconds=60))
    # Bridged statusline data newer than our own fetch postpones the next request.
    bridged_at = T0 + timedelta(seconds=120)
    decision = decide(gate, T0 + timedelta(seconds=200), last_data_at=bridged_at)
    assert decision.at == bridged_at + INTERVAL
    assert decide(gate, bridged_at + INTERVAL, last_data_at=bridged_at).allows(
        bridged_at + INTERVAL
    )


def test_success_clears_failures() -> None:
    gate = fail(Gate(), Problem(ErrorKind.NETWORK, "down"), T0)
    gate = record_success(gate, T0 + timedelta(minutes=1))
    assert gate.failures == 0
    assert gate.last_kind is None
    assert gate.backoff_until is None
    assert gate.rate_limited_until is None
    assert gate.last_success == T0 + timedelta(minutes=1)


# -- rate limits -----------------------------------------------------------------------------


def test_retry_after_is_honoured_exactly() -> None:
    retry_at = T0 + timedelta(seconds=1234)
    gate = fail(Gate(), Problem(ErrorKind.RATE_LIMITED, "429", retry_at=retry_at), T0, jitter=0.9)
    assert gate.rate_limited_until == retry_at
    decision = decide(gate, T0 + timedelta(seconds=1233))
    assert decision.at == retry_at
    assert not decision.allows(T0 + timedelta(seconds=1233))
    assert decide(gate, retry_at).allows(retry_at)


def test_absurd_retry_after_is_capped() -> None:
    retry_at = T0 + timedelta(days=30)
    gate = fail(Gate(), Problem(ErrorKind.RATE_LIMITED, "429", retry_at=retry_at), T0)
    assert gate.rate_limited_until == T0 + RATE_LIMIT_CEILING


@pytest.mark.parametrize("retry_at", [None, T0, T0 - timedelta(seconds=5)])
def test_retry_after_zero_or_absent_waits_five_minutes(retry_at: datetime | None) -> None:
    gate = fail(Gate(), Problem(ErrorKind.RATE_LIMITED, "429", retry_at=retry_at), T0)
    assert gate.rate_limited_until == T0 + timedelta(minutes=5)


def test_rate_limit_steps_double_up_to_an_hour() -> None:
    steps = [rate_limit_delay(n) for n in range(1, 9)]
    minutes = [s / timedelta(minutes=1) for s in steps]
    assert minutes == [5, 10, 20, 40, 60, 60, 60, 60]
    assert rate_limit_delay(10_000) == timedelta(minutes=60)


@given(st.integers(min_value=1, max_value=40), st.floats(min_value=0.0, max_value=1.0))
def test_jitter_never_makes_a_step_earlier(failures: int, jitter: float) -> None:
    gate = Gate(
        rate_failures=failures - 1, last_kind=ErrorKind.RATE_LIMITED if failures > 1 else None
    )
    after = fail(gate, RATE_LIMITED, T0, jitter=jitter)
    assert after.rate_limited_until is not None
    wait = after.rate_limited_until - T0
    step = rate_limit_delay(after.rate_failures)
    assert step <= wait <= step * 1.1
    transient = fail(
        Gate(failures=failures - 1, last_kind=ErrorKind.NETWORK if failures > 1 else None),
        Problem(ErrorKind.NETWORK, "down"),
        T0,
        jitter=jitter,
    )
    assert transient.backoff_until is not None
    wait = transient.backoff_until - T0
    assert backoff_delay(transient.failures) <= wait <= backoff_delay(transient.failures) * 1.1


def test_consecutive_429s_grow() -> None:
    gate = Gate()
    now = T0
    waits = []
    for _ in range(6):
        gate = fail(gate, RATE_LIMITED, now)
        assert gate.rate_limited_until is not None
        waits.append(gate.rate_limited_until - now)
        now = gate.rate_limited_until
    assert [w / timedelta(minutes=1) for w in waits] == [5, 10, 20, 40, 60, 60]


def test_manual_refresh_never_skips_a_rate_limit() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0)
    decision = decide(gate, T0 + timedelta(minutes=1), manual=True)
    assert decision.at == gate.rate_limited_until
    assert not decision.allows(T0 + timedelta(minutes=1))


def simulate_persistent_429(
    minutes: int, retry_after: timedelta | None, jitter: float
) -> list[int]:
    """Minute-by-minute fake clock; returns the minute of every request sent."""
    gate = Gate()
    sent: list[int] = []
    for minute in range(minutes):
        now = T0 + timedelta(minutes=minute)
        if not decide(gate, now).allows(now):
            continue
        sent.append(minute)
        retry_at = now + retry_after if retry_after is not None else None
        gate = fail(gate, Problem(ErrorKind.RATE_LIMITED, "429", retry_at=retry_at), now, jitter)
    return sent


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
@pytest.mark.parametrize("retry_after", [None, timedelta(0)])
def test_persistent_429_costs_few_requests(jitter: float, retry_after: timedelta | None) -> None:
    sent = simulate_persistent_429(24 * 60, retry_after, jitter)
    first_hour = [m for m in sent if m < 60]
    assert 1 <= len(first_hour) <= 4
    for hour in range(1, 24):
        in_hour = [m for m in sent if hour * 60 <= m < (hour + 1) * 60]
        assert len(in_hour) <= 1, (hour, in_hour)
    # It keeps trying: once an hour at the most, but it does not give up.
    assert len(sent) >= 20


def test_persistent_429_through_a_manual_refresh_button() -> None:
    """Someone clicking "Refresh now" every minute must not add requests during a rate limit."""
    gate = Gate()
    sent = 0
    last_manual: datetime | None = None
    for minute in range(60):
        now = T0 + timedelta(minutes=minute)
        decision = decide(gate, now, manual=True, last_manual=last_manual)
        if decision.allows(now):
            sent += 1
            last_manual = now
            gate = fail(gate, RATE_LIMITED, now)
    assert sent <= 4


# -- transient faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", [ErrorKind.NETWORK, ErrorKind.SERVER_ERROR, ErrorKind.BAD_RESPONSE]
)
def test_transient_faults_back_off_from_30s_to_15min(kind: ErrorKind) -> None:
    gate = Gate()
    now = T0
    waits = []
    for _ in range(8):
        gate = fail(gate, Problem(kind, "fault"), now)
        assert gate.backoff_until is not None
        assert gate.rate_limited_until is None
        waits.append((gate.backoff_until - now).total_seconds())
        # Not before the backoff runs out, and due right when it does.
        assert not decide(gate, gate.backoff_until - timedelta(seconds=1)).allows(
            gate.backoff_until - timedelta(seconds=1)
        )
        now = gate.backoff_until
        assert decide(gate, now).allows(now)
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert backoff_delay(1000) == BACKOFF_MAX


def test_manual_refresh_may_skip_a_transient_backoff_and_the_interval() -> None:
    gate = fail(Gate(), Problem(ErrorKind.NETWORK, "down"), T0)
    assert decide(gate, T0 + timedelta(seconds=5), manual=True).allows(T0 + timedelta(seconds=5))
    fresh = record_success(Gate(), T0)
    assert decide(fresh, T0 + timedelta(seconds=30), manual=True).allows(T0 + timedelta(seconds=30))


def test_manual_refresh_at_most_once_per_ten_seconds() -> None:
    last_manual = T0
    decision = decide(Gate(), T0 + timedelta(seconds=9), manual=True, last_manual=last_manual)
    assert decision.at == T0 + timedelta(seconds=10)
    assert not decision.allows(T0 + timedelta(seconds=9))
    assert decide(Gate(), T0 + timedelta(seconds=10), manual=True, last_manual=last_manual).allows(
        T0 + timedelta(seconds=10)
    )


def test_manual_refresh_spam_costs_one_request_per_ten_seconds() -> None:
    gate = record_success(Gate(), T0)
    last_manual: datetime | None = None
    sent = 0
    for second in range(60):
        now = T0 + timedelta(seconds=second)
        if decide(gate, now, manual=True, last_manual=last_manual).allows(now):
            sent += 1
            last_manual = now
            gate = record_success(record_attempt(gate, now), now)
    assert sent == 6


# -- credentials -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ErrorKind.UNAUTHORIZED, ErrorKind.MISSING_SCOPE])
def test_credential_failures_wait_for_new_credentials(kind: ErrorKind) -> None:
    gate = fail(Gate(), Problem(kind, "refused"), T0, signature="sig-old")
    for later in (timedelta(minutes=5), timedelta(hours=5), timedelta(days=5)):
        decision = decide(gate, T0 + later, signature="sig-old")
        assert decision.at is None
        assert not decision.allows(T0 + later)
        assert not decide(gate, T0 + later, signature="sig-old", manual=True).allows(T0 + later)
    changed = decide(gate, T0 + timedelta(minutes=1), signature="sig-new")
    assert changed.allows(T0 + timedelta(minutes=1))
    assert changed.at == T0 + timedelta(minutes=1)


def test_credential_failure_after_rate_limit_is_lifted_by_new_credentials() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0, signature="sig-old")
    gate = fail(
        gate, Problem(ErrorKind.UNAUTHORIZED, "401"), T0 + timedelta(minutes=6), signature="sig-old"
    )
    now = T0 + timedelta(minutes=7)
    assert decide(gate, now, signature="sig-new").allows(now)


def test_credential_kinds_are_the_expected_ones() -> None:
    for kind in (ErrorKind.UNAUTHORIZED, ErrorKind.MISSING_SCOPE, ErrorKind.TOKEN_EXPIRED):
        assert kind.needs_new_credentials
    assert not ErrorKind.RATE_LIMITED.needs_new_credentials


def test_every_kind_has_a_policy() -> None:
    """Adding a kind means saying what it means: the policy table must name it."""
    for kind in ErrorKind:
        assert kind.policy is not None
        # A passing fault never waits for new credentials, and vice versa.
        assert not (kind.transient and kind.needs_new_credentials)


def test_a_network_error_between_429s_does_not_restart_the_rate_limit_ladder() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0)
    gate = fail(gate, RATE_LIMITED, T0 + timedelta(minutes=6))
    assert gate.rate_failures == 2
    gate = fail(gate, Problem(ErrorKind.NETWORK, "down"), T0 + timedelta(minutes=20))
    assert gate.failures == 1  # the transient backoff starts at its first step
    assert gate.backoff_until == T0 + timedelta(minutes=20, seconds=30)
    assert gate.rate_failures == 2  # but the 429 count survives
    gate = fail(gate, RATE_LIMITED, T0 + timedelta(minutes=21), jitter=0.0)
    assert gate.rate_limited_until == T0 + timedelta(minutes=21) + rate_limit_delay(3)


def test_alternating_429_and_network_errors_stay_cheap() -> None:
    gate, now, sent = Gate(), T0, 0
    problems = [RATE_LIMITED, Problem(ErrorKind.NETWORK, "down")]
    end = T0 + timedelta(hours=3)
    while now < end:
        if decide(gate, now).allows(now):
            gate = fail(gate, problems[sent % 2], now, jitter=0.5)
            sent += 1
        now += timedelta(seconds=10)
    assert sent <= 16, sent


def test_a_tiny_positive_retry_after_is_floored_and_doubles() -> None:
    gate, now, sent = Gate(), T0, 0
    end = T0 + timedelta(hours=3)
    while now < end:
        if decide(gate, now).allows(now):
            retry = Problem(ErrorKind.RATE_LIMITED, "429", retry_at=now + timedelta(seconds=1))
            gate = fail(gate, retry, now)
            sent += 1
        now += timedelta(seconds=10)
    # 30 s, 1, 2, 4, 8, 16, 32 min, then hourly: a handful, never a storm.
    assert sent <= 12, sent


# -- the gate in the store -------------------------------------------------------------------


def test_gate_json_round_trip() -> None:
    gate = Gate(
        last_attempt=T0,
        last_success=T0 - timedelta(hours=1),
        failures=3,
        last_kind=ErrorKind.RATE_LIMITED,
        rate_limited_until=T0 + timedelta(minutes=20),
        backoff_until=None,
        failed_signature="sig",
    )
    assert Gate.from_json(json.loads(json.dumps(gate.to_json()))) == gate
    assert Gate.from_json(json.loads(json.dumps(Gate().to_json()))) == Gate()


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        "gate",
        {"failures": -1},
        {"failures": 10**30},
        {"failures": "3"},
        {"last_kind": "nonsense"},
        {"last_kind": [1]},
        {"last_kind": {"a": 1}},
        {"rate_limited_until": 12},
        {"rate_limited_until": "2026-03-10T12:00:00"},
    ],
)
def test_gate_from_garbage_is_a_fresh_gate_field_by_field(raw: object) -> None:
    gate = Gate.from_json(raw)
    assert gate.failures == 0
    assert gate.last_kind is None
    assert gate.rate_limited_until is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from([k.value for k in ErrorKind] + [T0.isoformat(), "1970-01-01T00:00:00Z"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(list(Gate().to_json())) | st.text(max_size=6), children, max_size=8
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_gate_from_json_never_raises_and_decides(raw: object) -> None:
    gate = Gate.from_json(raw)
    assert isinstance(gate, Gate)
    assert 0 <= gate.failures < 1000
    decision = decide(gate, T0)
    assert decision.at is None or isinstance(decision.at, datetime)
    # Whatever it read, it can record another failure and write itself back.
    after = fail(gate, RATE_LIMITED, T0, jitter=0.5)
    assert Gate.from_json(json.loads(json.dumps(after.to_json()))) == after


# -- the adaptive interval -------------------------------------------------------------------


def quiet_interval(quiet: timedelta, base: timedelta = INTERVAL) -> timedelta:
    return adaptive_interval(base, last_data_at=T0 + quiet, moved_at=T0, activity_at=None)


def test_the_interval_is_the_base_while_numbers_moved_in_the_last_half_hour() -> None:
    for quiet in (timedelta(0), timedelta(minutes=10), QUIET_AFTER - timedelta(seconds=1)):
        assert quiet_interval(quiet) == INTERVAL


def test_the_interval_stretches_step_by_step_to_fifteen_minutes() -> None:
    minutes = [
        quiet_interval(timedelta(minutes=m)) / timedelta(minutes=1)
        for m in (30, 44, 45, 59, 60, 120, 24 * 60)
    ]
    assert minutes == [6, 6, 12, 12, 15, 15, 15]
    # Doubling from a one-minute base takes more steps to the same ceiling.
    one = timedelta(minutes=1)
    steps = [quiet_interval(timedelta(minutes=m), one) / one for m in (30, 45, 60, 75, 90)]
    assert steps == [2, 4, 8, 15, 15]


def test_the_interval_is_never_shorter_than_the_configured_base() -> None:
    slow = timedelta(minutes=20)
    assert quiet_interval(timedelta(hours=5), slow) == slow
    assert quiet_interval(timedelta(0), slow) == slow


def test_a_sign_of_activity_newer_than_the_data_brings_the_base_back() -> None:
    data = T0 + timedelta(hours=3)
    assert (
        adaptive_interval(INTERVAL, last_data_at=data, moved_at=T0, activity_at=None)
        == QUIET_MAX_INTERVAL
    )
    for activity in (data - timedelta(minutes=5), data + timedelta(seconds=1)):
        assert (
            adaptive_interval(INTERVAL, last_data_at=data, moved_at=T0, activity_at=activity)
            == INTERVAL
        )


def test_unknown_history_polls_at_the_base() -> None:
    assert adaptive_interval(INTERVAL, last_data_at=T0, moved_at=None, activity_at=None) == (
        INTERVAL
    )
    assert adaptive_interval(INTERVAL, last_data_at=None, moved_at=T0, activity_at=T0) == INTERVAL


def test_a_known_reset_is_checked_a_minute_after_it() -> None:
    gate = record_success(Gate(), T0)
    reset = T0 + timedelta(minutes=4)
    wake = reset_wake((reset, T0 + timedelta(days=2)), T0)
    assert wake == reset + AFTER_RESET
    decision = next_attempt(
        gate, now=T0, interval=QUIET_MAX_INTERVAL, last_data_at=T0, signature=SIG, wake_at=wake
    )
    assert decision.at == reset + AFTER_RESET
    # Data from a minute after the reset has seen it: no extra check for it. Data from the
    # reset's very moment may still show the old window: look again.
    assert reset_wake((reset,), reset + AFTER_RESET) is None
    assert reset_wake((reset,), reset) == reset + AFTER_RESET
    assert reset_wake((), T0) is None


def test_a_reset_does_not_override_a_rate_limit() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0)
    wake = T0 + timedelta(minutes=2)
    decision = next_attempt(
        gate, now=wake, interval=INTERVAL, last_data_at=T0, signature=SIG, wake_at=wake
    )
    assert decision.at == gate.rate_limited_until


def test_a_quiet_night_costs_a_few_requests_an_hour() -> None:
    """Sixteen hours of unchanged numbers, minute by minute: the last move at the start."""
    gate, last_data, sent = record_success(Gate(), T0), T0, 0
    for minute in range(1, 16 * 60):
        now = T0 + timedelta(minutes=minute)
        interval = adaptive_interval(
            INTERVAL, last_data_at=last_data, moved_at=T0, activity_at=None
        )
        if next_attempt(
            gate, now=now, interval=interval, last_data_at=last_data, signature=SIG
        ).allows(now):
            gate, last_data, sent = record_success(record_attempt(gate, now), now), now, sent + 1
    # 10 at the base for half an hour, a few on the way up, then 4 an hour (480 before).
    assert sent <= 10 + 4 + 4 * 16, sent
    assert sent >= 4 * 15


# -- manual refresh budget -------------------------------------------------------------------


def test_manual_refreshes_share_an_hourly_budget_with_every_request() -> None:
    budget = hourly_budget(INTERVAL)
    assert budget == 20 + MANUAL_EXTRA
    refill = REQUEST_WINDOW / budget
    # The schedule's own polls every 3 minutes for an hour leave the bucket full: a click is
    # instant even so.
    polls = tuple(T0 + INTERVAL * i for i in range(20))
    now = T0 + timedelta(minutes=59)
    click = next_attempt(
        Gate(),
        now=now,
        interval=INTERVAL,
        last_data_at=None,
        signature=SIG,
        manual=True,
        recent=polls,
        budget=budget,
    )
    assert click.allows(now)
    # Five clicks right after each other on top: the sixth waits for the bucket to refill.
    clicks = tuple(now + timedelta(seconds=10 * i) for i in range(BURST))
    later = now + timedelta(seconds=60)
    decision = next_attempt(
        Gate(),
        now=later,
        interval=INTERVAL,
        last_data_at=None,
        signature=SIG,
        manual=True,
        recent=polls + clicks,
        budget=budget,
    )
    assert decision.at is not None
    assert later < decision.at <= later + refill


def test_a_script_looping_manual_refreshes_stays_within_the_budget() -> None:
    """`status --refresh` every minute, and the schedule's own polls, for three hours."""
    gate = record_success(Gate(), T0)
    recent: tuple[datetime, ...] = ()
    last_manual: datetime | None = None
    sent: list[datetime] = []
    budget = hourly_budget(INTERVAL)
    for second in range(0, 3 * 3600, 10):
        now = T0 + timedelta(seconds=second)
        manual = second % 60 == 0
        decision = next_attempt(
            gate,
            now=now,
            interval=INTERVAL,
            last_data_at=gate.last_success,
            signature=SIG,
            manual=manual,
            last_manual=last_manual,
            recent=recent,
            budget=budget,
        )
        if decision.allows(now):
            sent.append(now)
            recent = tuple(t for t in (*recent, now) if now - t < REQUEST_WINDOW)
            last_manual = now if manual else last_manual
            gate = record_success(record_attempt(gate, now), now)
    for start in sent:
        in_hour = [t for t in sent if start <= t < start + REQUEST_WINDOW]
        assert len(in_hour) <= budget + BURST
    assert len(sent) <= 3 * (budget + BURST)  # about 24 an hour, not 60
    assert len(sent) >= 3 * 20  # and the numbers stay as fresh as the schedule keeps them
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert max(gaps) <= INTERVAL


def test_requests_the_clock_left_in_the_future_still_count() -> None:
    future = tuple(T0 + timedelta(minutes=m) for m in range(30, 54))
    assert budget_until(future, T0, 24) is not None


# -- recovery after a storm ------------------------------------------------------------------


def test_claude_code_showing_fresh_numbers_lifts_our_own_pause() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0)
    gate = fail(gate, RATE_LIMITED, T0 + timedelta(minutes=5))
    assert gate.rate_limited_until is not None
    now = T0 + timedelta(minutes=8)
    waiting = next_attempt(gate, now=now, interval=INTERVAL, last_data_at=T0, signature=SIG)
    assert not waiting.allows(now)
    # The statusline feed brought numbers after our last 429: the service answers again.
    fresh = T0 + timedelta(minutes=7)
    assert pause_lifted(gate, fresh)
    lifted = next_attempt(
        gate, now=now, interval=INTERVAL, last_data_at=fresh, signature=SIG, activity_at=fresh
    )
    # Those numbers are fresh, so the next request waits one interval from them, not the step.
    assert lifted.at == fresh + INTERVAL
    # Older signs of life say nothing about the service since the 429.
    assert not pause_lifted(gate, T0 + timedelta(minutes=4))


def test_a_servers_retry_after_is_not_lifted() -> None:
    retry_at = T0 + timedelta(minutes=40)
    gate = fail(Gate(), Problem(ErrorKind.RATE_LIMITED, "429", retry_at=retry_at), T0)
    assert gate.server_wait
    now = T0 + timedelta(minutes=10)
    decision = next_attempt(
        gate, now=now, interval=INTERVAL, last_data_at=T0, signature=SIG, activity_at=now
    )
    assert decision.at == retry_at
    # A Retry-After shorter than our floor is our floor's wait: that one may be lifted.
    tiny = fail(
        Gate(), Problem(ErrorKind.RATE_LIMITED, "429", retry_at=T0 + timedelta(seconds=1)), T0
    )
    assert not tiny.server_wait
    assert pause_lifted(tiny, T0 + timedelta(seconds=5))


def test_a_lifted_pause_keeps_the_ladder_for_the_next_429() -> None:
    gate = fail(Gate(), RATE_LIMITED, T0)
    gate = fail(gate, RATE_LIMITED, T0 + timedelta(minutes=5))
    later = T0 + timedelta(minutes=9)
    gate = fail(gate, RATE_LIMITED, later)
    assert gate.rate_limited_until == later + rate_limit_delay(3)


def test_a_few_clicks_in_a_row_go_at_once_then_one_every_few_minutes() -> None:
    budget = hourly_budget(INTERVAL)
    refill = REQUEST_WINDOW / budget
    recent: tuple[datetime, ...] = ()
    now = T0
    for _ in range(BURST):
        assert budget_until(recent, now, budget) is None  # instant
        recent = (*recent, now)
        now += timedelta(seconds=11)
    until = budget_until(recent, now, budget)
    assert until is not None
    assert now < until <= now + refill


def test_a_loop_is_spread_out_and_never_leaves_the_numbers_old_for_long() -> None:
    budget = hourly_budget(INTERVAL)
    recent: tuple[datetime, ...] = ()
    sent: list[datetime] = []
    for second in range(0, 4 * 3600, 10):
        now = T0 + timedelta(seconds=second)
        if budget_until(recent, now, budget) is None:
            sent.append(now)
            recent = tuple(t for t in (*recent, now) if now - t < REQUEST_WINDOW)
    for start in sent:
        assert len([t for t in sent if start <= t < start + REQUEST_WINDOW]) <= budget + BURST
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert max(gaps) <= REQUEST_WINDOW / budget + timedelta(seconds=10)


def test_the_budget_is_worded_as_the_rule_it_is() -> None:
    """A bucket that refills, not an hour used up: the words name the burst and the refill."""
    from claude_usage_gauge.core.schedule import budget_rule

    assert budget_rule(hourly_budget(timedelta(minutes=3))) == (
        "manual refreshes are spaced out (5 back to back, then about one every 2.5 min)"
    )
    assert budget_rule(hourly_budget(timedelta(minutes=5))).endswith("about one every 3.8 min)")
    assert budget_rule(hourly_budget(timedelta(seconds=10))).endswith("about one every 10 s)")

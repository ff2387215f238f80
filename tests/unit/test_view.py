"""What a person sees: display states, staleness, tooltip, status text and JSON, pace."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import clock
from claude_usage_gauge.core.pace import pace_reach
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import HistoryPoint, State, append_history
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window
from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.core.view import (
    TOOLTIP_MAX,
    View,
    build_view,
    duration,
    extra_usage_line,
    is_stale,
    money,
    pace_line,
    status_json,
    status_lines,
    tooltip,
    window_line,
)
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SETTINGS = Settings()  # 180 s interval
INTERVAL = timedelta(seconds=SETTINGS.poll_interval)
STALE_AFTER = INTERVAL * 2 + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Wall-clock texts use local time: pin it so expectations hold on any machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def usage_at(
    at: datetime,
    five: float = 42.0,
    week: float = 18.0,
    five_reset: datetime | None = None,
    extra: ExtraUsage | None = None,
) -> Usage:
    return Usage(
        windows=(
            Window(
                FIVE_HOUR,
                "5-hour session",
                five,
                five_reset or NOW + timedelta(hours=2, minutes=30),
            ),
            Window(SEVEN_DAY, "Week (all models)", week, NOW + timedelta(days=3)),
        ),
        extra_usage=extra,
        fetched_at=at,
        source="api",
    )


def state_with(
    usage: Usage | None = None,
    error: Problem | None = None,
    error_at: datetime | None = None,
    history: tuple[HistoryPoint, ...] = (),
) -> State:
    return State(
        salt=b"s" * 16, snapshot=usage, last_error=error, error_at=error_at, history=history
    )


# -- display states and staleness ------------------------------------------------------------


def test_starting_when_nothing_is_known() -> None:
    view = build_view(State(), NOW, SETTINGS)
    assert view.state == DisplayState.STARTING
    assert view.usage is None
    assert not view.stale
    assert view.windows == ()
    assert "starting" in tooltip(view, NOW)


def test_fresh_snapshot() -> None:
    view = build_view(state_with(usage_at(NOW - timedelta(minutes=2))), NOW, SETTINGS)
    assert view.state == DisplayState.FRESH
    assert not view.stale
    assert view.percent(FIVE_HOUR) == 42.0
    assert view.percent("nope") is None


def test_stale_after_two_intervals_and_a_minute() -> None:
    fetched = NOW - STALE_AFTER
    state = state_with(usage_at(fetched))
    assert not is_stale(state, NOW, INTERVAL)
    assert build_view(state, NOW, SETTINGS).state == DisplayState.FRESH
    later = NOW + timedelta(seconds=1)
    assert is_stale(state, later, INTERVAL)
    view = build_view(state, later, SETTINGS)
    assert view.state == DisplayState.STALE
    assert view.stale


def test_stale_follows_the_configured_interval() -> None:
    state = state_with(usage_at(NOW - timedelta(minutes=10)))
    assert build_view(state, NOW, SETTINGS).stale
    assert not build_view(state, NOW, Settings(poll_interval=600)).stale


def test_stale_when_the_error_is_newer_than_the_snapshot() -> None:
    fetched = NOW - timedelta(minutes=1)
    network = Problem(ErrorKind.NETWORK, "No connection")
    newer = build_view(state_with(usage_at(fetched), network, NOW), NOW, SETTINGS)
    assert newer.stale
    assert newer.state == DisplayState.STALE
    older = build_view(
        state_with(usage_at(fetched), network, fetched - timedelta(minutes=1)), NOW, SETTINGS
    )
    assert not older.stale


def test_rate_limited_state() -> None:
    problem = Problem(ErrorKind.RATE_LIMITED, "Rate limited", retry_at=NOW + timedelta(minutes=5))
    view = build_view(state_with(usage_at(NOW - timedelta(minutes=1)), problem, NOW), NOW, SETTINGS)
    assert view.state == DisplayState.RATE_LIMITED
    assert view.usage is not None  # the last numbers stay visible
    assert view.stale
    text = tooltip(view, NOW)
    assert "Rate limited" in text
    assert "12:05" in text


def test_error_state_without_data() -> None:
    view = build_view(state_with(None, Problem(ErrorKind.NETWORK, "down"), NOW), NOW, SETTINGS)
    assert view.state == DisplayState.ERROR
    assert "connection" in tooltip(view, NOW)


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.NO_CREDENTIALS,
        ErrorKind.BAD_CREDENTIALS,
        ErrorKind.TOKEN_EXPIRED,
        ErrorKind.MISSING_SCOPE,
        ErrorKind.UNAUTHORIZED,
    ],
)
def test_signed_out_state(kind: ErrorKind) -> None:
    for usage in (None, usage_at(NOW)):
        view = build_view(state_with(usage, Problem(kind, "sign-in"), NOW), NOW, SETTINGS)
        assert view.state == DisplayState.SIGNED_OUT


def test_passed_reset_reads_zero() -> None:
    usage = usage_at(NOW - timedelta(minutes=1), five=97.0, five_reset=NOW - timedelta(seconds=1))
    view = build_view(state_with(usage), NOW, SETTINGS)
    assert view.percent(FIVE_HOUR) == 0.0
    assert view.percent(SEVEN_DAY) == 18.0
    data = status_json(view)
    windows = data["windows"]
    assert isinstance(windows, list)
    assert windows[0] == {
        "id": FIVE_HOUR,
        "label": "5-hour session",
        "percent": 0.0,
        "resets_at": None,
    }
    assert "5h 0 %" in tooltip(view, NOW)


# -- tooltip ---------------------------------------------------------------------------------


def test_tooltip_reads_naturally() -> None:
    usage = usage_at(
        NOW - timedelta(minutes=1), five_reset=datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    )
    view = build_view(state_with(usage), NOW, SETTINGS)
    text = tooltip(view, NOW)
    assert text.startswith("Claude")
    assert "5h 42 %" in text
    assert "14:30" in text
    assert "week 18 %" in text
    assert "as of" not in text


def test_tooltip_says_as_of_when_stale() -> None:
    usage = usage_at(datetime(2026, 3, 10, 11, 0, tzinfo=UTC))
    text = tooltip(build_view(state_with(usage), NOW, SETTINGS), NOW)
    assert "as of" in text
    assert "11:00" in text


def test_tooltip_out_of_extra_usage_shows_the_plan_percent() -> None:
    problem = Problem(ErrorKind.OUT_OF_EXTRA_USAGE, "You're out of extra usage.")
    view = build_view(state_with(usage_at(NOW), problem, NOW), NOW, SETTINGS)
    text = tooltip(view, NOW)
    assert len(text) <= TOOLTIP_MAX
    assert "extra usage" in text


long_text = st.text(max_size=200)
percents = st.floats(min_value=0, max_value=1e6, allow_nan=False)
moments = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def views(draw: st.DrawFn) -> View:
    windows = tuple(
        Window(wid, draw(long_text), draw(percents), draw(st.none() | moments))
        for wid in draw(
            st.lists(
                st.sampled_from([FIVE_HOUR, SEVEN_DAY, "seven_day_opus"]) | long_text,
                unique=True,
                max_size=4,
            )
        )
    )
    extra = draw(
        st.none()
        | st.builds(
            ExtraUsage,
            st.booleans(),
            st.none() | percents,
            st.none() | percents,
            st.none() | long_text,
            st.none() | percents,
        )
    )
    usage = draw(
        st.none()
        | st.builds(
            Usage, st.just(windows), st.just(extra), moments, st.sampled_from(["api", "statusline"])
        )
    )
    if usage is not None and not usage.windows:
        usage = None
    error = draw(
        st.none()
        | st.builds(
            Problem, st.sampled_from(list(ErrorKind)), long_text, st.none() | moments, long_text
        )
    )
    error_at = draw(st.none() | moments)
    history = draw(
        st.lists(
            st.builds(
                HistoryPoint,
                moments,
                st.dictionaries(st.sampled_from([FIVE_HOUR, SEVEN_DAY]), percents, max_size=2),
            ),
            max_size=6,
        )
    )
    state = State(
        salt=b"s" * 16,
        snapshot=usage,
        last_error=error,
        error_at=error_at,
        history=tuple(sorted(history, key=lambda p: p.at)),
    )
    return build_view(state, draw(moments), Settings(poll_interval=draw(st.floats(60, 86400))))


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(views(), moments)
def test_tooltip_is_never_longer_than_windows_allows(view: View, now: datetime) -> None:
    text = tooltip(view, now)
    assert 0 < len(text) <= TOOLTIP_MAX
    assert text.startswith("Claude")


@PROPERTY
@given(views(), moments)
def test_every_text_renders_for_any_view(view: View, now: datetime) -> None:
    lines = status_lines(view, now)
    assert all(isinstance(line, str) for line in lines)
    json.dumps(status_json(view), allow_nan=False)


def test_texts_survive_extreme_but_parseable_reset_times() -> None:
    """The parser accepts any aware ISO time; the view must not crash on the far edges."""
    usage = parse_usage(
        {
            "five_hour": {"utilization": 5, "resets_at": "9999-12-31T23:00:00-05:00"},
            "seven_day": {"utilization": 5, "resets_at": "9999-12-31T23:59:59+00:00"},
        },
        NOW,
    )
    view = build_view(state_with(usage), NOW, SETTINGS)
    assert len(tooltip(view, NOW)) <= TOOLTIP_MAX
    assert status_lines(view, NOW)


# -- status --json ---------------------------------------------------------------------------


def test_status_json_has_exactly_the_documented_keys() -> None:
    extra = ExtraUsage(True, 20.5, None, "USD", 41.0)
    problem = Problem(ErrorKind.RATE_LIMITED, "Rate limited", retry_at=NOW + timedelta(minutes=5))
    view = build_view(state_with(usage_at(NOW, extra=extra), problem, NOW), NOW, SETTINGS)
    data = json.loads(json.dumps(status_json(view)))
    assert set(data) == {
        "windows",
        "extra_usage",
        "fetched_at",
        "source",
        "stale",
        "error",
        "claude_code",
    }
    for item in data["windows"]:
        assert set(item) == {"id", "label", "percent", "resets_at"}
    assert [w["id"] for w in data["windows"]] == [FIVE_HOUR, SEVEN_DAY]
    assert data["windows"][0]["resets_at"] == (NOW + timedelta(hours=2, minutes=30)).isoformat()
    assert data["extra_usage"] == {
        "enabled": True,
        "used": 20.5,
        "limit": None,
        "currency": "USD",
        "percent": 41.0,
    }
    assert data["fetched_at"] == NOW.isoformat()
    assert data["source"] == "api"
    assert data["stale"] is True
    assert data["error"] == {
        "kind": "rate_limited",
        "message": "Rate limited",
        "retry_at": (NOW + timedelta(minutes=5)).isoformat(),
    }


def test_status_json_when_starting() -> None:
    data = status_json(build_view(State(), NOW, SETTINGS))
    assert data == {
        "windows": [],
        "extra_usage": None,
        "fetched_at": None,
        "source": None,
        "stale": False,
        "error": None,
        "claude_code": None,
    }


def test_status_json_never_carries_detail() -> None:
    problem = Problem(ErrorKind.SERVER_ERROR, "Server error", detail="HTTP 502 from proxy")
    data = status_json(build_view(state_with(None, problem, NOW), NOW, SETTINGS))
    assert data["error"] == {"kind": "server_error", "message": "Server error", "retry_at": None}


# -- status text -----------------------------------------------------------------------------


def test_status_lines_show_windows_extra_source_and_problem() -> None:
    extra = ExtraUsage(True, 20.5, 50.0, "USD", 41.0)
    usage = usage_at(NOW - timedelta(minutes=10), extra=extra)
    problem = Problem(ErrorKind.NETWORK, "Could not connect to the usage service.")
    lines = status_lines(build_view(state_with(usage, problem, NOW), NOW, SETTINGS), NOW)
    text = "\n".join(lines)
    assert lines[0].startswith("5-hour session: 42 %")
    # The clock text carries a weekday when the day is not today; this test's day is fixed.
    assert "14:30 (in 2 h 30 min)" in lines[0]
    assert lines[1].startswith("Week (all models): 18 %")
    assert "Extra usage: $20.50 of $50.00" in text
    from_ = clock(NOW - timedelta(minutes=10))
    assert f"Numbers from {from_} (10 min old) · from the usage service" in text
    assert "(stale)" not in text
    assert "Problem: No connection to the usage service; retrying soon" in text
    assert "  Could not connect to the usage service." in lines


def test_status_says_a_problem_once() -> None:
    """The message line is left out when the headline already says it, and only what it adds
    is shown when it starts with the headline's words."""
    usage = usage_at(NOW - timedelta(minutes=10))
    limited = Problem(
        ErrorKind.RATE_LIMITED, "Rate limited by the usage service.", NOW + timedelta(minutes=5)
    )
    signed_out = Problem(
        ErrorKind.NO_CREDENTIALS, "Not signed in to Claude Code: no sign-in found in ~/x."
    )

    lines = status_lines(build_view(state_with(usage, limited, NOW), NOW, SETTINGS), NOW)
    out = status_lines(build_view(state_with(None, signed_out, NOW), NOW, SETTINGS), NOW)

    next_try = clock(NOW + timedelta(minutes=5))
    assert f"Problem: Rate limited by the usage service; next try {next_try}" in lines
    assert not any(line.strip() == "Rate limited by the usage service." for line in lines)
    assert out == ["Problem: Not signed in to Claude Code", "  No sign-in found in ~/x."]


def test_no_next_manual_refresh_where_no_refresh_can_go() -> None:
    """Signed out or rate limited, the budget's time would promise a refresh that cannot go."""
    usage = usage_at(NOW - timedelta(minutes=1))
    spent = tuple(NOW - timedelta(seconds=s) for s in range(10, 70, 10))
    signed_out = Problem(ErrorKind.NO_CREDENTIALS, "Not signed in to Claude Code.")
    fine = replace(state_with(usage), requests=spent)
    out = replace(state_with(usage, signed_out, NOW), requests=spent)

    shown = status_lines(build_view(fine, NOW, SETTINGS), NOW)
    hidden = status_lines(build_view(out, NOW, SETTINGS), NOW)

    assert any(line.startswith("Next manual refresh ") for line in shown), shown
    assert any(line.endswith("(spaced out)") for line in shown)
    assert not any(line.startswith("Next manual refresh") for line in hidden), hidden


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (ExtraUsage(False, None, None, None, None), "Extra usage: off"),
        (ExtraUsage(True, 20.5, None, "USD", None), "Extra usage: $20.50 (no monthly limit)"),
        (ExtraUsage(True, None, 100.0, "EUR", None), "Extra usage: €0.00 of €100.00"),
        (
            ExtraUsage(True, 1234.5, None, "JPY", None),
            "Extra usage: 1,234.50 JPY (no monthly limit)",
        ),
    ],
)
def test_extra_usage_line(extra: ExtraUsage, expected: str) -> None:
    assert extra_usage_line(extra) == expected


def test_money_defaults_to_dollars() -> None:
    assert money(3.0, None) == "$3.00"
    assert money(3.0, "gbp") == "£3.00"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=0), "under a minute"),
        (timedelta(seconds=59), "under a minute"),
        (timedelta(seconds=-30), "under a minute"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=5, seconds=59), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=13), "2 h 13 min"),
        (timedelta(days=3), "3 d"),
        (timedelta(days=3, hours=4, minutes=59), "3 d 4 h"),
    ],
)
def test_duration(delta: timedelta, expected: str) -> None:
    assert duration(delta) == expected


# -- pace ------------------------------------------------------------------------------------


def climbing_history(
    start_percent: float, step: float, points: int = 4
) -> tuple[HistoryPoint, ...]:
    """One point every 10 minutes up to NOW."""
    history: tuple[HistoryPoint, ...] = ()
    for i in range(points):
        at = NOW - timedelta(minutes=10 * (points - 1 - i))
        history = append_history(history, usage_at(at, five=start_percent + step * i))
    return history


def test_pace_line_when_the_limit_comes_before_the_reset() -> None:
    history = climbing_history(40, 5)  # 40 -> 55 in 30 min: 0.5 %/min, 45 % left: 90 min
    usage = usage_at(NOW, five=55, five_reset=NOW + timedelta(hours=2, minutes=30))
    view = build_view(state_with(usage, history=history), NOW, SETTINGS)
    reach = pace_reach(view.history, view.windows[0], NOW)
    assert reach is not None
    assert abs(reach - (NOW + timedelta(minutes=90))) < timedelta(seconds=1)
    line = pace_line(view, FIVE_HOUR, NOW)
    assert line is not None
    assert line.startswith("At this pace the session limit is reached at ")
    assert line.endswith("13:30")
    assert line in status_lines(view, NOW)


def test_no_pace_line_when_the_reset_comes_first() -> None:
    history = climbing_history(40, 5)
    usage = usage_at(NOW, five=55, five_reset=NOW + timedelta(minutes=60))
    view = build_view(state_with(usage, history=history), NOW, SETTINGS)
    assert pace_line(view, FIVE_HOUR, NOW) is None
    assert not any(line.startswith("At this pace") for line in status_lines(view, NOW))


def test_no_pace_line_when_flat_or_too_short_or_without_reset() -> None:
    flat = climbing_history(40, 0)
    view = build_view(state_with(usage_at(NOW, five=40), history=flat), NOW, SETTINGS)
    assert pace_line(view, FIVE_HOUR, NOW) is None
    short = climbing_history(40, 5, points=1)
    view = build_view(state_with(usage_at(NOW, five=40), history=short), NOW, SETTINGS)
    assert pace_line(view, FIVE_HOUR, NOW) is None
    no_reset = Usage((Window(FIVE_HOUR, "5-hour session", 55.0, None),), None, NOW, "api")
    view = build_view(state_with(no_reset, history=climbing_history(40, 5)), NOW, SETTINGS)
    assert pace_line(view, FIVE_HOUR, NOW) is None
    assert pace_line(build_view(State(), NOW, SETTINGS), FIVE_HOUR, NOW) is None


def test_pace_counts_only_since_the_last_reset() -> None:
    # 80 -> 90, then a reset to 1 and a slow climb to 2: the slow climb is what counts.
    points = [(40, 80.0), (30, 90.0), (20, 1.0), (10, 1.5), (0, 2.0)]
    history = tuple(HistoryPoint(NOW - timedelta(minutes=m), {FIVE_HOUR: p}) for m, p in points)
    usage = usage_at(NOW, five=2.0, five_reset=NOW + timedelta(hours=4))
    view = build_view(state_with(usage, history=history), NOW, SETTINGS)
    reach = pace_reach(view.history, view.windows[0], NOW)
    assert reach is not None
    assert abs(reach - (NOW + timedelta(minutes=98 * 20))) < timedelta(seconds=1)  # 1 % per 20 min
    assert pace_line(view, FIVE_HOUR, NOW) is None  # that is long after the reset


def test_pace_ignores_points_outside_the_lookback() -> None:
    history = (
        HistoryPoint(NOW - timedelta(hours=3), {FIVE_HOUR: 0.0}),
        HistoryPoint(NOW, {FIVE_HOUR: 50.0}),
    )
    usage = usage_at(NOW, five=50.0, five_reset=NOW + timedelta(hours=2))
    view = build_view(state_with(usage, history=history), NOW, SETTINGS)
    assert pace_reach(view.history, view.windows[0], NOW) is None


def test_pace_with_a_microscopic_climb_does_not_crash() -> None:
    """In-memory history is unrounded: two nearly equal floats give an astronomical projection."""
    history = (
        HistoryPoint(NOW - timedelta(minutes=30), {FIVE_HOUR: 10.0}),
        HistoryPoint(NOW, {FIVE_HOUR: 10.000000001}),
    )
    usage = usage_at(NOW, five=10.000000001, five_reset=NOW + timedelta(hours=2))
    view = build_view(state_with(usage, history=history), NOW, SETTINGS)
    assert pace_line(view, FIVE_HOUR, NOW) is None
    assert status_lines(view, NOW)


def test_week_pace_names_the_window_and_needs_hours_of_history() -> None:
    usage = Usage(
        (Window(SEVEN_DAY, "Week (all models)", 80.0, NOW + timedelta(days=1)),), None, NOW, "api"
    )
    # A 40-minute burst says nothing about the week.
    burst = tuple(
        HistoryPoint(NOW - timedelta(minutes=m), {SEVEN_DAY: p}) for m, p in [(40, 60.0), (0, 80.0)]
    )
    assert (
        pace_line(build_view(state_with(usage, history=burst), NOW, SETTINGS), SEVEN_DAY, NOW)
        is None
    )
    # Four hours at 5 % an hour reach 100 % four hours from now, before tomorrow's reset.
    steady = tuple(
        HistoryPoint(NOW - timedelta(hours=h), {SEVEN_DAY: p}) for h, p in [(4, 60.0), (0, 80.0)]
    )
    line = pace_line(build_view(state_with(usage, history=steady), NOW, SETTINGS), SEVEN_DAY, NOW)
    assert line is not None
    assert line.startswith("At this pace the weekly limit is reached at ")
    assert line.endswith(clock(NOW + timedelta(hours=4)))


def test_local_time_is_used_for_clock_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.name != "posix":
        pytest.skip("TZ switching needs tzset")
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    usage = usage_at(NOW, five_reset=datetime(2026, 3, 10, 14, 30, tzinfo=UTC))
    text = tooltip(build_view(state_with(usage), NOW, SETTINGS), NOW)
    assert "20:00" in text


def test_numbers_claude_code_just_handed_over_are_current_despite_a_sign_in_problem() -> None:
    bridged = replace(usage_at(NOW - timedelta(seconds=20)), source="statusline")
    signed_out = Problem(ErrorKind.NO_CREDENTIALS, "Not signed in")
    state = state_with(bridged, signed_out, error_at=NOW - timedelta(seconds=5))
    assert not build_view(state, NOW, SETTINGS).stale
    # The same numbers from the API, or bridged numbers past the poll interval, are stale.
    from_api = replace(bridged, source="api")
    assert build_view(
        state_with(from_api, signed_out, NOW - timedelta(seconds=5)), NOW, SETTINGS
    ).stale
    old = replace(bridged, fetched_at=NOW - timedelta(minutes=4))
    assert build_view(state_with(old, signed_out, NOW - timedelta(seconds=5)), NOW, SETTINGS).stale


def test_a_rate_limit_is_over_once_newer_bridged_numbers_arrive_after_its_wait() -> None:
    limited = Problem(ErrorKind.RATE_LIMITED, "429", retry_at=NOW - timedelta(minutes=1))
    bridged = replace(usage_at(NOW - timedelta(seconds=30)), source="statusline")
    state = state_with(bridged, limited, error_at=NOW - timedelta(minutes=20))
    view = build_view(state, NOW, SETTINGS)
    assert view.error is None
    assert view.state == DisplayState.FRESH
    # While its wait lasts, the problem is still told.
    waiting = replace(limited, retry_at=NOW + timedelta(minutes=5))
    still = build_view(state_with(bridged, waiting, NOW - timedelta(minutes=20)), NOW, SETTINGS)
    assert still.state == DisplayState.RATE_LIMITED
    # Older numbers than the problem do not end it.
    old = replace(bridged, fetched_at=NOW - timedelta(minutes=30))
    assert build_view(state_with(old, limited, NOW - timedelta(minutes=20)), NOW, SETTINGS).error


def test_numbers_kept_from_an_older_answer_say_how_old_they_are() -> None:
    old = NOW - timedelta(hours=1)
    extra = ExtraUsage(True, 34.62, 50.0, "USD", 69.2, as_of=old)
    assert extra_usage_line(extra) == f"Extra usage: $34.62 of $50.00 (as of {clock(old)})"
    week = Window(SEVEN_DAY, "Week (all models)", 18.0, None, as_of=old)
    assert window_line(week, NOW) == f"Week (all models): 18 % (as of {clock(old)})"


@pytest.mark.parametrize(
    ("message", "detail", "shown"),
    [
        (
            "The usage service did not accept the sign-in (HTTP 401).",
            "HTTP 401: OAuth token has expired.",
            "(OAuth token has expired.)",
        ),
        # The message does not name the status: the detail keeps it.
        ("Could not reach the usage service.", "HTTP 502: Bad Gateway", "(HTTP 502: Bad Gateway)"),
        # Another status than the message names: kept whole.
        (
            "The usage service had a problem (HTTP 500).",
            "HTTP 503: Unavailable",
            "(HTTP 503: Unavailable)",
        ),
    ],
)
def test_the_problem_detail_does_not_repeat_the_status_the_message_says(
    message: str, detail: str, shown: str
) -> None:
    error = Problem(ErrorKind.UNAUTHORIZED, message, detail=detail)
    view = build_view(state_with(error=error, error_at=NOW), NOW, SETTINGS)
    lines = status_lines(view, NOW)
    assert f"  {shown}" in lines
    if shown != f"({detail})":
        assert detail not in "\n".join(lines)

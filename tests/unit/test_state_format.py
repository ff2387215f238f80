"""The statusline's glance at the state file agrees with the full reader and the view.

The bridge must not load the full model on every refresh, so it reads the state file through
`core.state_format.glance`; these properties hold it to what `State.from_json` and
`view.is_stale` make of the very same file, so the two readers cannot drift apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL, stale_after
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.state_format import glance
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.view import is_stale
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
seconds = st.floats(min_value=0, max_value=3 * 86400, allow_nan=False)
percents = st.floats(min_value=0, max_value=150, allow_nan=False)


@st.composite
def states(draw: st.DrawFn) -> State:
    fetched_at = NOW - timedelta(seconds=draw(seconds))
    windows = [
        Window(
            id=window_id,
            label=window_id,
            percent=draw(percents),
            resets_at=draw(st.none() | st.just(NOW + timedelta(hours=2))),
        )
        for window_id in (FIVE_HOUR, SEVEN_DAY, "seven_day_opus")
        if draw(st.booleans()) or window_id == FIVE_HOUR
    ]
    usage = Usage(
        windows=tuple(windows),
        extra_usage=None,
        fetched_at=fetched_at,
        source=draw(st.sampled_from(["api", "statusline"])),
    )
    failed = draw(st.booleans())
    error_at = NOW - timedelta(seconds=draw(seconds)) if failed else None
    problem = Problem(ErrorKind.RATE_LIMITED, "Rate limited") if failed else None
    interval = draw(st.none() | st.floats(min_value=60, max_value=3600))
    return State(
        salt=b"s" * 16,
        snapshot=usage,
        last_error=problem,
        error_at=error_at,
        poll_interval=interval,
    )


@given(states())
def test_the_glance_reads_what_the_full_reader_reads(state: State) -> None:
    raw = json.loads(json.dumps(state.to_json()))
    seen = glance(raw)
    full = State.from_json(raw)
    assert seen is not None
    assert full is not None
    assert full.snapshot is not None
    assert seen.at == full.snapshot.fetched_at.timestamp()
    for window in full.snapshot.windows:
        if window.id in (FIVE_HOUR, SEVEN_DAY):
            reset = window.resets_at.timestamp() if window.resets_at else None
            assert seen.windows[window.id] == (window.percent, reset)
    assert set(seen.windows) <= {FIVE_HOUR, SEVEN_DAY}


@given(states())
def test_the_glance_judges_staleness_as_the_view_does(state: State) -> None:
    seen = glance(json.loads(json.dumps(state.to_json())))
    assert seen is not None
    interval = timedelta(seconds=state.poll_interval or DEFAULT_POLL_INTERVAL)
    # The glance counts in float epoch seconds, the view in datetimes: they may differ by a
    # microsecond or so, which matters only for an age within a millisecond of a boundary.
    assert state.snapshot is not None
    age = (NOW - state.snapshot.fetched_at).total_seconds()
    edges = (interval.total_seconds(), stale_after(interval.total_seconds()))
    assume(all(abs(age - edge) > 0.001 for edge in edges))
    assert seen.stale(NOW.timestamp(), DEFAULT_POLL_INTERVAL) == is_stale(state, NOW, interval)


def test_a_custom_poll_interval_moves_the_stale_point() -> None:
    """Numbers 10 minutes old: stale at the default 3-minute interval, fresh at 10 minutes."""
    usage = Usage(
        windows=(Window(id=FIVE_HOUR, label="5h", percent=40.0),),
        extra_usage=None,
        fetched_at=NOW - timedelta(minutes=10),
        source="api",
    )
    default = glance(State(salt=b"s" * 16, snapshot=usage).to_json())
    slow = glance(State(salt=b"s" * 16, snapshot=usage, poll_interval=600.0).to_json())
    assert default is not None
    assert slow is not None
    assert default.stale(NOW.timestamp(), DEFAULT_POLL_INTERVAL)
    assert not slow.stale(NOW.timestamp(), DEFAULT_POLL_INTERVAL)


def test_anything_else_is_no_glance() -> None:
    odd: list[object] = [None, [], {"version": 2}, {"version": 1, "snapshot": {"windows": "x"}}]
    for raw in odd:
        assert glance(raw) is None

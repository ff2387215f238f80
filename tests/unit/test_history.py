"""The usage history: a week at five-minute resolution or better, bounded, thinned as it ages,
with the reset moments the answers announced."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.history import (
    HISTORY_MAX_AGE,
    HISTORY_MAX_POINTS,
    HISTORY_MAX_WINDOWS,
    HISTORY_RESOLUTION,
    RESETS_MAX_PER_WINDOW,
    HistoryPoint,
    append_history,
    history_from_json,
    history_to_json,
    record_resets,
    resets_from_json,
    resets_to_json,
)
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

T0 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
MEGABYTE = 1024 * 1024


def usage(
    at: datetime,
    five: float = 42.0,
    week: float = 18.0,
    *,
    five_reset: datetime | None = None,
    week_reset: datetime | None = None,
    extra_windows: int = 0,
) -> Usage:
    windows = [
        Window(FIVE_HOUR, "5-hour session", five, five_reset),
        Window(SEVEN_DAY, "Week (all models)", week, week_reset),
    ]
    # Odd windows with long names, as a foreign answer could carry.
    windows += [
        Window(f"seven_day_codename_{i:02d}_{'x' * 40}", f"Odd {i}", 99.99 - i)
        for i in range(extra_windows)
    ]
    return Usage(tuple(windows), None, at, "api")


def grow(
    steps: int, every: timedelta, *, start: datetime = T0, extra_windows: int = 0
) -> tuple[HistoryPoint, ...]:
    """A history fed a changing answer every `every`, `steps` times (the worst case for size)."""
    history: tuple[HistoryPoint, ...] = ()
    for i in range(steps):
        history = append_history(
            history,
            usage(
                start + every * i,
                five=(i * 7) % 100,
                week=i % 97 + 0.37,
                extra_windows=extra_windows,
            ),
        )
    return history


def test_a_busy_week_fits_in_a_megabyte_at_five_minute_resolution() -> None:
    # Numbers changing every 30 s for 8 days, with the most windows a point keeps.
    every = timedelta(seconds=30)
    steps = int(timedelta(days=8) / every)
    history = grow(steps, every, extra_windows=HISTORY_MAX_WINDOWS + 4)
    end = T0 + every * (steps - 1)

    assert len(history) <= HISTORY_MAX_POINTS
    assert all(len(p.percents) <= HISTORY_MAX_WINDOWS for p in history)
    size = len(json.dumps(history_to_json(history), separators=(",", ":")))
    assert size <= MEGABYTE, size
    # Every 5-minute bucket of the last seven days holds a point.
    week_ago = end - timedelta(days=7)
    buckets = {(p.at - T0) // HISTORY_RESOLUTION for p in history if p.at >= week_ago}
    first, last = (week_ago - T0) // HISTORY_RESOLUTION, (end - T0) // HISTORY_RESOLUTION
    assert buckets >= set(range(first + 1, last + 1))  # the first bucket may begin before
    # The newest hour is kept as it came: the session's pace looks 45 minutes back.
    newest_hour = [p for p in history if p.at > end - timedelta(hours=1)]
    assert len(newest_hour) == int(timedelta(hours=1) / every)


def test_history_is_bounded_in_age_and_stays_monotonic() -> None:
    every = timedelta(minutes=1)
    history = grow(int(timedelta(days=10) / every), every)
    end = history[-1].at
    assert end - history[0].at <= HISTORY_MAX_AGE
    times = [p.at for p in history]
    assert times == sorted(times)


def test_the_top_of_each_sawtooth_survives_thinning() -> None:
    # A session climbing every minute to a peak, then reset to 0, a day ago.
    history: tuple[HistoryPoint, ...] = ()
    percent = 0.0
    for minute in range(24 * 60):
        at = T0 + timedelta(minutes=minute)
        percent = 0.0 if minute % 300 == 299 else percent + 0.3
        history = append_history(history, usage(at, five=percent))
    old = [p for p in history if p.at < history[-1].at - timedelta(hours=1)]
    peaks = [
        a.percents[FIVE_HOUR]
        for a, b in itertools.pairwise(old)
        if b.percents[FIVE_HOUR] < a.percents[FIVE_HOUR]
    ]
    # Each reset's peak (299 climbs of 0.3 %) is still there, not the bucket's later zero only.
    assert len(peaks) == 4
    assert all(abs(p - 299 * 0.3) < 1e-6 for p in peaks)


def test_unchanged_values_are_not_repeated_within_two_minutes() -> None:
    history = append_history((), usage(T0))
    history = append_history(history, usage(T0 + timedelta(seconds=30)))
    assert len(history) == 1
    history = append_history(history, usage(T0 + timedelta(seconds=40), five=43))
    assert len(history) == 2


def test_history_survives_the_file_and_refuses_disorder() -> None:
    history = grow(50, timedelta(minutes=3))
    assert history_from_json(json.loads(json.dumps(history_to_json(history)))) == tuple(
        HistoryPoint(p.at, {k: round(v, 2) for k, v in p.percents.items()}) for p in history
    )
    raw = history_to_json(history)
    shuffled = [raw[3], raw[1], raw[2], "garbage", [None, {}], raw[4]]
    read = history_from_json(shuffled)
    assert [p.at for p in read] == sorted(p.at for p in read)


# -- reset moments ---------------------------------------------------------------------------


def test_reset_moments_are_recorded_once_each_and_past_ones_kept() -> None:
    first = T0 + timedelta(hours=5)
    resets = record_resets({}, usage(T0, five_reset=first))
    # The same reset, re-announced with another fraction of a second: still one.
    resets = record_resets(
        resets, usage(T0 + timedelta(minutes=3), five_reset=first + timedelta(seconds=0.4))
    )
    assert resets[FIVE_HOUR] == (first + timedelta(seconds=0.4),)
    # After it passed, the next window announces the next reset: both are kept.
    second = first + timedelta(hours=6)
    resets = record_resets(resets, usage(first + timedelta(hours=1), five_reset=second))
    assert resets[FIVE_HOUR] == (first + timedelta(seconds=0.4), second)


def test_a_moved_future_reset_leaves_no_phantom() -> None:
    planned = T0 + timedelta(days=3)
    resets = record_resets({}, usage(T0, week_reset=planned))
    moved = planned + timedelta(hours=7)
    resets = record_resets(resets, usage(T0 + timedelta(hours=1), week_reset=moved))
    assert resets[SEVEN_DAY] == (moved,)


def test_reset_moments_are_bounded() -> None:
    resets: dict[str, tuple[datetime, ...]] = {}
    for i in range(400):
        at = T0 + timedelta(hours=5 * i)
        resets = record_resets(
            resets, usage(at, five_reset=at + timedelta(hours=5), extra_windows=0)
        )
    assert len(resets[FIVE_HOUR]) <= RESETS_MAX_PER_WINDOW
    newest = T0 + timedelta(hours=5 * 399)
    assert all(newest - t <= HISTORY_MAX_AGE for t in resets[FIVE_HOUR])


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.text(max_size=5),
        st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=30)), max_size=5)
        | st.integers(),
        max_size=12,
    )
    | st.lists(st.integers())
    | st.none()
)
def test_reset_moments_from_any_json_never_raise(raw: object) -> None:
    resets = resets_from_json(raw)
    assert len(resets) <= HISTORY_MAX_WINDOWS
    assert resets_from_json(json.loads(json.dumps(resets_to_json(resets)))) == resets

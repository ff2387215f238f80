"""The usage history the pace line and the history page draw from: points and reset moments.

A week must fit in the shared store and stay cheap to rewrite, so points are thinned as they age:
the newest hour is kept as it came (the session's pace looks 45 minutes back), older points keep
one per five-minute bucket: the last, or the peak just before a drop, so a reset keeps its top.
Everything is bounded by count and by age, so the history's JSON stays under a megabyte whatever
a foreign or hostile answer puts in it (see tests/unit/test_history.py).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from claude_usage_gauge.core.usage import Usage, Window, window_order
from claude_usage_gauge.core.values import finite_number, parse_iso

# A week for the page, and a few hours more so its left edge is never empty.
HISTORY_MAX_AGE = timedelta(days=7, hours=6)
# Unchanged values closer together than this add nothing.
HISTORY_MIN_SPACING = timedelta(minutes=2)
# The newest stretch is kept at full resolution; before it, one point per bucket.
HISTORY_FULL_RESOLUTION = timedelta(hours=1)
HISTORY_RESOLUTION = timedelta(minutes=5)
# 7¼ days of 5-minute buckets (2088) and a busy newest hour (a point every 10 s).
HISTORY_MAX_POINTS = 2600
# An answer may name any number of odd windows: a point keeps the first few in display order,
# with ids of a sane length and percents clamped to what a chart can show. With these bounds the
# history's JSON stays under a megabyte (tests/unit/test_history.py).
HISTORY_MAX_WINDOWS = 6
HISTORY_MAX_ID = 40
HISTORY_MAX_PERCENT = 999.0
# Reset moments: a week of 5-hour resets is 34; a few dozen per window is plenty.
RESETS_MAX_PER_WINDOW = 48
# Two announced resets of one window closer than this are the same reset, re-announced with
# another fraction of a second (a 5-hour window's next reset is at least 5 hours later).
SAME_RESET = timedelta(hours=1)

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

Resets = dict[str, tuple[datetime, ...]]


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    percents: dict[str, float]


def point_of(usage: Usage) -> HistoryPoint:
    windows = [w for w in sorted(usage.windows, key=window_order) if len(w.id) <= HISTORY_MAX_ID]
    return HistoryPoint(
        at=usage.fetched_at,
        percents={w.id: _clamped(w.percent) for w in windows[:HISTORY_MAX_WINDOWS]},
    )


def _clamped(percent: float) -> float:
    return min(max(percent, 0.0), HISTORY_MAX_PERCENT)


def append_history(history: tuple[HistoryPoint, ...], usage: Usage) -> tuple[HistoryPoint, ...]:
    """Add a point, thinned (no two within a couple of minutes unless values moved) and bounded."""
    point = point_of(usage)
    points = list(history)
    if points:
        last = points[-1]
        if point.at < last.at:
            return history  # out of order (a clock jump back): history stays monotonic
        if point.at - last.at < HISTORY_MIN_SPACING and point.percents == last.percents:
            return history
    points.append(point)
    cutoff = point.at - HISTORY_MAX_AGE
    first = bisect.bisect_left(points, cutoff, key=_at)
    # What aged out of the newest hour since the last point needs thinning; older buckets were
    # thinned before and stay as they are (one bucket more, for the one that was half done).
    previous_newest = points[-2].at if len(points) > 1 else point.at
    settled = bisect.bisect_left(
        points,
        _bucket_start(previous_newest - HISTORY_FULL_RESOLUTION) - HISTORY_RESOLUTION,
        lo=first,
        key=_at,
    )
    kept = points[first:settled] + thin(points[settled:], point.at)
    return tuple(kept[-HISTORY_MAX_POINTS:])


def _at(point: HistoryPoint) -> datetime:
    return point.at


def _bucket_start(at: datetime) -> datetime:
    return _EPOCH + HISTORY_RESOLUTION * ((at - _EPOCH) // HISTORY_RESOLUTION)


def thin(points: list[HistoryPoint], newest: datetime) -> list[HistoryPoint]:
    """One point per 5-minute bucket before the newest hour: the bucket's last, or the point
    before a drop in it, so the top of a sawtooth (a reset) keeps its height."""
    full_from = newest - HISTORY_FULL_RESOLUTION
    kept: list[HistoryPoint] = []
    bucket: int | None = None
    holds_peak = False
    for i, point in enumerate(points):
        if point.at >= full_from:
            kept.extend(points[i:])
            break
        key = (point.at - _EPOCH) // HISTORY_RESOLUTION
        if key != bucket:
            bucket = key
            kept.append(point)
        elif holds_peak:
            continue
        else:
            kept[-1] = point
        following = points[i + 1] if i + 1 < len(points) else None
        holds_peak = following is not None and _dropped(point, following)
    return kept


def _dropped(before: HistoryPoint, after: HistoryPoint) -> bool:
    return any(after.percents.get(k, 0.0) < v for k, v in before.percents.items())


def record_resets(resets: Resets, usage: Usage) -> Resets:
    """Remember when each window resets, as the newest answer announces it.

    A reset already past when the answer came is history and stays; an announced future one is
    replaced by what the newest answer says (the service may move it), so no phantom remains.
    """
    changed = dict(resets)
    for window in sorted(usage.windows, key=window_order):
        if window.resets_at is None:
            continue
        if window.id not in changed and len(changed) >= HISTORY_MAX_WINDOWS:
            continue
        changed[window.id] = _with_reset(changed.get(window.id, ()), window, usage.fetched_at)
    cutoff = usage.fetched_at - HISTORY_MAX_AGE
    return {k: kept for k, v in changed.items() if (kept := tuple(t for t in v if t >= cutoff))}


def _with_reset(known: tuple[datetime, ...], window: Window, now: datetime) -> tuple[datetime, ...]:
    announced = window.resets_at
    assert announced is not None
    past = [t for t in known if t <= now and abs(t - announced) >= SAME_RESET]
    return tuple(sorted([*past, announced]))[-RESETS_MAX_PER_WINDOW:]


# -- the store's representation ---------------------------------------------------------------


def history_to_json(history: tuple[HistoryPoint, ...]) -> list[object]:
    return [[p.at.isoformat(), {k: round(v, 2) for k, v in p.percents.items()}] for p in history]


def history_from_json(raw: object) -> tuple[HistoryPoint, ...]:
    if not isinstance(raw, list):
        return ()
    points: list[HistoryPoint] = []
    for item in raw[-HISTORY_MAX_POINTS:]:
        point = _history_point(item)
        # A hand-edited or torn file may be out of order: keep the history monotonic.
        if point is not None and (not points or point.at >= points[-1].at):
            points.append(point)
    return tuple(points)


def _history_point(item: object) -> HistoryPoint | None:
    if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], dict):
        return None
    at = parse_iso(item[0])
    if at is None:
        return None
    percents: dict[str, float] = {}
    for key, value in list(item[1].items())[:HISTORY_MAX_WINDOWS]:
        number = finite_number(value)
        if isinstance(key, str) and len(key) <= HISTORY_MAX_ID and number is not None:
            percents[key] = _clamped(number)
    return HistoryPoint(at=at, percents=percents)


def resets_to_json(resets: Resets) -> dict[str, list[str]]:
    return {k: [t.isoformat() for t in v] for k, v in resets.items()}


def resets_from_json(raw: object) -> Resets:
    if not isinstance(raw, dict):
        return {}
    resets: Resets = {}
    for key, values in list(raw.items())[:HISTORY_MAX_WINDOWS]:
        if not isinstance(key, str) or not isinstance(values, list):
            continue
        times = sorted(t for v in values[-RESETS_MAX_PER_WINDOW:] if (t := parse_iso(v)))
        if times:
            resets[key] = tuple(times)
    return resets

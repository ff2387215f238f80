"""The pace: how fast a window has been climbing lately, and when it would reach 100 % at that
rate. The menu's pace line and the history page's projection both come from here."""

from __future__ import annotations

from datetime import datetime, timedelta

from claude_usage_gauge.core.history import HistoryPoint
from claude_usage_gauge.core.usage import Window

# A crawl that would take longer than this predicts nothing (and would overflow).
PACE_HORIZON = timedelta(days=8)


def pace_reach(history: tuple[HistoryPoint, ...], window: Window, now: datetime) -> datetime | None:
    """When the window hits 100 % at the recent rate of climb; None if it is not climbing."""
    kind = window.kind
    if kind.pace_name is None:
        return None
    pace = pace_rate(history, window.id, now, kind.pace_lookback, kind.pace_min_span)
    if pace is None or pace[1] <= 0:
        return None
    t1, rate = pace
    seconds = (100.0 - window.percent) / rate
    # A crawl that would take longer than a window lasts predicts nothing (and would overflow).
    if seconds > PACE_HORIZON.total_seconds():
        return None
    return t1 + timedelta(seconds=seconds)


def pace_rate(
    history: tuple[HistoryPoint, ...],
    window_id: str,
    now: datetime,
    lookback: timedelta,
    min_span: timedelta,
) -> tuple[datetime, float] | None:
    """The newest point's time and the climb since `lookback` ago (percent per second, 0 when
    flat); None without enough history. Only the stretch since the last drop (a reset) counts."""
    recent = [
        (p.at, p.percents[window_id])
        for p in history
        if window_id in p.percents and now - lookback <= p.at <= now
    ]
    start = 0
    for i in range(1, len(recent)):
        if recent[i][1] < recent[i - 1][1]:
            start = i
    recent = recent[start:]
    if len(recent) < 2:
        return None
    (t0, p0), (t1, p1) = recent[0], recent[-1]
    span = (t1 - t0).total_seconds()
    if span < min_span.total_seconds():
        return None
    return t1, max(p1 - p0, 0.0) / span

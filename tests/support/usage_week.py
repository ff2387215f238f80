"""A week of usage as the store records it, for the history page's tests and screenshots.

Working hours 9:00-12:30 and 13:30-18:00 (UTC): the 5-hour window opens at the first use after
its reset and climbs while the person works; the week climbs slowly and reset six days ago. The
app checked every 3 minutes while the numbers moved and every 15 otherwise, and the laptop was
off one night (a gap in the lines).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

FIVE_PER_MINUTE = 0.3
WEEK_PER_MINUTE = 0.011
SALT = b"usage-week-salt!"


def working(at: datetime) -> bool:
    minutes = at.hour * 60 + at.minute
    return at.weekday() < 5 and (
        9 * 60 <= minutes < 12 * 60 + 30 or 13 * 60 + 30 <= minutes < 18 * 60
    )


def usage_week(now: datetime, *, days: int = 8) -> State:
    """The state the store would hold at `now` after `days` days of this routine."""
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    week_reset = start + timedelta(days=2, hours=3)
    state = replace(State(), salt=SALT)
    five, week = 0.0, 35.0
    five_reset: datetime | None = None
    at = start
    step = timedelta(minutes=1)
    last_point = start - timedelta(hours=1)
    off = (start + timedelta(days=4, hours=1), start + timedelta(days=4, hours=7))
    while at <= now:
        if five_reset is not None and at >= five_reset:
            five, five_reset = 0.0, None
        if at >= week_reset:
            week, week_reset = 0.0, week_reset + timedelta(days=7)
        if working(at):
            if five_reset is None:
                five_reset = at + timedelta(hours=5)
            five = min(five + FIVE_PER_MINUTE, 100.0)
            week = min(week + WEEK_PER_MINUTE, 100.0)
        every = timedelta(minutes=3 if working(at) else 15)
        laptop_off = off[0] <= at < off[1]
        if not laptop_off and (at - last_point >= every or at == now):
            state = state.with_snapshot(_usage(at, five, week, five_reset, week_reset))
            last_point = at
        at += step
    return state


def _usage(
    at: datetime, five: float, week: float, five_reset: datetime | None, week_reset: datetime
) -> Usage:
    windows = [Window(SEVEN_DAY, "Week (all models)", round(week), week_reset)]
    if five_reset is not None:
        windows.insert(0, Window(FIVE_HOUR, "5-hour session", round(five), five_reset))
    return Usage(tuple(windows), None, at, "api")

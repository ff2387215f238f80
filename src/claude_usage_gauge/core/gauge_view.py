"""What the tray icon shows, as a value: the display state, the two readings and the level
thresholds. Pure and light (no imaging library): the tray and the tests build it; `gauge`
draws it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from claude_usage_gauge.core.display_state import DisplayState


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class GaugeView:
    state: DisplayState
    session_percent: float | None  # the 5-hour window (dominant reading)
    week_percent: float | None  # the 7-day window (secondary reading)
    warn_percent: float = 75.0
    critical_percent: float = 90.0


def level_for(percent: float, warn: float, critical: float) -> Level:
    """OK below `warn`; WARN from `warn` up to and including `critical`; CRITICAL above it.

    So with the defaults 75 and 90: 74.9 is OK, 75 and 90 are WARN, 90.1 is CRITICAL. A NaN
    compares false everywhere and so reads as OK.
    """
    if percent > critical:
        return Level.CRITICAL
    if percent >= warn:
        return Level.WARN
    return Level.OK

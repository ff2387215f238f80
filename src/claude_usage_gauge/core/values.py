"""Small value helpers shared by the core and the statusline's fast path.

Light on purpose: the statusline bridge imports this module on every refresh of Claude Code's
status line, so it loads only `math` at import time (`datetime` when a time is first parsed).
"""

from __future__ import annotations

import math
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

# Reset times at or before 2000-01-01 (the service sends the Unix epoch) mean "no reset
# scheduled"; times after 2200 are garbage. Both are dropped, by the parser and the bridge alike.
NO_RESET_BEFORE_EPOCH = 946684800.0
NO_RESET_AFTER_EPOCH = 7258118400.0


def finite_number(raw: object) -> float | None:
    """A finite float from a JSON number (bools are not numbers here)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def parse_iso(raw: object) -> datetime | None:
    """An aware datetime from ISO-8601 text, or None for anything else."""
    if not isinstance(raw, str) or not raw:
        return None
    from datetime import datetime

    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value


def iso_epoch(raw: object) -> float | None:
    """Epoch seconds from ISO-8601 text with an offset, or None."""
    value = parse_iso(raw)
    return None if value is None else value.timestamp()


def reset_epoch(raw: object) -> float | None:
    """When a window resets, in epoch seconds: from ISO-8601 text or from epoch seconds or
    milliseconds. None when it means "no reset scheduled" (the epoch) or is garbage."""
    value = iso_epoch(raw) if isinstance(raw, str) else finite_number(raw)
    if value is None:
        return None
    if value > 1e11:  # milliseconds
        value /= 1000.0
    if value <= NO_RESET_BEFORE_EPOCH or value >= NO_RESET_AFTER_EPOCH:
        return None
    return value


def local_clock(moment: float, now: float | None = None) -> str | None:
    """Local wall-clock time of epoch seconds `moment`: "14:30" today, "Tue 14:30" on another
    day. None when the platform cannot place the moment (far-off dates on some systems)."""
    try:
        local = time.localtime(moment)
        today = time.localtime(time.time() if now is None else now)
    except (OverflowError, OSError, ValueError):
        return None
    if (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", local)
    return time.strftime("%a %H:%M", local)


def zone_name(local: datetime) -> str:
    """The short name of `local`'s zone ("CET", "EST", "UTC"), or its offset from UTC
    ("UTC+05:30": some zones are named "-03", and Windows names them in long words)."""
    name = local.tzname()
    if name is not None and name.isascii() and name.isalpha() and 2 <= len(name) <= 6:
        return name
    offset = local.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")

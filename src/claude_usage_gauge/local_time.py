"""Times as the command line prints them: the user's local time, with its zone named.

"14:02" alone is ambiguous in a terminal that may be a server in another zone, in a log pasted
into a chat, or a day later; "2026-11-29 14:02 CET" is not. The zone is its short name where
the system has one ("CET", "EST", "UTC"), else the offset ("UTC+05:30"; some zones are named
"-03", and Windows names them in long words). The bug report keeps UTC (see `core/report.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claude_usage_gauge.core.values import local_clock, zone_name


def _local(moment: datetime) -> datetime | None:
    try:
        return moment.astimezone()
    except (OverflowError, OSError, ValueError):
        return None


def stamp(moment: datetime, *, seconds: bool = False) -> str:
    """'2026-11-29 14:02 CET': the date, the local time and its zone ('14:02:07' with
    `seconds`)."""
    shape = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    local = _local(moment)
    if local is None:  # far-off dates some platforms cannot place locally: say it in UTC
        return f"{moment.astimezone(UTC).strftime(shape)} UTC"
    return f"{local.strftime(shape)} {zone_name(local)}"


def clock(moment: datetime, now: datetime | None = None) -> str:
    """'14:02 CET' today, 'Tue 14:02 CET' on another day of the coming week, else the stamp."""
    local = _local(moment)
    if local is None:
        return stamp(moment)
    current = now if now is not None else datetime.now(UTC)
    if abs(moment - current) >= timedelta(days=6):
        return stamp(moment)
    text = local_clock(moment.timestamp(), current.timestamp())
    return f"{text} {zone_name(local)}" if text is not None else stamp(moment)


def current_zone() -> str:
    """The zone of the local time now (what a line of bare clock times is in)."""
    local = _local(datetime.now(UTC))
    return zone_name(local) if local is not None else "UTC"

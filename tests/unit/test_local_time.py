"""How the command line names a time's zone: a short name where there is one, else the offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from claude_usage_gauge.core.values import zone_name
from claude_usage_gauge.local_time import clock, stamp

WINTER = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "moment", "expected"),
    [
        ("Europe/Berlin", WINTER, "CET"),
        ("Europe/Berlin", SUMMER, "CEST"),
        ("Asia/Kolkata", WINTER, "IST"),
        ("UTC", WINTER, "UTC"),
        ("America/Sao_Paulo", WINTER, "UTC-03"),  # the zone's own name is "-03"
        ("Asia/Kathmandu", WINTER, "UTC+05:45"),  # "+0545"
        ("America/St_Johns", WINTER, "NST"),
    ],
)
def test_a_short_name_or_the_offset(name: str, moment: datetime, expected: str) -> None:
    assert zone_name(moment.astimezone(ZoneInfo(name))) == expected


def test_a_zone_named_in_long_words_is_shown_as_its_offset() -> None:
    # As Windows names zones ("W. Europe Standard Time").
    long_name = timezone(timedelta(hours=-9, minutes=-30), "Marquesas Islands Standard Time")
    assert zone_name(WINTER.astimezone(long_name)) == "UTC-09:30"


def test_a_moment_no_platform_can_place_is_said_in_utc() -> None:
    far = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert stamp(far).startswith("9999-12-3")
    assert clock(far, WINTER) == stamp(far)  # far from now: the whole date, not "Tue 14:02"


def test_seconds_on_request() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert stamp(moment, seconds=True).split(" ")[1].count(":") == 2
    assert stamp(moment).split(" ")[1].count(":") == 1

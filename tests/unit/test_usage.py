"""The usage model: resets passing, Claude Code's numbers merged in, and its stored form."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from claude_usage_gauge.core.usage import Usage, apply_resets, merge_bridged
from claude_usage_gauge.core.usage_parser import parse_statusline
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from tests.unit.test_usage_parser import PROPERTY, ids, json_values, sample_usage, window

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RESET_5H = "2026-03-10T14:30:00.123456+00:00"
RESET_7D = "2026-03-14T08:00:00.000000+00:00"


def test_apply_resets_zeroes_passed_windows_only() -> None:
    usage = sample_usage()
    assert apply_resets(usage, NOW) is usage
    later = apply_resets(usage, NOW + timedelta(hours=2))
    session = window(later, FIVE_HOUR)
    assert session.percent == 0.0
    assert session.resets_at is None
    assert session.active is False
    assert window(later, SEVEN_DAY).percent == 18.0
    assert window(later, "seven_day_opus").percent == 50.0
    assert later.fetched_at == usage.fetched_at


def test_merge_bridged_keeps_windows_and_extra_usage_it_lacks() -> None:
    previous = sample_usage(NOW - timedelta(minutes=10))
    bridged = parse_statusline(
        {"rate_limits": {"five_hour": {"used_percentage": 50, "resets_at": 1773153000}}}, NOW
    )
    assert bridged is not None
    merged = merge_bridged(previous, bridged)
    assert ids(merged) == [FIVE_HOUR, SEVEN_DAY, "seven_day_opus"]
    assert window(merged, FIVE_HOUR).percent == 50
    assert window(merged, SEVEN_DAY).percent == 18.0
    assert previous.extra_usage is not None
    assert merged.extra_usage == replace(previous.extra_usage, as_of=previous.fetched_at)
    assert merged.source == "statusline"
    assert merged.fetched_at == NOW
    assert merge_bridged(None, bridged) is bridged
    # What was kept says how old it is; the bridged window is new.
    assert window(merged, FIVE_HOUR).as_of is None
    assert window(merged, SEVEN_DAY).as_of == previous.fetched_at
    # Merging again keeps the first answer's time, and it survives the store.
    again = merge_bridged(merged, replace(bridged, fetched_at=NOW + timedelta(minutes=1)))
    assert window(again, SEVEN_DAY).as_of == previous.fetched_at
    assert Usage.from_json(json.loads(json.dumps(again.to_json()))) == again


def test_usage_json_round_trip() -> None:
    usage = sample_usage()
    text = json.dumps(usage.to_json())
    assert Usage.from_json(json.loads(text)) == usage
    statusline = sample_usage(source="statusline")
    assert Usage.from_json(json.loads(json.dumps(statusline.to_json()))) == statusline


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"windows": [], "fetched_at": NOW.isoformat(), "source": "api"},
        {"windows": [{"id": "x", "label": "x", "percent": 1}], "fetched_at": "x", "source": "api"},
        {
            "windows": [{"id": "x", "label": "x", "percent": 1}],
            "fetched_at": NOW.isoformat(),
            "source": "?",
        },
        {"windows": "x", "fetched_at": NOW.isoformat(), "source": "api"},
    ],
)
def test_usage_from_json_rejects_what_it_did_not_write(raw: object) -> None:
    assert Usage.from_json(raw) is None


# -- properties: never anything but a Usage or a bad_response --------------------------------


@PROPERTY
@given(json_values)
def test_usage_from_json_never_raises(raw: object) -> None:
    result = Usage.from_json(raw)
    assert result is None or isinstance(result, Usage)

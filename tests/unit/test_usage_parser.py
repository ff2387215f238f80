"""The two parsers: one `Usage` from either response shape, lenient always."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window, apply_resets, merge_bridged
from claude_usage_gauge.core.usage_parser import parse_statusline, parse_usage
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RESET_5H = "2026-03-10T14:30:00.123456+00:00"
RESET_7D = "2026-03-14T08:00:00.000000+00:00"


def ids(usage: Usage) -> list[str]:
    return [w.id for w in usage.windows]


def window(usage: Usage, window_id: str) -> Window:
    found = usage.window(window_id)
    assert found is not None, f"no window {window_id} in {ids(usage)}"
    return found


# -- the flat shape --------------------------------------------------------------------------


def test_flat_windows_parse_with_labels_and_resets() -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 42.0, "resets_at": RESET_5H},
            "seven_day": {"utilization": 18, "resets_at": RESET_7D},
            "seven_day_opus": None,
            "seven_day_oauth_apps": None,
        },
        NOW,
    )
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY]
    session = window(usage, FIVE_HOUR)
    assert session.percent == 42.0
    assert session.resets_at == datetime(2026, 3, 10, 14, 30, 0, 123456, tzinfo=UTC)
    assert session.label == "5-hour session"
    assert session.short_label == "5h"
    assert window(usage, SEVEN_DAY).percent == 18.0
    assert window(usage, SEVEN_DAY).short_label == "week"
    assert usage.source == "api"
    assert usage.fetched_at == NOW
    assert usage.extra_usage is None


def test_percent_is_a_percent_not_a_fraction() -> None:
    usage = parse_usage({"five_hour": {"utilization": 1.0, "resets_at": None}}, NOW)
    assert window(usage, FIVE_HOUR).percent == 1.0
    assert window(usage, FIVE_HOUR).resets_at is None


def test_unknown_keys_are_ignored_and_odd_windows_kept_in_order() -> None:
    usage = parse_usage(
        {
            "seven_day_cowork": {"utilization": 3, "resets_at": None},
            "seven_day": {"utilization": 18, "resets_at": RESET_7D},
            "five_hour": {"utilization": 42, "resets_at": RESET_5H},
            "spend": {"utilization": 99},  # not a window even though it looks like one
            "something_new": "text",
            "another": [1, 2, 3],
            "tier": 7,
        },
        NOW,
    )
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY, "seven_day_cowork"]
    assert window(usage, "seven_day_cowork").label == "Week (cowork)"


@pytest.mark.parametrize(
    "bad",
    [
        {"utilization": "42"},
        {"utilization": None},
        {"utilization": True},
        {"utilization": [42]},
        {"resets_at": RESET_5H},
        "42",
        42,
        [],
    ],
)
def test_a_window_with_wrong_types_is_skipped(bad: object) -> None:
    usage = parse_usage({"five_hour": bad, "seven_day": {"utilization": 5}}, NOW)
    assert ids(usage) == [SEVEN_DAY]


def test_a_reset_time_with_wrong_type_keeps_the_window_without_reset() -> None:
    usage = parse_usage({"five_hour": {"utilization": 5, "resets_at": [1]}}, NOW)
    assert window(usage, FIVE_HOUR).resets_at is None
    usage = parse_usage({"five_hour": {"utilization": 5, "resets_at": "tomorrow"}}, NOW)
    assert window(usage, FIVE_HOUR).resets_at is None


@pytest.mark.parametrize(
    "epoch",
    ["1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000+00:00", 0],
)
def test_epoch_zero_reset_means_none(epoch: object) -> None:
    usage = parse_usage({"seven_day": {"utilization": 5, "resets_at": epoch}}, NOW)
    assert window(usage, SEVEN_DAY).resets_at is None


def test_naive_timestamps_are_not_trusted() -> None:
    usage = parse_usage({"five_hour": {"utilization": 5, "resets_at": "2026-03-10T14:30:00"}}, NOW)
    assert window(usage, FIVE_HOUR).resets_at is None


def test_negative_percent_is_clamped_and_over_100_kept() -> None:
    usage = parse_usage({"five_hour": {"utilization": -3}, "seven_day": {"utilization": 140}}, NOW)
    assert window(usage, FIVE_HOUR).percent == 0.0
    assert window(usage, SEVEN_DAY).percent == 140.0


@pytest.mark.parametrize(
    "raw",
    [None, [], "five_hour", 42, {}, {"five_hour": None, "seven_day": None}, {"limits": []}],
)
def test_nothing_readable_is_bad_response(raw: object) -> None:
    with pytest.raises(UsageError) as info:
        parse_usage(raw, NOW)
    assert info.value.kind == ErrorKind.BAD_RESPONSE
    assert info.value.message


# -- the limits[] shape and the merge --------------------------------------------------------


def limit(kind: str, percent: object, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kind": kind,
        "group": "default",
        "percent": percent,
        "severity": "normal",
        "resets_at": None,
        "scope": None,
        "is_active": False,
    }
    item.update(extra)
    return item


def scoped(name: str, percent: float, **extra: Any) -> dict[str, Any]:
    scope = {"model": {"id": "claude-" + name.lower().replace(" ", "-"), "display_name": name}}
    return limit("weekly_scoped", percent, scope=scope, **extra)


def test_limits_alone_give_the_same_window_ids() -> None:
    usage = parse_usage(
        {
            "limits": [
                limit("weekly_all", 18, resets_at=RESET_7D),
                limit("session", 42, resets_at=RESET_5H, is_active=True, severity="warning"),
            ]
        },
        NOW,
    )
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY]
    session = window(usage, FIVE_HOUR)
    assert session.percent == 42
    assert session.active is True
    assert session.severity == "warning"
    assert session.label == "5-hour session"
    assert window(usage, SEVEN_DAY).active is False


def test_a_window_in_both_shapes_shows_once() -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 40.0, "resets_at": RESET_5H},
            "seven_day": {"utilization": 17.0, "resets_at": RESET_7D},
            "limits": [
                limit("session", 42, resets_at=RESET_5H, is_active=True),
                limit("weekly_all", 18, resets_at=RESET_7D),
            ],
        },
        NOW,
    )
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY]
    # The newer, richer entry wins.
    assert window(usage, FIVE_HOUR).percent == 42
    assert window(usage, FIVE_HOUR).active is True


def test_flat_twin_fills_a_missing_reset() -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 40.0, "resets_at": RESET_5H},
            "limits": [limit("session", 42, resets_at="1970-01-01T00:00:00Z")],
        },
        NOW,
    )
    assert window(usage, FIVE_HOUR).resets_at == datetime.fromisoformat(RESET_5H)


@pytest.mark.parametrize(
    ("name", "expected_id"),
    [
        ("Sonnet", "seven_day_sonnet"),
        ("Opus 4.5", "seven_day_opus"),
        ("Sonnet 4.5", "seven_day_sonnet"),
    ],
)
def test_weekly_scoped_maps_onto_null_flat_twin(name: str, expected_id: str) -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 10, "resets_at": RESET_5H},
            "seven_day": {"utilization": 20, "resets_at": RESET_7D},
            "seven_day_sonnet": None,
            "seven_day_opus": None,
            "limits": [scoped(name, 33, resets_at=RESET_7D)],
        },
        NOW,
    )
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY, expected_id]
    scoped_window = window(usage, expected_id)
    assert scoped_window.percent == 33
    assert name in scoped_window.label


def test_weekly_scoped_and_a_filled_flat_twin_show_once() -> None:
    usage = parse_usage(
        {
            "seven_day_sonnet": {"utilization": 30, "resets_at": RESET_7D},
            "limits": [scoped("Sonnet 4.5", 33, resets_at=RESET_7D)],
        },
        NOW,
    )
    assert ids(usage) == ["seven_day_sonnet"]
    assert window(usage, "seven_day_sonnet").percent == 33
    assert window(usage, "seven_day_sonnet").label == "Week (Sonnet 4.5)"


def test_weekly_scoped_of_an_unknown_model_gets_its_own_id() -> None:
    usage = parse_usage({"limits": [scoped("Mystery Model", 12)]}, NOW)
    (only,) = usage.windows
    assert only.id.startswith("seven_day_")
    assert only.id not in (SEVEN_DAY, "seven_day_sonnet", "seven_day_opus")
    assert only.label == "Week (Mystery Model)"


def test_two_models_of_one_family_are_both_shown() -> None:
    """Two scoped limits with distinct names must not overwrite each other."""
    usage = parse_usage(
        {"limits": [scoped("Opus 4", 70), scoped("Opus 4.5", 20)]},
        NOW,
    )
    labels = sorted(w.label for w in usage.windows)
    assert labels == ["Week (Opus 4)", "Week (Opus 4.5)"]


@pytest.mark.parametrize(
    "item",
    [
        limit("weekly_scoped", 5),  # no scope: no name
        limit("weekly_scoped", 5, scope={"model": None}),
        limit("mystery_kind", 5),
        limit("session", "5"),
        {"kind": 3, "percent": 5},
        "session",
        None,
    ],
)
def test_unreadable_limits_are_skipped(item: object) -> None:
    usage = parse_usage({"seven_day": {"utilization": 1}, "limits": [item]}, NOW)
    assert ids(usage) == [SEVEN_DAY]


def test_limits_that_are_not_a_list_are_ignored() -> None:
    usage = parse_usage({"seven_day": {"utilization": 1}, "limits": {"kind": "session"}}, NOW)
    assert ids(usage) == [SEVEN_DAY]


# -- extra usage -----------------------------------------------------------------------------


def test_extra_usage_from_minor_units() -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 1},
            "extra_usage": {
                "is_enabled": True,
                "monthly_limit": 5000,
                "used_credits": 2050,
                "utilization": 41.0,
                "currency": "USD",
            },
        },
        NOW,
    )
    assert usage.extra_usage == ExtraUsage(
        enabled=True, used=20.50, limit=50.00, currency="USD", percent=41.0
    )


def test_extra_usage_null_limit_is_unlimited_and_odd_fields_tolerated() -> None:
    usage = parse_usage(
        {
            "five_hour": {"utilization": 1},
            "extra_usage": {
                "is_enabled": True,
                "monthly_limit": None,
                "used_credits": 2050,
                "utilization": None,
                "currency": None,
            },
        },
        NOW,
    )
    extra = usage.extra_usage
    assert extra is not None
    assert extra.limit is None
    assert extra.used == 20.5
    assert extra.currency is None
    assert extra.percent is None


def test_extra_usage_disabled_and_garbage() -> None:
    usage = parse_usage(
        {"five_hour": {"utilization": 1}, "extra_usage": {"is_enabled": "yes"}}, NOW
    )
    assert usage.extra_usage is not None
    assert usage.extra_usage.enabled is False
    usage = parse_usage({"five_hour": {"utilization": 1}, "extra_usage": [1, 2]}, NOW)
    assert usage.extra_usage is None


def test_extra_usage_utilization_may_exceed_100() -> None:
    usage = parse_usage(
        {"five_hour": {"utilization": 1}, "extra_usage": {"is_enabled": True, "utilization": 130}},
        NOW,
    )
    assert usage.extra_usage is not None
    assert usage.extra_usage.percent == 130


# -- the statusline feed ---------------------------------------------------------------------


def test_statusline_rate_limits() -> None:
    reset = int(datetime(2026, 3, 10, 14, 30, tzinfo=UTC).timestamp())
    usage = parse_statusline(
        {
            "session_id": "abc",
            "model": {"id": "x", "display_name": "Opus"},
            "rate_limits": {
                "five_hour": {"used_percentage": 42, "resets_at": reset},
                "seven_day": {"used_percentage": 18.5, "resets_at": reset + 86400},
            },
        },
        NOW,
    )
    assert usage is not None
    assert usage.source == "statusline"
    assert usage.fetched_at == NOW
    assert ids(usage) == [FIVE_HOUR, SEVEN_DAY]
    assert window(usage, FIVE_HOUR).resets_at == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    assert window(usage, SEVEN_DAY).percent == 18.5


def test_statusline_accepts_milliseconds_and_one_part() -> None:
    reset_ms = int(datetime(2026, 3, 10, 14, 30, tzinfo=UTC).timestamp() * 1000)
    usage = parse_statusline(
        {"rate_limits": {"seven_day": {"used_percentage": 7, "resets_at": reset_ms}}}, NOW
    )
    assert usage is not None
    assert ids(usage) == [SEVEN_DAY]
    assert window(usage, SEVEN_DAY).resets_at == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {},
        {"session_id": "abc"},
        {"rate_limits": None},
        {"rate_limits": {}},
        {"rate_limits": {"five_hour": {"used_percentage": "42"}}},
        {"rate_limits": {"five_hour": {"resets_at": 1}}},
    ],
)
def test_statusline_without_limits_is_none(raw: object) -> None:
    assert parse_statusline(raw, NOW) is None


def test_statusline_epoch_zero_reset_is_none() -> None:
    usage = parse_statusline(
        {"rate_limits": {"five_hour": {"used_percentage": 1, "resets_at": 0}}}, NOW
    )
    assert usage is not None
    assert window(usage, FIVE_HOUR).resets_at is None


# -- resets and bridging ---------------------------------------------------------------------


def sample_usage(fetched_at: datetime = NOW, source: Any = "api") -> Usage:
    return Usage(
        windows=(
            Window(FIVE_HOUR, "5-hour session", 42.0, NOW + timedelta(hours=2), True, "warning"),
            Window(SEVEN_DAY, "Week (all models)", 18.0, NOW + timedelta(days=3)),
            Window("seven_day_opus", "Week (Opus)", 50.0, None),
        ),
        extra_usage=ExtraUsage(True, 20.5, None, "USD", 41.0),
        fetched_at=fetched_at,
        source=source,
    )


def check_usage(usage: Usage) -> None:
    assert usage.windows
    assert len({w.id for w in usage.windows}) == len(usage.windows)
    for w in usage.windows:
        assert isinstance(w.percent, float)
        assert w.percent >= 0
        assert w.resets_at is None or w.resets_at.tzinfo is not None
    # What the parser makes, the store can keep: round trip through real JSON text.
    assert Usage.from_json(json.loads(json.dumps(usage.to_json()))) == usage


REAL_KEYS = [
    "five_hour",
    "seven_day",
    "seven_day_opus",
    "seven_day_sonnet",
    "seven_day_oauth_apps",
    "utilization",
    "resets_at",
    "limits",
    "kind",
    "percent",
    "scope",
    "model",
    "display_name",
    "id",
    "surface",
    "is_active",
    "severity",
    "extra_usage",
    "is_enabled",
    "monthly_limit",
    "used_credits",
    "currency",
    "rate_limits",
    "used_percentage",
    "windows",
    "label",
    "fetched_at",
    "source",
    "enabled",
    "used",
    "limit",
    "active",
]
REAL_STRINGS = [
    "session",
    "weekly_all",
    "weekly_scoped",
    "api",
    "statusline",
    "1970-01-01T00:00:00Z",
    RESET_5H,
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+00:00",
    "Sonnet 4.5",
    "",
]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(REAL_STRINGS)
)
json_keys = st.sampled_from(REAL_KEYS) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=6)
    ),
    max_leaves=40,
)
# Shapes close to the real ones, with every field's type up for grabs.
window_like = st.fixed_dictionaries(
    {},
    optional={
        "utilization": json_scalars,
        "resets_at": json_scalars,
        "limit_dollars": json_scalars,
    },
)
limit_like = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["session", "weekly_all", "weekly_scoped", "x"]) | json_scalars,
        "percent": json_scalars,
        "resets_at": json_scalars,
        "is_active": json_scalars,
        "severity": json_scalars,
        "scope": json_values
        | st.fixed_dictionaries(
            {
                "model": st.fixed_dictionaries(
                    {}, optional={"display_name": json_scalars, "id": json_scalars}
                )
            }
        ),
    },
)
response_like = st.fixed_dictionaries(
    {},
    optional={
        "five_hour": window_like | json_values,
        "seven_day": window_like | json_values,
        "seven_day_sonnet": window_like | st.none(),
        "seven_day_opus": window_like | st.none(),
        "limits": st.lists(limit_like | json_values, max_size=5) | json_values,
        "extra_usage": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "is_enabled": json_scalars,
                "monthly_limit": json_scalars,
                "used_credits": json_scalars,
                "utilization": json_scalars,
                "currency": json_scalars,
            },
        ),
        "spend": json_values,
    },
)
statusline_like = st.fixed_dictionaries(
    {},
    optional={
        "rate_limits": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "five_hour": window_like
                | json_values
                | st.fixed_dictionaries(
                    {}, optional={"used_percentage": json_scalars, "resets_at": json_scalars}
                ),
                "seven_day": st.fixed_dictionaries(
                    {}, optional={"used_percentage": json_scalars, "resets_at": json_scalars}
                ),
            },
        ),
        "session_id": json_scalars,
    },
)

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(json_values | response_like)
def test_parse_usage_returns_usage_or_bad_response(raw: object) -> None:
    try:
        usage = parse_usage(raw, NOW)
    except UsageError as exc:
        kind = exc.kind
    else:
        check_usage(usage)
        return
    assert kind == ErrorKind.BAD_RESPONSE


@PROPERTY
@given(json_values | statusline_like)
def test_parse_statusline_never_raises(raw: object) -> None:
    usage = parse_statusline(raw, NOW)
    if usage is not None:
        check_usage(usage)
        assert usage.source == "statusline"


@PROPERTY
@given(response_like)
def test_parsed_usage_survives_resets_and_bridging(raw: object) -> None:
    try:
        usage = parse_usage(raw, NOW)
    except UsageError:
        return
    then = NOW + timedelta(days=30)
    later = apply_resets(usage, then)
    for before, after in zip(usage.windows, later.windows, strict=True):
        if before.resets_at is not None and before.resets_at <= then:
            assert (after.percent, after.resets_at) == (0.0, None)
        else:
            assert after == before
    bridged = Usage((Window(FIVE_HOUR, "5-hour session", 1.0),), None, NOW, "statusline")
    merged = merge_bridged(usage, bridged)
    assert len({w.id for w in merged.windows}) == len(merged.windows)
    assert window(merged, FIVE_HOUR).percent == 1.0


# -- the newer spend object -----------------------------------------------------------------


def test_spend_wins_over_extra_usage_and_scales_by_its_exponent() -> None:
    raw = {
        "five_hour": {"utilization": 10.0, "resets_at": RESET_5H},
        "extra_usage": {"is_enabled": False, "used_credits": 999, "monthly_limit": None},
        "spend": {
            "used": {"amount_minor": 2050, "currency": "USD", "exponent": 2},
            "limit": {"amount_minor": 5000000, "currency": "USD", "exponent": 5},
            "percent": 41.0,
            "disclaimer": "Amounts may lag.",
        },
    }
    extra = parse_usage(raw, NOW).extra_usage
    assert extra == ExtraUsage(enabled=True, used=20.5, limit=50.0, currency="USD", percent=41.0)


@pytest.mark.parametrize(
    "spend",
    [
        None,
        {},
        {"used": {"amount_minor": "12"}},
        {"used": {"amount_minor": 12, "exponent": 99}},
        {"used": {"amount_minor": 12, "exponent": 1.5}},
        {"used": [], "limit": "x"},
    ],
)
def test_an_unreadable_spend_falls_back_to_extra_usage(spend: object) -> None:
    raw = {
        "five_hour": {"utilization": 10.0},
        "extra_usage": {"is_enabled": True, "used_credits": 3462, "monthly_limit": 5000},
        "spend": spend,
    }
    extra = parse_usage(raw, NOW).extra_usage
    assert extra is not None
    assert (extra.used, extra.limit) == (34.62, 50.0)


def test_spend_without_a_limit_is_unlimited_and_defaults_to_cents() -> None:
    raw = {"seven_day": {"utilization": 1}, "spend": {"used": {"amount_minor": 705}, "limit": None}}
    extra = parse_usage(raw, NOW).extra_usage
    assert extra == ExtraUsage(enabled=True, used=7.05, limit=None, currency=None, percent=None)

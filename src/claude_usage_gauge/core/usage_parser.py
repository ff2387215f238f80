"""The pure parsers that make a `Usage`: from the usage endpoint's JSON, and from the
`rate_limits` Claude Code hands its statusline command.

The service changes without notice, so both parsers are lenient: every field is optional, unknown
keys are ignored, a window with wrong types is skipped. Only "nothing readable at all" is an error.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import WINDOW_KINDS, ExtraUsage, Usage, Window, window_order
from claude_usage_gauge.core.values import finite_number, reset_epoch
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

# Flat top-level keys that look like windows but are not.
_NOT_WINDOWS = frozenset({"extra_usage", "limits", "spend"})
_LIMIT_KIND_IDS = {"session": FIVE_HOUR, "weekly_all": SEVEN_DAY}
_MODEL_FAMILIES = ("opus", "sonnet", "haiku")


# -- helpers ---------------------------------------------------------------------------------


def _percent(raw: object) -> float | None:
    value = finite_number(raw)
    if value is None:
        return None
    return max(value, 0.0)


def _reset_time(raw: object) -> datetime | None:
    """ISO-8601 text or epoch seconds/milliseconds; the epoch itself means no reset."""
    epoch = reset_epoch(raw)
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _label_for(window_id: str) -> str:
    if window_id in WINDOW_KINDS:
        return WINDOW_KINDS[window_id].label
    if window_id.startswith("seven_day_"):
        return f"Week ({window_id.removeprefix('seven_day_').replace('_', ' ')})"
    return window_id.replace("_", " ").capitalize()


def _scoped_id(model_name: str) -> str:
    """A stable id for a per-model weekly limit that matches its flat twin where there is one."""
    slug = _slug(model_name)
    for family in _MODEL_FAMILIES:
        if family in slug.split("_"):
            return f"seven_day_{family}"
    return f"seven_day_{slug}" if slug else "seven_day_scoped"


def _flat_windows(raw: dict[str, object]) -> dict[str, Window]:
    found: dict[str, Window] = {}
    for key, value in raw.items():
        if key in _NOT_WINDOWS or not isinstance(value, dict):
            continue
        percent = _percent(value.get("utilization"))
        if percent is None:
            continue
        wid = _slug(key) or key
        found[wid] = Window(
            id=wid,
            label=_label_for(wid),
            percent=percent,
            resets_at=_reset_time(value.get("resets_at")),
        )
    return found


def _limit_windows(raw: object) -> dict[str, Window]:
    found: dict[str, Window] = {}
    if not isinstance(raw, list):
        return found
    for item in raw:
        if not isinstance(item, dict):
            continue
        percent = _percent(item.get("percent"))
        kind = item.get("kind")
        if percent is None or not isinstance(kind, str):
            continue
        label: str | None = None
        if kind in _LIMIT_KIND_IDS:
            wid = _LIMIT_KIND_IDS[kind]
        elif kind == "weekly_scoped":
            name = _scope_name(item.get("scope"))
            if name is None:
                continue
            wid = _scoped_id(name)
            if wid in found:
                # Two models of one family ("Opus 4", "Opus 4.5"): both are shown, by full name.
                wid = f"seven_day_{_slug(name) or 'scoped'}"
            label = f"Week ({name})"
        else:
            continue
        severity = item.get("severity")
        found[wid] = Window(
            id=wid,
            label=label or _label_for(wid),
            percent=percent,
            resets_at=_reset_time(item.get("resets_at")),
            active=item.get("is_active") is True,
            severity=severity if isinstance(severity, str) else None,
        )
    return found


def _scope_name(scope: object) -> str | None:
    if not isinstance(scope, dict):
        return None
    model = scope.get("model")
    if isinstance(model, dict):
        for key in ("display_name", "id"):
            name = model.get(key)
            if isinstance(name, str) and name.strip():
                return name.strip()
    surface = scope.get("surface")
    if isinstance(surface, str) and surface.strip():
        return surface.strip()
    return None


def _extra_usage(raw: object) -> ExtraUsage | None:
    if not isinstance(raw, dict):
        return None
    used = finite_number(raw.get("used_credits"))
    limit = finite_number(raw.get("monthly_limit"))
    currency = raw.get("currency")
    return ExtraUsage(
        enabled=raw.get("is_enabled") is True,
        used=None if used is None else round(used / 100.0, 2),
        limit=None if limit is None else round(limit / 100.0, 2),
        currency=currency if isinstance(currency, str) and currency else None,
        percent=_percent(raw.get("utilization")),
    )


def _money(raw: object) -> tuple[float | None, str | None]:
    """An amount as the newer `spend` object writes it: `amount_minor / 10**exponent`."""
    if not isinstance(raw, dict):
        return None, None
    minor = finite_number(raw.get("amount_minor"))
    exponent = raw.get("exponent", 2)
    currency = raw.get("currency")
    code = currency if isinstance(currency, str) and currency else None
    if minor is None or type(exponent) is not int or not 0 <= exponent <= 8:
        return None, code
    return round(minor / 10**exponent, exponent), code


def _spend(raw: object) -> ExtraUsage | None:
    """The newer `spend` object (it wins over `extra_usage` when present)."""
    if not isinstance(raw, dict):
        return None
    used, used_currency = _money(raw.get("used"))
    limit, limit_currency = _money(raw.get("limit"))
    percent = _percent(raw.get("percent"))
    if used is None and limit is None and percent is None:
        return None
    return ExtraUsage(
        enabled=True,
        used=used,
        limit=limit,
        currency=used_currency or limit_currency,
        percent=percent,
    )


# -- the parsers -----------------------------------------------------------------------------


def parse_usage(raw: object, fetched_at: datetime) -> Usage:
    """The usage endpoint's JSON body, already decoded, into a `Usage`.

    Raises `UsageError(bad_response)` when it is not an object or holds no readable window.
    """
    if not isinstance(raw, dict):
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered with something that is not usage data.",
            detail=f"expected a JSON object, got {type(raw).__name__}",
        )
    windows = _flat_windows(raw)
    # `limits[]` is newer and richer (active flag, severity): it wins over its flat twin, but a
    # flat value fills in a reset time the newer entry lacks.
    for wid, limit in _limit_windows(raw.get("limits")).items():
        flat = windows.get(wid)
        if flat is not None and limit.resets_at is None and flat.resets_at is not None:
            limit = replace(limit, resets_at=flat.resets_at)  # noqa: PLW2901
        windows[wid] = limit
    if not windows:
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered, but with no usage window we can read.",
            detail="no window with a numeric utilization",
        )
    return Usage(
        windows=tuple(sorted(windows.values(), key=window_order)),
        extra_usage=_spend(raw.get("spend")) or _extra_usage(raw.get("extra_usage")),
        fetched_at=fetched_at,
        source="api",
    )


def parse_statusline(raw: object, received_at: datetime) -> Usage | None:
    """Claude Code's statusline JSON (`rate_limits`) into a `Usage`, or None if it has none."""
    if not isinstance(raw, dict):
        return None
    limits = raw.get("rate_limits")
    if not isinstance(limits, dict):
        return None
    windows: list[Window] = []
    for wid in (FIVE_HOUR, SEVEN_DAY):
        part = limits.get(wid)
        if not isinstance(part, dict):
            continue
        percent = _percent(part.get("used_percentage"))
        if percent is None:
            continue
        windows.append(
            Window(
                id=wid,
                label=WINDOW_KINDS[wid].label,
                percent=percent,
                resets_at=_reset_time(part.get("resets_at")),
            )
        )
    if not windows:
        return None
    return Usage(
        windows=tuple(windows), extra_usage=None, fetched_at=received_at, source="statusline"
    )

"""The one value that flows: a `Usage` snapshot, and the pure parsers that make it.

The service changes without notice, so both parsers are lenient: every field is optional, unknown
keys are ignored, a window with wrong types is skipped. Only "nothing readable at all" is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.values import finite_number, parse_iso, reset_epoch
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

Source = Literal["api", "statusline"]


# Flat top-level keys that look like windows but are not.
_NOT_WINDOWS = frozenset({"extra_usage", "limits", "spend"})


@dataclass(frozen=True, slots=True)
class WindowKind:
    """Everything about one kind of window, in one place."""

    label: str  # the menu's and status's name for it
    short_label: str | None = None  # the tooltip's, where it has one
    pace_name: str | None = None  # "At this pace the <name> limit…"; None: no pace line
    # How far back the pace looks, and how much history it needs: a session's pace is its last
    # three quarters of an hour; a week's needs hours, or one busy burst would "predict" the
    # weekly limit for Monday.
    pace_lookback: timedelta = timedelta(0)
    pace_min_span: timedelta = timedelta(0)


# The order of this table is the order windows are shown in; unknown kinds come after it.
WINDOW_KINDS: dict[str, WindowKind] = {
    FIVE_HOUR: WindowKind(
        "5-hour session", "5h", "session", timedelta(minutes=45), timedelta(minutes=5)
    ),
    SEVEN_DAY: WindowKind(
        "Week (all models)", "week", "weekly", timedelta(hours=24), timedelta(hours=3)
    ),
    "seven_day_opus": WindowKind("Week (Opus)"),
    "seven_day_sonnet": WindowKind("Week (Sonnet)"),
    "seven_day_haiku": WindowKind("Week (Haiku)"),
    "seven_day_oauth_apps": WindowKind("Week (apps)"),
}
_ORDER = {window_id: rank for rank, window_id in enumerate(WINDOW_KINDS)}
_LIMIT_KIND_IDS = {"session": FIVE_HOUR, "weekly_all": SEVEN_DAY}
_MODEL_FAMILIES = ("opus", "sonnet", "haiku")
# Anything at or before this is the service's way of saying "no reset scheduled"; anything after
# the later bound is nonsense that would only overflow local-time arithmetic downstream.


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    label: str
    percent: float
    resets_at: datetime | None = None
    # From `limits[]`: the window currently holding the user back, and the service's own level.
    active: bool = False
    severity: str | None = None
    # Set when this window was kept from an older answer beside newer statusline numbers.
    as_of: datetime | None = None

    @property
    def kind(self) -> WindowKind:
        return WINDOW_KINDS.get(self.id) or WindowKind(self.label)

    @property
    def short_label(self) -> str:
        return self.kind.short_label or self.label


@dataclass(frozen=True, slots=True)
class ExtraUsage:
    enabled: bool
    used: float | None  # major units (dollars), converted from the API's cents
    limit: float | None  # None means unlimited
    currency: str | None
    percent: float | None
    # Set when kept from an older API answer beside newer statusline numbers.
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    windows: tuple[Window, ...]
    extra_usage: ExtraUsage | None
    fetched_at: datetime
    source: Source

    def window(self, window_id: str) -> Window | None:
        for window in self.windows:
            if window.id == window_id:
                return window
        return None

    # -- the store's representation ---------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        return {
            "windows": [
                {
                    "id": w.id,
                    "label": w.label,
                    "percent": w.percent,
                    "resets_at": w.resets_at.isoformat() if w.resets_at else None,
                    "active": w.active,
                    "severity": w.severity,
                    "as_of": w.as_of.isoformat() if w.as_of else None,
                }
                for w in self.windows
            ],
            "extra_usage": None
            if self.extra_usage is None
            else {
                "enabled": self.extra_usage.enabled,
                "used": self.extra_usage.used,
                "limit": self.extra_usage.limit,
                "currency": self.extra_usage.currency,
                "percent": self.extra_usage.percent,
                "as_of": self.extra_usage.as_of.isoformat() if self.extra_usage.as_of else None,
            },
            "fetched_at": self.fetched_at.isoformat(),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, raw: object) -> Usage | None:
        """Lenient reader for what `to_json` wrote; None when it is not that."""
        if not isinstance(raw, dict):
            return None
        fetched_at = parse_iso(raw.get("fetched_at"))
        source = raw.get("source")
        raw_windows = raw.get("windows")
        if fetched_at is None or source not in ("api", "statusline"):
            return None
        if not isinstance(raw_windows, list):
            return None
        windows: list[Window] = []
        for item in raw_windows:
            if not isinstance(item, dict):
                continue
            wid, label = item.get("id"), item.get("label")
            percent = finite_number(item.get("percent"))
            if not isinstance(wid, str) or not isinstance(label, str) or percent is None:
                continue
            severity = item.get("severity")
            windows.append(
                Window(
                    id=wid,
                    label=label,
                    percent=percent,
                    resets_at=parse_iso(item.get("resets_at")),
                    active=item.get("active") is True,
                    severity=severity if isinstance(severity, str) else None,
                    as_of=parse_iso(item.get("as_of")),
                )
            )
        if not windows:
            return None
        extra = raw.get("extra_usage")
        extra_usage = None
        if isinstance(extra, dict):
            currency = extra.get("currency")
            extra_usage = ExtraUsage(
                enabled=extra.get("enabled") is True,
                used=finite_number(extra.get("used")),
                limit=finite_number(extra.get("limit")),
                currency=currency if isinstance(currency, str) else None,
                percent=finite_number(extra.get("percent")),
                as_of=parse_iso(extra.get("as_of")),
            )
        return cls(
            windows=tuple(windows),
            extra_usage=extra_usage,
            fetched_at=fetched_at,
            source="api" if source == "api" else "statusline",
        )


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


def _order(window: Window) -> tuple[int, str]:
    return (_ORDER.get(window.id, len(_ORDER)), window.id)


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
        windows=tuple(sorted(windows.values(), key=_order)),
        extra_usage=_extra_usage(raw.get("extra_usage")),
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


def apply_resets(usage: Usage, now: datetime) -> Usage:
    """Windows whose reset time has passed read 0 % without asking the server."""
    changed = False
    windows: list[Window] = []
    for window in usage.windows:
        if window.resets_at is not None and window.resets_at <= now:
            windows.append(
                replace(window, percent=0.0, resets_at=None, active=False, severity=None)
            )
            changed = True
        else:
            windows.append(window)
    return replace(usage, windows=tuple(windows)) if changed else usage


def merge_bridged(previous: Usage | None, bridged: Usage) -> Usage:
    """Statusline data carries only two windows: keep the others (and extra usage) we knew."""
    if previous is None:
        return bridged
    # What is kept is as old as the answer it came from, and says so ("as of 14:02").
    ids = {w.id for w in bridged.windows}
    kept = tuple(
        replace(w, as_of=w.as_of or previous.fetched_at)
        for w in previous.windows
        if w.id not in ids
    )
    extra = previous.extra_usage
    if extra is not None:
        extra = replace(extra, as_of=extra.as_of or previous.fetched_at)
    return replace(
        bridged,
        windows=tuple(sorted(bridged.windows + kept, key=_order)),
        extra_usage=extra,
    )

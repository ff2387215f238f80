"""The one value that flows: a `Usage` snapshot, what a kind of window is, and the small
operations on a snapshot (resets passing, merging Claude Code's numbers). The parsers that make
a snapshot from the service's or Claude Code's JSON are in `usage_parser`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from claude_usage_gauge.core.values import finite_number, parse_iso
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

# Where a snapshot came from: the usage endpoint, Claude Code's statusline feed, or the answer
# Claude Code's own /usage cached in its state file.
Source = Literal["api", "statusline", "claude_code"]
SOURCES: tuple[Source, ...] = ("api", "statusline", "claude_code")


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
    # The usage endpoint's `request-id` for this answer, when it came from the endpoint.
    request_id: str = field(default="", compare=False)

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
        if fetched_at is None or source not in SOURCES:
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
            source=next(known for known in SOURCES if known == source),
        )


def window_order(window: Window) -> tuple[int, str]:
    return (_ORDER.get(window.id, len(_ORDER)), window.id)


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
        windows=tuple(sorted(bridged.windows + kept, key=window_order)),
        extra_usage=extra,
    )

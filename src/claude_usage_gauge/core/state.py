"""The shared state as a value: the last good snapshot, a bounded history, the last error, the
gates, and what the schedule needs to know about activity. The store (`claude_usage_gauge.store`)
reads and writes it; everything else only reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent
from claude_usage_gauge.core.errors import Problem
from claude_usage_gauge.core.history import (
    HISTORY_MAX_AGE,
    HISTORY_MAX_POINTS,
    HistoryPoint,
    Resets,
    append_history,
    history_from_json,
    history_to_json,
    record_resets,
    resets_from_json,
    resets_to_json,
)
from claude_usage_gauge.core.schedule import REQUEST_WINDOW, Gate
from claude_usage_gauge.core.state_format import STORE_VERSION
from claude_usage_gauge.core.usage import Usage, apply_resets
from claude_usage_gauge.core.values import finite_number, parse_iso

__all__ = [
    "HISTORY_MAX_AGE",
    "HISTORY_MAX_POINTS",
    "MAX_GATES",
    "MAX_REQUEST_LOG",
    "HistoryPoint",
    "RequestRecord",
    "State",
    "append_history",
    "numbers_moved",
]

MAX_GATES = 4
# More than any hourly budget the schedule grants: the list of recent requests stays small.
MAX_REQUESTS_KEPT = 200
# Percents that differ by less than this are the same number (the file keeps two decimals).
SAME_PERCENT = 0.005
# The requests a report lists, with their ids, newest last.
MAX_REQUEST_LOG = 8


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request to the usage endpoint, as support would want it quoted."""

    at: datetime
    result: str  # "ok", or the ErrorKind value it failed with
    request_id: str = ""
    retry_at: datetime | None = None  # when the server (or our schedule) said to try again

    def to_json(self) -> list[object]:
        return [
            self.at.isoformat(),
            self.result,
            self.request_id,
            self.retry_at.isoformat() if self.retry_at else None,
        ]

    @classmethod
    def from_json(cls, raw: object) -> RequestRecord | None:
        if not isinstance(raw, list) or len(raw) != 4:
            return None
        at, result, request_id = parse_iso(raw[0]), raw[1], raw[2]
        if at is None or not isinstance(result, str) or not isinstance(request_id, str):
            return None
        return cls(at, result[:40], request_id[:128], parse_iso(raw[3]))


@dataclass(frozen=True, slots=True)
class State:
    salt: bytes = b""
    snapshot: Usage | None = None
    history: tuple[HistoryPoint, ...] = ()
    last_error: Problem | None = None
    error_at: datetime | None = None
    gates: dict[str, Gate] = field(default_factory=dict)
    # The newest manual refresh by any process (one spacing for all of them).
    last_manual: datetime | None = None
    # The fingerprint of the token last seen, so shells can find its gate without the token.
    current_fingerprint: str | None = None
    # The poll interval of the process that wrote the file, so readers that do not load the
    # settings (the statusline bridge) judge staleness as the tray does.
    poll_interval: float | None = None
    # When the numbers last moved (a reset passing as announced is not a move): the schedule
    # polls at its base interval while they move and stretches its interval when they do not.
    moved_at: datetime | None = None
    # The newest sign that Claude Code is in use without a request of ours: numbers from the
    # statusline feed (or another zero-request source), a hook. It lifts our own 429 pause.
    activity_at: datetime | None = None
    # Every request of the last hour, by any process: the manual refresh's hourly budget.
    requests: tuple[datetime, ...] = ()
    # When each window reset (or will), as the answers announced it: the history page's marks.
    resets: Resets = field(default_factory=dict)
    # The last few requests with their outcome and request id (failures are what support needs).
    request_log: tuple[RequestRecord, ...] = ()
    # How Claude Code's last turn ended, as its hooks reported (read from the event file beside
    # the state file, never stored in it), while it still stands.
    claude_code_event: ClaudeCodeEvent | None = field(default=None, compare=False)

    def gate(self, fingerprint: str) -> Gate:
        return self.gates.get(fingerprint, Gate())

    def with_gate(self, fingerprint: str, gate: Gate) -> State:
        gates = dict(self.gates)
        gates.pop(fingerprint, None)
        gates[fingerprint] = gate
        # Oldest first in insertion order: keep the newest few tokens' gates only.
        while len(gates) > MAX_GATES:
            gates.pop(next(iter(gates)))
        return replace(self, gates=gates, current_fingerprint=fingerprint)

    def with_logged_request(self, record: RequestRecord) -> State:
        return replace(self, request_log=(*self.request_log, record)[-MAX_REQUEST_LOG:])

    def with_error(self, problem: Problem | None, now: datetime) -> State:
        if problem is None:
            return replace(self, last_error=None, error_at=None)
        # Keep the first time we saw this same problem: "since 14:02" stays honest.
        if self.last_error is not None and self.last_error.kind == problem.kind and self.error_at:
            return replace(self, last_error=problem)
        return replace(self, last_error=problem, error_at=now)

    def with_snapshot(self, usage: Usage) -> State:
        moved_at = self.moved_at
        if numbers_moved(self.snapshot, usage):
            moved_at = _newest(moved_at, usage.fetched_at)
        activity_at = self.activity_at
        if usage.source != "api":
            activity_at = _newest(activity_at, usage.fetched_at)
        return replace(
            self,
            snapshot=usage,
            history=append_history(self.history, usage),
            moved_at=moved_at,
            activity_at=activity_at,
            resets=record_resets(self.resets, usage),
        )

    def with_activity(self, at: datetime) -> State:
        """Claude Code was in use at `at` (a hook fired, a turn ended): poll at the base rate."""
        return replace(self, activity_at=_newest(self.activity_at, at))

    def with_request(self, at: datetime) -> State:
        """One more request sent at `at`; those older than the budget's hour are forgotten."""
        # Any "later" ones (the clock was set back) stay: a clock change must not reset the count.
        recent = sorted([t for t in self.requests if at - REQUEST_WINDOW < t] + [at])
        return replace(self, requests=tuple(recent[-MAX_REQUESTS_KEPT:]))

    # -- file representation -------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        return {
            "version": STORE_VERSION,
            "salt": self.salt.hex(),
            "snapshot": self.snapshot.to_json() if self.snapshot else None,
            "history": history_to_json(self.history),
            "last_error": self.last_error.to_json() if self.last_error else None,
            "error_at": self.error_at.isoformat() if self.error_at else None,
            "gates": {fp: g.to_json() for fp, g in self.gates.items()},
            "last_manual": self.last_manual.isoformat() if self.last_manual else None,
            "current_fingerprint": self.current_fingerprint,
            "poll_interval": self.poll_interval,
            "moved_at": _iso(self.moved_at),
            "activity_at": _iso(self.activity_at),
            "requests": [t.isoformat() for t in self.requests],
            "resets": resets_to_json(self.resets),
            "request_log": [record.to_json() for record in self.request_log],
        }

    @classmethod
    def from_json(cls, raw: object) -> State | None:
        """None when this is not a store we understand (then it is treated as empty)."""
        version = raw.get("version") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or type(version) is not int or version != STORE_VERSION:
            return None
        try:
            salt = bytes.fromhex(str(raw.get("salt", "")))
        except ValueError:
            return None
        if len(salt) < 16:
            return None
        raw_gates = raw.get("gates")
        gates: dict[str, Gate] = {}
        if isinstance(raw_gates, dict):
            for fp, gate in list(raw_gates.items())[-MAX_GATES:]:
                if isinstance(fp, str):
                    gates[fp] = Gate.from_json(gate)
        current = raw.get("current_fingerprint")
        interval = finite_number(raw.get("poll_interval"))
        raw_log = raw.get("request_log")
        request_log = [
            record
            for item in (raw_log if isinstance(raw_log, list) else [])[-MAX_REQUEST_LOG:]
            if (record := RequestRecord.from_json(item)) is not None
        ]
        return cls(
            salt=salt,
            snapshot=Usage.from_json(raw.get("snapshot")),
            history=history_from_json(raw.get("history")),
            last_error=Problem.from_json(raw.get("last_error")),
            error_at=parse_iso(raw.get("error_at")),
            gates=gates,
            last_manual=parse_iso(raw.get("last_manual")),
            current_fingerprint=current if isinstance(current, str) else None,
            poll_interval=interval if interval is not None and interval > 0 else None,
            moved_at=parse_iso(raw.get("moved_at")),
            activity_at=parse_iso(raw.get("activity_at")),
            requests=_times(raw.get("requests")),
            resets=resets_from_json(raw.get("resets")),
            request_log=tuple(request_log),
        )


def numbers_moved(previous: Usage | None, usage: Usage) -> bool:
    """Did any window move between two snapshots? A window whose reset passed reads 0 % first,
    so a reset that came as announced is not a move; a window that vanished reads 0 %."""
    if previous is None:
        return True
    before = {w.id: w.percent for w in apply_resets(previous, usage.fetched_at).windows}
    after = {w.id: w.percent for w in usage.windows}
    return any(
        abs(before.get(k, 0.0) - after.get(k, 0.0)) >= SAME_PERCENT for k in before.keys() | after
    )


def _newest(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at > known else known


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _times(raw: object) -> tuple[datetime, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(sorted(t for item in raw[-MAX_REQUESTS_KEPT:] if (t := parse_iso(item))))

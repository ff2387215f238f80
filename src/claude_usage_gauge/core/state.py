"""The shared state as a value: the last good snapshot, a bounded history, the last error, the
gates. The store (`claude_usage_gauge.store`) reads and writes it; everything else only reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent
from claude_usage_gauge.core.errors import Problem
from claude_usage_gauge.core.schedule import Gate
from claude_usage_gauge.core.state_format import STORE_VERSION
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.values import finite_number, parse_iso

# A week of pace estimates at one point per few minutes, thinned (see `append_history`).
HISTORY_MAX_POINTS = 2500
HISTORY_MAX_AGE = timedelta(days=8)
HISTORY_MIN_SPACING = timedelta(minutes=2)
MAX_GATES = 4
MAX_REQUESTS = 8


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    percents: dict[str, float]


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
    # The last few requests to the usage endpoint, newest last (failures are what support needs).
    requests: tuple[RequestRecord, ...] = ()
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

    def with_request(self, record: RequestRecord) -> State:
        return replace(self, requests=(*self.requests, record)[-MAX_REQUESTS:])

    def with_error(self, problem: Problem | None, now: datetime) -> State:
        if problem is None:
            return replace(self, last_error=None, error_at=None)
        # Keep the first time we saw this same problem: "since 14:02" stays honest.
        if self.last_error is not None and self.last_error.kind == problem.kind and self.error_at:
            return replace(self, last_error=problem)
        return replace(self, last_error=problem, error_at=now)

    def with_snapshot(self, usage: Usage) -> State:
        return replace(
            self,
            snapshot=usage,
            history=append_history(self.history, usage),
        )

    # -- file representation -------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        return {
            "version": STORE_VERSION,
            "salt": self.salt.hex(),
            "snapshot": self.snapshot.to_json() if self.snapshot else None,
            "history": [
                [p.at.isoformat(), {k: round(v, 2) for k, v in p.percents.items()}]
                for p in self.history
            ],
            "last_error": self.last_error.to_json() if self.last_error else None,
            "error_at": self.error_at.isoformat() if self.error_at else None,
            "gates": {fp: g.to_json() for fp, g in self.gates.items()},
            "last_manual": self.last_manual.isoformat() if self.last_manual else None,
            "current_fingerprint": self.current_fingerprint,
            "poll_interval": self.poll_interval,
            "requests": [record.to_json() for record in self.requests],
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
        history: list[HistoryPoint] = []
        raw_history = raw.get("history")
        if isinstance(raw_history, list):
            for item in raw_history[-HISTORY_MAX_POINTS:]:
                point = _history_point(item)
                if point is not None:
                    history.append(point)
        raw_gates = raw.get("gates")
        gates: dict[str, Gate] = {}
        if isinstance(raw_gates, dict):
            for fp, gate in list(raw_gates.items())[-MAX_GATES:]:
                if isinstance(fp, str):
                    gates[fp] = Gate.from_json(gate)
        current = raw.get("current_fingerprint")
        interval = finite_number(raw.get("poll_interval"))
        raw_requests = raw.get("requests")
        requests = [
            record
            for item in (raw_requests if isinstance(raw_requests, list) else [])[-MAX_REQUESTS:]
            if (record := RequestRecord.from_json(item)) is not None
        ]
        return cls(
            salt=salt,
            snapshot=Usage.from_json(raw.get("snapshot")),
            history=tuple(history),
            last_error=Problem.from_json(raw.get("last_error")),
            error_at=parse_iso(raw.get("error_at")),
            gates=gates,
            last_manual=parse_iso(raw.get("last_manual")),
            current_fingerprint=current if isinstance(current, str) else None,
            poll_interval=interval if interval is not None and interval > 0 else None,
            requests=tuple(requests),
        )


def _history_point(item: object) -> HistoryPoint | None:
    if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], dict):
        return None
    at = parse_iso(item[0])
    if at is None:
        return None
    percents: dict[str, float] = {}
    for key, value in item[1].items():
        number = finite_number(value)
        if isinstance(key, str) and number is not None:
            percents[key] = number
    return HistoryPoint(at=at, percents=percents)


def append_history(history: tuple[HistoryPoint, ...], usage: Usage) -> tuple[HistoryPoint, ...]:
    """Add a point, thinned (no two within a couple of minutes unless values moved) and bounded."""
    point = HistoryPoint(at=usage.fetched_at, percents={w.id: w.percent for w in usage.windows})
    points = list(history)
    if points:
        last = points[-1]
        if point.at < last.at:
            return history  # out of order (a clock jump back): history stays monotonic
        if point.at - last.at < HISTORY_MIN_SPACING and point.percents == last.percents:
            return history
    points.append(point)
    cutoff = point.at - HISTORY_MAX_AGE
    points = [p for p in points if p.at >= cutoff][-HISTORY_MAX_POINTS:]
    return tuple(points)

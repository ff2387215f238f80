"""When may we ask the usage endpoint next? Pure functions of a `Gate`, a clock and the settings.

The endpoint rate-limits per access token and users see endless 429s from tools that poll it
every minute; so every decision here errs on the side of asking less. Jitter comes in as a number
in [0, 1) from the caller, so tests are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.values import parse_iso

RATE_LIMIT_FIRST = timedelta(minutes=5)
RATE_LIMIT_MAX = timedelta(minutes=60)
# A Retry-After beyond this is more likely a server mistake than a plan; we still wait this long.
RATE_LIMIT_CEILING = timedelta(hours=24)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
MANUAL_SPACING = timedelta(seconds=10)
JITTER_FRACTION = 0.1
# A tiny positive Retry-After, repeated, would still be a storm: honour it, but never sooner than
# this, doubling per consecutive 429 (30 s, 1 min, 2 min … up to the 60-minute step).
RETRY_AFTER_FLOOR = timedelta(seconds=30)
MAX_COUNT = 999


@dataclass(frozen=True, slots=True)
class Gate:
    """What we remember about asking with one token (keyed by its salted fingerprint)."""

    last_attempt: datetime | None = None
    last_success: datetime | None = None
    # Consecutive transient failures (network, server, bad response): the backoff step.
    failures: int = 0
    # 429s since the last success; other failures in between do not reset it, or alternating
    # 429s and network errors would restart the 5-minute ladder every time.
    rate_failures: int = 0
    last_kind: ErrorKind | None = None
    # A rate limit: no request before this, not even a manual one.
    rate_limited_until: datetime | None = None
    # A transient fault's backoff: a manual refresh may skip it.
    backoff_until: datetime | None = None
    # For credential kinds: the credentials signature that failed; a different one lifts the gate.
    failed_signature: str | None = None

    def to_json(self) -> dict[str, object]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "last_attempt": iso(self.last_attempt),
            "last_success": iso(self.last_success),
            "failures": self.failures,
            "rate_failures": self.rate_failures,
            "last_kind": self.last_kind.value if self.last_kind else None,
            "rate_limited_until": iso(self.rate_limited_until),
            "backoff_until": iso(self.backoff_until),
            "failed_signature": self.failed_signature,
        }

    @classmethod
    def from_json(cls, raw: object) -> Gate:
        if not isinstance(raw, dict):
            return cls()
        failures = _count(raw.get("failures"))
        rate_failures = _count(raw.get("rate_failures"))
        raw_kind = raw.get("last_kind")
        kind: ErrorKind | None = None
        if isinstance(raw_kind, str):
            try:
                kind = ErrorKind(raw_kind)
            except ValueError:
                kind = None
        signature = raw.get("failed_signature")
        return cls(
            last_attempt=parse_iso(raw.get("last_attempt")),
            last_success=parse_iso(raw.get("last_success")),
            failures=failures,
            rate_failures=rate_failures,
            last_kind=kind,
            rate_limited_until=parse_iso(raw.get("rate_limited_until")),
            backoff_until=parse_iso(raw.get("backoff_until")),
            failed_signature=signature if isinstance(signature, str) else None,
        )


def _count(raw: object) -> int:
    # Anything but a plausible count is garbage from a torn or foreign store: start afresh.
    return raw if type(raw) is int and 0 <= raw <= MAX_COUNT else 0


@dataclass(frozen=True, slots=True)
class Decision:
    """`at` is when the next request may go out (<= now means now); None means "not until the
    credentials change". `reason` is a short plain phrase for logs and `doctor`."""

    at: datetime | None
    reason: str

    def allows(self, now: datetime) -> bool:
        return self.at is not None and self.at <= now


def next_attempt(
    gate: Gate,
    *,
    now: datetime,
    interval: timedelta,
    last_data_at: datetime | None,
    signature: str,
    manual: bool = False,
    last_manual: datetime | None = None,
) -> Decision:
    """When may the next request go out?

    `last_data_at` is when the newest usage arrived from any source (the statusline bridge counts,
    so fresh bridged data costs no request). `last_manual` is the newest manual refresh by any
    process, so "Refresh now" in the tray and `status --refresh` share one 10 s spacing.
    """
    if (
        gate.last_kind is not None
        and gate.last_kind.needs_new_credentials
        and gate.failed_signature is not None
    ):
        if signature == gate.failed_signature:
            return Decision(None, "waiting for new credentials")
        return Decision(now, "credentials changed")
    if gate.rate_limited_until is not None and now < gate.rate_limited_until:
        return Decision(gate.rate_limited_until, "rate limited")
    if manual:
        if last_manual is not None and now < last_manual + MANUAL_SPACING:
            return Decision(last_manual + MANUAL_SPACING, "manual refresh just happened")
        return Decision(now, "manual refresh")
    if gate.backoff_until is not None and now < gate.backoff_until:
        return Decision(gate.backoff_until, "backing off after a failure")
    newest = max((t for t in (last_data_at, gate.last_success) if t is not None), default=None)
    if newest is not None and now < newest + interval:
        return Decision(newest + interval, "data is fresh")
    return Decision(now, "due")


def _jittered(delay: timedelta, jitter: float) -> timedelta:
    # Only ever later, never earlier: a backoff step is a floor the server asked for or we promised.
    if not 0.0 <= jitter <= 1.0:  # also NaN
        jitter = 0.0
    return delay * (1.0 + JITTER_FRACTION * jitter)


def rate_limit_delay(failures: int) -> timedelta:
    """5 min, 10, 20, 40, then 60 min: the n-th consecutive 429 without a usable Retry-After."""
    step = RATE_LIMIT_FIRST * (2 ** max(failures - 1, 0)) if failures < 16 else RATE_LIMIT_MAX
    return min(step, RATE_LIMIT_MAX)


def backoff_delay(failures: int) -> timedelta:
    """30 s, 60, 120 … up to 15 min, for network, server and bad-response failures."""
    step = BACKOFF_FIRST * (2 ** max(failures - 1, 0)) if failures < 16 else BACKOFF_MAX
    return min(step, BACKOFF_MAX)


def record_attempt(gate: Gate, now: datetime) -> Gate:
    return replace(gate, last_attempt=now)


def record_success(gate: Gate, now: datetime) -> Gate:
    return Gate(last_attempt=gate.last_attempt or now, last_success=now)


def record_failure(
    gate: Gate, problem: Problem, *, now: datetime, signature: str, jitter: float
) -> Gate:
    """The gate after a failed attempt (or a credentials problem found without one)."""
    kind = problem.kind
    base = replace(gate, last_kind=kind, failed_signature=None, backoff_until=None)
    if kind.needs_new_credentials:
        return replace(base, failures=0, failed_signature=signature, rate_limited_until=None)
    if kind == ErrorKind.RATE_LIMITED:
        count = min(gate.rate_failures + 1, MAX_COUNT)
        if problem.retry_at is not None and problem.retry_at > now:
            floor = min(RETRY_AFTER_FLOOR * (2 ** min(count - 1, 8)), RATE_LIMIT_MAX)
            until = max(min(problem.retry_at, now + RATE_LIMIT_CEILING), now + floor)
        else:
            until = now + _jittered(rate_limit_delay(count), jitter)
        return replace(base, rate_failures=count, rate_limited_until=until)
    transient = gate.last_kind is not None and gate.last_kind.transient
    failures = min(gate.failures + 1, MAX_COUNT) if transient else 1
    return replace(
        base, failures=failures, backoff_until=now + _jittered(backoff_delay(failures), jitter)
    )

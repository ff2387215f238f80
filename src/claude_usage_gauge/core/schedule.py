"""When may we ask the usage endpoint next? Pure functions of a `Gate`, a clock and the settings.

The endpoint rate-limits per access token and users see endless 429s from tools that poll it
every minute; so every decision here errs on the side of asking less. Jitter comes in as a number
in [0, 1) from the caller, so tests are exact. `core/polling.py` gathers the arguments from the
shared state; this module knows nothing of it.
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
# The schedule's own hourly rate plus these requests an hour, from all processes together: the
# schedule alone stays below it, so a person's click is instant; a script's loop is not.
MANUAL_EXTRA = 4
BURST = MANUAL_EXTRA + 1  # requests that may go back to back (a person's few clicks)
REQUEST_WINDOW = timedelta(hours=1)
# Numbers unchanged and Claude Code quiet this long: the interval doubles every QUIET_STEP, up to
# QUIET_MAX_INTERVAL (never below the configured base). Most of a day nothing moves.
QUIET_AFTER = timedelta(minutes=30)
QUIET_STEP = timedelta(minutes=15)
QUIET_MAX_INTERVAL = timedelta(minutes=15)
# A window's announced reset: check this long after it (the server needs a moment to roll over).
AFTER_RESET = timedelta(minutes=1)
# The decision's reason when the budget holds a request back: not "this hour is used up", as
# the bucket refills steadily (see `budget_until`); the menu and `status` name it in these words.
SPACED_OUT = "spaced out"
BUDGET_SPENT = f"requests {SPACED_OUT}"


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
    # The rate limit's end is the server's Retry-After (honoured exactly), not a step of our own
    # ladder (which signs of life from Claude Code may cut short).
    server_wait: bool = False

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
            "server_wait": self.server_wait,
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
            server_wait=raw.get("server_wait") is True,
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
    wake_at: datetime | None = None,
    activity_at: datetime | None = None,
    recent: tuple[datetime, ...] = (),
    budget: int | None = None,
) -> Decision:
    """When may the next request go out?

    `last_data_at` is when the newest usage arrived from any source (the statusline bridge counts,
    so fresh bridged data costs no request). `interval` is the wait after it (see
    `adaptive_interval`); `wake_at` a moment to look sooner (a window's reset). `last_manual` is
    the newest manual refresh by any process, so "Refresh now" in the tray and `status --refresh`
    share one 10 s spacing; `recent` are all requests of the last hour, and `budget` how many
    there may be. `activity_at` is Claude Code's newest sign of life.
    """
    if (
        gate.last_kind is not None
        and gate.last_kind.needs_new_credentials
        and gate.failed_signature is not None
    ):
        if signature == gate.failed_signature:
            return Decision(None, "waiting for new credentials")
        return Decision(now, "credentials changed")
    if (
        gate.rate_limited_until is not None
        and now < gate.rate_limited_until
        and not pause_lifted(gate, activity_at)
    ):
        return Decision(gate.rate_limited_until, "rate limited")
    if manual and last_manual is not None and now < last_manual + MANUAL_SPACING:
        return Decision(last_manual + MANUAL_SPACING, "manual refresh just happened")
    # However requests come (clicks, scripts, the schedule), no more than the budget an hour.
    until = budget_until(recent, now, budget) if budget is not None else None
    if manual:
        if until is not None:
            return Decision(until, BUDGET_SPENT)
        return Decision(now, "manual refresh")
    if gate.backoff_until is not None and now < gate.backoff_until:
        return Decision(gate.backoff_until, "backing off after a failure")
    newest = max((t for t in (last_data_at, gate.last_success) if t is not None), default=None)
    if newest is not None and now < newest + interval:
        if wake_at is not None and wake_at < newest + interval:
            return Decision(max(wake_at, until or wake_at), "a window reset")
        return Decision(newest + interval, "data is fresh")
    if until is not None:
        return Decision(until, BUDGET_SPENT)
    return Decision(now, "due")


def pause_lifted(gate: Gate, activity_at: datetime | None) -> bool:
    """Claude Code showed fresh numbers (or a turn ended) after our last 429: the service talks
    to it again, so our own ladder's wait ends; a server's explicit Retry-After does not."""
    return (
        not gate.server_wait
        and activity_at is not None
        and gate.last_attempt is not None
        and activity_at > gate.last_attempt
    )


def budget_until(recent: tuple[datetime, ...], now: datetime, budget: int) -> datetime | None:
    """When the next request fits the budget, if it does not now. A bucket of BURST requests
    that refills `budget` an hour: the schedule alone (its own rate) never empties it, so a few
    clicks in a row go at once; a loop gets one request every few minutes, never a burst that
    leaves the tray without numbers for the rest of the hour. At most budget + BURST in any hour.

    Requests "in the future" (the clock was set back) still count: a clock change must not
    reset the budget."""
    refill = REQUEST_WINDOW / max(budget, 1)
    capacity = float(BURST)
    # Replayed from a full bucket at the hour's oldest request: so never more than
    # budget + BURST in any hour, and a log of one hour is all the store keeps.
    tokens, last = capacity, None
    for t in sorted(t for t in recent if now - REQUEST_WINDOW < t):
        if last is not None:
            tokens = min(capacity, tokens + (t - last) / refill)
        tokens, last = tokens - 1.0, t
    if last is None:
        return None
    tokens = min(capacity, tokens + max((now - last) / refill, 0.0))
    if tokens >= 1.0:
        return None
    return now + refill * (1.0 - tokens)


def budget_rule(budget: int) -> str:
    """The budget as people meet it: 'manual refreshes are spaced out (5 back to back, then
    about one every 2.5 min)'."""
    refill = REQUEST_WINDOW / max(budget, 1)
    seconds = refill.total_seconds()
    every = f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f}".rstrip("0").rstrip(".")
    every += "" if seconds < 60 else " min"
    return f"manual refreshes are {SPACED_OUT} ({BURST} back to back, then about one every {every})"


def hourly_budget(base: timedelta) -> int:
    """Requests per hour, all kinds and processes together: the schedule's rate plus a few."""
    return int(REQUEST_WINDOW / max(base, timedelta(seconds=1))) + MANUAL_EXTRA


def adaptive_interval(
    base: timedelta,
    *,
    last_data_at: datetime | None,
    moved_at: datetime | None,
    activity_at: datetime | None,
) -> timedelta:
    """The wait after the newest data: `base` while the numbers move or Claude Code is in use;
    once neither happened for QUIET_AFTER, doubling every QUIET_STEP up to QUIET_MAX_INTERVAL.

    Judged at the newest data, so the answer does not drift as the clock runs; a sign of life
    newer than the data brings the base back at once."""
    lively = max((t for t in (moved_at, activity_at) if t is not None), default=None)
    if last_data_at is None or lively is None:
        return base
    quiet = last_data_at - lively
    if quiet < QUIET_AFTER:
        return base
    steps = min(1 + (quiet - QUIET_AFTER) // QUIET_STEP, 16)
    return max(base, min(base * (1 << steps), QUIET_MAX_INTERVAL))


def reset_wake(resets: tuple[datetime, ...], last_data_at: datetime | None) -> datetime | None:
    """A minute after the earliest announced reset that no data has seen yet (data from less
    than a minute after it may still show the old window)."""
    if last_data_at is None:
        return None
    upcoming = [t + AFTER_RESET for t in resets if t + AFTER_RESET > last_data_at]
    return min(upcoming) if upcoming else None


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
    base = replace(
        gate, last_kind=kind, failed_signature=None, backoff_until=None, server_wait=False
    )
    if kind.needs_new_credentials:
        return replace(base, failures=0, failed_signature=signature, rate_limited_until=None)
    if kind == ErrorKind.RATE_LIMITED:
        count = min(gate.rate_failures + 1, MAX_COUNT)
        server_wait = False
        if problem.retry_at is not None and problem.retry_at > now:
            floor = min(RETRY_AFTER_FLOOR * (2 ** min(count - 1, 8)), RATE_LIMIT_MAX)
            asked = min(problem.retry_at, now + RATE_LIMIT_CEILING)
            until = max(asked, now + floor)
            server_wait = asked >= until
        else:
            until = now + _jittered(rate_limit_delay(count), jitter)
        return replace(base, rate_failures=count, rate_limited_until=until, server_wait=server_wait)
    transient = gate.last_kind is not None and gate.last_kind.transient
    failures = min(gate.failures + 1, MAX_COUNT) if transient else 1
    return replace(
        base, failures=failures, backoff_until=now + _jittered(backoff_delay(failures), jitter)
    )

"""The simulated day behind bench/api_economy.py: what the service says, who asks, what is seen.

Uses only what every version of the app has (Refresher, Store, the bridge file, the fake API),
so `--compare REV` runs the very same simulation on older code.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.usage import Usage, apply_resets
from claude_usage_gauge.files import write_private_file
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import credentials_signature
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, rate_limited, usage_body

DAY = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
TICK = timedelta(seconds=10)
ACTIVE = ((9, 13), (14, 18))
CLOSED_PORT_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port here
STORM = (DAY + timedelta(hours=10), DAY + timedelta(hours=10, minutes=25))


def active(now: datetime, all_day: bool = False) -> bool:
    return all_day or any(a <= now.hour < b for a, b in ACTIVE)


@dataclass(frozen=True)
class Truth:
    """What the service knows at one minute: the session (None: no window open) and the week."""

    five: int
    five_reset: datetime | None
    week: int
    week_reset: datetime


def truths(all_day: bool) -> list[Truth]:
    """Minute by minute: the session climbs 1 % per 4 busy minutes from its first use and resets
    5 hours after it; the week climbs 1 % per 40 busy minutes and resets at 05:00."""
    out: list[Truth] = []
    five, five_reset, busy = 0, None, 0
    week, week_reset = 30, DAY + timedelta(hours=5)
    for minute in range(24 * 60 + 1):
        now = DAY + timedelta(minutes=minute)
        if five_reset is not None and now >= five_reset:
            five, five_reset = 0, None
        if now >= week_reset:
            week, week_reset = 0, week_reset + timedelta(days=7)
        if active(now, all_day):
            five_reset = five_reset or now + timedelta(hours=5)
            busy += 1
            five += busy % 4 == 0
            week += busy % 40 == 0
        out.append(Truth(min(five, 100), five_reset, min(week, 100), week_reset))
    return out


def answer(truth: Truth, now: datetime) -> Reply:
    def window(percent: int, reset: datetime) -> dict[str, object]:
        return {"utilization": float(percent), "resets_at": reset.isoformat()}

    five = None if truth.five_reset is None else window(truth.five, truth.five_reset)
    week = window(truth.week, truth.week_reset)
    body = usage_body(None, None, now=now)
    body.update(five_hour=five, seven_day=week)
    return Reply(200, body)


@dataclass
class Scenario:
    name: str
    all_day: bool = False  # the numbers move all day, not 9-13 and 14-18
    statusline: bool = False  # Claude Code's statusline feeds the bridge while active
    hooks: bool = False  # a hook records each turn's end (every 2 minutes while active)
    # The user runs /usage in Claude Code every 20 minutes while active: its answer is cached
    # in Claude Code's state file, which the store reads at no cost.
    claude_cache: bool = False
    manual_every_minute: bool = False  # a script runs `status --refresh` every minute
    storm: tuple[datetime, datetime] | None = None  # 429 with retry-after 0
    retry_until: datetime | None = None  # 429 with a Retry-After to this moment
    down: tuple[datetime, datetime] | None = None  # no network
    expired_until: datetime | None = None  # the token expired, renewed by Claude Code then
    summary: Callable[[Result, Result | None], str] = lambda after, before: ""

    @property
    def trouble(self) -> tuple[datetime, datetime] | None:
        if self.storm or self.down:
            return self.storm or self.down
        until = self.retry_until or self.expired_until
        return (DAY, until) if until else None


@dataclass
class Result:
    per_hour: list[int] = field(default_factory=lambda: [0] * 24)
    active_hours: list[bool] = field(default_factory=lambda: [False] * 24)
    age_max: float = 0.0
    age_sum: float = 0.0
    age_samples: int = 0
    lag_max: float = 0.0
    trouble_requests: int | None = None
    recovery: float | None = None

    @property
    def total(self) -> int:
        return sum(self.per_hour)

    @property
    def active(self) -> int:
        return sum(n for n, busy in zip(self.per_hour, self.active_hours, strict=True) if busy)

    @property
    def quiet(self) -> int:
        return self.total - self.active

    @property
    def max_hour(self) -> int:
        return max(self.per_hour)

    @property
    def age_mean(self) -> float:
        return self.age_sum / self.age_samples if self.age_samples else 0.0

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Result:
        return cls(**raw)  # type: ignore[arg-type]


def run(scenario: Scenario) -> Result:
    now = [DAY]
    result = Result(
        active_hours=[active(DAY + timedelta(hours=h), scenario.all_day) for h in range(24)]
    )
    table = truths(scenario.all_day)

    def truth_now() -> Truth:
        return table[int((now[0] - DAY).total_seconds() // 60)]

    def reply(n: int) -> Reply:
        if scenario.storm and scenario.storm[0] <= now[0] < scenario.storm[1]:
            return rate_limited("0")
        if scenario.retry_until and now[0] < scenario.retry_until:
            return rate_limited(str(int((scenario.retry_until - now[0]).total_seconds())))
        return answer(truth_now(), now[0])

    with tempfile.TemporaryDirectory() as tmp, FakeUsageAPI(responder=reply) as api:
        root = Path(tmp)
        claude_dir = root / "claude"
        expires = DAY - timedelta(hours=1) if scenario.expired_until else DAY + timedelta(days=2)
        write_credentials_file(claude_dir, credentials_document("bench-one", expires_at=expires))
        paths = AppPaths(root / "state", root / "data", root / "log", root / "config")
        home = ClaudeHome.from_environ({"CLAUDE_CONFIG_DIR": str(claude_dir), "HOME": tmp})
        trouble = scenario.trouble

        def settings() -> Settings:
            down = scenario.down and scenario.down[0] <= now[0] < scenario.down[1]
            return Settings(api_base=CLOSED_PORT_BASE if down else api.url)

        from claude_usage_gauge.sources.api import fetch_usage

        def counted(base: str, token: str, at: datetime) -> Usage:
            result.per_hour[at.hour] += 1  # every attempt, also those that never reach it
            if trouble and trouble[0] <= at < trouble[1]:
                result.trouble_requests = (result.trouble_requests or 0) + 1
            return fetch_usage(base, token, at, timeout=2.0)

        def caller() -> Refresher:
            store = _store(paths, home, lambda: now[0])  # a process of its own: its own cache
            return Refresher(
                store, settings(), home, fetch=counted, clock=lambda: now[0], jitter=lambda: 0.5
            )

        tray, status = caller(), caller()
        tray_due: datetime | None = None
        seen: tuple[object, ...] = ()
        renewed, wrong_since = False, None
        if trouble:
            result.trouble_requests = 0
        while now[0] < DAY + timedelta(days=1):
            at = now[0]
            if scenario.expired_until and not renewed and at >= scenario.expired_until:
                renewed = True  # Claude Code renews its token in the morning
                document = credentials_document("bench-two", expires_at=at + timedelta(hours=8))
                write_credentials_file(claude_dir, document)
            tray.settings = status.settings = settings()
            busy = active(at, scenario.all_day)
            if scenario.statusline and busy and at.second % 30 == 0:
                _bridge(paths, truth_now(), at)
            if scenario.hooks and busy and at.minute % 2 == 0 and at.second == 0:
                _hook(paths, at)
            if scenario.claude_cache and busy and at.minute % 20 == 0 and at.second == 0:
                _claude_cache(home, answer(truth_now(), at), at)
            if scenario.manual_every_minute and at.second == 0:
                status.refresh(manual=True)
            elif 9 <= at.hour < 18 and at.minute % 15 == 0 and at.second == 0:
                status.refresh()
            # The tray's poller: when due, on a new sign-in, or when another process wrote.
            look = (credentials_signature(home), *_mtimes(paths, home))
            if tray_due is None or at >= tray_due or look != seen:
                outcome = tray.refresh()
                tray_due = (
                    at + TICK
                    if outcome.requested
                    else (
                        outcome.decision.at
                        if outcome.decision and outcome.decision.at
                        else DAY + timedelta(days=2)
                    )
                )
                look = (credentials_signature(home), *_mtimes(paths, home))
            seen = look
            state = tray.current_state()
            shown = state.snapshot
            if busy and shown is not None:
                age = (at - shown.fetched_at).total_seconds()
                result.age_max = max(result.age_max, age)
                result.age_sum += age
                result.age_samples += 1
                window = apply_resets(shown, at).window("five_hour")
                if (window.percent if window else 0.0) != truth_now().five:
                    wrong_since = wrong_since or at
                    result.lag_max = max(result.lag_max, (at - wrong_since).total_seconds())
                else:
                    wrong_since = None
            ended = trouble is not None and at >= trouble[1] and result.recovery is None
            if ended and trouble and shown is not None and shown.fetched_at >= trouble[1]:
                result.recovery = (shown.fetched_at - trouble[1]).total_seconds()
            now[0] = at + TICK
    return result


def _bridge(paths: AppPaths, truth: Truth, at: datetime) -> None:
    """What the statusline bridge writes: its own file beside the store."""
    limits: dict[str, object] = {
        "seven_day": {"used_percentage": truth.week, "resets_at": int(truth.week_reset.timestamp())}
    }
    if truth.five_reset is not None:
        limits["five_hour"] = {
            "used_percentage": truth.five,
            "resets_at": int(truth.five_reset.timestamp()),
        }
    document = {"version": 1, "at": at.timestamp(), "rate_limits": limits}
    write_private_file(paths.bridge_file, json.dumps(document).encode())


def _hook(paths: AppPaths, at: datetime) -> None:
    """A turn ended in Claude Code: what a Stop hook records (older code has no such record)."""
    from claude_usage_gauge.core.state import State

    if hasattr(State, "with_activity"):
        Store(paths).update(lambda state: state.with_activity(at))


def _store(paths: AppPaths, home: ClaudeHome, clock: Callable[[], datetime]) -> Store:
    """The store as the tray and `status` open it: with Claude Code's cached /usage folded in
    (older code has no such source, and reads only its own files)."""
    try:
        from claude_usage_gauge.sources.claude_state import ClaudeCodeCache
    except ImportError:
        return Store(paths)
    return Store(paths, ClaudeCodeCache(home.state_file), clock=clock)


def _claude_cache(home: ClaudeHome, reply: Reply, at: datetime) -> None:
    """What Claude Code's /usage leaves in its state file: the endpoint's answer, with when."""
    cache = {"fetchedAtMs": int(at.timestamp() * 1000), "utilization": reply.body}
    home.state_file.write_text(json.dumps({"numStartups": 3, "cachedUsageUtilization": cache}))


def _mtimes(paths: AppPaths, home: ClaudeHome) -> tuple[int | None, ...]:
    times: list[int | None] = []
    for path in (paths.store_file, paths.bridge_file, home.state_file):
        try:
            times.append(path.stat().st_mtime_ns)
        except OSError:
            times.append(None)
    return tuple(times)

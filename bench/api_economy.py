"""A simulated day per scenario: how many requests the whole app spends, and how stale it gets.

Real parts on a fake clock: the real Refresher and Store (files in a temporary home), real HTTP
to the project's fake usage API on 127.0.0.1 whose answers follow the simulated time. Three kinds
of caller share the store as they would on a desktop: the tray's poller (checks every 10 s), the
statusline bridge (every 30 s while Claude Code is in use), and a person running `status`
every 15 minutes during working hours.

Run: .venv/bin/python bench/api_economy.py   (prints a table; asserts nothing)
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.files import write_private_file
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import credentials_signature
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, ok, rate_limited

DAY_START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
TICK = timedelta(seconds=10)
CLOSED_PORT_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port here


class Clock:
    def __init__(self) -> None:
        self.now = DAY_START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scenario:
    name: str
    # What the server answers at a simulated moment.
    answer: Callable[[datetime], Reply]
    statusline_hours: tuple[tuple[int, int], ...] = ()
    status_hours: tuple[int, int] = (9, 18)
    network_down: tuple[datetime, datetime] | None = None
    token_expired_until: datetime | None = None
    # When the server's trouble ends (for "first good answer after the storm").
    trouble_ends: datetime | None = None
    targets: str = ""


@dataclass
class Result:
    per_hour: Counter[int] = field(default_factory=Counter)
    max_staleness: timedelta = timedelta(0)
    staleness_sum: float = 0.0
    samples: int = 0
    first_good_after_trouble: timedelta | None = None
    # The wait the schedule had in force when the trouble ended (recovery must not exceed it).
    step_at_end: timedelta | None = None


def _healthy(now: datetime) -> Reply:
    hour = (now - DAY_START).total_seconds() / 3600
    return ok(min(5 + hour * 4, 99), 20 + hour / 2, resets_in_hours=2, now=now)


def _scenarios() -> list[Scenario]:
    def storm_zero(now: datetime) -> Reply:
        return rate_limited("0")

    long_until = DAY_START + timedelta(hours=3)

    def long_retry(now: datetime) -> Reply:
        if now < long_until:
            return rate_limited(str(int((long_until - now).total_seconds())))
        return _healthy(now)

    storm_until = DAY_START + timedelta(hours=2, minutes=10)

    def storm_then_ok(now: datetime) -> Reply:
        return rate_limited("0") if now < storm_until else _healthy(now)

    down = (DAY_START + timedelta(hours=10), DAY_START + timedelta(hours=11))
    return [
        Scenario("healthy", _healthy, targets="<= 20/h"),
        Scenario(
            "healthy + statusline 9-12,14-18",
            _healthy,
            statusline_hours=((9, 12), (14, 18)),
            targets="0/h while bridged",
        ),
        Scenario("429 retry-after 0, all day", storm_zero, targets="<= 4 first hour, <= 1/h after"),
        Scenario(
            "429 storm until 02:10",
            storm_then_ok,
            trouble_ends=storm_until,
            targets="recovers within the step",
        ),
        Scenario(
            "429 retry-after to 03:00",
            long_retry,
            trouble_ends=long_until,
            targets="honours Retry-After",
        ),
        Scenario(
            "network down 10:00-11:00",
            _healthy,
            network_down=down,
            trouble_ends=down[1],
            targets="backs off, recovers",
        ),
        Scenario(
            "token expired 00:00-08:00",
            _healthy,
            token_expired_until=DAY_START + timedelta(hours=8),
            trouble_ends=DAY_START + timedelta(hours=8),
            targets="0/h while expired",
        ),
    ]


def _write_credentials(claude_dir: Path, token: str, expires: datetime) -> None:
    write_credentials_file(claude_dir, credentials_document(token, expires_at=expires))


def _in_hours(now: datetime, spans: tuple[tuple[int, int], ...]) -> bool:
    return any(start <= now.hour < end for start, end in spans)


def run(scenario: Scenario) -> Result:
    clock = Clock()
    result = Result()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUsageAPI(responder=lambda n: scenario.answer(clock.now)) as api,
    ):
        root = Path(tmp)
        claude_dir = root / "claude"
        claude_dir.mkdir()
        expired = scenario.token_expired_until is not None
        _write_credentials(
            claude_dir,
            "bench-token-one",
            DAY_START - timedelta(hours=1) if expired else DAY_START + timedelta(days=2),
        )
        paths = AppPaths(root / "state", root / "data", root / "log", root / "config")
        store = Store(paths)
        environ = {"CLAUDE_CONFIG_DIR": str(claude_dir), "HOME": tmp}

        def base() -> str:
            down = scenario.network_down
            return CLOSED_PORT_BASE if down and down[0] <= clock.now < down[1] else api.url

        def settings() -> Settings:
            return Settings(api_base=base())

        from claude_usage_gauge.sources.api import fetch_usage

        def counted_fetch(api_base: str, token: str, now: datetime) -> Usage:
            # Every attempt counts, also those that never reach the server (network down).
            result.per_hour[now.hour] += 1
            return fetch_usage(api_base, token, now, timeout=2.0)

        callers = [
            Refresher(
                store,
                settings(),
                ClaudeHome.from_environ(environ),
                fetch=counted_fetch,
                clock=clock,
                jitter=lambda: 0.5,
            )
            for _ in range(2)
        ]
        tray, status = callers
        refreshed_token = False
        tray_due: datetime | None = None
        tray_signature = ""
        end = DAY_START + timedelta(days=1)
        while clock.now < end:
            now = clock.now
            if (
                expired
                and not refreshed_token
                and scenario.token_expired_until
                and now >= scenario.token_expired_until
            ):
                # Claude Code refreshes its own token in the morning; we only notice the file.
                _write_credentials(claude_dir, "bench-token-two", now + timedelta(hours=8))
                refreshed_token = True
            for caller in callers:
                caller.settings = settings()
            bridged = _in_hours(now, scenario.statusline_hours)
            if bridged and now.second % 30 == 0:
                # What the statusline bridge writes: its own file beside the store.
                rate_limits = {
                    "five_hour": {
                        "used_percentage": 40,
                        "resets_at": int(now.timestamp()) + 3600,
                    },
                    "seven_day": {"used_percentage": 20},
                }
                document = {"version": 1, "at": now.timestamp(), "rate_limits": rate_limits}
                write_private_file(paths.bridge_file, json.dumps(document).encode())
            if (
                scenario.status_hours[0] <= now.hour < scenario.status_hours[1]
                and now.minute % 15 == 0
                and now.second == 0
            ):
                status.refresh()
            # The tray's poller: refresh when the schedule says so or the credentials changed
            # (as poller.py does), otherwise only re-read the shared store.
            signature = credentials_signature(ClaudeHome.from_environ(environ))
            if tray_due is None or now >= tray_due or signature != tray_signature:
                outcome = tray.refresh()
                state = outcome.state
                tray_signature = signature
                if outcome.requested:
                    tray_due = now + TICK
                elif outcome.decision is not None and outcome.decision.at is not None:
                    tray_due = outcome.decision.at
                else:
                    tray_due = end
            else:
                state = store.read()
            if state.snapshot is not None:
                age = now - state.snapshot.fetched_at
                result.max_staleness = max(result.max_staleness, age)
                result.staleness_sum += age.total_seconds()
                result.samples += 1
            if (
                scenario.trouble_ends is not None
                and result.step_at_end is None
                and now >= scenario.trouble_ends
                and state.current_fingerprint is not None
            ):
                gate = state.gate(state.current_fingerprint)
                until = gate.rate_limited_until or gate.backoff_until
                if until is not None and gate.last_attempt is not None:
                    result.step_at_end = until - gate.last_attempt
                else:
                    result.step_at_end = timedelta(0)
            if (
                scenario.trouble_ends is not None
                and result.first_good_after_trouble is None
                and now >= scenario.trouble_ends
                and state.snapshot is not None
                and state.snapshot.source == "api"
                and state.snapshot.fetched_at >= scenario.trouble_ends
            ):
                result.first_good_after_trouble = state.snapshot.fetched_at - scenario.trouble_ends
            clock.now = now + TICK
    return result


def main() -> int:
    rows = [(scenario, run(scenario)) for scenario in _scenarios()]

    print(
        f"{'scenario':36} {'req/day':>7} {'1st h':>5} {'max/h':>5} {'max/h after 1st':>15} "
        f"{'max stale':>9} {'mean stale':>10} {'recovery':>9} {'step':>6}  target"
    )
    for scenario, result in rows:
        hours = [result.per_hour.get(h, 0) for h in range(24)]
        total = sum(hours)
        after_first = max(hours[1:]) if len(hours) > 1 else 0
        mean = (
            timedelta(seconds=result.staleness_sum / result.samples)
            if result.samples
            else timedelta(0)
        )
        step = "-" if result.step_at_end is None else _short(result.step_at_end)
        recovery = (
            "-"
            if result.first_good_after_trouble is None
            else _short(result.first_good_after_trouble)
        )
        print(
            f"{scenario.name:36} {total:7d} {hours[0]:5d} {max(hours):5d} {after_first:15d} "
            f"{_short(result.max_staleness):>9} {_short(mean):>10} {recovery:>9} {step:>6}  "
            f"{scenario.targets}"
        )
        if scenario.statusline_hours:
            inside = sum(
                result.per_hour.get(h, 0)
                for h in range(24)
                if any(a <= h < b for a, b in scenario.statusline_hours)
            )
            print(f"{'':36} requests in bridged hours: {inside}")
    return 0


def _short(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


if __name__ == "__main__":
    sys.exit(main())

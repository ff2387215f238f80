"""A simulated day per scenario: how many requests the whole app spends, and how stale it gets.

Real parts on a fake clock: the real Refresher and Store (files in a temporary home), real HTTP
to the project's fake usage API on 127.0.0.1 whose answers follow the simulated time. Callers
share the store as on a desktop: the tray's poller (looks every 10 s, and again whenever another
process wrote the store), the statusline bridge (every 30 s while Claude Code is in use, where
the scenario has it), and a person running `status` every 15 minutes from 9 to 18.

The working day: active 9-13 and 14-18 (8 hours: the numbers move), quiet the other 16 hours.

Run: .venv/bin/python bench/api_economy.py                 (the working tree)
     .venv/bin/python bench/api_economy.py --compare REV    (REV's code too, side by side)
Prints tables and summary lines; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from economy_sim import DAY, STORM, Result, Scenario, run

HEADER = (
    f"{'scenario':38} {'req/day':>7} {'active':>6} {'quiet':>5} {'max/h':>5} "
    f"{'age max':>7} {'age avg':>7} {'lag max':>7} {'trouble':>7} {'recovery':>8}"
)


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


def _was(before: Result | None, text: Callable[[Result], str]) -> str:
    return f" (before: {text(before)})" if before is not None else ""


def _workday(after: Result, before: Result | None) -> str:
    worse = before is not None and (
        after.age_max > before.age_max + 10 or after.lag_max > before.lag_max + 10
    )
    return (
        f"workday, API only: {after.total} requests/day{_was(before, lambda b: str(b.total))}"
        f" (target <= 150): {_verdict(after.total <= 150)}; while active: age max"
        f" {_short(after.age_max)}, lag max {_short(after.lag_max)}"
        f"{_was(before, lambda b: f'{_short(b.age_max)}, {_short(b.lag_max)}')}"
        f" (target: no worse): {_verdict(not worse)}"
    )


def _workday_hooks(after: Result, before: Result | None) -> str:
    return _workday(after, before).replace("workday, API only", "workday, Claude Code hooks", 1)


def _per_day(label: str) -> Callable[[Result, Result | None], str]:
    def line(after: Result, before: Result | None) -> str:
        was = _was(before, lambda b: str(b.total))
        return f"{label}: {after.total} requests/day{was}, max {after.max_hour}/h"

    return line


def _recovery(label: str) -> Callable[[Result, Result | None], str]:
    def line(after: Result, before: Result | None) -> str:
        was = _was(before, lambda b: f"{_short(b.recovery)} with {_count(b.trouble_requests)}")
        return (
            f"{label}: fresh numbers {_short(after.recovery)} after it ended, with"
            f" {_count(after.trouble_requests)} requests during it{was}"
        )

    return line


def _hourly_cap(label: str, cap: int) -> Callable[[Result, Result | None], str]:
    def line(after: Result, before: Result | None) -> str:
        was = _was(before, lambda b: f"{b.max_hour}/h, {b.total}/day")
        return (
            f"{label}: max {after.max_hour}/h, {after.total}/day{was} (target <= {cap}/h):"
            f" {_verdict(after.max_hour <= cap)}"
        )

    return line


def _storm_all_day(after: Result, before: Result | None) -> str:
    first, rest = after.per_hour[0], max(after.per_hour[1:])
    return (
        f"429 all day: {first} in the first hour, max {rest}/h after (target <= 4, <= 1/h):"
        f" {_verdict(first <= 4 and rest <= 1)}"
    )


SCENARIOS = [
    Scenario("workday, API only", summary=_workday),
    Scenario("workday, Claude Code hooks", hooks=True, summary=_workday_hooks),
    Scenario(
        "workday, /usage every 20 min",
        claude_cache=True,
        summary=_per_day("workday, user runs /usage now and then (Claude Code's cache)"),
    ),
    Scenario(
        "workday, statusline while active",
        statusline=True,
        summary=_per_day("workday with the statusline bridge"),
    ),
    Scenario(
        "moving all day, API only", all_day=True, summary=_hourly_cap("numbers moving all day", 24)
    ),
    Scenario(
        "workday, 429 storm 10:00-10:25, API only",
        storm=STORM,
        summary=_recovery("25-min 429 storm, API only"),
    ),
    Scenario(
        "workday, 429 storm 10:00-10:25, statusline",
        storm=STORM,
        statusline=True,
        summary=_recovery("25-min 429 storm, with the statusline"),
    ),
    Scenario(
        "workday, status --refresh every minute",
        manual_every_minute=True,
        summary=_hourly_cap("a script running status --refresh every minute", 24 + 5),
    ),
    Scenario(
        "429 retry-after 0, all day", storm=(DAY, DAY + timedelta(days=1)), summary=_storm_all_day
    ),
    Scenario(
        "429 retry-after to 03:00",
        retry_until=DAY + timedelta(hours=3),
        summary=_recovery("429 with Retry-After to 03:00"),
    ),
    Scenario(
        "workday, network down 10:00-11:00",
        down=(DAY + timedelta(hours=10), DAY + timedelta(hours=11)),
        summary=_recovery("network down 10:00-11:00"),
    ),
    Scenario(
        "workday, token expired 00:00-08:00",
        expired_until=DAY + timedelta(hours=8),
        summary=_recovery("token expired until 08:00"),
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare", metavar="REV", help="also run REV's code (git archive)")
    parser.add_argument("--json", action="store_true", help="print results as JSON (internal)")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or args.only in s.name]
    after = {s.name: run(s) for s in scenarios}
    if args.json:
        print(json.dumps({name: result.to_json() for name, result in after.items()}))
        return 0
    before = _run_revision(args.compare, args.only) if args.compare else None
    if before is not None:
        print(f"before: {args.compare}")
        _table(before)
        print()
        print("after: this working tree")
    _table(after)
    print()
    for scenario in scenarios:
        line = scenario.summary(after[scenario.name], before.get(scenario.name) if before else None)
        if line:
            print(f"summary: api economy, {line}")
    return 0


def _table(results: dict[str, Result]) -> None:
    print(HEADER)
    for name, r in results.items():
        print(
            f"{name:38} {r.total:7d} {r.active:6d} {r.quiet:5d} {r.max_hour:5d} "
            f"{_short(r.age_max):>7} {_short(r.age_mean):>7} {_short(r.lag_max):>7} "
            f"{_count(r.trouble_requests):>7} {_short(r.recovery):>8}"
        )
    print(
        "active/quiet: requests in the 8 moving / 16 quiet hours; age: how old the shown numbers"
        " were while active; lag: how long a change went unshown while active; trouble:"
        " requests during the 429 storm or outage; recovery: from its end to fresh numbers shown"
    )


def _run_revision(rev: str, only: str | None) -> dict[str, Result]:
    """The same scenarios on REV's code: its src/ exported, this file's simulation on it."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev, "src"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "src"))
        command = [sys.executable, __file__, "--json", *(["--only", only] if only else [])]
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    raw = json.loads(out.stdout)
    return {name: Result.from_json(value) for name, value in raw.items()}


def _short(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


if __name__ == "__main__":
    sys.exit(main())

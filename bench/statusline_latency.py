"""How long one statusline refresh takes, beside a bare interpreter start.

    .venv/bin/python bench/statusline_latency.py [--runs 30] [--no-pyc-cache]

Claude Code runs the bridge on every status line refresh, so its cost is mostly interpreter start
plus imports. Runs are interleaved (one of each per round) in a temporary home, fed a realistic
statusline JSON. "new numbers" changes the percentage every run, so each run writes the bridge
file; "same numbers" repeats it, so runs within 20 s of the last write only read it. "no numbers"
is Claude Code before its first reply: the line comes from the bridge file and a store seeded with
a week of history. Prints figures, asserts nothing. The target is a median of at most
2.0 x `python -c pass`.

By default bytecode is cached under a temporary PYTHONPYCACHEPREFIX (as an installed package has
its .pyc files); --no-pyc-cache keeps the inherited environment instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.testing.claude_code import statusline_input

TARGET_RATIO = 2.0
ROOT = Path(__file__).resolve().parent.parent


def feed(percent: float | None) -> bytes:
    return json.dumps(statusline_input(percent, 15, rate_limits=percent is not None)).encode()


def seed_store(state_home: Path) -> None:
    """A store as the tray leaves it: an API snapshot and a week of history (tens of KiB)."""
    from dataclasses import replace

    from claude_usage_gauge.core.state import State
    from claude_usage_gauge.core.usage import Usage, Window
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.store import Store

    state_dir = state_home / "claude-usage-gauge"
    state = State()
    start = datetime.now(UTC) - timedelta(days=7)
    for step in range(0, 7 * 24 * 60, 20):
        at = start + timedelta(minutes=step)
        state = state.with_snapshot(
            Usage(
                windows=(
                    Window("five_hour", "5-hour session", step % 100, at + timedelta(hours=3)),
                    Window("seven_day", "Week (all models)", step / 1000, at + timedelta(days=2)),
                ),
                extra_usage=None,
                fetched_at=at,
                source="api",
            )
        )
    seeded = state
    Store(AppPaths(state_dir, state_dir, state_dir, state_dir)).update(
        lambda current: replace(seeded, salt=current.salt)
    )


def environment(tmp: Path, pyc_cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.pop("CLAUDE_CONFIG_DIR", None)
    (tmp / "home").mkdir(parents=True)
    env.update(
        HOME=str(tmp / "home"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_DATA_HOME=str(tmp / "data"),
        CLAUDE_USAGE_GAUGE_API_BASE="http://127.0.0.1:9",
    )
    if pyc_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp.parent / "pycache")
    return env


def _children_cpu() -> float:
    try:
        import resource
    except ImportError:  # Windows: wall time only
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], stdin: bytes, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one run; CPU suffers less from a busy box."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(argv, input=stdin, env=env, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if result.returncode != 0:
        raise SystemExit(f"{argv} failed: {result.stderr.decode(errors='replace')}")
    return elapsed, (_children_cpu() - cpu) * 1000


def bench(runs: int, pyc_cache: bool) -> None:
    python = sys.executable
    script = Path(python).parent / "claude-usage-gauge"
    with tempfile.TemporaryDirectory(prefix="statusline-bench-") as name:
        root = Path(name)
        counter = iter(range(10**9))

        def new_numbers() -> bytes:
            return feed(10 + next(counter) % 80)

        same = feed(51.0)
        bridge = [python, "-m", "claude_usage_gauge", "statusline"]
        # (label, argv, stdin, home): each case has its own home, so one case's writes do not
        # turn another's "same numbers" into new ones.
        cases: list[tuple[str, list[str], Callable[[], bytes], str]] = [
            ("python -c pass", [python, "-c", "pass"], lambda: b"", "bare"),
            ("python -m ... statusline (same numbers)", bridge, lambda: same, "same"),
            ("python -m ... statusline (new numbers)", bridge, new_numbers, "new"),
            ("python -m ... statusline (no numbers)", bridge, lambda: feed(None), "none"),
        ]
        if script.is_file():
            same_script = ("claude-usage-gauge statusline (same)", [str(script), "statusline"])
            cases.append((*same_script, lambda: same, "script"))
        else:
            print(f"(no console script at {script}; skipped)")
        envs = {home: environment(root / home, pyc_cache) for *_, home in cases}

        def named(argv: list[str], home: str) -> list[str]:
            # As `statusline install` writes it: the command names the shared state's folder.
            if home == "bare":
                return argv
            return [*argv, "--state-dir", str(root / home / "state" / "claude-usage-gauge")]

        seed_store(root / "none" / "state")
        # And a bridge file older than the store.
        timed(named(bridge, "none"), new_numbers(), envs["none"])
        for _, argv, stdin, home in cases:  # warm caches (and write the .pyc files once)
            for _ in range(3):
                timed(named(argv, home), stdin(), envs[home])
        wall: dict[str, list[float]] = {label: [] for label, *_ in cases}
        cpu: dict[str, list[float]] = {label: [] for label, *_ in cases}
        for _ in range(runs):
            for label, argv, stdin, home in cases:
                elapsed, spent = timed(named(argv, home), stdin(), envs[home])
                wall[label].append(elapsed)
                cpu[label].append(spent)

    base_label = cases[0][0]
    base_wall, base_cpu = statistics.median(wall[base_label]), statistics.median(cpu[base_label])
    mode = "cached bytecode" if pyc_cache else "inherited environment (PYTHONDONTWRITEBYTECODE?)"
    print(f"statusline latency, {runs} interleaved runs each, {mode}")
    header = f"{'wall median':>11} {'p90':>6} {'ratio':>6} {'cpu median':>10} {'ratio':>6}"
    print(f"{'case':<40} {header}")
    for label, values in wall.items():
        values.sort()
        p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
        median = statistics.median(values)
        cpu_median = statistics.median(cpu[label])
        cpu_ratio = cpu_median / base_cpu if base_cpu else float("nan")
        print(
            f"{label:<40} {median:>9.1f}ms {p90:>6.1f} {median / base_wall:>6.2f}"
            f" {cpu_median:>8.1f}ms {cpu_ratio:>6.2f}"
        )
    print(f"target: wall ratio <= {TARGET_RATIO}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-pyc-cache", action="store_true")
    args = parser.parse_args()
    bench(args.runs, not args.no_pyc_cache)


if __name__ == "__main__":
    main()

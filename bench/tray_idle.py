"""What the tray costs while it sits there: start-up, memory, CPU and wake-ups, on a real desktop.

    .venv/bin/python bench/tray_idle.py [--seconds 60] [--runs 5] [--summary]

Runs the real tray (`python -m claude_usage_gauge`) as a subprocess on the tests' Xvfb + D-Bus +
dunst + trayer desktop (tests/e2e/desktop.py), against the fake usage API on 127.0.0.1, with a
warm store: one `status` run fetched the numbers first, so the tray needs no request to show
them. Figures (Linux only, from /proc):

- start-up: Popen to the icon's window docked in trayer, median of --runs starts (target <= 1 s);
- idle memory: VmRSS once it has settled (target <= 60 MB);
- idle CPU: utime+stime over --seconds, as % of one core (target <= 0.5 %);
- wake-ups: context switches over the same time, summed over all threads, per second
  (target about 1/s from our code; the GUI toolkit's own main loop adds some).

Prints figures and asserts nothing. --summary also prints one `summary:` line per target (met /
missed, with the figure) after the table, for scripts/bench to collect.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
from claude_usage_gauge.testing.desktop import Desktop, missing_tools, running_desktop, wait_until
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok

ROOT = Path(__file__).resolve().parents[1]

TARGET_START_S = 1.0
TARGET_RSS_MB = 60.0
TARGET_CPU_PERCENT = 0.5
TARGET_WAKEUPS_PER_S = 1.0
SETTLE_SECONDS = 5.0
TOKEN = "sk-ant-oat01-BenchToken" + "b" * 60
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- a user with a warm store ------------------------------------------------------------------


def make_home(root: Path, api_url: str, desktop_env: dict[str, str]) -> dict[str, str]:
    document = credentials_document(TOKEN, refresh_token="sk-ant-ort01-BenchRefresh")
    write_credentials_file(root / ".claude", document)
    env = {k: v for k, v in desktop_env.items() if not k.startswith(("CLAUDE_", "XDG_"))}
    env.update(
        HOME=str(root),
        XDG_STATE_HOME=str(root / "state"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        CLAUDE_USAGE_GAUGE_API_BASE=api_url,
    )
    return env


def warm_store(env: dict[str, str]) -> None:
    """One real `status` run fetches and stores the numbers; the tray then starts from them."""
    subprocess.run(
        [sys.executable, "-m", APP_NAME.replace("-", "_"), "status", "--json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )


# -- the process, from /proc ---------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    # After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass(frozen=True)
class Switches:
    # thread id -> (voluntary, involuntary) context switches so far
    per_thread: dict[str, tuple[int, int]]

    @property
    def threads(self) -> int:
        return len(self.per_thread)

    def since(self, before: Switches) -> tuple[int, int]:
        """Switches made between two samples. A thread that ended meanwhile takes its count with
        it (so it cannot be subtracted); one that started counts from zero."""
        voluntary = involuntary = 0
        for tid, (vol, invol) in self.per_thread.items():
            vol0, invol0 = before.per_thread.get(tid, (0, 0))
            voluntary += vol - vol0
            involuntary += invol - invol0
        return voluntary, involuntary


def context_switches(pid: int) -> Switches:
    counts: dict[str, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            lines = (task / "status").read_text().splitlines()
        except OSError:  # the thread ended between the listing and the read
            continue
        voluntary = involuntary = 0
        for line in lines:
            if line.startswith("voluntary_ctxt_switches:"):
                voluntary = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                involuntary = int(line.split()[1])
        counts[task.name] = (voluntary, involuntary)
    return Switches(counts)


# -- the runs -------------------------------------------------------------------------------------


def launch(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", APP_NAME.replace("-", "_")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(desktop: Desktop, proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    # The next start must dock a new icon, not find the old one still there.
    wait_until(lambda: desktop.docked_icon(APP_NAME) is None, 10)


def time_to_dock(desktop: Desktop, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from Popen to the docked icon, and the RSS (MB) at that moment."""
    start = time.monotonic()
    proc = launch(env)
    try:
        if not wait_until(lambda: desktop.docked_icon(APP_NAME) is not None, 30, interval=0.02):
            raise RuntimeError("the tray icon never docked")
        return time.monotonic() - start, rss_mb(proc.pid)
    finally:
        stop(desktop, proc)


@dataclass(frozen=True)
class Idle:
    seconds: float
    rss_mb: float
    cpu_percent: float
    voluntary_per_s: float
    involuntary_per_s: float
    threads: int
    requests: int


def measure_idle(desktop: Desktop, env: dict[str, str], api: FakeUsageAPI, seconds: float) -> Idle:
    proc = launch(env)
    try:
        if not wait_until(lambda: desktop.docked_icon(APP_NAME) is not None, 30):
            raise RuntimeError("the tray icon never docked")
        time.sleep(SETTLE_SECONDS)
        requests_before = api.request_count
        cpu_before, switches_before = cpu_seconds(proc.pid), context_switches(proc.pid)
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        cpu_after, switches_after = cpu_seconds(proc.pid), context_switches(proc.pid)
        rss = rss_mb(proc.pid)
        return Idle(
            seconds=elapsed,
            rss_mb=rss,
            cpu_percent=100 * (cpu_after - cpu_before) / elapsed,
            voluntary_per_s=switches_after.since(switches_before)[0] / elapsed,
            involuntary_per_s=switches_after.since(switches_before)[1] / elapsed,
            threads=switches_after.threads,
            requests=api.request_count - requests_before,
        )
    finally:
        stop(desktop, proc)


def verdict(met: bool) -> str:
    return "met" if met else "missed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured")
    parser.add_argument("--runs", type=int, default=5, help="start-ups timed")
    parser.add_argument(
        "--summary", action="store_true", help="also one 'summary:' line per target, at the end"
    )
    args = parser.parse_args(argv)
    if sys.platform != "linux":
        print("tray idle: Linux only (reads /proc; the desktop is Xvfb + trayer)")
        return 1
    missing = missing_tools()
    if missing:
        print(f"tray idle: skipped, desktop tools missing: {', '.join(missing)}")
        return 1

    with (
        tempfile.TemporaryDirectory(prefix="tray-idle-") as tmp,
        FakeUsageAPI(default=ok(42.0, 18.0)) as api,
        running_desktop(Path(tmp)) as desktop,
    ):
        env = make_home(Path(tmp) / "home", api.url, desktop.env)
        warm_store(env)
        warm_requests = api.request_count
        starts = [time_to_dock(desktop, env) for _ in range(args.runs)]
        launch_times = [seconds for seconds, _ in starts]
        start_requests = api.request_count - warm_requests
        idle = measure_idle(desktop, env, api, args.seconds)

    start = statistics.median(launch_times)
    wakeups = idle.voluntary_per_s + idle.involuntary_per_s
    rows = [
        (
            "start-up to docked icon (median)",
            f"{start:.2f} s",
            f"<= {TARGET_START_S:g} s",
            start <= TARGET_START_S,
        ),
        (
            "idle memory (VmRSS)",
            f"{idle.rss_mb:.1f} MB",
            f"<= {TARGET_RSS_MB:g} MB",
            idle.rss_mb <= TARGET_RSS_MB,
        ),
        (
            f"idle CPU over {idle.seconds:.0f} s",
            f"{idle.cpu_percent:.3f} %",
            f"<= {TARGET_CPU_PERCENT:g} %",
            idle.cpu_percent <= TARGET_CPU_PERCENT,
        ),
        (
            "wake-ups (voluntary ctx switches)",
            f"{idle.voluntary_per_s:.2f} /s",
            f"~{TARGET_WAKEUPS_PER_S:g} /s",
            idle.voluntary_per_s <= TARGET_WAKEUPS_PER_S,
        ),
    ]
    print(f"tray idle, {args.runs} start-ups, {idle.seconds:.0f} s idle, warm store")
    print(f"{'figure':<36} {'value':>12} {'target':>10}  verdict")
    print("-" * 70)
    for name, figure, target, met in rows:
        print(f"{name:<36} {figure:>12} {target:>10}  {verdict(met)}")
    print(f"start-up runs: {', '.join(f'{t:.2f}' for t in launch_times)} s")
    # The first GTK client on a fresh Xvfb display has been seen to map Mesa's software GL
    # (about 45 MB more); later starts do not. Shown so the idle figure is not mistaken for all.
    print(f"RSS when docked, per start-up: {', '.join(f'{mb:.1f}' for _, mb in starts)} MB")
    print(
        f"context switches: {idle.voluntary_per_s:.2f}/s voluntary + "
        f"{idle.involuntary_per_s:.2f}/s involuntary = {wakeups:.2f}/s over {idle.threads} threads"
    )
    print(f"requests: {start_requests} during the start-ups, {idle.requests} while idle")
    if args.summary:
        for name, figure, target, met in rows:
            print(f"summary: tray {name}: {figure} (target {target}): {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

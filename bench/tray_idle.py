"""What the tray costs while it sits there: start-up, memory, CPU and wake-ups, for real.

    .venv/bin/python bench/tray_idle.py [--host sni|trayer] [--seconds 60] [--runs 5]
                                        [--opens 50] [--summary]

--host sni (the default: today's Linux desktops): the real tray (`python -m claude_usage_gauge`)
with no DISPLAY, on a private session bus with the real status-notifier-watcher. Menu opens are
played as a tray host makes them: AboutToShow, then GetLayout of the whole menu.
--host trayer: the old XEmbed path (pystray + GTK) docked in trayer on the tests' Xvfb desktop;
menu opens are right clicks on the docked icon with xdotool, each closed with Escape.

Both run against the fake usage API on 127.0.0.1 with a warm store: one `status` run fetched the
numbers first, so the tray needs no request to show them. Figures (Linux only, from /proc):

- start-up: Popen to the item registered with the watcher (sni) or docked in trayer, median of
  --runs starts;
- memory: VmRSS once settled, after --seconds idle, after --opens menu opens, and after as many
  more (growth would show);
- idle CPU: utime+stime over --seconds, as % of one core;
- wake-ups: voluntary context switches over the same time, all threads, per second.

Prints figures and asserts nothing. --summary also prints one `summary:` line per target (met /
missed, with the figure) after the table, for scripts/bench to collect.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from proc_stats import context_switches, cpu_seconds, rss_mb
from sni_probe import ItemWatch

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
from claude_usage_gauge.testing.desktop import missing_tools, running_desktop
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok
from claude_usage_gauge.testing.session_bus import missing_bus_tools, running_bus, wait_until

TARGETS = {  # host -> (start-up s, RSS MB, wake-ups /s)
    "sni": (0.5, 40.0, 0.2),
    "trayer": (1.0, 60.0, 1.0),
}
TARGET_CPU_PERCENT = 0.5
SETTLE_SECONDS = 5.0
TOKEN = "sk-ant-oat01-BenchToken" + "b" * 60
MODULE = APP_NAME.replace("-", "_")


# The interpreter the tray runs with (--python): the figures are meant for the tray as users
# install it, and the development venv's extra packages change them (its click and rich make
# `import httpx` load its command line too: about 7 MB more).
TRAY_PYTHON = [sys.executable]


def make_home(root: Path, api_url: str, session_env: dict[str, str]) -> dict[str, str]:
    document = credentials_document(TOKEN, refresh_token="sk-ant-ort01-BenchRefresh")
    write_credentials_file(root / ".claude", document)
    env = {k: v for k, v in session_env.items() if not k.startswith(("CLAUDE_", "XDG_"))}
    env.update(
        HOME=str(root),
        XDG_STATE_HOME=str(root / "state"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_CACHE_HOME=str(root / "cache"),
        CLAUDE_USAGE_GAUGE_API_BASE=api_url,
    )
    # One real `status` run fetches and stores the numbers; the tray then starts from them.
    subprocess.run(
        [*TRAY_PYTHON, "-m", MODULE, "status", "--json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return env


def launch(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*TRAY_PYTHON, "-m", MODULE],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass(frozen=True)
class Host:
    """How to tell the tray is up (blocking until it is), and how to open its menu once."""

    ready: Callable[[subprocess.Popen[bytes]], None]
    gone: Callable[[], None]
    open_menu: Callable[[], None] | None


@dataclass(frozen=True)
class Idle:
    seconds: float
    rss_settled: float
    rss_idle: float
    rss_opens: list[float]
    cpu_percent: float
    voluntary_per_s: float
    involuntary_per_s: float
    threads: int
    requests: int
    exit_seconds: float


def time_to_ready(host: Host, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from Popen to the tray being up, and the RSS (MB) at that moment."""
    start = time.monotonic()
    proc = launch(env)
    try:
        host.ready(proc)
        return time.monotonic() - start, rss_mb(proc.pid)
    finally:
        stop(proc)
        host.gone()  # the next start must show a new item, not find the old one


def measure(host: Host, env: dict[str, str], api: FakeUsageAPI, seconds: float, opens: int) -> Idle:
    proc = launch(env)
    try:
        host.ready(proc)
        time.sleep(SETTLE_SECONDS)
        settled = rss_mb(proc.pid)
        requests_before = api.request_count
        cpu_before, switches_before = cpu_seconds(proc.pid), context_switches(proc.pid)
        started = time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        cpu_after, switches_after = cpu_seconds(proc.pid), context_switches(proc.pid)
        idle_rss = rss_mb(proc.pid)
        requests = api.request_count - requests_before
        after_opens: list[float] = []
        if host.open_menu is not None and opens:
            for _ in range(2):
                for _ in range(opens):
                    host.open_menu()
                time.sleep(1.0)
                after_opens.append(rss_mb(proc.pid))
        voluntary, involuntary = switches_after.since(switches_before)
        # SIGTERM (what a session's logout sends) to the process gone, after all of the above.
        signalled = time.monotonic()
        stop(proc)
        exit_seconds = time.monotonic() - signalled
        return Idle(
            seconds=elapsed,
            rss_settled=settled,
            rss_idle=idle_rss,
            rss_opens=after_opens,
            cpu_percent=100 * (cpu_after - cpu_before) / elapsed,
            voluntary_per_s=voluntary / elapsed,
            involuntary_per_s=involuntary / elapsed,
            threads=switches_after.threads,
            requests=requests,
            exit_seconds=exit_seconds,
        )
    finally:
        stop(proc)
        host.gone()


def report(
    host: str, args: argparse.Namespace, starts: list[tuple[float, float]], idle: Idle
) -> None:
    target_start, target_rss, target_wakeups = TARGETS[host]
    start = statistics.median(seconds for seconds, _ in starts)
    worst_rss = max([idle.rss_idle, *idle.rss_opens])
    ready = "registered item" if host == "sni" else "docked icon"
    rows = [
        (f"start-up to {ready} (median)", f"{start:.2f} s", f"<= {target_start:g} s",
         start <= target_start),
        ("memory (VmRSS), worst", f"{worst_rss:.1f} MB", f"<= {target_rss:g} MB",
         worst_rss <= target_rss),
        (f"idle CPU over {idle.seconds:.0f} s", f"{idle.cpu_percent:.3f} %",
         f"<= {TARGET_CPU_PERCENT:g} %", idle.cpu_percent <= TARGET_CPU_PERCENT),
        ("wake-ups (voluntary ctx switches)", f"{idle.voluntary_per_s:.2f} /s",
         f"<= {target_wakeups:g} /s", idle.voluntary_per_s <= target_wakeups),
    ]  # fmt: skip
    print(f"tray idle ({host}), {args.runs} start-ups, {idle.seconds:.0f} s idle, warm store")
    print(f"{'figure':<36} {'value':>12} {'target':>10}  verdict")
    print("-" * 70)
    for name, figure, target, met in rows:
        print(f"{name:<36} {figure:>12} {target:>10}  {'met' if met else 'missed'}")
    print(f"start-up runs: {', '.join(f'{t:.2f}' for t, _ in starts)} s")
    print(f"RSS when up, per start-up: {', '.join(f'{mb:.1f}' for _, mb in starts)} MB")
    opens = ", ".join(f"{mb:.1f}" for mb in idle.rss_opens) or "-"
    print(
        f"RSS: {idle.rss_settled:.1f} MB settled, {idle.rss_idle:.1f} MB after "
        f"{idle.seconds:.0f} s idle, after {args.opens} and {2 * args.opens} menu opens: {opens} MB"
    )
    print(
        f"context switches: {idle.voluntary_per_s:.2f}/s voluntary + "
        f"{idle.involuntary_per_s:.2f}/s involuntary over {idle.threads} threads"
    )
    print(f"requests while idle: {idle.requests}")
    print(f"SIGTERM to exit, after the menu opens: {idle.exit_seconds:.2f} s")
    if args.summary:
        for name, figure, target, met in rows:
            verdict = "met" if met else "missed"
            print(f"summary: tray ({host}) {name}: {figure} (target {target}): {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", choices=("sni", "trayer"), default="sni")
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured")
    parser.add_argument("--runs", type=int, default=5, help="start-ups timed")
    parser.add_argument("--opens", type=int, default=50, help="menu opens, twice")
    parser.add_argument("--summary", action="store_true", help="one 'summary:' line per target")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter the tray runs with: a venv with the runtime packages only "
        "(scripts/bench makes one) measures the tray as users install it",
    )
    args = parser.parse_args(argv)
    TRAY_PYTHON[:] = [args.python]
    if sys.platform != "linux":
        print("tray idle: Linux only (reads /proc)")
        return 1
    missing = missing_bus_tools() if args.host == "sni" else missing_tools()
    if missing:
        print(f"tray idle: skipped, tools missing: {', '.join(missing)}")
        return 1
    with (
        tempfile.TemporaryDirectory(prefix="tray-idle-") as tmp,
        FakeUsageAPI(default=ok(42.0, 18.0)) as api,
    ):
        root = Path(tmp)
        if args.host == "sni":
            with running_bus(root / "bus") as bus, ItemWatch(bus.address) as watch:
                env = make_home(root / "home", api.url, bus.env)  # bus.env has no DISPLAY
                host = Host(watch.wait_registered, watch.wait_gone, watch.open_menu)
                starts = [time_to_ready(host, env) for _ in range(args.runs)]
                idle = measure(host, env, api, args.seconds, args.opens)
        else:
            with running_desktop(root) as desktop:
                env = make_home(root / "home", api.url, desktop.env)

                def docked(_proc: subprocess.Popen[bytes]) -> None:
                    if not wait_until(lambda: desktop.docked_icon(APP_NAME), 30, interval=0.02):
                        raise RuntimeError("the tray icon never docked")

                def undocked() -> None:
                    wait_until(lambda: desktop.docked_icon(APP_NAME) is None, 10)

                def open_menu() -> None:
                    # A right click on the docked icon, as a user opens it; Escape closes it.
                    icon = desktop.docked_icon(APP_NAME)
                    if icon is None:
                        raise RuntimeError("the tray icon is gone")
                    before = len(desktop.window_names())
                    desktop.click(*icon.centre, button=3)
                    if not wait_until(lambda: len(desktop.window_names()) > before, 5):
                        raise RuntimeError("the menu did not open")
                    desktop.keys("Escape")
                    wait_until(lambda: len(desktop.window_names()) <= before, 5)

                host = Host(docked, undocked, open_menu)
                starts = [time_to_ready(host, env) for _ in range(args.runs)]
                idle = measure(host, env, api, args.seconds, args.opens)
    report(args.host, args, starts, idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())

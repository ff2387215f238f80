"""Check a built Linux bundle the way a user would meet it: no Python on PATH, a fresh home.

Run after scripts/package:  .venv/bin/python packaging/check_bundle.py [dist/claude-usage-gauge]
Prints: --version, `status --json` (no sign-in: it must answer no_credentials, not crash), and
the time from start to an icon docked in a real tray (Xvfb + trayer), three times.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_usage_gauge.testing.desktop import running_desktop
from claude_usage_gauge.testing.session_bus import wait_until

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    bundle = Path(argv[0] if argv else ROOT / "dist" / "claude-usage-gauge")
    exe = bundle / "claude-usage-gauge"
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    print(f"bundle: {bundle} ({size / 2**20:.0f} MiB)")
    with tempfile.TemporaryDirectory() as home:
        bare = {"HOME": home, "PATH": "/nonexistent"}  # nothing to find on PATH
        version = subprocess.run(
            [str(exe), "--version"], env=bare, capture_output=True, text=True, check=False
        )
        print(f"--version: exit {version.returncode}: {version.stdout.strip()}")
        status = subprocess.run(
            [str(exe), "status", "--json"], env=bare, capture_output=True, text=True, check=False
        )
        kind = (
            json.loads(status.stdout)["error"]["kind"] if status.stdout.strip() else "(no output)"
        )
        print(f"status --json: exit {status.returncode}, error kind {kind}")
        failed = version.returncode != 0 or kind != "no_credentials"
        with running_desktop(Path(home)) as desktop:
            env = dict(
                bare,
                DISPLAY=desktop.env["DISPLAY"],
                DBUS_SESSION_BUS_ADDRESS=desktop.env["DBUS_SESSION_BUS_ADDRESS"],
            )
            for run in range(3):
                start = time.monotonic()
                proc = subprocess.Popen(
                    [str(exe), "--demo"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                docked = wait_until(
                    lambda: desktop.docked_icon("claude-usage-gauge") is not None, 30, interval=0.05
                )
                took = time.monotonic() - start
                proc.terminate()
                code = proc.wait(10)
                print(f"run {run + 1}: docked={docked} in {took:.2f} s; exit on SIGTERM {code}")
                failed |= not docked or code != 0
                wait_until(lambda: desktop.docked_icon("claude-usage-gauge") is None, 5)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

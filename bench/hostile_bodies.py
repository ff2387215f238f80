"""Peak memory of the real `status --json` against hostile answer bodies, beside a normal one.

    .venv/bin/python bench/hostile_bodies.py [--gib 1]

Each run is a fresh `python -m claude_usage_gauge status --json` in a temporary home against the
fake usage API on 127.0.0.1; its peak resident memory comes from wait4() (ru_maxrss), its time
from the wall clock. The bombs are a few hundred bytes to a few KiB on the wire and inflate to
`--gib` GiB of zeros through stacked encodings. Prints a table, asserts nothing; the bound the
code keeps is "at most 64 MB above the normal run".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from claude_usage_gauge.testing.claude_code import credentials_document, write_credentials_file
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, ok
from claude_usage_gauge.testing.hostile import bomb, nested

BOUND_MB = 64.0


def run_once(reply: Reply) -> tuple[float, float, str]:
    """(peak RSS in MB, seconds, error kind) of one `status --json` against `reply`."""
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp, FakeUsageAPI([reply]) as api:
        root = Path(tmp)
        write_credentials_file(root / ".claude", credentials_document("sk-ant-oat01-" + "b" * 80))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "XDG_"))},
            "HOME": str(root),
            "XDG_STATE_HOME": str(root / "state"),
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "CLAUDE_USAGE_GAUGE_API_BASE": api.url,
        }
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "claude_usage_gauge", "status", "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert child.stdout is not None
        out = child.stdout.read()
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0  # reaped by wait4
        seconds = time.monotonic() - start
    error = json.loads(out or b"{}").get("error") or {}
    return usage.ru_maxrss / 1024.0, seconds, str(error.get("kind", "none"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="inflated size of the bombs")
    args = parser.parse_args()
    size = int(args.gib * (1 << 30))
    cases: list[tuple[str, Reply]] = [
        ("normal 200", ok()),
        (f"gzip,gzip bomb ({args.gib:g} GiB)", bomb(size, ("gzip", "gzip"))),
        (f"deflate,gzip bomb ({args.gib:g} GiB)", bomb(size, ("deflate", "gzip"))),
        (f"429 gzip,gzip bomb ({args.gib:g} GiB)", bomb(size, ("gzip", "gzip"), status=429)),
        ("429 nested 60k deep", nested(429, 60_000, headers={"Retry-After": "600"})),
    ]
    rows = []
    for name, reply in cases:
        body = reply.body
        wire = len(body) if isinstance(body, bytes) else len(json.dumps(body).encode())
        peak, seconds, kind = run_once(reply)
        rows.append((name, wire, peak, seconds, kind))
    baseline = rows[0][2]
    print(
        f"{'answer':<34} {'on the wire':>12} {'peak RSS':>9} {'above normal':>13} {'time':>7}  kind"
    )
    for name, wire, peak, seconds, kind in rows:
        print(
            f"{name:<34} {wire:>10} B {peak:>6.1f} MB {peak - baseline:>10.1f} MB "
            f"{seconds:>6.2f}s  {kind}"
        )
    worst = max(peak - baseline for _, _, peak, _, _ in rows)
    print(f"largest rise above the normal run: {worst:.1f} MB (bound {BOUND_MB:g} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

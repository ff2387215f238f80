"""`scripts/run`, run for real into a fresh virtual environment: the first run says it is setting
up before its quiet minute and says when it is done; a run with nothing to set up prints only
what the command prints. The notes go to stderr, so `scripts/run status --json` stays JSON."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claude_usage_gauge import __version__
from claude_usage_gauge.testing.session_bus import missing_bus_tools, running_bus

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "scripts" / "run"
FIRST = "Setting up (first run, about a minute)…"
UPDATE = "Updating the set-up (pyproject.toml or uv.lock changed)…"
DONE = "Set-up done; starting claude-usage-gauge."


def _runtime_debs() -> list[str]:
    text = (ROOT / "scripts" / "lib" / "setup.sh").read_text()
    match = re.search(r"RUNTIME_DEBS=\(([^)]*)\)", text)
    assert match is not None
    return match.group(1).split()


def _missing_debs() -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []
    missing = []
    for package in _runtime_debs():
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def run(
    venv: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "VIRTUAL_ENV"))}
    # No desktop unless a test gives one: the full set-up for an old tray is the default.
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["XDG_RUNTIME_DIR"] = "/nonexistent"
    env.update(extra_env or {})
    env["CLAUDE_USAGE_GAUGE_VENV"] = str(venv)
    return subprocess.run(
        [str(RUN), *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


@pytest.mark.skipif(
    sys.platform != "linux" or bool(_missing_debs()),
    reason="Linux with the runtime packages (else it would install them)",
)
def test_the_first_run_says_it_sets_up_and_later_runs_say_nothing_extra(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    version = f"claude-usage-gauge {__version__}\n"

    first = run(venv, "--version")

    assert first.returncode == 0, first.stderr
    assert first.stdout == version
    notes = [line for line in first.stderr.splitlines() if not line.startswith("WARNING: ")]
    # Pip's own warnings about this machine's index settings aside: one line before, one after.
    assert notes == [FIRST, DONE], first.stderr

    again = run(venv, "--version")

    assert (again.returncode, again.stdout, again.stderr) == (0, version, "")

    # The lock changed since the last set-up (a `git pull`): it says so, not "first run". The
    # stamp is made older instead: the repository's own files are never touched.
    os.utime(venv / ".installed-linux", (1, 1))
    updated = run(venv, "--version")

    assert updated.returncode == 0, updated.stderr
    notes = [line for line in updated.stderr.splitlines() if not line.startswith("WARNING: ")]
    assert notes == [UPDATE, DONE], updated.stderr
    assert updated.stdout == version


@pytest.mark.skipif(sys.platform != "linux" or bool(missing_bus_tools()), reason="a D-Bus session")
def test_on_a_desktop_with_a_status_notifier_watcher_nothing_is_built(tmp_path: Path) -> None:
    """Today's Linux desktops host our StatusNotifierItem, which needs neither GTK nor PyGObject:
    the first run there sets up the plain package (no C build of PyGObject, no GTK packages)."""
    venv = tmp_path / "venv"
    with running_bus(tmp_path / "bus") as bus:  # the real status-notifier-watcher on it
        done = run(venv, "--version", extra_env=bus.env)

    assert done.returncode == 0, done.stderr
    assert (venv / ".installed-base").exists()
    assert not (venv / ".installed-linux").exists()
    assert not list(venv.glob("lib/python*/site-packages/gi")), "PyGObject was installed"
    assert list(venv.glob("lib/python*/site-packages/jeepney"))  # what the SNI tray speaks with

"""The pure parts of the tray's wiring: one instance per user, and the gauge's view of a View."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.view import View
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.desktop.session import single_instance
from claude_usage_gauge.desktop.tray import gauge_view
from claude_usage_gauge.paths import AppPaths

SRC = Path(__file__).resolve().parents[2] / "src"
TIMEOUT = 60.0

# Tries the lock in a separate process; with "hold", keeps it until its stdin closes.
CONTENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from claude_usage_gauge.desktop.session import single_instance
    from claude_usage_gauge.paths import AppPaths

    root = Path(sys.argv[1])
    paths = AppPaths(root / "state", root / "data", root / "log", root / "config")
    with single_instance(paths) as held:
        print("held" if held else "busy", flush=True)
        if held and sys.argv[2] == "hold":
            sys.stdin.read()
    """
)


def make_paths(root: Path) -> AppPaths:
    return AppPaths(root / "state", root / "data", root / "log", root / "config")


def contender(root: Path, mode: str = "try") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CONTENDER, str(root), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )


def answer(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline().strip()


def try_once(root: Path) -> str:
    proc = contender(root)
    out, _ = proc.communicate(timeout=TIMEOUT)
    return out.strip()


# -- single instance -------------------------------------------------------------------------


def test_second_process_is_refused_while_the_first_holds(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    with single_instance(paths) as held:
        assert held
        assert try_once(tmp_path) == "busy"
    # Released on leaving: the next tray may start.
    assert try_once(tmp_path) == "held"


def test_lock_and_directory_are_private(tmp_path: Path) -> None:
    paths = make_paths(tmp_path)
    with single_instance(paths) as held:
        assert held
        assert stat.S_IMODE(paths.state_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(paths.instance_lock.stat().st_mode) == 0o600


def test_a_state_folder_we_may_not_use_does_not_stop_the_tray(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file where the folder should be (or a folder another user owns): no lock, a warning
    naming why, and the tray runs on with its state in memory."""
    paths = make_paths(tmp_path)
    paths.state_dir.write_text("in the way")
    with caplog.at_level("WARNING"), single_instance(paths) as held:
        assert held
    assert any("without the single-instance lock" in r.getMessage() for r in caplog.records)


def test_lock_held_by_another_process_is_freed_when_it_dies(tmp_path: Path) -> None:
    holder = contender(tmp_path, "hold")
    try:
        assert answer(holder) == "held"
        with single_instance(make_paths(tmp_path)) as held:
            assert not held
        # A crash (no clean exit, no cleanup): the OS drops the lock with the process.
        holder.kill()
        holder.wait(timeout=TIMEOUT)
        with single_instance(make_paths(tmp_path)) as held:
            assert held
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=TIMEOUT)
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_lock_released_after_a_clean_exit(tmp_path: Path) -> None:
    holder = contender(tmp_path, "hold")
    try:
        assert answer(holder) == "held"
        assert try_once(tmp_path) == "busy"
        assert holder.stdin is not None
        holder.stdin.close()  # the holder leaves its `with` and exits
        assert holder.wait(timeout=TIMEOUT) == 0
        assert try_once(tmp_path) == "held"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=TIMEOUT)
        if holder.stdout is not None:
            holder.stdout.close()


# -- the gauge's view ------------------------------------------------------------------------

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def usage(five: float | None, week: float | None) -> Usage:
    windows = []
    if five is not None:
        windows.append(Window(FIVE_HOUR, "5-hour session", five, NOW + timedelta(hours=1)))
    if week is not None:
        windows.append(Window(SEVEN_DAY, "Week (all models)", week, None))
    windows.append(Window("seven_day_opus", "Week (Opus)", 99.0, None))
    return Usage(tuple(windows), None, NOW, "api")


@pytest.mark.parametrize("state", list(DisplayState))
def test_gauge_state_matches_the_display_state(state: DisplayState) -> None:
    view = View(usage=usage(42.0, 18.0), stale=False, error=None, error_at=None, state=state)
    gauge = gauge_view(view, Settings())
    assert gauge.state == DisplayState(state.value)
    assert gauge.state.value == state.value


def test_every_display_state_has_a_gauge_state() -> None:
    assert {s.value for s in DisplayState} == {s.value for s in DisplayState}


def test_gauge_reads_the_session_and_week_and_the_colour_settings() -> None:
    settings = Settings(warn_percent=60.0, critical_percent=85.0)
    view = View(
        usage=usage(42.0, 18.0), stale=False, error=None, error_at=None, state=DisplayState.FRESH
    )
    gauge = gauge_view(view, settings)
    assert gauge.session_percent == 42.0
    assert gauge.week_percent == 18.0
    assert gauge.warn_percent == 60.0
    assert gauge.critical_percent == 85.0


def test_gauge_without_numbers() -> None:
    starting = View(usage=None, stale=False, error=None, error_at=None, state=DisplayState.STARTING)
    gauge = gauge_view(starting, Settings())
    assert gauge.session_percent is None
    assert gauge.week_percent is None
    only_week = View(
        usage=usage(None, 30.0), stale=True, error=None, error_at=None, state=DisplayState.STALE
    )
    gauge = gauge_view(only_week, Settings())
    assert gauge.session_percent is None
    assert gauge.week_percent == 30.0


def test_a_display_that_went_away_gives_one_sentence_not_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "WAYLAND", "DBUS"))}
    env.update(HOME=str(tmp_path), DISPLAY=":4711")  # set, but nothing listens there
    env.pop("PYSTRAY_BACKEND", None)
    result = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "cannot connect to the display" in result.stderr

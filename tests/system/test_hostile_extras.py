"""Extras of the hostile-input rounds: the user's --then command cannot flood Claude Code's
status line, folders made for the autostart entry are not opened up by a umask, and a named pipe
at the entry's path is reported, not read."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from claude_usage_gauge.statusline.stdin import STDIN_LIMIT
from claude_usage_gauge.testing import claude_code
from tests.support.cli_home import CLI_TIMEOUT, CliHome, closed_port


def printer(size: int) -> str:
    """A shell command that prints `size` bytes of "y" and a line break."""
    code = f"import sys; sys.stdout.write('y' * {size} + '\\n')"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


@pytest.mark.parametrize(
    ("size", "passed_on"),
    [(200, True), (STDIN_LIMIT // 2, True), (STDIN_LIMIT + 1, False), (10 * 1024 * 1024, False)],
    ids=["a line", "half the cap", "just over", "10 MB"],
)
def test_then_output_is_capped_like_stdin(tmp_path: Path, size: int, passed_on: bool) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    feed = json.dumps(claude_code.statusline_input())
    proc = home.run("statusline", "--then", printer(size), input=feed)
    assert proc.returncode == 0
    assert " 5h " in f" {proc.stdout.splitlines()[-1]}"  # our own line is always there
    if passed_on:
        assert proc.stdout.startswith("y" * size)
    else:
        assert "y" * 1000 not in proc.stdout
        assert len(proc.stdout) < 1000


@pytest.mark.skipif(os.name != "posix", reason="umask")
def test_autostart_folders_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    config_home = home.root / ".config"
    assert not config_home.exists()
    done = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "autostart", "enable"],
        env={**home.env, "PYSTRAY_BACKEND": "dummy"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        preexec_fn=lambda: os.umask(0),  # the point of the test
        check=False,
    )
    entry = config_home / "autostart" / "claude-usage-gauge.desktop"
    if not entry.exists():
        pytest.skip(f"autostart is not available here: {done.stdout}{done.stderr}")
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (config_home, entry.parent, entry)}
    assert modes == {config_home: 0o700, entry.parent: 0o700, entry: 0o644}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_at_the_autostart_entry_is_reported_not_read(tmp_path: Path) -> None:
    """`autostart status` (and the menu's checkbox, which asks the same) must not block on a
    pipe someone left where the entry goes: a plain read would wait for a writer forever."""
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    entry = home.root / ".config" / "autostart" / "claude-usage-gauge.desktop"
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)
    done = subprocess.run(
        [sys.executable, "-m", "claude_usage_gauge", "autostart", "status"],
        env={**home.env, "PYSTRAY_BACKEND": "dummy"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Could not check start at login" in done.stderr
    assert "named pipe" in done.stderr
    assert stat.S_ISFIFO(entry.stat().st_mode)  # left as it was

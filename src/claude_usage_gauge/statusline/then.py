"""The user's own statusline command (`--then`): started through the shell as Claude Code would,
given the same stdin, its output shown before ours, and killed with everything it started if it
overruns. Never allowed to break our line or Claude Code's.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

THEN_TIMEOUT_SECONDS = 5.0
# Shortens (never lengthens) the --then timeout; the tests use it to avoid a 5 s wait.
THEN_TIMEOUT_ENV = "CLAUDE_USAGE_GAUGE_THEN_TIMEOUT"


def then_timeout(configured: str | None) -> float:
    """The timeout for the user's command: `configured` (THEN_TIMEOUT_ENV's value) may only
    shorten the default."""
    try:
        wanted = float(configured or "")
    except ValueError:
        return THEN_TIMEOUT_SECONDS
    if not 0 < wanted < THEN_TIMEOUT_SECONDS:
        return THEN_TIMEOUT_SECONDS
    return wanted


def start_then(command: str) -> subprocess.Popen[bytes] | None:
    """Start the user's own statusline command through the shell, as Claude Code would."""
    import subprocess

    # Its own process group (session), so a timeout can kill everything it started.
    flags = 0
    if os.name != "posix":
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(
            subprocess, "CREATE_NO_WINDOW", 0
        )
    try:
        return subprocess.Popen(  # noqa: S602 - the user's own configured shell command
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=os.name == "posix",
            creationflags=flags,
        )
    except (OSError, ValueError):
        return None


def finish_then(process: subprocess.Popen[bytes], data: bytes, timeout: float) -> str | None:
    """Its stdout once it ends (whatever its exit status), or None if it overran `timeout` or
    printed more than STDIN_LIMIT bytes (capped like stdin: Claude Code then gets ours alone)."""
    from claude_usage_gauge.statusline.stdin import STDIN_LIMIT
    from claude_usage_gauge.statusline.then_output import read_capped

    out = read_capped(process, data, timeout=timeout, limit=STDIN_LIMIT, stop=_kill_tree)
    return None if out is None else out.decode("utf-8", errors="replace")


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    import contextlib
    import subprocess

    try:
        if sys.platform != "win32":  # a platform check mypy understands, unlike os.name
            import signal

            os.killpg(process.pid, signal.SIGKILL)
        else:
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(process.pid)],
                capture_output=True,
                timeout=2.0,
                check=False,
            )
    except (OSError, subprocess.SubprocessError):
        pass
    with contextlib.suppress(OSError):
        process.kill()

"""The Claude Code statusline bridge: the command Claude Code runs on every status line refresh.

Claude Code writes a JSON object to its stdin; since it carries `rate_limits`, we hand those
numbers to the tray and `status` (through the bridge file beside the shared store, see
`bridge_file`) so they skip API calls while Claude Code is in use, and print one compact line.

It never calls the API and must never break Claude Code's status line: it always exits 0, and at
worst prints nothing. It runs many times a minute and its cost is mostly interpreter start, so it
loads only `os`, `sys`, `time`, the light core helpers and its own small modules; `subprocess`
only for `--then`, platformdirs only when the installed command did not name `--state-dir`.
"""

from __future__ import annotations

import os
import sys
import time

from claude_usage_gauge.statusline import bridge_file
from claude_usage_gauge.statusline.line import (
    Known,
    combine,
    newest_known,
    render_line,
    windows_from_rate_limits,
)
from claude_usage_gauge.statusline.stdin import STDIN_LIMIT, read_stdin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO, TextIO

# Claude Code refreshes its status line several times a second while it works: the same numbers
# recorded this recently are not written again.
REWRITE_AFTER_SECONDS = 20.0
SAME_RESET_SLACK_SECONDS = 60.0

_BRIDGE_OPTIONS = ("--format", "--then", "--state-dir", "--account")
# Words that belong to the full command line parser: install, uninstall and help.
_NOT_THE_BRIDGE = frozenset({"install", "uninstall", "-h", "--help"})


class BridgeArgs:
    __slots__ = ("account", "state_dir", "template", "then_cmd")

    def __init__(
        self,
        template: str | None,
        then_cmd: str | None,
        state_dir: str | None,
        account: str | None = None,
    ) -> None:
        self.template = template
        self.then_cmd = then_cmd
        self.state_dir = state_dir
        # Which account's numbers these are; the installed command names its folder too
        # (--state-dir), which wins, so the settings file is read only without one.
        self.account = account


def parse_bridge_args(args: list[str]) -> BridgeArgs | None:
    """--format, --then and --state-dir from the words after `statusline`, or None for
    install/uninstall/help. Anything else is ignored: the bridge never fails over its command
    line."""
    values: dict[str, str | None] = dict.fromkeys(_BRIDGE_OPTIONS)
    i = 0
    while i < len(args):
        word = args[i]
        name, equals, value = word.partition("=")
        if word in _BRIDGE_OPTIONS:
            values[word] = args[i + 1] if i + 1 < len(args) else None
            i += 2
            continue
        if equals and name in _BRIDGE_OPTIONS:
            values[name] = value
        elif word in _NOT_THE_BRIDGE:
            return None
        i += 1
    return BridgeArgs(
        values["--format"],
        values["--then"],
        values["--state-dir"] or None,
        values["--account"] or None,
    )


# -- recording -------------------------------------------------------------------------------


def already_recorded(
    previous: Mapping[str, object] | None, limits: bridge_file.RateLimits, now: float
) -> bool:
    """The bridge file already holds these numbers from moments ago."""
    if previous is None:
        return False
    at, recorded = previous.get("at"), previous.get("rate_limits")
    if not isinstance(at, float) or not isinstance(recorded, dict):
        return False
    if not 0 <= now - at < REWRITE_AFTER_SECONDS or recorded.keys() != limits.keys():
        return False
    for window_id, part in limits.items():
        old = recorded[window_id]
        if abs(old["used_percentage"] - part["used_percentage"]) >= 0.01:
            return False
        old_reset, new_reset = old.get("resets_at"), part.get("resets_at")
        if (old_reset is None) != (new_reset is None):
            return False
        if (
            old_reset is not None
            and new_reset is not None
            and abs(old_reset - new_reset) > SAME_RESET_SLACK_SECONDS
        ):
            return False
    return True


def record(state_dir: str, limits: bridge_file.RateLimits, now: float) -> bool:
    """Write the bridge file unless it holds the same numbers from moments ago; True if written.

    Raises OSError when it cannot be written.
    """
    previous = bridge_file.read_bridge(os.path.join(state_dir, bridge_file.BRIDGE_FILE_NAME))
    if already_recorded(previous, limits, now):
        return False
    bridge_file.write_bridge(state_dir, limits, now)
    return True


def parse_input(data: bytes) -> bridge_file.RateLimits | None:
    """Claude Code's `rate_limits`, cleaned; None for no, unreadable or oversized input."""
    if not data or len(data) > STDIN_LIMIT:
        return None
    try:
        raw = bridge_file.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(raw, dict):
        return None
    return bridge_file.sanitize_rate_limits(raw.get("rate_limits"))


def default_state_dir() -> str | None:
    """The shared state's folder when the command did not name it (a hand-made statusLine
    entry): platformdirs' answer, at the cost of importing it. None when there is no home."""
    try:
        from claude_usage_gauge.paths import app_paths

        return os.fspath(app_paths().state_dir)
    except (OSError, KeyError, RuntimeError):
        return None


def our_line(
    data: bytes, template: str | None, now: float, state_dir: str | os.PathLike[str] | None
) -> str:
    limits = parse_input(data)
    # An empty name (an account that does not exist) records nothing, not into the cwd.
    directory = default_state_dir() if state_dir is None else (os.fspath(state_dir) or None)
    if limits is not None:
        if directory is not None:
            try:  # noqa: SIM105 - contextlib is one more import on the hot path
                record(directory, limits, now)
            except OSError:  # read-only or full disk: the numbers still show, just not shared
                pass
        known: Known | None = Known(windows_from_rate_limits(limits), now)
    else:
        known = newest_known(directory, now) if directory is not None else None
    return render_line(known, now, template)


# -- the command -----------------------------------------------------------------------------


def _default_stdout() -> TextIO:
    stream = sys.stdout
    # Claude Code reads UTF-8; a Windows pipe would otherwise get the ANSI code page.
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        try:  # noqa: SIM105 - contextlib is one more import on the hot path
            reconfigure(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            pass
    return stream


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at nowhere so the exit-time flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def bridge_command(
    template: str | None = None,
    then_cmd: str | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    now: float | None = None,
    state_dir: str | os.PathLike[str] | None = None,
) -> int:
    """Read Claude Code's JSON, record its numbers, print our line after the user's. Exit 0.

    `now` is epoch seconds; `state_dir` defaults to the app's (found with platformdirs).
    """
    out = stdout
    try:
        data = read_stdin(stdin)
        # Started first so it runs while we read and write our files.
        process = None
        if then_cmd:
            from claude_usage_gauge.statusline.then import start_then

            process = start_then(then_cmd)
        try:
            ours = our_line(data, template, time.time() if now is None else now, state_dir)
        except Exception:  # our line is a nicety: theirs still shows without it
            ours = ""
        theirs = None
        if process is not None:
            from claude_usage_gauge.statusline.then import (
                THEN_TIMEOUT_ENV,
                finish_then,
                then_timeout,
            )

            timeout = then_timeout(os.environ.get(THEN_TIMEOUT_ENV))
            theirs = finish_then(process, data, timeout)
        text = combine(theirs, ours)
        if text:
            out = out or _default_stdout()
            out.write(text + "\n")
            out.flush()
    except BrokenPipeError:
        if stdout is None:
            _silence_stdout()
    except (Exception, KeyboardInterrupt):  # noqa: S110
        # Anything at all: Claude Code's status line must keep working without us.
        pass
    return 0

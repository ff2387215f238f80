"""The Claude Code statusline bridge, and installing it into Claude Code's settings.

Claude Code runs its configured statusline command on every refresh and writes a JSON object to
its stdin; since it carries `rate_limits`, we hand those numbers to the tray and `status` (through
the bridge file beside the shared store, see `bridge_file`) so they skip API calls while Claude
Code is in use, and print one compact line.

The bridge never calls the API and must never break Claude Code's status line: it always exits 0,
and at worst prints nothing. It runs many times a minute and its cost is mostly interpreter start,
so this module loads only `os`, `sys`, `time` and `bridge_file` at the top; `subprocess` only for
`--then`, `datetime` only to read the store when Claude Code sent no numbers, and the settings
editor only for `install`/`uninstall`.
"""

from __future__ import annotations

import os
import sys
import time

from claude_usage_gauge.core.values import finite_number
from claude_usage_gauge.files import read_regular
from claude_usage_gauge.statusline import bridge_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping
    from typing import IO, BinaryIO, TextIO

    from claude_usage_gauge.sources.claude_home import ClaudeHome

STDIN_LIMIT = 1024 * 1024
# Claude Code closes stdin right after writing; this only guards against a pipe nobody closes.
STDIN_WAIT_SECONDS = 3.0
THEN_TIMEOUT_SECONDS = 5.0
# Shortens (never lengthens) the --then timeout; the tests use it to avoid a 5 s wait.
THEN_TIMEOUT_ENV = "CLAUDE_USAGE_GAUGE_THEN_TIMEOUT"
# Claude Code refreshes its status line several times a second while it works: the same numbers
# recorded this recently are not written again.
REWRITE_AFTER_SECONDS = 20.0
SAME_RESET_SLACK_SECONDS = 60.0
# The tray's rule at the default poll interval (180 s): two missed polls and a minute of grace.
# The bridge does not load the settings file to stay fast, so a custom poll_interval leaves this.
POLL_SECONDS = 180  # the default poll interval (settings are not loaded on this path)
STALE_AFTER_SECONDS = 2 * POLL_SECONDS + 60
STALE_MARK = "*"
FIELDS = ("five_hour", "seven_day", "five_hour_resets", "seven_day_resets", "stale")
FIVE_HOUR, SEVEN_DAY = bridge_file.WINDOW_IDS
# The shared store, read here as plain JSON (see `paths.AppPaths.store_file`, `store.State`).
STORE_FILE_NAME = "state.json"
STORE_VERSION = 1
MAX_STORE_BYTES = 4 * 1024 * 1024
# Epoch seconds at or before 2000-01-01 are the service's way of saying "no reset scheduled".
NO_RESET_BEFORE = 946684800.0

# window id -> (percent, reset time in epoch seconds or None)
Windows = dict[str, tuple[float, float | None]]
_BRIDGE_OPTIONS = ("--format", "--then")
# Words that belong to the full command line parser: install, uninstall and help.
_NOT_THE_BRIDGE = frozenset({"install", "uninstall", "-h", "--help"})


# -- what to show ----------------------------------------------------------------------------


class Known:
    """The windows to show, when they were true (epoch seconds) and whether that is old news."""

    __slots__ = ("at", "stale", "windows")

    def __init__(self, windows: Windows, at: float, stale: bool = False) -> None:
        self.windows = windows
        self.at = at
        self.stale = stale


def _reset_epoch(raw: float | None) -> float | None:
    """Epoch seconds (milliseconds are recognised); None for no reset."""
    if raw is None:
        return None
    value = raw / 1000.0 if raw > 1e11 else raw
    return value if value > NO_RESET_BEFORE else None


def windows_from_rate_limits(limits: bridge_file.RateLimits) -> Windows:
    windows: Windows = {}
    for window_id, part in limits.items():
        windows[window_id] = (part["used_percentage"], _reset_epoch(part.get("resets_at")))
    return windows


def _iso_epoch(raw: object) -> float | None:
    """Epoch seconds from the store's ISO-8601 text (with an offset), or None."""
    if not isinstance(raw, str) or not raw:
        return None
    from datetime import datetime

    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.timestamp()


def known_from_store(raw: object) -> tuple[Known, float | None] | None:
    """The store's snapshot (its 5-hour and weekly windows) and the time of its last error."""
    if not isinstance(raw, dict) or raw.get("version") != STORE_VERSION:
        return None
    snapshot = raw.get("snapshot")
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("windows"), list):
        return None
    at = _iso_epoch(snapshot.get("fetched_at"))
    if at is None:
        return None
    windows: Windows = {}
    for item in snapshot["windows"]:
        if not isinstance(item, dict) or item.get("id") not in (FIVE_HOUR, SEVEN_DAY):
            continue
        percent = finite_number(item.get("percent"))
        if percent is not None:
            windows[str(item["id"])] = (percent, _iso_epoch(item.get("resets_at")))
    if not windows:
        return None
    error_at = _iso_epoch(raw.get("error_at")) if raw.get("last_error") else None
    return Known(windows, at), error_at


def read_store(path: str) -> tuple[Known, float | None] | None:
    try:
        # Never blocks on a pipe, never reads a device; only a regular file of ours.
        data = read_regular(path, MAX_STORE_BYTES, ours=True)
    except (OSError, ValueError):
        return None
    try:
        return known_from_store(bridge_file.loads(data))
    except (ValueError, RecursionError):
        return None


def newest_known(state_dir: str, now: float) -> Known | None:
    """What the bridge file and the store know, the newer one winning window by window."""
    known: list[Known] = []
    error_at: float | None = None
    from_bridge: Known | None = None
    bridged = bridge_file.read_bridge(os.path.join(state_dir, bridge_file.BRIDGE_FILE_NAME))
    if bridged is not None:
        at, limits = bridged["at"], bridged["rate_limits"]
        # read_bridge made them so; this tells the type checker.
        assert isinstance(at, float)
        assert isinstance(limits, dict)
        from_bridge = Known(windows_from_rate_limits(limits), at)
        known.append(from_bridge)
    stored = read_store(os.path.join(state_dir, STORE_FILE_NAME))
    if stored is not None:
        known.append(stored[0])
        error_at = stored[1]
    if not known:
        return None
    known.sort(key=lambda k: k.at)
    windows: Windows = {}
    for item in known:  # oldest first: the newer one's windows replace the older one's
        windows.update(item.windows)
    newest = known[-1].at
    # As view.is_stale: an error since the numbers makes them stale, unless they are Claude
    # Code's own from within the poll interval.
    age = now - newest
    bridged_recently = known[-1] is from_bridge and age < POLL_SECONDS
    stale = (error_at is not None and error_at >= newest and not bridged_recently) or (
        age > STALE_AFTER_SECONDS
    )
    return Known(windows, newest, stale)


# -- the line --------------------------------------------------------------------------------


def clock(moment: float, now: float) -> str:
    """Local wall-clock time, e.g. 14:30, with the weekday when it is not today."""
    try:
        local, today = time.localtime(moment), time.localtime(now)
    except (OverflowError, OSError, ValueError):
        return ""
    if (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", local)
    return time.strftime("%a %H:%M", local)


def line_fields(known: Known | None, now: float) -> dict[str, str]:
    """The template's named fields: rounded percents and local reset clock times, "" if unknown."""
    values = dict.fromkeys(FIELDS, "")
    if known is None:
        return values
    for window_id in (FIVE_HOUR, SEVEN_DAY):
        if window_id not in known.windows:
            continue
        percent, resets_at = known.windows[window_id]
        if resets_at is not None and resets_at <= now:
            # The window has reset since these numbers: it reads 0 % without asking anyone.
            percent, resets_at = 0.0, None
        values[window_id] = f"{percent if percent > 0 else 0.0:.0f}"
        if resets_at is not None:
            values[f"{window_id}_resets"] = clock(resets_at, now)
    values["stale"] = STALE_MARK if known.stale else ""
    return values


def default_line(fields: Mapping[str, str]) -> str:
    """'5h 51% · 7d 15% · resets 14:30'; the stale mark follows the first percent."""
    parts: list[str] = []
    if fields["five_hour"]:
        parts.append(f"5h {fields['five_hour']}%")
    if fields["seven_day"]:
        parts.append(f"7d {fields['seven_day']}%")
    if not parts:
        return ""
    parts[0] += fields["stale"]
    if fields["five_hour"] and fields["five_hour_resets"]:
        parts.append(f"resets {fields['five_hour_resets']}")
    return " · ".join(parts)


def render_line(known: Known | None, now: float, template: str | None = None) -> str:
    """Our line; nothing when there is no 5-hour or weekly number at all."""
    fields = line_fields(known, now)
    if not fields["five_hour"] and not fields["seven_day"]:
        return ""
    if template:
        try:
            text = template.format(**fields)
        except Exception:  # noqa: S110 - a user's template: any mistake in it means the default
            pass
        else:
            # One status line: a template's line breaks or control characters become spaces.
            return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text).strip()
    return default_line(fields)


def combine(theirs: str | None, ours: str) -> str:
    """Their output first; ours beside a one-line output, or under a multi-line one."""
    theirs = (theirs or "").rstrip("\r\n")
    if not theirs:
        return ours
    if not ours:
        return theirs
    separator = "\n" if "\n" in theirs else "  "
    return f"{theirs}{separator}{ours}"


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


def our_line(
    data: bytes,
    template: str | None,
    now: float,
    state_dir: str | os.PathLike[str] | None,
    environ: Mapping[str, str],
) -> str:
    limits = parse_input(data)
    try:
        directory = (
            bridge_file.bridge_state_dir(environ) if state_dir is None else os.fspath(state_dir)
        )
    except OSError:  # no home directory at all: the numbers on stdin still show
        directory = None
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


# -- the command line ------------------------------------------------------------------------


def parse_bridge_args(args: list[str]) -> tuple[str | None, str | None] | None:
    """(--format, --then) from the words after `statusline`, or None for install/uninstall/help.

    Anything else unrecognised is ignored: the bridge never fails over its command line.
    """
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
    return values["--format"], values["--then"]


# -- stdin -----------------------------------------------------------------------------------


def read_stdin(stdin: IO[bytes] | None, limit: int = STDIN_LIMIT) -> bytes:
    """At most `limit` + 1 bytes (one more says "too large"); empty for a terminal or no stdin."""
    if stdin is not None:
        return stdin.read(limit + 1) or b""
    fd = 0
    try:
        if os.isatty(fd):
            return b""
    except OSError:
        return b""
    if os.name == "posix":
        return _read_fd_waiting(fd, limit, STDIN_WAIT_SECONDS)
    return _read_fd_in_thread(fd, limit, STDIN_WAIT_SECONDS)


def _read_fd_waiting(fd: int, limit: int, wait: float) -> bytes:
    """Read to end of file with `select`, giving up (empty) after `wait` seconds in all."""
    import select

    deadline = time.monotonic() + wait
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return b""  # a pipe nobody closes: what came so far is not a whole object
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, ValueError):
        return b""
    return b"".join(chunks)


def _read_fd_in_thread(fd: int, limit: int, wait: float) -> bytes:
    """Windows cannot `select` a pipe: a daemon thread reads, and we wait for it at most `wait`."""
    import threading

    chunks: list[bytes] = []
    done = threading.Event()

    def reader() -> None:
        # os.read, not sys.stdin.buffer: a daemon thread left blocked in a buffered read holds a
        # lock that interpreter shutdown may need.
        size = 0
        try:
            while size <= limit:
                chunk = os.read(fd, min(65536, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError:
            pass
        done.set()

    threading.Thread(target=reader, name="statusline-stdin", daemon=True).start()
    if not done.wait(wait):
        return b""
    return b"".join(chunks)


# -- the user's own command (--then) ------------------------------------------------------------


def then_timeout(environ: Mapping[str, str]) -> float:
    try:
        wanted = float(environ.get(THEN_TIMEOUT_ENV, ""))
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
    printed more than STDIN_LIMIT bytes (capped like stdin: Claude Code gets ours alone)."""
    from claude_usage_gauge.statusline.then_output import read_capped

    out = read_capped(process, data, timeout=timeout, limit=STDIN_LIMIT, stop=_kill_tree)
    return None if out is None else out.decode("utf-8", errors="replace")


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    import contextlib
    import subprocess

    try:
        if os.name == "posix":
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


# -- the command ---------------------------------------------------------------------------------


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
    environ: Mapping[str, str] | None = None,
) -> int:
    """Read Claude Code's JSON, record its numbers, print our line after the user's. Exit 0.

    `now` is epoch seconds; `state_dir` defaults to the app's, found from `environ`.
    """
    out = stdout
    try:
        data = read_stdin(stdin)
        env = os.environ if environ is None else environ
        # Started first so it runs while we read and write our files.
        process = start_then(then_cmd) if then_cmd else None
        try:
            ours = our_line(data, template, time.time() if now is None else now, state_dir, env)
        except Exception:  # our line is a nicety: theirs still shows without it
            ours = ""
        theirs = finish_then(process, data, then_timeout(env)) if process is not None else None
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


def install_command(
    action: str,
    *,
    dry_run: bool,
    home: ClaudeHome,
    program: list[str] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """`statusline install|uninstall [--dry-run]`: edit Claude Code's settings, with a backup."""
    from claude_usage_gauge.sources import settings_install

    out = stdout or sys.stdout
    if program is None:
        from claude_usage_gauge.desktop.launcher import program_command

        program = program_command()
    return settings_install.run(
        action, dry_run=dry_run, path=home.settings_file, program=program, out=out
    )

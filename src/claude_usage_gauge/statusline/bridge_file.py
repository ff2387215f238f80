"""The bridge file: the newest rate limits Claude Code handed the statusline bridge.

The bridge runs on every status line refresh, so it does not read-modify-write the shared store
(which needs a lock, a full parse and two fsyncs). It replaces one small file beside the store,
`bridge.json`, and the store folds that file into its snapshot when it reads:

    {"version": 1, "at": <epoch seconds it was received>,
     "rate_limits": {"five_hour": {"used_percentage": 51.2, "resets_at": 1767225600}, ...}}

Last writer wins, which is always the freshest, so no lock is needed. `rate_limits` keeps Claude
Code's own shape (only the two windows and their two numbers), so `usage.parse_statusline` reads
the whole object as it is.

This module is on the statusline's hot path and imported by the store: it loads only `os`,
`sys`, `time` and `math` (plus the interpreter's built-in JSON scanner), never `json`'s
pure-Python half, which pulls in `re` and `enum`, nor `platformdirs`, which pulls in `pathlib`,
`tempfile` and more.
"""

from __future__ import annotations

import os
import sys
import time

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.values import finite_number
from claude_usage_gauge.files import ensure_private_dir, open_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

BRIDGE_FILE_NAME = "bridge.json"
BRIDGE_VERSION = 1
WINDOW_IDS = ("five_hour", "seven_day")
# A bridge file is under 200 bytes; anything much larger is not ours.
MAX_BRIDGE_BYTES = 64 * 1024

RateLimits = dict[str, dict[str, float]]


# -- where it lives --------------------------------------------------------------------------


def state_dir_for(environ: Mapping[str, str], platform: str) -> str:
    """The app's state directory as `platformdirs.user_state_dir(APP_NAME, appauthor=False)`.

    Worked out by hand, because importing platformdirs costs more than the rest of the bridge.
    tests/test_bridge_file.py holds this to platformdirs' answers.
    """
    if platform == "win32":
        return os.path.join(_windows_local_appdata(environ), APP_NAME)
    # platformdirs honours an absolute XDG_STATE_HOME on macOS as well as on Linux and the BSDs.
    xdg = environ.get("XDG_STATE_HOME", "")
    if xdg.startswith("/"):
        return os.path.join(xdg, APP_NAME)
    home = _posix_home(environ)
    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support", APP_NAME)
    return os.path.join(home, ".local", "state", APP_NAME)


def bridge_state_dir(environ: Mapping[str, str] | None = None) -> str:
    """The state directory of the running platform, from `environ` (default: this process's)."""
    return state_dir_for(os.environ if environ is None else environ, sys.platform)


def bridge_path(state_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(state_dir), BRIDGE_FILE_NAME)


def _posix_home(environ: Mapping[str, str]) -> str:
    home = environ.get("HOME", "")
    if home.startswith("/"):
        return home.rstrip("/") or "/"
    # A relative or empty HOME is ignored, as platformdirs does: the account's home instead.
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir.rstrip("/") or "/"
    except (ImportError, KeyError) as exc:
        raise OSError("could not determine the home directory") from exc


def _windows_local_appdata(environ: Mapping[str, str]) -> str:
    override = environ.get("WIN_PD_OVERRIDE_LOCAL_APPDATA", "").strip()
    if _fully_qualified_windows_path(override):
        return os.path.normpath(override)
    # platformdirs asks the shell for this folder; the variable names the same folder unless
    # an administrator redirected it.
    folder = environ.get("LOCALAPPDATA", "")
    if folder:
        return os.path.normpath(folder)
    import platformdirs  # a stripped environment: let it ask the shell

    return os.path.dirname(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def _fully_qualified_windows_path(path: str) -> bool:
    """A drive with a root (C:\\x) or a whole UNC share, the folder overrides platformdirs takes."""
    import ntpath

    drive, tail = ntpath.splitdrive(path.replace("/", "\\"))
    if drive[:4] in ("\\\\?\\", "\\\\.\\") and drive[5:6] == ":":
        return tail.startswith("\\")
    if not drive.startswith("\\"):
        return bool(drive) and tail.startswith("\\")
    unc = drive[8:] if drive[:8].upper() == "\\\\?\\UNC\\" else drive[2:]
    server, _, share = unc.partition("\\")
    return bool(server and share)


# -- JSON, read with the interpreter's scanner ---------------------------------------------------


class _ScanContext:
    """The settings the C scanner reads: those of `json.loads` with no arguments."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name)  # NaN, Infinity, -Infinity, as json.loads reads them


def _make_scanner() -> Callable[[str, int], tuple[object, int]] | None:
    try:
        from _json import make_scanner
    except ImportError:  # an interpreter without the C accelerator: plain json below
        return None
    # The stub types the context as the scanner class itself; any object with these attributes
    # is what the C code reads.
    scanner: Callable[[str, int], tuple[object, int]] = make_scanner(_ScanContext())  # type: ignore[arg-type]
    return scanner


_scan = _make_scanner()
_SPACE = " \t\n\r"


def loads(data: bytes | str) -> object:
    """`json.loads` for UTF-8 text; raises ValueError (or RecursionError) for anything else.

    Valid JSON is read by the C scanner alone. Anything it refuses goes to `json.loads` for the
    proper error: the scanner raises its errors through `json.decoder`, which may not be loaded.
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if _scan is not None:
        start = len(text) - len(text.lstrip(_SPACE))
        try:
            value, end = _scan(text, start)
        except (StopIteration, SystemError, ValueError):
            pass
        else:
            if end == len(text.rstrip(_SPACE)):
                return value
    import json

    return json.loads(text)


# -- the file --------------------------------------------------------------------------------


def sanitize_rate_limits(raw: object) -> RateLimits | None:
    """Claude Code's `rate_limits`, cut to the two windows' two numbers; None if nothing usable."""
    if not isinstance(raw, dict):
        return None
    limits: RateLimits = {}
    for window_id in WINDOW_IDS:
        part = raw.get(window_id)
        if not isinstance(part, dict):
            continue
        percent = finite_number(part.get("used_percentage"))
        if percent is None:
            continue
        entry = {"used_percentage": percent}
        resets_at = finite_number(part.get("resets_at"))
        if resets_at is not None:
            entry["resets_at"] = resets_at
        limits[window_id] = entry
    return limits or None


def parse_bridge(raw: object) -> dict[str, object] | None:
    """A bridge file's object, checked and cleaned; None when it is not one we understand."""
    if not isinstance(raw, dict) or raw.get("version") != BRIDGE_VERSION:
        return None
    at = finite_number(raw.get("at"))
    limits = sanitize_rate_limits(raw.get("rate_limits"))
    if at is None or limits is None:
        return None
    return {"version": BRIDGE_VERSION, "at": at, "rate_limits": limits}


def read_bridge(path: str | os.PathLike[str]) -> dict[str, object] | None:
    """{"version": 1, "at": float, "rate_limits": {...}}, or None if missing, torn or foreign."""
    try:
        # Never blocks (a pipe planted here must not hang Claude Code's status line), and only
        # a regular file of ours is read.
        with open_regular(path, MAX_BRIDGE_BYTES, ours=True) as handle:
            data = handle.read(MAX_BRIDGE_BYTES + 1)
    except (OSError, ValueError):
        return None
    if len(data) > MAX_BRIDGE_BYTES:
        return None
    try:
        return parse_bridge(loads(data))
    except (ValueError, RecursionError):
        return None


def render_bridge(rate_limits: RateLimits, at: float) -> bytes:
    """The file's bytes. Written by hand: the values are only finite numbers and our own keys."""
    windows = ",".join(
        f'"{window_id}":{{'
        + ",".join(f'"{key}":{float(value)!r}' for key, value in rate_limits[window_id].items())
        + "}"
        for window_id in WINDOW_IDS
        if window_id in rate_limits
    )
    return f'{{"version":{BRIDGE_VERSION},"at":{float(at)!r},"rate_limits":{{{windows}}}}}'.encode()


def write_bridge(state_dir: str | os.PathLike[str], rate_limits: RateLimits, at: float) -> str:
    """Replace `<state_dir>/bridge.json` atomically (a 0600 temp file, fsync, rename); its path.

    Raises OSError when it cannot be written; the old file, if any, is then left as it was.
    """
    directory = os.fspath(state_dir)
    ensure_private_dir(directory)
    path = os.path.join(directory, BRIDGE_FILE_NAME)
    # Unique per process and moment, and O_EXCL: two bridges never share a temp file.
    tmp = os.path.join(directory, f".{BRIDGE_FILE_NAME}.{os.getpid()}.{time.time_ns()}.tmp")
    data = render_bridge(rate_limits, at)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        # No directory fsync: a rename lost to a power cut costs one status line refresh.
        os.replace(tmp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib is one more import on the hot path
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path

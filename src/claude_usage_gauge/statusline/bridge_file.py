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
`time` and `math` (plus the interpreter's built-in JSON scanner), never `json`'s pure-Python
half, which pulls in `re` and `enum`. Where the file lives is not worked out here: the installed
bridge command names the state folder (`--state-dir`), so platformdirs stays off this path.
"""

from __future__ import annotations

import os
import time

from claude_usage_gauge.core.values import finite_number
from claude_usage_gauge.core.window_ids import STATUSLINE_WINDOWS
from claude_usage_gauge.files import ensure_private_dir, open_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

BRIDGE_FILE_NAME = "bridge.json"
BRIDGE_VERSION = 1
# A bridge file is under 200 bytes; anything much larger is not ours.
MAX_BRIDGE_BYTES = 64 * 1024

RateLimits = dict[str, dict[str, float]]


def bridge_path(state_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(state_dir), BRIDGE_FILE_NAME)


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
    for window_id in STATUSLINE_WINDOWS:
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
        for window_id in STATUSLINE_WINDOWS
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

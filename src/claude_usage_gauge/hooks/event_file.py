"""The event file: the last turn's end that Claude Code reported to our hook.

One small file beside the shared store, `claude-code-event.json`, replaced atomically by the hook
command (last writer wins, no lock), read by the store like the bridge file:

    {"version": 1, "at": <epoch seconds>, "event": "StopFailure", "kind": "billing_error",
     "message": "…", "request_id": "req_…"}

Light: only os, time and the interpreter's JSON scanner (through bridge_file.loads).
"""

from __future__ import annotations

import json
import os
import time

from claude_usage_gauge.core.values import finite_number
from claude_usage_gauge.files import ensure_private_dir
from claude_usage_gauge.statusline.bridge_file import loads

EVENT_FILE_NAME = "claude-code-event.json"
EVENT_VERSION = 1
MAX_EVENT_BYTES = 16 * 1024
MAX_TEXT = 500
EVENTS = ("Stop", "StopFailure")


def event_path(state_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(state_dir), EVENT_FILE_NAME)


def _text(raw: object, limit: int = MAX_TEXT) -> str:
    return raw[:limit] if isinstance(raw, str) else ""


def parse_event_file(raw: object) -> dict[str, object] | None:
    """An event file's object, checked and cleaned; None when it is not one we understand."""
    if not isinstance(raw, dict) or raw.get("version") != EVENT_VERSION:
        return None
    at = finite_number(raw.get("at"))
    event = raw.get("event")
    if at is None or event not in EVENTS:
        return None
    return {
        "version": EVENT_VERSION,
        "at": at,
        "event": event,
        "kind": _text(raw.get("kind"), 64),
        "message": _text(raw.get("message")),
        "request_id": _text(raw.get("request_id"), 128),
    }


def read_event(path: str | os.PathLike[str]) -> dict[str, object] | None:
    """The file's event, or None if missing, torn, foreign or not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, MAX_EVENT_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_EVENT_BYTES:
        return None
    try:
        return parse_event_file(loads(data))
    except (ValueError, RecursionError):
        return None


def write_event(state_dir: str | os.PathLike[str], event: dict[str, object]) -> None:
    """Replace the event file atomically (0600 temp file, rename). Raises OSError."""
    directory = os.fspath(state_dir)
    ensure_private_dir(directory)
    data = json.dumps(event, ensure_ascii=True, allow_nan=False).encode()
    tmp = os.path.join(directory, f".{EVENT_FILE_NAME}.{os.getpid()}.{time.time_ns()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, event_path(directory))
    except BaseException:
        try:  # noqa: SIM105 - contextlib is one more import on this path
            os.unlink(tmp)
        except OSError:
            pass
        raise

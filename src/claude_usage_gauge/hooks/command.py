"""`claude-usage-gauge hook`: the command Claude Code runs when a turn ends.

It reads the hook's JSON from stdin, keeps the event in the event file for the tray and `status`,
and exits 0 at once. It never calls the API, never prints anything (Claude Code would show it),
and never fails Claude Code. A normal `Stop` says Claude Code is in use (the tray then polls at
its base rate) and ends a recorded failure; it is written at most once a minute.
"""

from __future__ import annotations

import os
import re
import time

from claude_usage_gauge.hooks.event_file import (
    EVENT_VERSION,
    EVENTS,
    MAX_TEXT,
    event_path,
    read_event,
    write_event,
)
from claude_usage_gauge.statusline.bridge_file import loads
from claude_usage_gauge.statusline.stdin import STDIN_LIMIT, read_stdin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

# A normal turn's end is written at most this often: it only says "Claude Code is in use".
SAME_STOP_SECONDS = 60.0
_REQUEST_ID = re.compile(r"\breq_[A-Za-z0-9]{8,64}\b")


def _first_text(*values: object) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _details_text(details: object) -> str:
    """The error's words from `error_details`, a string or an object holding the API's error."""
    if isinstance(details, dict):
        inner = details.get("error")
        nested = inner.get("message") if isinstance(inner, dict) else None
        return _first_text(details.get("message"), nested, details.get("error"))
    return _first_text(details)


def _request_id(details: object, text: str) -> str:
    if isinstance(details, dict):
        found = _first_text(details.get("request_id"), details.get("requestId"))
        if found:
            return found
    match = _REQUEST_ID.search(text)
    return match.group(0) if match else ""


def event_from_input(data: bytes, now: float) -> dict[str, object] | None:
    """The event to keep from Claude Code's hook input; None for anything else."""
    if not data or len(data) > STDIN_LIMIT:
        return None
    try:
        raw = loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(raw, dict) or raw.get("hook_event_name") not in EVENTS:
        return None
    event = raw["hook_event_name"]
    error = raw.get("error")
    kind = error if isinstance(error, str) else ""
    if isinstance(error, dict):
        kind = _first_text(error.get("type"), error.get("kind"))
    details = raw.get("error_details")
    message = _details_text(details) or _details_text(error)
    if not message:
        message = _first_text(raw.get("last_assistant_message"))
    return {
        "version": EVENT_VERSION,
        "at": now,
        "event": event,
        "kind": kind[:64],
        "message": message[:MAX_TEXT],
        "request_id": _request_id(details, message)[:128],
    }


def _recent_stop(previous: dict[str, object] | None, now: float) -> bool:
    """The file already says Claude Code ended a turn normally, less than a minute ago."""
    if previous is None or previous["event"] != "Stop":
        return False
    at = previous["at"]
    return isinstance(at, float) and 0 <= now - at < SAME_STOP_SECONDS


def default_state_dir() -> str | None:
    try:
        from claude_usage_gauge.paths import app_paths

        return os.fspath(app_paths().state_dir)
    except (OSError, KeyError, RuntimeError):
        return None


def hook_command(
    state_dir: str | None,
    *,
    stdin: BinaryIO | None = None,
    now: float | None = None,
) -> int:
    """Keep the event Claude Code reported. Always 0, never a word on stdout or stderr."""
    try:
        event = event_from_input(read_stdin(stdin), time.time() if now is None else now)
        directory = state_dir or default_state_dir()
        if event is None or directory is None:
            return 0
        if event["event"] == "Stop":
            previous = read_event(event_path(directory))
            at = event["at"]
            assert isinstance(at, float)
            if _recent_stop(previous, at):
                return 0  # turns in quick succession: one write a minute says "in use" enough
        write_event(directory, event)
    except (Exception, KeyboardInterrupt):  # noqa: S110 - Claude Code must never see us fail
        pass
    return 0


def parse_hook_args(args: list[str], option: str = "--state-dir") -> str | None:
    """The --state-dir (or another `option`) of `hook [--state-dir DIR] [--account NAME]`;
    other words are ignored."""
    for i, word in enumerate(args):
        if word == option and i + 1 < len(args):
            return args[i + 1] or None
        if word.startswith(f"{option}="):
            return word.partition("=")[2] or None
    return None

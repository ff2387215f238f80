"""The hook command Claude Code runs when a turn ends: what it keeps, and that it stays silent."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.hooks.command import event_from_input, hook_command, parse_hook_args
from claude_usage_gauge.hooks.event_file import event_path, read_event
from claude_usage_gauge.testing.claude_code import OUT_OF_EXTRA_USAGE_MESSAGE, hook_input

NOW = 1_900_000_000.0


def feed(state_dir: Path, obj: object, now: float = NOW) -> int:
    data = json.dumps(obj).encode()
    return hook_command(str(state_dir), stdin=io.BytesIO(data), now=now)


def test_the_refusal_users_report_is_kept_with_its_request_id(tmp_path: Path) -> None:
    assert feed(tmp_path, hook_input()) == 0
    event = read_event(event_path(tmp_path))
    assert event == {
        "version": 1,
        "at": NOW,
        "event": "StopFailure",
        "kind": "invalid_request",
        "message": OUT_OF_EXTRA_USAGE_MESSAGE,
        "request_id": "req_011CXyZAbCdEfGhIjKlMnOp",
    }
    assert (tmp_path / "claude-code-event.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("obj", "kind", "message", "request_id"),
    [
        (
            hook_input(error="rate_limit", details="429 rate limited req_0123456789ab"),
            "rate_limit",
            "429 rate limited req_0123456789ab",
            "req_0123456789ab",
        ),
        (
            hook_input(error={"type": "billing_error"}, details={"message": "No credit"}),
            "billing_error",
            "No credit",
            "",
        ),
        (
            hook_input(error=None, details=None, last_message="API Error: 400 out of extra usage"),
            "",
            OUT_OF_EXTRA_USAGE_MESSAGE,
            "req_011CXyZAbCdEfGhIjKlMnOp",
        ),
        (
            hook_input(error=5, details=[], last_message="Something broke"),
            "",
            "Something broke",
            "",
        ),
        (hook_input(details="x" * 5000), "invalid_request", "x" * 500, ""),
    ],
)
def test_kinds_and_details_are_read_leniently(
    obj: dict[str, object], kind: str, message: str, request_id: str
) -> None:
    event = event_from_input(json.dumps(obj).encode(), NOW)
    assert event is not None
    assert (event["kind"], event["message"], event["request_id"]) == (kind, message, request_id)


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", json.dumps({"hook_event_name": "PreToolUse"}).encode(), b"{" * 9999],
)
def test_anything_else_is_ignored(tmp_path: Path, data: bytes) -> None:
    assert hook_command(str(tmp_path), stdin=io.BytesIO(data), now=NOW) == 0
    assert not os.path.exists(event_path(tmp_path))


def test_ordinary_turns_are_written_once_a_minute_and_end_a_failure(tmp_path: Path) -> None:
    path = event_path(tmp_path)
    feed(tmp_path, hook_input("Stop"), now=NOW)
    first = read_event(path)
    assert first is not None
    assert (first["event"], first["at"]) == ("Stop", NOW)
    mtime = os.stat(path).st_mtime_ns
    feed(tmp_path, hook_input("Stop"), now=NOW + 30)  # within the minute: no write
    assert os.stat(path).st_mtime_ns == mtime
    assert read_event(path) == first

    feed(tmp_path, hook_input(), now=NOW + 40)  # a failure is always written
    feed(tmp_path, hook_input("Stop"), now=NOW + 45)  # and the next turn ends it at once
    ended = read_event(path)
    assert ended is not None
    assert (ended["event"], ended["at"]) == ("Stop", NOW + 45)


def test_an_unwritable_state_folder_is_still_exit_0(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("in the way")
    assert feed(blocker / "state", hook_input()) == 0


@given(st.binary(max_size=400))
def test_any_input_gives_an_event_or_none(data: bytes) -> None:
    event = event_from_input(data, NOW)
    assert event is None or event["event"] in ("Stop", "StopFailure")


def test_parse_hook_args() -> None:
    assert parse_hook_args(["--state-dir", "/s"]) == "/s"
    assert parse_hook_args(["--state-dir=/t", "x"]) == "/t"
    assert parse_hook_args(["--state-dir"]) is None
    assert parse_hook_args([]) is None


def test_the_hook_loads_nothing_heavy(tmp_path: Path) -> None:
    """Claude Code waits for its hooks: the command must start as fast as the bridge."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            *("-X", "importtime", "-m", "claude_usage_gauge", "hook"),
            *("--state-dir", str(tmp_path)),
        ],
        input=json.dumps(hook_input()).encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout == b""
    names = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.decode().splitlines()
        if line.startswith("import time:")
    }
    assert "claude_usage_gauge" in names
    heavy = {"httpx", "ssl", "PIL", "pystray", "keyring", "argparse", "platformdirs", "logging"}
    assert names.isdisjoint(heavy), sorted(names & heavy)
    assert read_event(event_path(tmp_path)) is not None

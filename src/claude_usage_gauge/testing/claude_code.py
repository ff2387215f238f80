"""What Claude Code leaves for us, as it writes it: the credentials file and the statusline
input. Shared by the tests, the benchmarks, the screenshots and `--demo`, so there is one idea
of what Claude Code writes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_SCOPES = ("user:inference", "user:profile", "user:sessions:claude_code")
CREDENTIALS_FILE_NAME = ".credentials.json"


def credentials_document(
    token: str,
    *,
    refresh_token: str | None = None,
    expires_in: timedelta | None = timedelta(hours=8),
    expires_at: datetime | None = None,
    scopes: Sequence[str] | None = DEFAULT_SCOPES,
    subscription_type: str | None = "max",
    rate_limit_tier: str | None = "default_claude_max_5x",
    other_keys: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The JSON Claude Code writes; `scopes=None` leaves the key out (older sign-ins), and
    `expires_at` (a moment on a test's own clock) wins over `expires_in` (from now)."""
    oauth: dict[str, object] = {"accessToken": token}
    if refresh_token is not None:
        oauth["refreshToken"] = refresh_token
    if expires_at is None and expires_in is not None:
        expires_at = datetime.now(UTC) + expires_in
    if expires_at is not None:
        oauth["expiresAt"] = int(expires_at.timestamp() * 1000)
    if scopes is not None:
        oauth["scopes"] = list(scopes)
    oauth["subscriptionType"] = subscription_type
    oauth["rateLimitTier"] = rate_limit_tier
    document: dict[str, object] = {"claudeAiOauth": oauth}
    document.update(other_keys or {})
    return document


def write_credentials_file(config_dir: Path, document: object, *, indent: int | None = 2) -> Path:
    """Write `document` as Claude Code does: `<config dir>/.credentials.json`, 0600, in a 0700
    folder. Returns the file's path."""
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = config_dir / CREDENTIALS_FILE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(json.dumps(document, indent=indent).encode())
    return path


def statusline_input(
    five: float | None = 51.2,
    seven: float | None = 15.0,
    *,
    five_resets: datetime | None = None,
    seven_resets: datetime | None = None,
    rate_limits: bool = True,
    now: datetime | None = None,
) -> dict[str, object]:
    """The JSON object (decoded) as Claude Code writes it to stdin, `rate_limits` included unless
    `rate_limits=False` (as before the first reply of a session)."""
    moment = now or datetime.now(UTC)
    obj: dict[str, object] = {
        "hook_event_name": "Status",
        "session_id": "6f1c2a9e-0b7d-4c55-9a8e-3d2f1b0c4e77",
        "transcript_path": "/home/u/.claude/projects/p/6f1c.jsonl",
        "cwd": "/home/u/project",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/home/u/project", "project_dir": "/home/u/project"},
        "version": "2.1.80",
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": 0.0123,
            "total_duration_ms": 45000,
            "total_api_duration_ms": 2300,
            "total_lines_added": 156,
            "total_lines_removed": 23,
        },
        "exceeds_200k_tokens": False,
    }
    if rate_limits:
        limits: dict[str, object] = {}
        if five is not None:
            at = five_resets or moment + timedelta(hours=2, minutes=13)
            limits["five_hour"] = {"used_percentage": five, "resets_at": int(at.timestamp())}
        if seven is not None:
            at = seven_resets or moment + timedelta(days=3)
            limits["seven_day"] = {"used_percentage": seven, "resets_at": int(at.timestamp())}
        obj["rate_limits"] = limits
    return obj


ACCOUNT_UUID = "8d2f6a1e-5b3c-4e7a-9f10-2c4b6d8e0a13"


def claude_state_document(
    utilization: object | None,
    fetched_at: datetime | None = None,
    *,
    account_uuid: str = ACCOUNT_UUID,
    cached_for: str | None = None,
) -> dict[str, object]:
    """Claude Code's state file (`.claude.json`) as it keeps it, with the answer its /usage last
    fetched under `cachedUsageUtilization` (left out when `utilization` is None). `cached_for`
    names another account's cache (a sign-in since)."""
    document: dict[str, object] = {
        "numStartups": 42,
        "installMethod": "native",
        "autoUpdates": True,
        "userID": "0f" * 32,
        "oauthAccount": {
            "accountUuid": account_uuid,
            "emailAddress": "someone@example.invalid",
            "organizationUuid": "3c1d9e7b-0a2f-4b6c-8d5e-7f9a1b3c5d7e",
        },
        "projects": {"/home/u/project": {"allowedTools": [], "history": []}},
    }
    if utilization is not None:
        moment = fetched_at or datetime.now(UTC)
        document["cachedUsageUtilization"] = {
            "fetchedAtMs": int(moment.timestamp() * 1000),
            "accountUuid": cached_for or account_uuid,
            "utilization": utilization,
        }
    return document


OUT_OF_EXTRA_USAGE_MESSAGE = (
    "You're out of extra usage. Add more at claude.ai/settings/usage and keep going."
)


def hook_input(
    event: str = "StopFailure",
    *,
    error: object = "invalid_request",
    details: object = None,
    last_message: str | None = None,
) -> dict[str, object]:
    """What Claude Code writes to a hook's stdin when a turn ends: `StopFailure` (an API error,
    with its kind and details) or `Stop`. The default is the refusal users report."""
    obj: dict[str, object] = {
        "hook_event_name": event,
        "session_id": "6f1c2a9e-0b7d-4c55-9a8e-3d2f1b0c4e77",
        "transcript_path": "/home/u/.claude/projects/p/6f1c.jsonl",
        "cwd": "/home/u/project",
        "permission_mode": "default",
    }
    if event == "StopFailure":
        obj["error"] = error
        obj["error_details"] = (
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": OUT_OF_EXTRA_USAGE_MESSAGE},
                "request_id": "req_011CXyZAbCdEfGhIjKlMnOp",
            }
            if details is None
            else details
        )
        if last_message is not None:
            obj["last_assistant_message"] = last_message
    else:
        obj["stop_hook_active"] = False
    return obj

"""What Claude Code hands its statusline command: a realistic sample, for tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


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

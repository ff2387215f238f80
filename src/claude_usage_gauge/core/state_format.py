"""The shared state file's format facts, and the glance the statusline's fast path takes at it.

`State.to_json`/`from_json` (core/state.py) write and read the whole file; the statusline bridge
only needs the 5-hour and weekly numbers, when they were true and whether a failure followed, and
must not load the full model (dataclasses, enum, re) on every refresh of Claude Code's status
line. Both sides use the constants here, and tests/unit/test_state_format.py holds the glance to
what the full reader and the view make of the same file.
"""

from __future__ import annotations

from claude_usage_gauge.core.staleness import numbers_are_stale
from claude_usage_gauge.core.values import finite_number, iso_epoch, reset_epoch
from claude_usage_gauge.core.window_ids import STATUSLINE_WINDOWS

STORE_VERSION = 1
STORE_FILE_NAME = "state.json"
# The store is small (a few hundred KiB at most); anything larger is not ours.
MAX_STORE_BYTES = 4 * 1024 * 1024

# window id -> (percent, reset time in epoch seconds or None)
Windows = dict[str, tuple[float, float | None]]


class Glance:
    """The state file's 5-hour and weekly numbers, as of `at` (epoch seconds)."""

    __slots__ = ("at", "failed_at", "from_statusline", "poll_interval", "windows")

    def __init__(
        self,
        windows: Windows,
        at: float,
        *,
        from_statusline: bool = False,
        failed_at: float | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.windows = windows
        self.at = at
        self.from_statusline = from_statusline
        self.failed_at = failed_at
        self.poll_interval = poll_interval

    def stale(self, now: float, default_interval: float) -> bool:
        """The view's rule (core/staleness.py), at the interval the file's writer polled at."""
        interval = self.poll_interval or default_interval
        return numbers_are_stale(
            now - self.at,
            interval,
            failed_since=self.failed_at is not None and self.failed_at >= self.at,
            from_statusline=self.from_statusline,
        )


def glance(raw: object) -> Glance | None:
    """The decoded state file's snapshot (5-hour and weekly windows), or None if it has none."""
    if not isinstance(raw, dict) or raw.get("version") != STORE_VERSION:
        return None
    snapshot = raw.get("snapshot")
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("windows"), list):
        return None
    at = iso_epoch(snapshot.get("fetched_at"))
    if at is None:
        return None
    windows: Windows = {}
    for item in snapshot["windows"]:
        if not isinstance(item, dict) or item.get("id") not in STATUSLINE_WINDOWS:
            continue
        percent = finite_number(item.get("percent"))
        if percent is not None:
            windows[str(item["id"])] = (max(percent, 0.0), reset_epoch(item.get("resets_at")))
    if not windows:
        return None
    interval = finite_number(raw.get("poll_interval"))
    return Glance(
        windows,
        at,
        from_statusline=snapshot.get("source") == "statusline",
        failed_at=iso_epoch(raw.get("error_at")) if raw.get("last_error") else None,
        poll_interval=interval if interval is not None and interval > 0 else None,
    )

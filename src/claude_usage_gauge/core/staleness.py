"""When numbers are old news: the one rule, shared by the view and the statusline's fast path.

Plain numbers in (seconds), a yes or no out, and no imports, so the statusline bridge can use the
very rule the tray and `status` use without loading the rest of the core.
"""

from __future__ import annotations

# The settings' default poll interval (core/settings.py takes it from here, so that the
# statusline's fast path has it without loading the settings model).
DEFAULT_POLL_INTERVAL = 180.0
# Two missed polls and a minute of grace: past this, the numbers are old news.
GRACE_SECONDS = 60.0


def stale_after(interval: float) -> float:
    """How old (seconds) numbers may be before they are stale, at poll interval `interval`."""
    return interval * 2 + GRACE_SECONDS


def numbers_are_stale(
    age: float, interval: float, *, failed_since: bool, from_statusline: bool
) -> bool:
    """Numbers `age` seconds old are stale when a failure was recorded since them, or when they
    are older than two polls and a minute. Numbers Claude Code handed over within one poll
    interval are current whatever the API or the sign-in says: Claude Code just had them."""
    if failed_since and not (from_statusline and age < interval):
        return True
    return age > stale_after(interval)

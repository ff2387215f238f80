"""What to tell a user about each problem, per platform. Pure text; no I/O.

Every sentence answers two questions: what happened, and what happens next (or what to do).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.values import local_clock

USAGE_PAGE = "https://claude.ai/settings/usage"

# How a line names a moment: the menu's bare local clock by default; `doctor` adds the zone,
# the bug report says UTC (see core/report.py).
Clock = Callable[[datetime], str]


def clock(moment: datetime) -> str:
    """Local wall-clock time, e.g. 14:30 (the weekday is added when it is not today)."""
    try:
        text = local_clock(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        text = None
    # Far-off dates some platforms cannot place locally: say it in UTC.
    return text if text is not None else moment.strftime("%Y-%m-%d %H:%M UTC")


def headline(problem: Problem, at: Clock = clock) -> str:
    """One short line for a menu or a tooltip: the problem and what happens next."""
    kind = problem.kind
    if kind == ErrorKind.RATE_LIMITED:
        if problem.retry_at is not None:
            return f"Rate limited by the usage service; next try {at(problem.retry_at)}"
        return "Rate limited by the usage service; trying again later"
    if kind == ErrorKind.TOKEN_EXPIRED:
        # Also in the sign-in's last minutes (not used then), so no "expired" here.
        return "Sign-in due for renewal; using Claude Code renews it"
    if kind == ErrorKind.NO_CREDENTIALS:
        return "Not signed in to Claude Code"
    if kind == ErrorKind.BAD_CREDENTIALS:
        return "Claude Code's sign-in could not be read"
    if kind == ErrorKind.MISSING_SCOPE:
        return "This sign-in cannot read usage; sign in again"
    if kind == ErrorKind.UNAUTHORIZED:
        return "Sign-in refused by the usage service; sign in again"
    if kind == ErrorKind.OUT_OF_EXTRA_USAGE:
        return "Claude Code is refused: out of extra usage; see Sign-in help"
    retry = f"next try {at(problem.retry_at)}" if problem.retry_at else "retrying soon"
    if kind == ErrorKind.SERVER_ERROR:
        return f"The usage service has a problem; {retry}"
    if kind == ErrorKind.NETWORK:
        return f"No connection to the usage service; {retry}"
    if kind == ErrorKind.BAD_RESPONSE:
        return f"Unreadable answer from the usage service; {retry}"
    # The full text always follows (the problem's submenu, the next line of `status`).
    return "Settings problem"


def out_of_extra_usage_line(
    session_percent: float | None, week_percent: float | None, *, by_claude_code: bool = True
) -> str:
    """Claude Code (its hook told us) or the usage service says 'out of extra usage' while the
    plan shows little use: show both."""
    said = (
        "Claude Code is refused: out of extra usage"
        if by_claude_code
        else "The usage service says: out of extra usage"
    )
    parts = [
        f"{percent:.0f} % ({name})"
        for percent, name in ((session_percent, "5-hour"), (week_percent, "week"))
        if percent is not None
    ]
    if not parts:
        return f"{said} — see Sign-in help"
    return f"{said} — but your plan is at {' / '.join(parts)}"


def _login_steps(platform: str) -> list[str]:
    terminal = {"win32": "a terminal (PowerShell)", "darwin": "Terminal"}.get(
        platform, "a terminal"
    )
    return [
        f"Open {terminal} and run: claude",
        "Inside it, type: /login   (or run: claude auth login)",
        "Follow the browser sign-in; this app picks up the new sign-in by itself.",
    ]


def help_steps(
    kind: ErrorKind | None, platform: str = sys.platform, *, can_reset: bool = True
) -> list[str]:
    """Numbered-step help for the Sign-in help submenu and for `status`/`doctor`. Without a
    sign-in to move aside (`can_reset` False, or none found) the help is only how to sign in."""
    login = _login_steps(platform)
    keychain = (
        " On macOS this also moves the Keychain item aside (kept as a backup item)."
        if platform == "darwin"
        else ""
    )
    reset_note = (
        "If Claude Code keeps failing, 'Reset credentials file…' (claude-usage-gauge credentials "
        "reset) moves the credentials aside "
        "to a backup (nothing is deleted) so you can sign in afresh; 'Restore credentials…' "
        f"puts them back.{keychain}"
    )
    if kind == ErrorKind.TOKEN_EXPIRED:
        return [
            "Claude Code refreshes its sign-in when you next use it: open it, or run: claude",
            "This app never refreshes it (that could sign Claude Code out) and waits for it.",
        ]
    if kind == ErrorKind.RATE_LIMITED:
        return [
            "The usage service limits how often usage may be read; this app waits as it asks.",
            "A fresh sign-in gets a fresh allowance: claude, then /login.",
            f"The same numbers are on {USAGE_PAGE}",
        ]
    if kind == ErrorKind.OUT_OF_EXTRA_USAGE:
        # The cure users report, in the order to try it.
        return [
            "Claude Code sometimes says 'out of extra usage' while your plan has room left.",
            # One step, not three under a heading: the steps are numbered as one list.
            "First, sign in again: in Claude Code type /login (or run: claude auth login) and "
            "follow the browser sign-in.",
            "If it comes back: 'Reset credentials file…' in the menu (or run: "
            "claude-usage-gauge credentials reset) moves the sign-in aside (nothing is "
            "deleted; 'Restore credentials…' puts it back), then sign in as above."
            f"{keychain}",
            f"Check whether extra usage is switched on at {USAGE_PAGE}",
        ]
    if kind in (ErrorKind.NETWORK, ErrorKind.SERVER_ERROR, ErrorKind.BAD_RESPONSE):
        return [
            "This is usually passing; the app retries with growing pauses.",
            "Check your connection or proxy; 'claude-usage-gauge doctor' checks the set-up.",
        ]
    if kind == ErrorKind.CONFIG:
        return [
            "Fix api_base in the settings file (or CLAUDE_USAGE_GAUGE_API_BASE); "
            "'claude-usage-gauge doctor' says which one is in use.",
            "The next 'status' uses the fixed address at once; a running tray after a restart.",
        ]
    if kind == ErrorKind.NO_CREDENTIALS or not can_reset:
        return login
    return [*login, reset_note]


def not_shared_lines(reason: str) -> list[str]:
    """`status` when the state folder cannot be used: say why, how to fix it, and why no request
    was made (nothing could remember it, so every run would ask the usage service again)."""
    return [
        "No usage shown: the state folder cannot be used.",
        f"  {reason}",
        "Until it is fixed, nothing is kept between runs, so `status` does not ask the usage "
        "service on its own; `claude-usage-gauge status --refresh` asks it anyway.",
    ]

"""From the stored state to what a person sees: pure functions of a `State`, a clock and settings.

`status` (text and JSON), the tray's tooltip, menu and gauge all read a `View`, so they never
disagree about what is stale, which error counts, or when a window resets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent
from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import (
    Clock,
    clock,
    headline,
    out_of_extra_usage_line,
)
from claude_usage_gauge.core.pace import pace_reach
from claude_usage_gauge.core.polling import manual_refresh, next_check, next_manual
from claude_usage_gauge.core.schedule import SPACED_OUT, Decision
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.staleness import numbers_are_stale
from claude_usage_gauge.core.state import HistoryPoint, State
from claude_usage_gauge.core.text import MESSAGE_MAX, clean
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window, apply_resets
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

TOOLTIP_MAX = 127  # Windows truncates tray tooltips beyond this


@dataclass(frozen=True, slots=True)
class View:
    usage: Usage | None  # with passed resets applied
    stale: bool
    error: Problem | None
    error_at: datetime | None
    state: DisplayState
    history: tuple[HistoryPoint, ...] = ()
    # When the schedule asks the API next, and when a manual refresh may go if not now.
    next_check: datetime | None = None
    next_manual: datetime | None = None
    # What a manual refresh would meet now (see `polling.manual_refresh`): the menu says when
    # "Refresh now" can do something instead of dropping the click.
    manual: Decision | None = None
    # How Claude Code's last turn failed, while that stands (its hooks told us).
    claude_code: ClaudeCodeEvent | None = None

    @property
    def windows(self) -> tuple[Window, ...]:
        return self.usage.windows if self.usage else ()

    def percent(self, window_id: str) -> float | None:
        window = self.usage.window(window_id) if self.usage else None
        return window.percent if window else None


def is_stale(state: State, now: datetime, interval: timedelta) -> bool:
    snapshot = state.snapshot
    if snapshot is None:
        return False
    failed_since = (
        state.error_at is not None
        and state.last_error is not None
        and state.error_at >= snapshot.fetched_at
    )
    return numbers_are_stale(
        (now - snapshot.fetched_at).total_seconds(),
        interval.total_seconds(),
        failed_since=failed_since,
        from_statusline=snapshot.source == "statusline",
    )


def superseded(state: State, now: datetime) -> bool:
    """A server-side problem is over once newer numbers arrived (from Claude Code, while the
    schedule has no reason to ask the API) and its wait has passed. Sign-in problems are not:
    they need new credentials, whatever the statusline shows."""
    error, snapshot = state.last_error, state.snapshot
    return (
        error is not None
        and not error.kind.needs_new_credentials
        and snapshot is not None
        and state.error_at is not None
        and snapshot.fetched_at > state.error_at
        and (error.retry_at is None or error.retry_at <= now)
    )


def refusal(event: ClaudeCodeEvent | None, usage: Usage | None) -> Problem | None:
    """Claude Code refused for "out of extra usage" while every plan window has room: the
    mismatch users suffer, as a problem with its known cure (see guidance)."""
    if event is None or not event.out_of_extra_usage:
        return None
    windows = usage.windows if usage is not None else ()
    if any(w.percent >= 100 for w in windows):
        return None  # a used-up window explains the refusal: no mismatch
    detail = f"request id {event.request_id}" if event.request_id else ""
    message = event.message or "Claude Code reported: out of extra usage."
    return Problem(ErrorKind.OUT_OF_EXTRA_USAGE, message, detail=detail)


def build_view(state: State, now: datetime, settings: Settings) -> View:
    interval = timedelta(seconds=settings.poll_interval)
    usage = apply_resets(state.snapshot, now) if state.snapshot else None
    stale = is_stale(state, now, interval)
    error = state.last_error
    error_at = state.error_at
    if superseded(state, now):
        error = None
    event = state.claude_code_event
    refused = refusal(event, usage)
    if (
        refused is not None
        and event is not None
        and not (error is not None and error.kind.needs_new_credentials)
    ):
        error, error_at = refused, event.at
    if refused is not None and error is refused:
        display = DisplayState.ERROR
    elif error is not None and error.kind.needs_new_credentials:
        display = DisplayState.SIGNED_OUT
    elif error is not None and error.kind == ErrorKind.RATE_LIMITED:
        display = DisplayState.RATE_LIMITED
    elif usage is None:
        display = DisplayState.ERROR if error is not None else DisplayState.STARTING
    elif stale:
        display = DisplayState.STALE
    else:
        display = DisplayState.FRESH
    return View(
        usage=usage,
        stale=stale,
        error=error,
        error_at=error_at,
        state=display,
        history=state.history,
        next_check=next_check(state, now, interval),
        next_manual=next_manual(state, now, interval),
        manual=manual_refresh(state, now, interval),
        claude_code=event,
    )


# -- words -----------------------------------------------------------------------------------


def duration(delta: timedelta) -> str:
    """'2 h 13 min', '5 min', 'under a minute', '3 d 4 h'."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "under a minute"
    minutes = seconds // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def ago(moment: datetime, now: datetime) -> str:
    delta = now - moment
    if delta < timedelta(minutes=1):
        return "just now"
    return f"{duration(delta)} ago"


def window_line(window: Window, now: datetime, at: Clock = clock) -> str:
    """'5-hour session  42 % · resets 14:30 (in 2 h 13 min)'."""
    # The label may be the server's own words (a model's display name): shown safe and short.
    text = f"{clean(window.label)}: {window.percent:.0f} %"
    if window.resets_at is not None:
        text += f" · resets {at(window.resets_at)} (in {duration(window.resets_at - now)})"
    if window.as_of is not None:
        text += f" (as of {at(window.as_of)})"
    return text


def money(amount: float, currency: str | None) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get((currency or "USD").upper())
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {clean(currency or '', 12)}"


def extra_usage_line(extra: ExtraUsage, at: Clock = clock) -> str:
    as_of = f" (as of {at(extra.as_of)})" if extra.as_of is not None else ""
    if not extra.enabled:
        return f"Extra usage: off{as_of}"
    used = money(extra.used or 0.0, extra.currency)
    if extra.limit is None:
        return f"Extra usage: {used} (no monthly limit){as_of}"
    return f"Extra usage: {used} of {money(extra.limit, extra.currency)}{as_of}"


def source_line(usage: Usage, now: datetime, *, stale: bool = False, at: Clock = clock) -> str:
    """Where the numbers came from and when: "Updated 3 min ago" while they are fresh; once
    stale, the clock time they are from and their age ("just now" only for fresh numbers)."""
    origin = {
        "statusline": "from Claude Code's status line",
        "claude_code": "from Claude Code's /usage",
    }.get(usage.source, "from the usage service")
    if not stale:
        return f"Updated {ago(usage.fetched_at, now)} · {origin}"
    age = duration(max(now - usage.fetched_at, timedelta(0)))
    return f"Numbers from {at(usage.fetched_at)} ({age} old) · {origin}"


def error_line(view: View, at: Clock = clock) -> str | None:
    if view.error is None:
        return None
    if view.error.kind == ErrorKind.OUT_OF_EXTRA_USAGE:
        event = view.claude_code
        by_claude_code = event is not None and event.out_of_extra_usage
        return out_of_extra_usage_line(
            view.percent(FIVE_HOUR), view.percent(SEVEN_DAY), by_claude_code=by_claude_code
        )
    return headline(view.error, at)


def pace_line(view: View, window_id: str, now: datetime, at: Clock = clock) -> str | None:
    """'At this pace the session limit is reached at 13:50', only if that comes before the reset."""
    window = view.usage.window(window_id) if view.usage else None
    if window is None or window.resets_at is None or window.percent >= 100:
        return None
    reach = pace_reach(view.history, window, now)
    if reach is None or reach >= window.resets_at:
        return None
    return f"At this pace the {window.kind.pace_name} limit is reached at {at(reach)}"


def tooltip(view: View, now: datetime) -> str:
    """'Claude · 5h 42 % (resets 14:30) · week 18 %', or the state in words; at most 127 chars."""
    parts = ["Claude"]
    if view.usage is not None:
        session = view.usage.window(FIVE_HOUR)
        week = view.usage.window(SEVEN_DAY)
        if session is not None:
            text = f"5h {session.percent:.0f} %"
            if session.resets_at is not None:
                text += f" (resets {clock(session.resets_at)})"
            parts.append(text)
        if week is not None:
            parts.append(f"week {week.percent:.0f} %")
        if view.stale:
            parts.append(f"as of {clock(view.usage.fetched_at)}")
    line = error_line(view)
    if line is not None:
        parts.append(line)
    elif view.usage is None:
        parts.append("starting…")
    return clean(" · ".join(parts), TOOLTIP_MAX)


def status_json(view: View) -> dict[str, object]:
    """The `status --json` object: keys may be added later, never removed."""
    usage = view.usage
    extra = usage.extra_usage if usage else None
    error = view.error
    return {
        "windows": [
            {
                "id": w.id,
                "label": w.label,
                "percent": w.percent,
                "resets_at": w.resets_at.isoformat() if w.resets_at else None,
            }
            for w in view.windows
        ],
        "extra_usage": None
        if extra is None
        else {
            "enabled": extra.enabled,
            "used": extra.used,
            "limit": extra.limit,
            "currency": extra.currency,
            "percent": extra.percent,
        },
        "fetched_at": usage.fetched_at.isoformat() if usage else None,
        "source": usage.source if usage else None,
        "stale": view.stale,
        "error": None
        if error is None
        else {
            "kind": error.kind.value,
            "message": error.message,
            "retry_at": error.retry_at.isoformat() if error.retry_at else None,
        },
        "claude_code": None
        if view.claude_code is None
        else {
            "event": view.claude_code.event,
            "kind": view.claude_code.kind,
            "message": view.claude_code.message,
            "request_id": view.claude_code.request_id or None,
            "at": view.claude_code.at.isoformat(),
        },
    }


def summary_lines(view: View, now: datetime, at: Clock = clock) -> list[str]:
    """The numbers in words, one line each, as the menu and `status` both show them: every
    window, extra usage, the pace lines, and where the numbers came from and when (each moment
    as `at` names it)."""
    if view.usage is None:
        return []
    lines = [window_line(w, now, at) for w in view.windows]
    if view.usage.extra_usage is not None:
        lines.append(extra_usage_line(view.usage.extra_usage, at))
    for window in view.windows:
        pace = pace_line(view, window.id, now, at)
        if pace is not None:
            lines.append(pace)
    lines.append(source_line(view.usage, now, stale=view.stale, at=at))
    if view.error is None and view.next_check is not None:
        # With a problem its own line says when the next try is.
        lines.append(f"Next check {'now' if view.next_check <= now else at(view.next_check)}")
    said = claude_code_line(view, at)
    if said is not None:
        lines.append(said)
    return lines


def claude_code_line(view: View, at: Clock = clock) -> str | None:
    """A failure Claude Code reported, unless the problem line already says it (the refusal
    that is the problem); beside any other problem (a sign-in's, a rate limit of ours) it is
    news of its own."""
    event = view.claude_code
    if event is None or (
        view.error is not None and view.error.kind == ErrorKind.OUT_OF_EXTRA_USAGE
    ):
        return None
    # The kind is Claude Code's own word (from a hook's event file): shown safe and short.
    return f"Claude Code's last turn ({at(event.at)}): {clean(event.describe())}"


def status_lines(view: View, now: datetime) -> list[str]:
    """Human `status` output."""
    lines = summary_lines(view, now)
    if view.usage is None:
        # Without numbers the summary is empty; Claude Code's failure still counts.
        said = claude_code_line(view)
        if said is not None:
            lines.append(said)
    kind = view.error.kind if view.error is not None else None
    # Only where a refresh can go at all: not while only a new sign-in helps, nor during a rate
    # limit (its problem line says when the next try is).
    can_refresh = kind is None or not (kind.needs_new_credentials or kind == ErrorKind.RATE_LIMITED)
    if view.next_manual is not None and can_refresh:
        lines.append(f"Next manual refresh {clock(view.next_manual)} ({SPACED_OUT})")
    if view.error is not None:
        problem = error_line(view) or ""
        lines.append(f"Problem: {problem}")
        # A stored message may come from a state file we did not write, the detail quotes the
        # server: both shown safe and short.
        message = unsaid(clean(view.error.message, MESSAGE_MAX), problem)
        if message:
            lines.append(f"  {message}")
        if view.error.shown_detail:
            lines.append(f"  ({clean(view.error.shown_detail, MESSAGE_MAX)})")
    return lines


def unsaid(message: str, headline_text: str) -> str:
    """What `message` adds to the headline above it: "" when it only repeats it ("Rate limited
    by the usage service."), the rest when it starts with it ("Not signed in to Claude Code: no
    sign-in found in …" → "No sign-in found in …")."""
    said = message.rstrip(". ")
    if headline_text.startswith(said):
        return ""
    for separator in (": ", "; ", ". "):
        head, sep, rest = message.partition(separator)
        if sep and rest and headline_text.startswith(head):
            return rest[0].upper() + rest[1:]
    return message

"""One plain-text report for a bug filing: what a maintainer or support needs, and nothing else.

Versions, OS, plan, each window's numbers and times, the last problem, the last requests with
their request ids and Retry-After, the schedule's answer, and which sources are fresh. Never the
token, and the user's home written as `~` wherever a message names a path under it (so no user
name). Times are in UTC, as support reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from claude_usage_gauge.core.state import RequestRecord
from claude_usage_gauge.core.view import View, error_line, summary_lines


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the shell knows that the view does not."""

    version: str
    python: str
    system: str  # the OS and its release, as platform.platform() says it
    plan: str | None
    tray: str  # the tray backend and why
    next_request: str  # the schedule's answer, in words
    sources: tuple[str, ...] = ()  # one line per source of numbers, with its age


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def without_home(text: str, home: str) -> str:
    """`text` with every path under `home` written from `~`."""
    home = home.rstrip("/\\")
    if len(home) < 2:  # "/" or "": nothing that names a user
        return text
    for separator in ("/", "\\"):
        text = text.replace(home + separator, "~" + separator)
    return text


def build_report(
    view: View, now: datetime, facts: ReportFacts, requests: tuple[RequestRecord, ...]
) -> str:
    lines = [
        "claude-usage-gauge report",
        f"created: {utc(now)}",
        f"version: claude-usage-gauge {facts.version}, Python {facts.python}",
        f"system: {facts.system}",
        f"tray: {facts.tray}",
        f"plan: {facts.plan or 'unknown'}",
        "",
        "Numbers",
    ]
    if view.usage is None:
        lines.append("  none yet")
    else:
        lines.append(
            f"  from {view.usage.source}, fetched {utc(view.usage.fetched_at)}, "
            f"stale: {'yes' if view.stale else 'no'}"
        )
        for window in view.windows:
            lines.append(
                f"  {window.id}: {window.percent:g} %, resets {utc(window.resets_at)}"
                + (f" (as of {utc(window.as_of)})" if window.as_of else "")
            )
        lines += [f"  {line}" for line in summary_lines(view, now, utc)[len(view.windows) :]]
    lines += ["", "Problem"]
    if view.error is None:
        lines.append("  none")
    else:
        since = f"{view.error.kind.value} since {utc(view.error_at)}"
        lines.append(f"  {since}: {error_line(view, utc)}")
        lines.append(f"  message: {view.error.message}")
        if view.error.detail:
            lines.append(f"  detail: {view.error.detail}")
        if view.error.retry_at:
            lines.append(f"  next try: {utc(view.error.retry_at)}")
    event = view.claude_code
    if event is not None:
        lines += [
            "",
            "Claude Code's last turn (its StopFailure hook)",
            f"  {utc(event.at)}: {event.kind or '-'}: {event.message or '-'}",
            f"  request id: {event.request_id or '-'}",
        ]
    lines += ["", "Requests to the usage endpoint (newest last)"]
    if not requests:
        lines.append("  none recorded")
    for record in requests:
        retry = f", retry after {utc(record.retry_at)}" if record.retry_at else ""
        lines.append(
            f"  {utc(record.at)}  {record.result}  request id {record.request_id or '-'}{retry}"
        )
    lines += ["", f"Next request: {facts.next_request}", "", "Sources"]
    lines += [f"  {source}" for source in facts.sources] or ["  -"]
    return "\n".join(lines) + "\n"

"""The bug report: every fact support needs, in plain text, and no token or path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.report import ReportFacts, build_report
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import MAX_REQUEST_LOG, RequestRecord, State
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window
from claude_usage_gauge.core.view import build_view
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
FACTS = ReportFacts(
    version="0.1.0",
    python="3.11.7",
    system="Linux-6.1-x86_64",
    plan="max",
    tray="sni (a StatusNotifierWatcher is on the session bus)",
    next_request="14:35 (rate limited)",
    sources=("shown numbers: from api, 3 min ago",),
)


def state() -> State:
    usage = Usage(
        (
            Window(FIVE_HOUR, "5-hour session", 5.0, NOW + timedelta(hours=2)),
            Window(SEVEN_DAY, "Week (all models)", 18.0, NOW + timedelta(days=3)),
        ),
        ExtraUsage(True, 12.5, 50.0, "USD", 25.0),
        NOW - timedelta(minutes=3),
        "api",
    )
    problem = Problem(
        ErrorKind.RATE_LIMITED,
        "Rate limited by the usage service.",
        retry_at=NOW + timedelta(minutes=35),
        detail="HTTP 429",
        request_id="req_011CZZZ",
    )
    requests = (
        RequestRecord(NOW - timedelta(minutes=3), "ok", "req_011CAAA"),
        RequestRecord(
            NOW - timedelta(minutes=1), "rate_limited", "req_011CZZZ", NOW + timedelta(minutes=35)
        ),
    )
    event = ClaudeCodeEvent(
        "StopFailure", NOW, "invalid_request", "You're out of extra usage.", "req_9"
    )
    return State(
        salt=b"s" * 16,
        snapshot=usage,
        last_error=problem,
        error_at=NOW - timedelta(minutes=1),
        request_log=requests,
        claude_code_event=event,
    )


def test_the_report_holds_what_support_asks_for() -> None:
    current = state()
    text = build_report(build_view(current, NOW, Settings()), NOW, FACTS, current.request_log)
    for expected in (
        "claude-usage-gauge 0.1.0, Python 3.11.7",
        "system: Linux-6.1-x86_64",
        "plan: max",
        "tray: sni",
        "five_hour: 5 %, resets 2026-11-29 14:00:00 UTC",
        "seven_day: 18 %, resets 2026-12-02 12:00:00 UTC",
        "Extra usage: $12.50 of $50.00",
        "2026-11-29 11:57:00 UTC  ok  request id req_011CAAA",
        "rate_limited  request id req_011CZZZ, retry after 2026-11-29 12:35:00 UTC",
        "Claude Code's last turn (its StopFailure hook)",
        "request id: req_9",
        "Next request: 14:35 (rate limited)",
        "shown numbers: from api, 3 min ago",
    ):
        assert expected in text, expected
    assert text.endswith("\n")


def test_an_empty_state_still_reports() -> None:
    empty = State()
    text = build_report(build_view(empty, NOW, Settings()), NOW, FACTS, ())
    assert "none yet" in text
    assert "Problem\n  none" in text
    assert "none recorded" in text


def test_request_records_round_trip_and_keep_the_newest_few() -> None:
    current = State(salt=b"s" * 16)
    for i in range(MAX_REQUEST_LOG + 3):
        current = current.with_logged_request(
            RequestRecord(NOW + timedelta(minutes=i), "ok", f"req_{i}")
        )
    assert len(current.request_log) == MAX_REQUEST_LOG
    assert current.request_log[-1].request_id == f"req_{MAX_REQUEST_LOG + 2}"
    again = State.from_json(current.to_json())
    assert again is not None
    assert again.request_log == current.request_log


def test_odd_request_records_are_dropped_not_fatal() -> None:
    raw = State(salt=b"s" * 16).to_json()
    raw["request_log"] = [[1, "ok", "x", None], "junk", [NOW.isoformat(), "ok", "req_1", None], []]
    again = State.from_json(raw)
    assert again is not None
    assert [r.request_id for r in again.request_log] == ["req_1"]


def test_paths_under_the_home_are_written_from_tilde() -> None:
    from claude_usage_gauge.core.report import without_home

    text = "no sign-in in /home/ann/.claude/.credentials.json; see /home/annex/x and /tmp/y"
    assert without_home(text, "/home/ann/") == (
        "no sign-in in ~/.claude/.credentials.json; see /home/annex/x and /tmp/y"
    )
    assert without_home("C:\\Users\\ann\\.claude\\x", "C:\\Users\\ann") == "~\\.claude\\x"
    assert without_home("/x/y", "/") == "/x/y"

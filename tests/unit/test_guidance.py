"""What the user is told for each problem, on each platform."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.guidance import (
    USAGE_PAGE,
    clock,
    headline,
    help_steps,
    out_of_extra_usage_line,
)

PLATFORMS = ["linux", "darwin", "win32"]


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_kind_has_a_short_distinct_headline(kind: ErrorKind) -> None:
    text = headline(Problem(kind, "server text that must not leak into the headline"))
    assert text
    assert "server text" not in text
    # It shares the tooltip with the numbers: keep it short.
    assert len(text) <= 64


def test_headlines_tell_kinds_apart() -> None:
    texts = {headline(Problem(kind, "x")) for kind in ErrorKind}
    assert len(texts) == len(ErrorKind)


def test_rate_limit_headline_says_when() -> None:
    retry_at = datetime.now(UTC).replace(hour=14, minute=30, second=0, microsecond=0)
    assert headline(Problem(ErrorKind.RATE_LIMITED, "x", retry_at=retry_at)).endswith("14:30")
    assert "later" in headline(Problem(ErrorKind.RATE_LIMITED, "x"))


def test_clock_adds_the_day_only_when_not_today() -> None:
    today = datetime.now(UTC).replace(hour=9, minute=5, second=0, microsecond=0)
    assert clock(today) == "09:05"
    other = clock(today + timedelta(days=2))
    assert other.endswith("09:05")
    assert other != "09:05"


def test_clock_uses_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    moment = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert clock(moment).endswith("13:30")


def test_out_of_extra_usage_line_shows_the_plan_percents() -> None:
    line = out_of_extra_usage_line(5.2, 18.0)
    assert line == (
        "Claude Code is refused: out of extra usage — "
        "but your plan is at 5 % (5-hour) / 18 % (week)"
    )
    assert "12 % (5-hour)" in out_of_extra_usage_line(12.4, None)
    assert "%" not in out_of_extra_usage_line(None, None)
    assert "Sign-in help" in out_of_extra_usage_line(None, None)


def test_the_cure_for_out_of_extra_usage_comes_in_the_order_users_report() -> None:
    steps = help_steps(ErrorKind.OUT_OF_EXTRA_USAGE, "linux")
    text = "\n".join(steps)
    assert (
        text.index("/login") < text.index("Reset credentials file") < text.index("extra usage is")
    )
    # Each step stands alone in the numbered list (no heading followed by sub-steps).
    assert not any(step.endswith(":") for step in steps)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", [None, *ErrorKind])
def test_every_kind_has_help_on_every_platform(kind: ErrorKind | None, platform: str) -> None:
    steps = help_steps(kind, platform)
    assert steps
    assert all(step.strip() for step in steps)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_out_of_extra_usage_help_offers_the_safe_reset_and_login(platform: str) -> None:
    text = "\n".join(help_steps(ErrorKind.OUT_OF_EXTRA_USAGE, platform))
    assert "Reset credentials file" in text
    assert "Restore credentials" in text
    assert "/login" in text
    assert "nothing is deleted" in text
    assert ("Keychain" in text) == (platform == "darwin")


def test_login_steps_name_the_platform_terminal() -> None:
    assert "PowerShell" in "\n".join(help_steps(ErrorKind.UNAUTHORIZED, "win32"))
    assert "Terminal" in "\n".join(help_steps(ErrorKind.UNAUTHORIZED, "darwin"))
    assert "a terminal" in "\n".join(help_steps(ErrorKind.UNAUTHORIZED, "linux"))


def test_expired_token_help_never_suggests_we_refresh() -> None:
    text = "\n".join(help_steps(ErrorKind.TOKEN_EXPIRED, "linux"))
    assert "never refreshes" in text
    assert "Reset credentials" not in text


def test_rate_limit_help_points_at_the_web_page() -> None:
    assert any(USAGE_PAGE in step for step in help_steps(ErrorKind.RATE_LIMITED, "linux"))

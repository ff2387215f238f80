"""The history page as text: self-contained, escaped, and saying what the week looked like.

How it looks is checked in a real browser (tests/system/test_history_page.py); here, what it says.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

from claude_usage_gauge.core.history_page import history_page
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from tests.support.usage_week import usage_week

NOW = datetime(2026, 3, 10, 15, 20, tzinfo=UTC)  # a Tuesday afternoon, mid-session
CLASSES = ("warn", "crit")


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    tags.close()
    return tags


def week_page() -> str:
    return history_page(usage_week(NOW), NOW, tz=UTC)


def test_the_page_needs_nothing_from_outside() -> None:
    page = week_page()
    tags = parse(page)
    names = {tag for tag, _ in tags.tags}
    assert "script" not in names
    assert not names & {"img", "link", "iframe", "object", "embed"}
    # No address anywhere: nothing to fetch, and the policy forbids it anyway.
    assert not re.search(r"https?://|url\(|@import", page)
    policy = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv")]
    assert policy
    assert policy[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert "prefers-color-scheme: dark" in page


def test_one_chart_per_window_with_thresholds_resets_and_the_pace() -> None:
    page = week_page()
    tags = parse(page)
    assert [t for t, _ in tags.tags].count("svg") == 2
    text = " ".join(tags.text)
    assert "5-hour session" in text
    assert "Week (all models)" in text
    # The thresholds, once per chart: 80 % a warning, 95 % critical.
    marks = [a.get("class") for t, a in tags.tags if t == "line" and a.get("class") in CLASSES]
    assert marks == ["warn", "crit"] * 2
    # A week of working days has ten 5-hour resets in it, plus the upcoming one; the week one.
    lines = [a for t, a in tags.tags if t == "line" and a.get("class") == "reset"]
    assert len(lines) == 11 + 2
    # The session climbs 0.3 % a minute from 24 %: at that pace it reaches 89 % by 19:00.
    assert "Now 24 % · resets Tue 19:00 · at this pace 89 % at the reset" in text
    assert "Now 25 % · resets Wed 03:00 · at this pace 28 % at the reset" in text
    assert len([a for t, a in tags.tags if t == "polyline" and a.get("class") == "pace"]) == 2


def test_a_pace_that_reaches_the_limit_says_when() -> None:
    state = usage_week(NOW)
    fast = [
        replace(p, percents={**p.percents, FIVE_HOUR: 10.0 + i * 2.0})
        for i, p in enumerate(state.history[-20:])
    ]
    assert state.snapshot is not None
    snapshot = replace(
        state.snapshot,
        windows=tuple(
            replace(w, percent=fast[-1].percents[FIVE_HOUR]) if w.id == FIVE_HOUR else w
            for w in state.snapshot.windows
        ),
    )
    state = replace(state, history=state.history[:-20] + tuple(fast), snapshot=snapshot)
    text = " ".join(parse(history_page(state, NOW, tz=UTC)).text)
    assert re.search(r"at this pace 100 % at Tue \d\d:\d\d, before the reset", text), text


def test_the_time_zone_of_the_reader_is_used() -> None:
    plus_two = history_page(usage_week(NOW), NOW, tz=timezone(timedelta(hours=2)))
    assert "resets Tue 21:00" in " ".join(parse(plus_two).text)


def test_the_page_names_the_zone_of_its_times() -> None:
    """Read later or elsewhere, the page's clock times need their zone: "Made … CET"."""
    from zoneinfo import ZoneInfo

    berlin = " ".join(parse(history_page(usage_week(NOW), NOW, tz=ZoneInfo("Europe/Berlin"))).text)
    india = " ".join(parse(history_page(usage_week(NOW), NOW, tz=ZoneInfo("Asia/Kolkata"))).text)
    plus_two = " ".join(
        parse(history_page(usage_week(NOW), NOW, tz=timezone(timedelta(hours=2)))).text
    )

    assert "Made Tue 10 Mar 2026, 16:20 CET by" in berlin
    assert "Made Tue 10 Mar 2026, 20:50 IST by" in india
    assert "Made Tue 10 Mar 2026, 17:20 UTC+02 by" in plus_two


def test_gaps_break_the_line() -> None:
    tags = parse(week_page())
    week_runs = [a for t, a in tags.tags if t == "polyline" and a.get("class") == "use"]
    # The laptop was off one night: both lines break there (two pieces each).
    assert len(week_runs) == 2 + 2


def test_labels_from_the_service_are_escaped() -> None:
    hostile = '<script>alert(1)</script><img src="http://x.invalid/a.png">'
    usage = Usage(
        (Window("seven_day_odd", hostile, 12.0, NOW + timedelta(days=2)),), None, NOW, "api"
    )
    state = replace(State(), snapshot=usage).with_snapshot(usage)
    page = history_page(state, NOW, tz=UTC)
    tags = parse(page)
    assert "script" not in {t for t, _ in tags.tags}
    assert "img" not in {t for t, _ in tags.tags}
    assert hostile in " ".join(tags.text)  # shown, as text


def test_an_empty_store_says_so() -> None:
    text = " ".join(parse(history_page(State(), NOW, tz=UTC)).text)
    assert "No usage recorded yet." in text


def test_a_window_seen_only_in_the_history_is_drawn_too() -> None:
    state = usage_week(NOW)
    assert state.snapshot is not None
    only_week = replace(
        state.snapshot, windows=tuple(w for w in state.snapshot.windows if w.id == SEVEN_DAY)
    )
    text = " ".join(parse(history_page(replace(state, snapshot=only_week), NOW, tz=UTC)).text)
    assert "5-hour session" in text

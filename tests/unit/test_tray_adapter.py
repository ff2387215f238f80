"""The tray adapter's own decisions: when usage needs attention, when a frame is news, and which
topic each notification goes to. A recording backend stands in for the toolkit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.menu import Entry, MenuContext
from claude_usage_gauge.core.notices import NoticeMemory
from claude_usage_gauge.core.schedule import MANUAL_SPACING, Gate
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage, Window
from claude_usage_gauge.core.view import View
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.desktop.tray import APP_TOPIC, Frame, Tray, needs_attention
from claude_usage_gauge.testing.session_bus import wait_until

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _view(
    percent: float = 20.0,
    *,
    kind: ErrorKind | None = None,
    state: DisplayState = DisplayState.FRESH,
    retry_in: timedelta | None = None,
    since: timedelta = timedelta(0),
) -> View:
    windows = (Window(FIVE_HOUR, "5-hour", percent), Window(SEVEN_DAY, "Week", 10.0))
    error = None
    if kind is not None:
        retry_at = NOW + retry_in if retry_in is not None else None
        error = Problem(kind, "words", retry_at=retry_at)
    return View(Usage(windows, None, NOW, "api"), False, error, NOW - since, state)


def test_plain_usage_needs_no_attention() -> None:
    assert not needs_attention(_view(), NOW)
    assert not needs_attention(_view(99.9), NOW)


@pytest.mark.parametrize(
    "view",
    [
        _view(state=DisplayState.SIGNED_OUT, kind=ErrorKind.TOKEN_EXPIRED),
        _view(kind=ErrorKind.OUT_OF_EXTRA_USAGE),
        _view(100.0),
        _view(
            state=DisplayState.RATE_LIMITED,
            kind=ErrorKind.RATE_LIMITED,
            retry_in=timedelta(minutes=40),
        ),
        _view(
            state=DisplayState.RATE_LIMITED,
            kind=ErrorKind.RATE_LIMITED,
            since=timedelta(minutes=20),
        ),
    ],
    ids=["signed-out", "claude-code-refused", "limit-reached", "long-wait", "long-blocked"],
)
def test_a_block_needs_attention(view: View) -> None:
    assert needs_attention(view, NOW)


def test_a_short_rate_limit_is_no_alarm() -> None:
    short = _view(
        state=DisplayState.RATE_LIMITED, kind=ErrorKind.RATE_LIMITED, retry_in=timedelta(minutes=2)
    )
    assert not needs_attention(short, NOW)


class RecordingTray(Tray):
    def __init__(self) -> None:
        super().__init__(Settings(), {}, MenuContext, lambda: None)
        self.frames: list[Frame] = []
        self.notes: list[tuple[str, str]] = []

    def run(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def notify(self, title: str, message: str, topic: str = APP_TOPIC) -> None:
        self.notes.append((title, topic))

    def _present(self, frame: Frame) -> None:
        self.frames.append(frame)


def _state(percent: float) -> State:
    fetched = datetime.now(UTC)
    windows = (Window(FIVE_HOUR, "5-hour session", percent), Window(SEVEN_DAY, "Week", 10.0))
    return State(snapshot=Usage(windows, None, fetched, "api"))


def test_a_republished_state_is_not_news_but_a_rebuild_is() -> None:
    tray = RecordingTray()
    tray.show(_state(20.0))
    same = tray.frames[0].view.usage
    assert same is not None
    tray.show(State(snapshot=same))  # an equal state, as the poller republishes every minute
    tray.rebuild()
    tray.show(_state(30.0))
    assert [frame.changed for frame in tray.frames] == [True, False, True, True]


def test_notices_go_to_their_topics() -> None:
    tray = RecordingTray()
    tray.show(_state(20.0))
    tray.show(_state(85.0))
    assert tray.notes == [("5-hour session at 85 %", "threshold:five_hour")]


def test_a_held_back_refresh_comes_back_without_anything_else_changing() -> None:
    tray = RecordingTray()
    state = _state(20.0).with_gate("fp", Gate(last_success=datetime.now(UTC)))
    # A manual refresh a moment ago: "Refresh now" waits out the spacing, then is a click again.
    state = replace(state, last_manual=datetime.now(UTC) - MANUAL_SPACING + timedelta(seconds=1))
    tray.show(state)
    first = next(e for e in tray.menu_entries(tray.frames[0]) if e.action == "refresh")
    assert not first.enabled
    assert wait_until(lambda: len(tray.frames) > 1, 10), "the menu was not redrawn"
    again = next(e for e in tray.menu_entries(tray.frames[-1]) if e.action == "refresh")
    assert again == Entry("Refresh now", action="refresh")


def test_the_told_thresholds_are_saved_when_they_change_and_only_then(tmp_path: Path) -> None:
    from claude_usage_gauge.notice_memory_file import load_notice_memory, save_notice_memory

    path = tmp_path / "state" / "notices.json"
    saves: list[NoticeMemory] = []

    def save(memory: NoticeMemory) -> None:
        saves.append(memory)
        save_notice_memory(path, memory)

    tray = RecordingTray()
    tray.remember_notices(load_notice_memory(path), save)
    tray.show(_state(97.0))
    tray.show(_state(97.5))
    tray.rebuild()
    assert tray.notes == [("5-hour session at 97 %", "threshold:five_hour")]
    assert len(saves) == 2  # the told 95 %, then the last percent seen moved
    assert path.stat().st_mode & 0o777 == 0o600

    # The next run: the same period was told already.
    again = RecordingTray()
    again.remember_notices(load_notice_memory(path), save)
    again.show(_state(97.0))
    assert again.notes == []


def test_an_unreadable_notice_file_costs_at_most_one_repeat(tmp_path: Path) -> None:
    from claude_usage_gauge.notice_memory_file import load_notice_memory

    path = tmp_path / "notices.json"
    path.write_text("{not json")
    tray = RecordingTray()
    tray.remember_notices(load_notice_memory(path), None)
    tray.show(_state(97.0))
    assert tray.notes == [("5-hour session at 97 %", "threshold:five_hour")]

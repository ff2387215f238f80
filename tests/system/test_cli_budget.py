"""`status --refresh` in a loop no longer escapes the budget: every process shares one hourly
count of requests in the store, and the command says when the next manual refresh may go."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from claude_usage_gauge.core.schedule import BURST
from claude_usage_gauge.core.state import State
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import CliHome, seed_home


def store_of(home: CliHome) -> Store:
    return Store(AppPaths(home.state_dir, home.root / "d", home.root / "l", home.root / "c"))


def with_requests(count: int, since: datetime, every: timedelta) -> Callable[[State], State]:
    """`count` more requests (by other processes), `every` apart from `since`."""

    def change(state: State) -> State:
        for i in range(count):
            state = state.with_request(since + every * i)
        return state

    return change


def test_past_the_budget_a_manual_refresh_waits_and_says_until_when(tmp_path: Path) -> None:
    seeded, _ = seed_home(tmp_path / "seed")  # one request made by the real command
    with FakeUsageAPI() as api:
        home = seeded.clone(tmp_path / "home", api.url)
        # A loop in another process sent a request every 20 s for the last few minutes.
        since = datetime.now(UTC) - timedelta(minutes=3)
        store_of(home).update(with_requests(BURST * 2, since, timedelta(seconds=20)))

        refused = home.run("status", "--refresh", env={"TZ": "Asia/Kolkata"})
        home.assert_clean(refused)
        assert refused.returncode == 3  # no request sent: documented in `status --help`
        assert api.request_count == 0
        assert "5-hour session: 42 %" in refused.stdout  # the stored numbers still show
        assert re.search(r"^Next manual refresh \d\d:\d\d \(spaced out\)$", refused.stdout, re.M)
        assert "hourly" not in refused.stdout + refused.stderr  # no "this hour is used up"
        stated = re.fullmatch(
            r"No request was sent: manual refreshes are spaced out \(5 back to back, then about "
            r"one every 2\.5 min\)\. "
            r"The next one may go at (\d\d):(\d\d) IST\.\n",
            refused.stderr,
        )
        assert stated is not None, refused.stderr
        local_now = datetime.now(ZoneInfo("Asia/Kolkata"))
        at = local_now.replace(hour=int(stated[1]), minute=int(stated[2]))
        # Later, by the refill time of the requests owed (a minute's rounding; midnight aside).
        wait = (at - local_now).total_seconds()
        assert -60 <= wait <= 20 * 60 or at.hour == 0, wait


def test_within_the_budget_a_manual_refresh_is_instant(tmp_path: Path) -> None:
    seeded, _ = seed_home(tmp_path / "seed")
    with FakeUsageAPI() as api:
        home = seeded.clone(tmp_path / "home", api.url)
        # The schedule's own polls, every 3 minutes for the last hour: the click still goes.
        since = datetime.now(UTC) - timedelta(minutes=59)
        store_of(home).update(with_requests(19, since, timedelta(minutes=3)))

        sent = home.run("status", "--refresh")
        home.assert_clean(sent)
        assert api.request_count == 1
        assert sent.returncode == 0
        assert sent.stderr == ""
        assert "Next manual refresh" not in sent.stdout
        assert "Next check" in sent.stdout

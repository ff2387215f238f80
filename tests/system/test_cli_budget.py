"""`status --refresh` in a loop no longer escapes the budget: every process shares one hourly
count of requests in the store, and the command says when the next manual refresh may go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.core.schedule import hourly_budget
from claude_usage_gauge.core.staleness import DEFAULT_POLL_INTERVAL
from claude_usage_gauge.core.state import State
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.cli_home import CliHome, seed_home

BUDGET = hourly_budget(timedelta(seconds=DEFAULT_POLL_INTERVAL))


def store_of(home: CliHome) -> Store:
    return Store(AppPaths(home.state_dir, home.root / "d", home.root / "l", home.root / "c"))


def with_requests(count: int, since: datetime) -> Callable[[State], State]:
    """`count` more requests (by other processes), a minute apart from `since`."""

    def change(state: State) -> State:
        for i in range(count):
            state = state.with_request(since + timedelta(minutes=i))
        return state

    return change


def test_past_the_hourly_budget_a_manual_refresh_waits_and_says_until_when(
    tmp_path: Path,
) -> None:
    seeded, _ = seed_home(tmp_path / "seed")  # one request made by the real command
    with FakeUsageAPI() as api:
        home = seeded.clone(tmp_path / "home", api.url)
        since = datetime.now(UTC) - timedelta(minutes=50)
        store_of(home).update(with_requests(BUDGET - 1, since))

        refused = home.run("status", "--refresh")
        home.assert_clean(refused)
        assert refused.returncode == 0
        assert api.request_count == 0
        # The oldest of the hour's requests leaves the window at `since` + 1 h.
        expected = (since + timedelta(hours=1)).astimezone().strftime("%H:%M")
        assert f"Next manual refresh {expected} (hourly limit)" in refused.stdout


def test_within_the_budget_a_manual_refresh_is_instant(tmp_path: Path) -> None:
    seeded, _ = seed_home(tmp_path / "seed")
    with FakeUsageAPI() as api:
        home = seeded.clone(tmp_path / "home", api.url)
        since = datetime.now(UTC) - timedelta(minutes=50)
        # With this one and the seed's, two short of the budget: the next click is free too.
        store_of(home).update(with_requests(BUDGET - 3, since))

        sent = home.run("status", "--refresh")
        home.assert_clean(sent)
        assert api.request_count == 1
        assert "Next manual refresh" not in sent.stdout
        assert "Next check" in sent.stdout

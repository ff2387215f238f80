"""One refresh cycle against the real store, real credentials files and the fake API on loopback.

The clock is fake (the schedule's arithmetic is exact); the request, the HTTP client, the store's
locks and files are all real.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.schedule import (
    AFTER_RESET,
    BURST,
    MANUAL_SPACING,
    REQUEST_WINDOW,
    hourly_budget,
)
from claude_usage_gauge.core.view import build_view
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import (
    FakeUsageAPI,
    Reply,
    ok,
    rate_limited,
    unauthorized,
)
from tests.support.clock import FakeClock, start_time
from tests.support.temp_home import INTERVAL, NEW_TOKEN, TOKEN, TempHome


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_time())


@pytest.fixture
def home(tmp_path: Path, clock: FakeClock) -> TempHome:
    made = TempHome(tmp_path, clock)
    made.write_credentials()
    return made


@pytest.fixture
def api() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI() as fake:
        yield fake


def files_hold(root: Path, secret: str) -> list[Path]:
    """Every file under `root` (but Claude Code's own dir) whose bytes contain `secret`."""
    found = []
    for path in root.rglob("*"):
        ours = "claude" not in path.relative_to(root).parts[:1]
        if ours and path.is_file() and secret.encode() in path.read_bytes():
            found.append(path)
    return found


# -- the interval ----------------------------------------------------------------------------


def test_first_refresh_fetches_and_stores(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    outcome = refresher.refresh()

    assert outcome.requested
    assert api.request_count == 1
    stored = refresher.store.read()
    assert stored.snapshot is not None
    assert stored.snapshot.source == "api"
    assert stored.snapshot.fetched_at == clock()
    assert stored.snapshot.window(FIVE_HOUR) is not None
    assert stored.snapshot.window(FIVE_HOUR).percent == 42.0  # type: ignore[union-attr]
    assert stored.snapshot.window(SEVEN_DAY).percent == 18.0  # type: ignore[union-attr]
    assert stored.last_error is None
    assert outcome.state == stored
    # The store keeps a salted fingerprint, never the token.
    assert files_hold(home.root, TOKEN) == []


def test_second_refresh_within_the_interval_does_not_fetch(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    first = clock()
    refresher.refresh()

    clock.advance(INTERVAL - 1)
    outcome = refresher.refresh()
    assert not outcome.requested
    assert api.request_count == 1
    assert outcome.decision is not None
    assert outcome.decision.at == first + timedelta(seconds=INTERVAL)
    assert outcome.state.snapshot is not None

    clock.advance(1)
    assert refresher.refresh().requested
    assert api.request_count == 2


def test_two_refreshers_on_one_store_share_the_interval(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    # The tray and `status` in another process: together no more requests than one of them.
    tray = home.refresher(api)
    status = home.refresher(api, store=Store(home.paths()))
    assert tray.refresh().requested
    clock.advance(30)
    assert not status.refresh().requested
    assert api.request_count == 1


# -- manual refresh --------------------------------------------------------------------------


def test_manual_refresh_fetches_but_not_twice_within_ten_seconds(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    refresher.refresh()
    assert api.request_count == 1

    manual_at = clock.advance(5)
    assert refresher.refresh(manual=True).requested  # fresh data does not stop a manual refresh
    assert api.request_count == 2

    clock.advance(4)
    outcome = refresher.refresh(manual=True)
    assert not outcome.requested
    assert api.request_count == 2
    assert outcome.decision is not None
    assert outcome.decision.at == manual_at + MANUAL_SPACING

    clock.set(manual_at + MANUAL_SPACING)
    assert refresher.refresh(manual=True).requested
    assert api.request_count == 3


# -- 429 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["0", None, "120"])
def test_rate_limit_holds_every_request_until_the_gate_opens(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock, retry_after: str | None
) -> None:
    api.push(rate_limited(retry_after))
    refresher = home.refresher(api)
    failed_at = clock()

    outcome = refresher.refresh()
    assert outcome.requested
    error = outcome.state.last_error
    assert error is not None
    assert error.kind == ErrorKind.RATE_LIMITED
    assert error.retry_at is not None
    if retry_after == "120":
        assert error.retry_at == failed_at + timedelta(seconds=120)
    else:
        # No usable Retry-After: the first 5-minute step, with jitter only ever later.
        assert error.retry_at == failed_at + timedelta(minutes=5) * 1.05
    assert refresher.store.read().last_error == error

    # What the user is told ("next try 15:05") is exactly when the schedule will try.
    clock.advance(10)
    waiting = refresher.refresh()
    assert not waiting.requested
    assert waiting.decision is not None
    assert waiting.decision.at == error.retry_at

    # Not even a manual refresh gets past a rate limit.
    assert not refresher.refresh(manual=True).requested
    clock.set(error.retry_at - timedelta(seconds=1))
    assert not refresher.refresh().requested
    assert not refresher.refresh(manual=True).requested
    assert api.request_count == 1

    clock.set(error.retry_at)
    recovered = refresher.refresh()
    assert recovered.requested
    assert api.request_count == 2
    assert recovered.state.last_error is None
    assert recovered.state.snapshot is not None


# -- 401 -------------------------------------------------------------------------------------


def test_unauthorized_waits_for_new_credentials(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    api.push(unauthorized())
    refresher = home.refresher(api)
    outcome = refresher.refresh()
    assert outcome.requested
    assert outcome.state.last_error is not None
    assert outcome.state.last_error.kind == ErrorKind.UNAUTHORIZED

    # Hours later, manual or not: the same sign-in is not tried again.
    for _ in range(3):
        clock.advance(3600)
        for manual in (False, True):
            waiting = refresher.refresh(manual=manual)
            assert not waiting.requested
            assert waiting.decision is not None
            assert waiting.decision.at is None
            assert waiting.state.last_error is not None
            assert waiting.state.last_error.kind == ErrorKind.UNAUTHORIZED
    assert api.request_count == 1

    # Claude Code signs in again: the new token is used at once.
    home.write_credentials(NEW_TOKEN)
    renewed = refresher.refresh()
    assert renewed.requested
    assert api.request_count == 2
    sent_new = api.requests[-1].headers.get("authorization") == f"Bearer {NEW_TOKEN}"
    assert sent_new  # compared without printing the (test) token on failure
    assert renewed.state.last_error is None
    assert renewed.state.snapshot is not None


def test_unauthorized_lifts_when_the_same_file_is_rewritten(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    # Claude Code rewriting the file (say, after a refresh that kept the token) is a change too.
    api.push(unauthorized())
    refresher = home.refresher(api)
    refresher.refresh()
    clock.advance(60)
    assert not refresher.refresh().requested

    home.write_credentials(TOKEN)
    assert refresher.refresh().requested
    assert api.request_count == 2


# -- expired token ---------------------------------------------------------------------------


def test_expired_token_is_not_sent_and_the_snapshot_is_kept(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    refresher.refresh()
    snapshot = refresher.store.read().snapshot
    assert snapshot is not None

    clock.advance(INTERVAL * 3)
    # Within Claude Code's five-minute margin counts as expired.
    home.write_credentials(expires_in=timedelta(minutes=3))
    outcome = refresher.refresh()
    assert not outcome.requested
    assert outcome.decision is None
    assert outcome.state.last_error is not None
    assert outcome.state.last_error.kind == ErrorKind.TOKEN_EXPIRED
    assert outcome.state.snapshot == snapshot
    stored = refresher.store.read()
    assert stored.snapshot == snapshot
    assert stored.last_error is not None
    assert stored.last_error.kind == ErrorKind.TOKEN_EXPIRED
    assert not refresher.refresh(manual=True).requested
    assert api.request_count == 1

    # Claude Code renews the sign-in: the next refresh asks again and the problem is gone.
    home.write_credentials(expires_in=timedelta(hours=8))
    renewed = refresher.refresh()
    assert renewed.requested
    assert renewed.state.last_error is None


def test_renewed_token_clears_the_problem_even_while_data_is_fresh(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    refresher.refresh()
    clock.advance(10)
    home.write_credentials(expires_in=timedelta(minutes=1))
    assert refresher.refresh().state.last_error is not None

    clock.advance(10)
    home.write_credentials(expires_in=timedelta(hours=8))
    outcome = refresher.refresh()
    assert not outcome.requested  # the data is still fresh
    assert outcome.state.last_error is None
    assert refresher.store.read().last_error is None


def test_missing_credentials_are_reported_without_a_request(
    home: TempHome, api: FakeUsageAPI
) -> None:
    home.credentials_path.unlink()
    refresher = home.refresher(api)
    outcome = refresher.refresh(manual=True)
    assert not outcome.requested
    assert outcome.state.last_error is not None
    assert outcome.state.last_error.kind == ErrorKind.NO_CREDENTIALS
    assert api.request_count == 0

    home.write_credentials()
    assert refresher.refresh().requested


# -- a store that cannot be written ------------------------------------------------------------


def unwritable_state_dir(root: Path) -> Path:
    """A state dir that cannot be created even by root: its parent is a regular file."""
    blocker = root / "not-a-directory"
    blocker.write_text("a file where a directory should be\n")
    return blocker / "claude-usage-gauge"


def test_unwritable_store_still_gives_a_state(
    home: TempHome, api: FakeUsageAPI, tmp_path: Path
) -> None:
    store = Store(home.paths(unwritable_state_dir(tmp_path)))
    refresher = home.refresher(api, store=store)
    outcome = refresher.refresh()
    assert outcome.state is not None
    assert outcome.state.last_error is None or outcome.state.snapshot is not None


def test_unwritable_store_does_not_fetch_on_every_call(
    home: TempHome, api: FakeUsageAPI, tmp_path: Path, clock: FakeClock
) -> None:
    store = Store(home.paths(unwritable_state_dir(tmp_path)))
    refresher = home.refresher(api, store=store)
    for _ in range(3):
        refresher.refresh()
        clock.advance(5)
    assert api.request_count <= 1


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into a 0500 directory anyway",
)
def test_read_only_state_dir_still_gives_a_state(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    paths = home.paths()
    paths.state_dir.mkdir(parents=True, mode=0o700)
    paths.state_dir.chmod(0o500)
    try:
        outcome = home.refresher(api).refresh()
        assert outcome.state is not None
    finally:
        paths.state_dir.chmod(0o700)


def test_unwritable_store_reports_credentials_problems_without_raising(
    home: TempHome, api: FakeUsageAPI, tmp_path: Path
) -> None:
    # The path that never takes the fetch lock already copes: the problem is shown from memory.
    home.credentials_path.unlink()
    store = Store(home.paths(unwritable_state_dir(tmp_path)))
    outcome = home.refresher(api, store=store).refresh()
    assert outcome.state.last_error is not None
    assert outcome.state.last_error.kind == ErrorKind.NO_CREDENTIALS
    assert api.request_count == 0


# -- the statusline bridge -------------------------------------------------------------------


def write_bridge(paths: AppPaths, at: datetime, five: float = 51.0) -> None:
    epoch = int(at.timestamp())
    document = {
        "version": 1,
        "at": epoch,
        "rate_limits": {"five_hour": {"used_percentage": five, "resets_at": epoch + 3600}},
    }
    paths.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.bridge_file.write_text(json.dumps(document))


def test_fresh_bridge_file_saves_the_request(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    refresher.refresh()
    assert api.request_count == 1

    # The snapshot is old, but Claude Code handed the statusline newer numbers a moment ago.
    clock.advance(INTERVAL + 20)
    bridged_at = clock() - timedelta(seconds=10)
    write_bridge(home.paths(), bridged_at)

    outcome = refresher.refresh()
    assert not outcome.requested
    assert api.request_count == 1
    assert outcome.decision is not None
    assert outcome.decision.at == bridged_at + timedelta(seconds=INTERVAL)

    stored = Store(home.paths()).read()
    assert stored.snapshot is not None
    assert stored.snapshot.source == "statusline"
    assert stored.snapshot.fetched_at == bridged_at
    five = stored.snapshot.window(FIVE_HOUR)
    assert five is not None
    assert five.percent == 51.0
    # The statusline carries no weekly number here: the one from the API is kept.
    week = stored.snapshot.window(SEVEN_DAY)
    assert week is not None
    assert week.percent == 18.0

    # Once the bridged numbers age past the interval, the API is asked again.
    clock.set(bridged_at + timedelta(seconds=INTERVAL))
    assert refresher.refresh().requested
    assert api.request_count == 2


def test_bridge_file_alone_means_no_request(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    write_bridge(home.paths(), clock() - timedelta(seconds=5), five=12.0)
    outcome = home.refresher(api).refresh()
    assert not outcome.requested
    assert api.request_count == 0
    assert outcome.state.snapshot is not None
    assert outcome.state.snapshot.source == "statusline"


def test_stale_bridge_file_does_not_hold_back_a_request(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    write_bridge(home.paths(), clock() - timedelta(hours=1))
    assert refresher.refresh().requested
    assert Store(home.paths()).read().snapshot.source == "api"  # type: ignore[union-attr]


def test_recovery_after_a_success_keeps_the_state_consistent(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    # A success after a server error clears the error and records the new numbers.
    api.push(rate_limited("30"), ok(77.0, 20.0))
    refresher = home.refresher(api)
    failed = refresher.refresh()
    assert failed.state.last_error is not None
    clock.set(failed.state.last_error.retry_at)  # type: ignore[arg-type]
    done = refresher.refresh()
    assert done.requested
    assert done.state.last_error is None
    assert done.state.snapshot is not None
    assert done.state.snapshot.window(FIVE_HOUR).percent == 77.0  # type: ignore[union-attr]


def test_numbers_from_claude_code_build_the_history_the_pace_line_needs(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    refresher.refresh()  # one API answer, then Claude Code takes over for an hour and a half
    assert api.request_count == 1
    for step in range(1, 31):
        clock.set(clock() + timedelta(minutes=3))
        write_bridge(home.paths(), clock() - timedelta(seconds=5), five=20.0 + step)
        refresher.refresh()
    assert api.request_count == 1  # bridged numbers cost no request
    history = Store(home.paths()).read().history
    # The newest hour keeps every point (the pace needs them); older ones one per 5 minutes.
    newest_hour = [p for p in history if p.at >= history[-1].at - timedelta(hours=1)]
    assert len(newest_hour) == 21
    assert history[-1].at - history[0].at >= timedelta(minutes=89)
    five = [p.percents["five_hour"] for p in history if "five_hour" in p.percents]
    assert five[-1] == 50.0
    assert five[-5:] == sorted(five[-5:])


def test_the_plan_read_with_the_credentials_is_kept_for_the_menu(
    home: TempHome, api: FakeUsageAPI
) -> None:
    refresher = home.refresher(api)
    assert refresher.plan is None
    refresher.refresh()
    assert refresher.plan == "max"


# -- adaptive polling, the hourly budget, recovery -------------------------------------------


def test_unchanged_numbers_stretch_the_wait_and_a_change_restores_it(
    home: TempHome, clock: FakeClock
) -> None:
    five = [42.0]
    # Each answer's reset lies ahead of the (fake) moment it was asked at, as the service's do.
    with FakeUsageAPI(responder=lambda n: ok(five[0], 18.0, now=clock())) as api:
        refresher = home.refresher(api)
        sent = []
        for _ in range(2 * 360):  # two hours in 10-second turns of the fake clock
            if refresher.refresh().requested:
                sent.append(clock())
            clock.advance(10)
        gaps = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(sent)]
        assert gaps[:10] == [3.0] * 10  # the base while the numbers may still move
        assert gaps[-1] == 15.0  # then every 15 minutes
        # 11 in the first half hour, 3 on the way up, then 4 an hour: not 40 (every 3 minutes).
        assert len(sent) == 11 + 3 + 4

        # The numbers move: the next wait is the base again.
        five[0] = 77.0
        clock.advance(15 * 60)
        assert refresher.refresh().requested
        outcome = refresher.refresh()
        assert outcome.decision is not None
        assert outcome.decision.at == clock() + timedelta(seconds=INTERVAL)


def test_every_process_shares_one_hourly_budget(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    # A script running `status --refresh` every minute, and the tray in another process.
    script = home.refresher(api)
    tray = home.refresher(api, store=Store(home.paths()))
    budget = hourly_budget(timedelta(seconds=INTERVAL))
    start = clock()
    for minute in range(60):
        clock.set(start + timedelta(minutes=minute))
        script.refresh(manual=True)
        tray.refresh()
    # Not 60 (and not 60 + 20): the budget an hour, and the few that may go back to back.
    assert budget <= api.request_count <= budget + BURST
    refused = script.refresh(manual=True)
    assert not refused.requested
    assert refused.decision is not None
    assert refused.decision.at is not None
    # The bucket refills one request per hour/budget: that is what the menu says.
    assert clock() < refused.decision.at <= clock() + REQUEST_WINDOW / budget
    view = build_view(refused.state, clock(), script.settings)
    assert view.next_manual == refused.decision.at


def test_claude_codes_numbers_after_a_429_end_our_pause(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    api.push(rate_limited("0"), rate_limited("0"))
    refresher.refresh()
    clock.advance(6 * 60)
    failed = refresher.refresh()
    assert failed.requested
    gate_until = failed.state.last_error.retry_at  # type: ignore[union-attr]
    assert gate_until is not None

    # Claude Code shows fresh numbers: nothing is asked while they are fresh...
    clock.advance(60)
    write_bridge(home.paths(), clock())
    assert not refresher.refresh().requested
    # ...and once they age, the API is asked at the base interval, not at the ladder's step.
    clock.advance(INTERVAL)
    assert clock() < gate_until
    recovered = refresher.refresh()
    assert recovered.requested
    assert recovered.state.last_error is None
    assert api.request_count == 3


def test_a_servers_retry_after_holds_even_when_claude_code_shows_numbers(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    api.push(rate_limited("1800"))
    refresher.refresh()
    clock.advance(60)
    write_bridge(home.paths(), clock())
    clock.advance(INTERVAL + 10)
    assert not refresher.refresh().requested
    assert api.request_count == 1


def test_a_new_token_asks_at_once_after_a_429(
    home: TempHome, api: FakeUsageAPI, clock: FakeClock
) -> None:
    refresher = home.refresher(api)
    api.push(rate_limited("0"))
    refresher.refresh()
    clock.advance(60)
    assert not refresher.refresh().requested
    home.write_credentials(NEW_TOKEN)  # Claude Code refreshed its token
    assert refresher.refresh().requested
    assert api.request_count == 2


def test_a_minute_after_a_known_reset_the_numbers_are_asked_for(
    home: TempHome, clock: FakeClock
) -> None:
    fixed = clock() + timedelta(hours=2, minutes=7)  # not on the 15-minute beat

    def answer(n: int) -> Reply:
        now = clock()
        if now < fixed:  # the same reset announced every time, as the service does
            return ok(42.0, 18.0, resets_in_hours=(fixed - now) / timedelta(hours=1), now=now)
        return ok(None, 18.0, now=now)  # after it, the session window is unused: null

    with FakeUsageAPI(responder=answer) as api:
        refresher = home.refresher(api)
        refresher.refresh()
        snapshot = refresher.store.read().snapshot
        assert snapshot is not None
        reset = snapshot.window(FIVE_HOUR).resets_at  # type: ignore[union-attr]
        assert reset is not None
        # Unchanged for two hours: the wait has grown to 15 minutes, but the reset is looked
        # at a minute after it, not up to 15 minutes later.
        sent = []
        while clock() < reset + timedelta(minutes=20):
            if refresher.refresh().requested:
                sent.append(clock())
            clock.advance(10)
        waits = [(b - a).total_seconds() / 60 for a, b in itertools.pairwise(sent)]
        assert waits[-4] == 15.0
        assert reset + AFTER_RESET in sent

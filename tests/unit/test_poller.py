"""The tray's background thread, around a real Refresher, store and the fake API on loopback.

The refresher's clock is fake and stands still, so nothing becomes due by itself: every refresh
seen here was caused by what the test did (start, "Refresh now", a new sign-in, a clock jump).
Waits poll for an outcome with a generous limit; nothing asserts how long anything took.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.state import State
from claude_usage_gauge.poller import Poller
from claude_usage_gauge.refresh import Outcome, Refresher
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import credentials_signature
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, unauthorized
from tests.support.clock import FakeClock, start_time
from tests.support.temp_home import NEW_TOKEN, TempHome

LIMIT = 10.0  # seconds to wait for something that should happen within a tick or two


def wait_until(condition: Callable[[], bool], timeout: float = LIMIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@dataclass
class CountingRefresher(Refresher):
    """The real Refresher, counting calls (the poller's only way to cause a request)."""

    calls: list[bool] = field(default_factory=list)

    def refresh(self, *, manual: bool = False, signature: str | None = None) -> Outcome:
        self.calls.append(manual)
        return super().refresh(manual=manual, signature=signature)


def counting(refresher: Refresher) -> CountingRefresher:
    return CountingRefresher(
        store=refresher.store,
        settings=refresher.settings,
        home=refresher.home,
        clock=refresher.clock,
        jitter=refresher.jitter,
    )


class Clocks:
    """Wall and monotonic time for the poller, moved by the test, read as a consistent pair.

    The poller reads wall, then monotonic; monotonic answers from the pair wall() just read, so a
    test moving both at once can never be seen half-moved. `turns` counts the poller's turns.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wall = 1_000_000.0
        self._mono = 500.0
        self._seen_mono = self._mono
        self.turns = 0

    def wall(self) -> float:
        with self._lock:
            self.turns += 1
            self._seen_mono = self._mono
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._seen_mono

    def advance(self, wall: float, mono: float) -> None:
        with self._lock:
            self._wall += wall
            self._mono += mono


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


@pytest.fixture
def pollers() -> Iterator[list[Poller]]:
    made: list[Poller] = []
    yield made
    for poller in made:
        poller.stop(timeout=5.0)


def make_poller(
    pollers: list[Poller],
    refresher: Refresher,
    signature: Callable[[], str] = lambda: "same",
    **kwargs: object,
) -> Poller:
    poller = Poller(refresher, signature, tick=1.0, **kwargs)  # type: ignore[arg-type]
    pollers.append(poller)
    return poller


def settle(poller: Poller, clocks: Clocks, refresher: CountingRefresher, calls: int) -> None:
    """Wait for start-up to finish (`calls` refreshes) and one more quiet turn after them."""
    assert wait_until(lambda: len(refresher.calls) >= calls)
    two_turns(poller, clocks)
    assert len(refresher.calls) == calls


def two_turns(poller: Poller, clocks: Clocks) -> None:
    """Run two full turns: the one started after now, and the next (so the first has finished)."""
    for _ in range(2):
        seen = clocks.turns
        poller.poke()
        assert wait_until(lambda seen=seen: clocks.turns > seen)  # type: ignore[misc]


# -- start, publish, refresh now, stop ---------------------------------------------------------


def test_start_fetches_and_publishes(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    published: queue.Queue[State] = queue.Queue()
    poller = make_poller(pollers, home.refresher(api))
    poller.subscribe(published.put)
    poller.start()

    state = published.get(timeout=LIMIT)
    assert state.snapshot is not None
    assert state.snapshot.source == "api"
    assert api.request_count == 1
    assert poller.last_state is not None
    assert poller.alive


def test_refresh_now_makes_another_request(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    poller = make_poller(pollers, home.refresher(api))
    poller.start()
    assert api.wait_for_requests(1, timeout=LIMIT)

    poller.refresh_now()
    assert api.wait_for_requests(2, timeout=LIMIT)
    # The data was fresh: only the manual request went out, not a stream of them.
    assert api.request_count == 2


def test_stop_ends_the_thread(home: TempHome, api: FakeUsageAPI, pollers: list[Poller]) -> None:
    poller = make_poller(pollers, home.refresher(api))
    poller.start()
    assert api.wait_for_requests(1, timeout=LIMIT)
    assert poller.alive

    poller.stop(timeout=1.0)
    assert not poller.alive


def test_stop_before_the_first_turn_ends_the_thread(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    poller = make_poller(pollers, home.refresher(api))
    poller.start()
    poller.stop(timeout=1.0)
    assert not poller.alive


# -- what wakes it -----------------------------------------------------------------------------


def test_new_sign_in_after_a_401_is_used_without_waiting_for_the_interval(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    api.push(unauthorized())
    published: list[State] = []
    refresher = home.refresher(api)
    poller = make_poller(
        pollers,
        refresher,
        signature=lambda: credentials_signature(ClaudeHome.from_environ(home.environ)),
    )
    poller.subscribe(published.append)
    poller.start()
    assert wait_until(
        lambda: (
            bool(published)
            and published[-1].last_error is not None
            and published[-1].last_error.kind == ErrorKind.UNAUTHORIZED
        )
    )
    assert api.request_count == 1

    home.write_credentials(NEW_TOKEN)
    assert api.wait_for_requests(2, timeout=LIMIT)
    assert wait_until(lambda: published[-1].last_error is None)
    assert published[-1].snapshot is not None


def test_signature_change_triggers_a_refresh(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    clocks = Clocks()
    signature = ["one"]
    refresher = counting(home.refresher(api))
    poller = make_poller(
        pollers,
        refresher,
        signature=lambda: signature[0],
        wall=clocks.wall,
        monotonic=clocks.monotonic,
    )
    poller.start()
    # Start-up: the first refresh fetches, the next turn asks the schedule once more.
    settle(poller, clocks, refresher, calls=2)

    signature[0] = "two"
    assert wait_until(lambda: len(refresher.calls) == 3)
    two_turns(poller, clocks)
    assert len(refresher.calls) == 3  # once per change, not on every turn after it


def test_wall_clock_jump_triggers_a_refresh(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    clocks = Clocks()
    refresher = counting(home.refresher(api))
    poller = make_poller(pollers, refresher, wall=clocks.wall, monotonic=clocks.monotonic)
    poller.start()
    settle(poller, clocks, refresher, calls=2)

    # Both clocks moving together is just time passing: no refresh for that.
    clocks.advance(wall=3600, mono=3600)
    two_turns(poller, clocks)
    assert len(refresher.calls) == 2

    # The wall clock an hour ahead of the monotonic one: the machine slept.
    clocks.advance(wall=3600, mono=0)
    assert wait_until(lambda: len(refresher.calls) == 3)
    two_turns(poller, clocks)
    assert len(refresher.calls) == 3


# -- robustness --------------------------------------------------------------------------------


def test_a_failing_listener_does_not_stop_the_thread(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    def broken(state: State) -> None:
        raise RuntimeError("listener bug")

    published: list[State] = []
    poller = make_poller(pollers, home.refresher(api))
    poller.subscribe(broken)
    poller.subscribe(published.append)
    poller.start()
    assert wait_until(lambda: bool(published))

    seen = len(published)
    poller.refresh_now()
    assert api.wait_for_requests(2, timeout=LIMIT)
    assert wait_until(lambda: len(published) > seen)
    assert poller.alive


def test_a_failing_refresh_does_not_stop_the_thread(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    @dataclass
    class Flaky(CountingRefresher):
        def refresh(self, *, manual: bool = False, signature: str | None = None) -> Outcome:
            self.calls.append(manual)
            if len(self.calls) == 1:
                raise RuntimeError("one bad turn")
            return Refresher.refresh(self, manual=manual, signature=signature)

    base = home.refresher(api)
    refresher = Flaky(base.store, base.settings, base.home, clock=base.clock)
    published: list[State] = []
    poller = make_poller(pollers, refresher)
    poller.subscribe(published.append)
    poller.start()
    assert wait_until(lambda: len(refresher.calls) >= 1)
    poller.refresh_now()
    assert api.wait_for_requests(1, timeout=LIMIT)
    assert wait_until(lambda: any(s.snapshot is not None for s in published))
    assert poller.alive


def test_no_busy_loop_while_nothing_happens(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller]
) -> None:
    clocks = Clocks()
    refresher = counting(home.refresher(api, interval=3600))
    poller = make_poller(pollers, refresher, wall=clocks.wall, monotonic=clocks.monotonic)
    poller.start()
    # Counting, not timing: over a couple of ticks a spinning loop would run thousands of turns.
    time.sleep(2.5)
    assert poller.alive
    assert len(refresher.calls) <= 3
    assert clocks.turns <= 8
    assert api.request_count == 1


def test_publishes_even_when_the_store_cannot_be_written(
    home: TempHome, api: FakeUsageAPI, pollers: list[Poller], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be\n")
    refresher = home.refresher(api, store=Store(home.paths(blocker / "claude-usage-gauge")))
    published: queue.Queue[State] = queue.Queue()
    poller = make_poller(pollers, refresher)
    poller.subscribe(published.put)
    poller.start()
    assert published.get(timeout=3.0) is not None

"""A simulated week and a half of a flaky world: nothing may grow but what is meant to.

A seeded random schedule picks, hour by hour, how the fake API answers (mostly fine, sometimes
429, 500 or a dropped connection), renews the sign-in every six to ten hours (sometimes too late,
so the token expires first) and has the statusline bridge write its file now and then. The loop
takes turns the way the poller does (the fault matrix's `Turns`) against the real store, the
real client and the fake API on 127.0.0.1, on a fake clock that jumps from one due moment to
the next. Then a real `poller.Poller` thread runs a shorter stretch, woken turn by turn.

Threads, open files, memory and the history must stay bounded. The poll interval is 15 minutes
(a setting users may choose) rather than 3: with a full history every refresh parses and writes
a ~180 KB store several times (~150 ms here), which would make a week at 3 minutes take minutes.
"""

from __future__ import annotations

import os
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import HISTORY_MAX_AGE, HISTORY_MAX_POINTS, State
from claude_usage_gauge.poller import Poller
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credentials import credentials_signature
from claude_usage_gauge.statusline.bridge_file import write_bridge
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply
from tests.support.clock import FakeClock, start_time
from tests.support.temp_home import NEW_TOKEN, TOKEN

from .test_fault_matrix import (
    DROP,
    JSON_500,
    OK,
    Answer,
    Phase,
    Turns,
    World,
    poller_republish,
    rate,
)

DAYS = 8.5  # past the history's 8-day horizon, so old points must have been dropped
INTERVAL = 900.0
LONGEST_SLEEP = timedelta(minutes=15)  # a turn at least this often (republish, resets)
SEED = 20240607
# Memory is traced over two half-days, one early (from day 2) and one late (to day 7); tracing the
# whole run would triple its time. What a stretch leaves allocated is the live state, re-parsed
# during the stretch (~0.55 KiB per history point: ~100 KiB at day 2, ~320 KiB at day 7 here),
# plus any leak: one reply, state or socket kept per request (~40 per half-day, several KiB
# each) on top would pass 1 MiB. The peak is that plus one transient parse and write of the
# store (~4.5 MiB here); from day 2 to day 7 it may grow only with the store (~0.2 MiB here).
RETAINED_LIMIT = 1024 * 1024
PEAK_GROWTH_LIMIT = 2 * 1024 * 1024
TRACED = ((2.0, 2.5), (6.5, 7.0))  # days


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def settle(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Handler threads and their sockets close just after the reply: give them a moment."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@dataclass(order=True)
class Happening:
    at: datetime
    what: str = field(compare=False)


def schedule(start: datetime, rng: random.Random) -> list[Happening]:
    """Server moods by the hour, sign-in renewals and bridge writes, for the whole run."""
    happenings: list[Happening] = []
    end = start + timedelta(days=DAYS)
    hour = start
    while hour < end:
        mood = rng.choices(["ok", "429", "429-none", "500", "drop"], [70, 8, 4, 9, 9])[0]
        happenings.append(Happening(hour, f"server {mood}"))
        hour += timedelta(hours=1)
    at = start
    while at < end:
        # Claude Code renews an 8-hour token when it is used; an idle evening lets it expire.
        at += timedelta(hours=rng.uniform(6, 10))
        happenings.append(Happening(at, "renew"))
    at = start
    while at < end:
        at += timedelta(minutes=rng.uniform(10, 120))
        happenings.append(Happening(at, "bridge"))
    return sorted(happenings)


MOODS: dict[str, tuple[Answer, ...]] = {
    "ok": (OK,),
    "429": (rate("0"),),
    "429-none": (rate(None),),
    "500": (JSON_500, OK),
    "drop": (DROP, OK, OK),
}


@dataclass
class Probe:
    threads: int
    fds: int
    history: int
    requests: int


class Soak:
    """The simulated world of the long test, driven one turn at a time."""

    def __init__(self, world: World, clock: FakeClock, rng: random.Random) -> None:
        self.world = world
        self.clock = clock
        self.rng = rng
        self.start = clock()
        self.happenings = schedule(self.start, rng)
        self.turns = Turns(world, poller_republish)
        self.renewals = 0
        world.phase = Phase(3600)

    @property
    def day(self) -> float:
        return (self.clock() - self.start) / timedelta(days=1)

    def happen(self) -> None:
        world, clock = self.world, self.clock
        while self.happenings and self.happenings[0].at <= clock():
            what = self.happenings.pop(0).what
            if what.startswith("server "):
                world.phase = Phase(3600, MOODS[what.removeprefix("server ")])
                world.phase_attempts_before = world.attempts
            elif what == "renew":
                self.renewals += 1
                world.write_credentials(TOKEN if self.renewals % 2 else NEW_TOKEN)
            else:
                epoch = clock().timestamp()
                five = {"used_percentage": self.rng.uniform(0, 100), "resets_at": epoch + 7200}
                write_bridge(world.paths, {"five_hour": five}, epoch)

    def advance(self) -> None:
        """To the next moment the poller would wake for: due, an event, or its longest sleep."""
        upcoming = [self.clock() + LONGEST_SLEEP]
        if self.turns.next_due is not None:
            upcoming.append(self.turns.next_due)
        if self.happenings:
            upcoming.append(self.happenings[0].at)
        # The poller's floor: never two turns within a second.
        self.clock.set(max(min(upcoming), self.clock() + timedelta(seconds=1)))

    def run_until(self, day: float) -> None:
        while self.day < day:
            self.happen()
            self.turns.turn()
            self.advance()


def traced_stretch(soak: Soak, until: float) -> tuple[int, int]:
    """Run to `until` (days) with allocations traced: (still allocated at the end, peak)."""
    tracemalloc.start()
    try:
        soak.run_until(until)
        return tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()


def test_a_week_and_a_half_of_faults_grows_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible schedule, not secrets
    clock = FakeClock(start_time())
    threads_before, fds_before = threading.active_count(), open_fds()
    probes: list[Probe] = []
    memory: list[tuple[int, int]] = []
    worlds: list[World] = []

    def responder(n: int) -> Reply:
        return worlds[0].respond(n)

    with FakeUsageAPI(responder=responder) as api:
        world = World(tmp_path, clock, api)
        worlds.append(world)
        world.refresher.settings = Settings(api_base=api.url, poll_interval=INTERVAL)
        soak = Soak(world, clock, rng)
        for start_day, end_day in TRACED:
            soak.run_until(start_day)
            assert settle(lambda: threading.active_count() == threads_before + 1)
            history = len(world.refresher.store.read().history)
            probes.append(Probe(threading.active_count(), open_fds(), history, world.attempts))
            memory.append(traced_stretch(soak, end_day))
        soak.run_until(DAYS)
        state = world.refresher.store.read()
        now = clock()
        requests = world.attempts
    (retained_early, peak_early), (retained_late, peak_late) = memory
    print(
        f"\nsoak: {DAYS} days, {requests} requests, {soak.turns.refreshes} refreshes, "
        f"history {probes[0].history} points at day 2, {probes[1].history} at day 6.5, "
        f"{len(state.history)} at the end; threads {threads_before}; fds {fds_before} before, "
        f"{probes[0].fds} at day 2, {probes[1].fds} at day 6.5; memory retained over a half-day "
        f"{retained_early // 1024} KiB early, {retained_late // 1024} KiB late; peak "
        f"{peak_early // 1024} KiB early, {peak_late // 1024} KiB late; oldest point "
        f"{now - state.history[0].at} old, newest {now - state.history[-1].at} old"
    )
    assert soak.turns.crashes == []
    assert world.violations == []

    # Threads: only the fake's server thread came and went.
    assert settle(lambda: threading.active_count() == threads_before)
    assert probes[0].threads == probes[1].threads == threads_before + 1
    # Open files: none leaked by the client, the store's locks or the bridge.
    assert settle(lambda: open_fds() <= fds_before)
    assert probes[1].fds <= probes[0].fds
    # Memory: see RETAINED_LIMIT and PEAK_GROWTH_LIMIT.
    assert retained_early < RETAINED_LIMIT
    assert retained_late < RETAINED_LIMIT
    assert peak_late - peak_early < PEAK_GROWTH_LIMIT
    # History: bounded in length and age, oldest first.
    assert 0 < len(state.history) <= HISTORY_MAX_POINTS
    # The store drops old points when it appends a new one, so the span from the oldest to the
    # newest point is what is bounded (after a quiet spell the oldest can be older than that).
    assert state.history[-1].at - state.history[0].at <= HISTORY_MAX_AGE
    assert now - state.history[0].at <= HISTORY_MAX_AGE + timedelta(days=1)
    assert state.history[0].at > soak.start  # the first days have aged out
    assert list(state.history) == sorted(state.history, key=lambda p: p.at)
    # And it did work: a request every interval or so, in all that weather.
    assert requests > DAYS * 24 * 3600 / INTERVAL / 2
    assert not list(tmp_path.rglob(".*.tmp"))


class PollerClocks:
    """Wall and monotonic time for the poller, moved together, read as a pair (the poller reads
    wall, then monotonic), so no turn ever sees a jump. `turns` counts the poller's turns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds = 1_000_000.0
        self._seen = self._seconds
        self.turns = 0

    def wall(self) -> float:
        with self._lock:
            self.turns += 1
            self._seen = self._seconds
            return self._seen

    def monotonic(self) -> float:
        with self._lock:
            return self._seen

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._seconds += seconds


POLLER_TURNS = 200
POLLER_STEP = 300.0  # simulated seconds per turn


def test_a_real_poller_thread_through_two_days_of_faults(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)  # noqa: S311 - a reproducible schedule, not secrets
    clock = FakeClock(start_time())
    clocks = PollerClocks()
    threads_before, fds_before = threading.active_count(), open_fds()
    published: list[State] = []
    worlds: list[World] = []

    def responder(n: int) -> Reply:
        return worlds[0].respond(n)

    with FakeUsageAPI(responder=responder) as api:
        world = World(tmp_path, clock, api)
        worlds.append(world)
        world.phase = Phase(3600)
        environ = world.home.environ
        poller = Poller(
            world.refresher,
            lambda: credentials_signature(ClaudeHome.from_environ(environ)),
            tick=3600.0,  # only our pokes wake it: every turn is one the test asked for
            wall=clocks.wall,
            monotonic=clocks.monotonic,
        )
        poller.subscribe(published.append)
        poller.start()
        try:
            for n in range(POLLER_TURNS):
                if n % 12 == 0:  # a new mood every simulated hour
                    mood = rng.choices(list(MOODS), [70, 8, 4, 9, 9])[0]
                    world.phase = Phase(3600, MOODS[mood])
                    world.phase_attempts_before = world.attempts
                if n % 100 == 99:
                    world.write_credentials(NEW_TOKEN if n % 200 == 99 else TOKEN)
                clock.advance(POLLER_STEP)
                clocks.advance(POLLER_STEP)
                seen = clocks.turns
                poller.poke()
                assert settle(lambda seen=seen: clocks.turns > seen)  # type: ignore[misc]
            # One more full turn, so the last one poked has finished.
            seen = clocks.turns
            poller.poke()
            assert settle(lambda: clocks.turns > seen)
            assert poller.alive
        finally:
            poller.stop(timeout=10.0)
        assert not poller.alive
        requests = world.attempts
    assert world.violations == []
    assert published
    assert settle(lambda: threading.active_count() == threads_before)
    assert settle(lambda: open_fds() <= fds_before)
    # Every poked turn is past the 3-minute interval, so about one request each; never more
    # than one per moment of the clock (the poller's own extra turns find the gate shut).
    assert POLLER_TURNS // 2 < requests <= POLLER_TURNS + 1
    print(f"\npoller: {POLLER_TURNS} turns, {requests} requests, {len(published)} published")

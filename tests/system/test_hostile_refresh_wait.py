"""A `status --refresh` that waits for another process's fetch, and whose wait times out: it
shows the store as it is at the end of the wait, not what it read before waiting.

The other process is real (a subprocess holding the fetch lock, as a fetching tray would). The
interleaving is forced: it writes its error into the store exactly when this process starts to
wait (after this one read the store), and keeps the lock past the wait, shortened to 0.5 s.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

import pytest

from claude_usage_gauge import refresh
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.refresh import Refresher
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from tests.support.clock import FakeClock, start_time
from tests.support.temp_home import TempHome

OTHER_PROCESS = """
import sys, time
from datetime import UTC, datetime
from pathlib import Path
from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store

state, data, logs, config = map(Path, sys.argv[1:5])
store = Store(AppPaths(state_dir=state, data_dir=data, log_dir=logs, config_dir=config))
with store.fetch_lock(5.0):
    print("locked", flush=True)
    sys.stdin.readline()  # told when the other side starts waiting
    problem = Problem(ErrorKind.SERVER_ERROR, "the other process's answer")
    store.update(lambda s: s.with_error(problem, datetime.now(UTC)))
    print("written", flush=True)
    time.sleep(60)
"""


def test_a_timed_out_wait_shows_the_store_as_it_is_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(start_time())
    temp = TempHome(tmp_path, clock)
    temp.write_credentials()
    paths = temp.paths()
    store = Store(paths)
    # A manual refresh a moment ago (by the other process): this one must wait, not ask.
    store.update(lambda s: replace(s, last_manual=clock()))
    folders = [paths.state_dir, paths.data_dir, paths.log_dir, paths.config_dir]
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, *map(str, folders)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdin is not None
    assert other.stdout is not None
    real_lock = store.fetch_lock

    def waiting(timeout: float) -> AbstractContextManager[None]:
        # This process has read the store and is about to wait: now the other one answers.
        assert other.stdin is not None
        assert other.stdout is not None
        other.stdin.write("go\n")
        other.stdin.flush()
        assert other.stdout.readline().strip() == "written"
        return real_lock(timeout)

    try:
        assert other.stdout.readline().strip() == "locked"
        monkeypatch.setattr(store, "fetch_lock", waiting)
        monkeypatch.setattr(refresh, "FETCH_LOCK_WAIT", 0.5)
        with FakeUsageAPI() as fake:
            settings = Settings(api_base=fake.url, poll_interval=180.0)
            outcome = Refresher(store, settings, temp.home, clock=clock).refresh(manual=True)
            assert fake.request_count == 0
    finally:
        other.kill()
        other.wait()
    assert not outcome.requested
    assert outcome.state.last_error is not None
    assert outcome.state.last_error.message == "the other process's answer"

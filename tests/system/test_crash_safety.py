"""The store survives being killed mid-write, and many processes writing it at once.

Real subprocesses run `Store.update` in a loop; the test SIGKILLs them at random moments and then
reads what they left. Writes are a temp file, fsync and rename, so a reader must always find the
old state or the new one, never a torn file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from claude_usage_gauge.core.state import State
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store

KILLS = 20
WRITERS = 8
WRITE_SECONDS = 3.0  # how long each concurrent writer keeps incrementing
TEMP_GLOB = ".state.json.*.tmp"


def _paths(root: Path) -> AppPaths:
    return AppPaths(
        state_dir=root / "state",
        data_dir=root / "data",
        log_dir=root / "log",
        config_dir=root / "config",
    )


# A writer: updates the store as fast as it can with states that grow (a history point and a
# counter per write), says "ready" once the first write is on disk, and never stops by itself.
GROWER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.store import Store
    from claude_usage_gauge.core.usage import Usage, Window

    root = Path(sys.argv[1])
    store = Store(AppPaths(root / "state", root / "data", root / "log", root / "config"))
    start = datetime(2030, 1, 1, tzinfo=UTC)

    def grow(state):
        n = len(state.history)
        at = start + timedelta(minutes=3 * n)
        window = Window(id="five_hour", label="5-hour", percent=float(n % 100), resets_at=None)
        usage = Usage(windows=(window,), extra_usage=None, fetched_at=at, source="api")
        return state.with_snapshot(usage)

    store.update(grow)
    print("ready", flush=True)
    while True:
        store.update(grow)
    """
)

# A counter: read-modify-write increments of one number (kept in `last_manual`, as seconds past
# an epoch) for a while; every read in between must parse. Prints "<increments> <torn reads>".
COUNTER = textwrap.dedent(
    """
    import json, sys, time
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.store import State, Store

    root, seconds = Path(sys.argv[1]), float(sys.argv[2])
    paths = AppPaths(root / "state", root / "data", root / "log", root / "config")
    store = Store(paths)
    epoch = datetime(2000, 1, 1, tzinfo=UTC)

    def increment(state):
        return replace(state, last_manual=(state.last_manual or epoch) + timedelta(seconds=1))

    sys.stdin.readline()  # all writers start together
    done = torn = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        store.update(increment)
        done += 1
        try:
            raw = paths.store_file.read_bytes()
        except FileNotFoundError:
            torn += 1
            continue
        try:
            if State.from_json(json.loads(raw)) is None:
                torn += 1
        except ValueError:
            torn += 1
    print(done, torn, flush=True)
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _valid_state(path: Path) -> State | None:
    """The file parsed as one of our states; None if absent. Fails the test if torn."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    state = State.from_json(json.loads(raw))  # a torn file raises here
    assert state is not None, "the state file is not a state we understand"
    return state


def kill_writers(root: Path, kills: int, seed: int = 1) -> list[int]:
    """Kill a growing writer `kills` times at random moments; the temp files left after each."""
    rng = random.Random(seed)  # noqa: S311 - moments to kill at, not secrets
    paths = _paths(root)
    left: list[int] = []
    for _ in range(kills):
        writer = _spawn(GROWER, str(root))
        assert writer.stdout is not None
        try:
            assert writer.stdout.readline().strip() == "ready", writer.stderr
            # A random moment into the writing: what is on disk then must still be whole.
            time.sleep(rng.uniform(0.005, 0.060))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        before = _valid_state(paths.store_file)
        assert before is not None  # a state was written before the kill and must still be there
        read = Store(paths).read()  # never raises
        assert read.history == before.history
        left.append(len(list(paths.state_dir.glob(TEMP_GLOB))))
    return left


def test_killed_writers_never_leave_a_torn_store(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    left = kill_writers(tmp_path, KILLS)

    # The next update after all those kills works and writes a whole file.
    state = Store(paths).update(lambda s: s)
    assert _valid_state(paths.store_file) == state
    assert len(state.history) > 0
    # At most one temp file per kill (one write in flight), whatever else happens.
    assert left == sorted(left)
    assert left[-1] <= KILLS
    print(f"\ntemp files left after each of {KILLS} kills: {left}")


def test_stale_temp_files_are_cleaned_up_on_the_next_update(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    Store(paths).update(lambda s: s)
    # What a writer killed between creating its temp file and renaming it leaves behind.
    orphan = paths.state_dir / ".state.json.k1ll3d.tmp"
    orphan.write_bytes(b'{"version": 1, "salt": "')
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))

    Store(paths).update(lambda s: s)
    assert not orphan.exists()


def test_concurrent_increments_are_never_lost_or_torn(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    Store(paths).update(lambda s: s)  # the directory and salt exist before the race
    writers = [_spawn(COUNTER, str(tmp_path), str(WRITE_SECONDS)) for _ in range(WRITERS)]
    try:
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        outputs = [writer.communicate(timeout=120) for writer in writers]
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.communicate()
    counts = []
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        done, torn = (int(x) for x in out.split())
        assert torn == 0
        counts.append(done)
    assert all(count > 0 for count in counts)
    final = Store(paths).read().last_manual
    assert final is not None
    total = int((final - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())
    assert total == sum(counts)
    assert not list(paths.state_dir.glob(TEMP_GLOB))
    print(f"\n{WRITERS} writers, increments {counts}, total {sum(counts)}")

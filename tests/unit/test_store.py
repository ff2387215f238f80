"""The shared state file: atomic, private, lenient to read, locked to write, bounded."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import ErrorKind, Problem
from claude_usage_gauge.core.schedule import Gate, record_failure
from claude_usage_gauge.core.state import (
    HISTORY_MAX_AGE,
    HISTORY_MAX_POINTS,
    MAX_GATES,
    HistoryPoint,
    State,
    append_history,
)
from claude_usage_gauge.core.state_format import MAX_STORE_BYTES, STORE_VERSION
from claude_usage_gauge.core.usage import ExtraUsage, Usage, Window
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.sources.credentials import token_fingerprint
from claude_usage_gauge.store import Store, StoreBusy

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FAKE_TOKEN = "sk-ant-oat01-FAKE-TOKEN-never-in-a-file-0123456789"
SRC = Path(__file__).resolve().parents[2] / "src"


def make_paths(root: Path) -> AppPaths:
    return AppPaths(
        state_dir=root / "state" / "claude-usage-gauge",
        data_dir=root / "data",
        log_dir=root / "log",
        config_dir=root / "config",
    )


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return make_paths(tmp_path)


@pytest.fixture
def store(paths: AppPaths) -> Store:
    return Store(paths)


def usage_at(at: datetime, five: float = 42.0, week: float = 18.0) -> Usage:
    return Usage(
        windows=(
            Window(FIVE_HOUR, "5-hour session", five, at + timedelta(hours=2)),
            Window(SEVEN_DAY, "Week (all models)", week, at + timedelta(days=3)),
        ),
        extra_usage=ExtraUsage(True, 20.5, None, "USD", 41.0),
        fetched_at=at,
        source="api",
    )


def snapshot_change(usage: Usage) -> Callable[[State], State]:
    def change(state: State) -> State:
        return state.with_snapshot(usage)

    return change


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


# -- basics ----------------------------------------------------------------------------------


def test_missing_file_reads_as_empty(store: Store) -> None:
    assert store.read() == State()


def test_update_writes_private_file_in_private_dir(store: Store, paths: AppPaths) -> None:
    state = store.update(lambda s: s.with_snapshot(usage_at(T0)))
    assert state.snapshot == usage_at(T0)
    assert paths.store_file.exists()
    assert mode(paths.store_file) == 0o600
    assert mode(paths.state_dir) == 0o700
    # Locks and leftovers: nothing in our directory is readable by others, no temp files left.
    for entry in paths.state_dir.iterdir():
        assert mode(entry) & 0o077 == 0, entry
        assert not entry.name.endswith(".tmp"), entry
    assert store.read() == state


def test_existing_loose_directory_is_tightened(paths: AppPaths, store: Store) -> None:
    paths.state_dir.mkdir(parents=True, mode=0o755)
    paths.state_dir.chmod(0o755)
    store.update(lambda s: s)
    assert mode(paths.state_dir) == 0o700


def test_salt_is_generated_once_and_kept(store: Store) -> None:
    first = store.update(lambda s: s)
    assert len(first.salt) >= 16
    for _ in range(3):
        assert store.update(lambda s: s).salt == first.salt
    assert store.read().salt == first.salt


def test_salts_differ_between_homes(tmp_path: Path) -> None:
    a = Store(make_paths(tmp_path / "a")).update(lambda s: s)
    b = Store(make_paths(tmp_path / "b")).update(lambda s: s)
    assert a.salt != b.salt


def test_state_round_trip_through_the_file(store: Store) -> None:
    problem = Problem(ErrorKind.RATE_LIMITED, "Rate limited", retry_at=T0 + timedelta(minutes=5))
    gate = Gate(last_attempt=T0, failures=2, last_kind=ErrorKind.RATE_LIMITED)

    def change(state: State) -> State:
        state = state.with_snapshot(usage_at(T0 - timedelta(minutes=10), 40.0))
        state = state.with_snapshot(usage_at(T0, 42.0))
        state = state.with_gate("fp-1", gate).with_error(problem, T0)
        return replace(state, last_manual=T0)

    written = store.update(change)
    read = store.read()
    assert read == written
    assert read.gate("fp-1") == gate
    assert read.current_fingerprint == "fp-1"
    assert read.last_error == problem
    assert read.error_at == T0
    assert read.last_manual == T0
    assert [p.at for p in read.history] == [T0 - timedelta(minutes=10), T0]


def test_unwritable_location_raises_oserror_and_leaves_reads_working(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the directory should be")
    store = Store(make_paths(tmp_path))
    assert store.read() == State()
    with pytest.raises(OSError):  # noqa: PT011 - any OSError is the documented contract
        store.update(lambda s: s)


# -- what the store never holds --------------------------------------------------------------


def test_gate_is_keyed_by_fingerprint_never_the_token(store: Store, paths: AppPaths) -> None:
    state = store.update(lambda s: s)
    fingerprint = token_fingerprint(FAKE_TOKEN, state.salt)
    assert FAKE_TOKEN not in fingerprint

    def change(state: State) -> State:
        gate = record_failure(
            state.gate(fingerprint),
            Problem(ErrorKind.UNAUTHORIZED, "Sign-in refused"),
            now=T0,
            signature="sig",
            jitter=0.3,
        )
        return state.with_gate(fingerprint, gate).with_error(
            Problem(ErrorKind.UNAUTHORIZED, "x"), T0
        )

    store.update(change)
    raw = paths.store_file.read_bytes()
    assert FAKE_TOKEN.encode() not in raw
    assert b"sk-ant" not in raw
    assert fingerprint.encode() in raw
    assert store.read().gate(fingerprint).last_kind == ErrorKind.UNAUTHORIZED


def test_gates_are_bounded_newest_kept() -> None:
    state = State(salt=b"s" * 16)
    for i in range(MAX_GATES + 3):
        state = state.with_gate(f"fp-{i}", Gate(failures=i))
    assert len(state.gates) == MAX_GATES
    assert list(state.gates) == [f"fp-{i}" for i in range(3, MAX_GATES + 3)]
    # Touching an old one makes it the newest.
    state = state.with_gate("fp-3", Gate(failures=99))
    assert list(state.gates)[-1] == "fp-3"
    assert state.gate("fp-unknown") == Gate()


def test_with_error_keeps_the_first_time_of_the_same_problem() -> None:
    state = State().with_error(Problem(ErrorKind.NETWORK, "down"), T0)
    state = state.with_error(Problem(ErrorKind.NETWORK, "still down"), T0 + timedelta(minutes=5))
    assert state.error_at == T0
    assert state.last_error is not None
    assert state.last_error.message == "still down"
    state = state.with_error(Problem(ErrorKind.RATE_LIMITED, "429"), T0 + timedelta(minutes=9))
    assert state.error_at == T0 + timedelta(minutes=9)
    cleared = state.with_error(None, T0 + timedelta(minutes=10))
    assert cleared.last_error is None
    assert cleared.error_at is None


# -- torn, garbage, foreign ------------------------------------------------------------------


def valid_text(salt: str = "ab" * 16) -> str:
    state = State(salt=bytes.fromhex(salt)).with_snapshot(usage_at(T0))
    return json.dumps(state.to_json())


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        valid_text()[: len(valid_text()) // 2].encode(),
        b"\x00\xff\xfe garbage",
        b"null",
        b"[]",
        b'"text"',
        json.dumps({**json.loads(valid_text()), "version": STORE_VERSION + 1}).encode(),
        json.dumps({**json.loads(valid_text()), "version": "1"}).encode(),
        json.dumps({**json.loads(valid_text()), "salt": "zz"}).encode(),
        json.dumps({**json.loads(valid_text()), "salt": "ab"}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b" " * (MAX_STORE_BYTES + 10) + valid_text().encode(),
    ],
    ids=[
        "empty",
        "open-brace",
        "torn",
        "binary",
        "null",
        "list",
        "string",
        "future-version",
        "string-version",
        "bad-salt",
        "short-salt",
        "deep-nesting",
        "huge",
    ],
)
def test_unreadable_file_reads_empty_and_is_rewritten(
    store: Store, paths: AppPaths, content: bytes
) -> None:
    paths.state_dir.mkdir(parents=True)
    paths.store_file.write_bytes(content)
    assert store.read() == State()
    state = store.update(lambda s: s.with_snapshot(usage_at(T0)))
    assert len(state.salt) >= 16
    assert json.loads(paths.store_file.read_bytes())["version"] == STORE_VERSION
    assert store.read() == state


def test_store_that_is_a_directory_reads_empty(store: Store, paths: AppPaths) -> None:
    paths.store_file.mkdir(parents=True)
    assert store.read() == State()


@pytest.mark.parametrize(
    "percent_text",
    ["1" + "0" * 400, "-1" + "0" * 400, "Infinity", "NaN", "1e999"],
    ids=["huge-int", "huge-negative", "infinity", "nan", "float-overflow"],
)
def test_odd_numbers_in_history_never_crash_a_read(
    store: Store, paths: AppPaths, percent_text: str
) -> None:
    """A hand-edited or foreign file can hold numbers Python's json reads but floats cannot."""
    paths.state_dir.mkdir(parents=True)
    paths.store_file.write_text(
        '{"version": 1, "salt": "' + "ab" * 16 + '", "history": [["' + T0.isoformat() + '", '
        '{"five_hour": ' + percent_text + "}]]}"
    )
    state = store.read()
    for point in state.history:
        for value in point.percents.values():
            assert math.isfinite(value)
    store.update(lambda s: s.with_snapshot(usage_at(T0 + timedelta(minutes=5))))
    json.loads(paths.store_file.read_text(), parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> float:
    raise AssertionError(f"the store wrote {name}, which is not JSON")


# -- history ---------------------------------------------------------------------------------


def test_history_over_ten_days_is_bounded_recent_and_monotonic() -> None:
    history: tuple[HistoryPoint, ...] = ()
    start = T0
    span = timedelta(days=10)
    count = 10_000
    for i in range(count):
        at = start + span * i / count
        history = append_history(history, usage_at(at, five=(i * 7) % 100, week=i / 200))
        assert len(history) <= HISTORY_MAX_POINTS
    end = start + span * (count - 1) / count
    assert history
    assert all(end - p.at <= HISTORY_MAX_AGE for p in history)
    times = [p.at for p in history]
    assert times == sorted(times)
    assert times[-1] == end


def test_history_thins_unchanged_values_but_keeps_changes() -> None:
    history = append_history((), usage_at(T0))
    history = append_history(history, usage_at(T0 + timedelta(seconds=30)))
    assert len(history) == 1
    history = append_history(history, usage_at(T0 + timedelta(seconds=40), five=43))
    assert len(history) == 2
    history = append_history(history, usage_at(T0 + timedelta(minutes=5), five=43))
    assert len(history) == 3


def test_history_ignores_a_point_from_the_past() -> None:
    history = append_history((), usage_at(T0))
    assert append_history(history, usage_at(T0 - timedelta(minutes=5), five=10)) == history


def test_history_survives_the_file_rounded(store: Store) -> None:
    store.update(lambda s: s.with_snapshot(usage_at(T0, five=33.333333)))
    (point,) = store.read().history
    assert point.percents[FIVE_HOUR] == 33.33


# -- atomic writes and locks -----------------------------------------------------------------


def test_readers_never_see_a_torn_file_thread(store: Store, paths: AppPaths) -> None:
    store.update(lambda s: s.with_snapshot(usage_at(T0)))
    stop = threading.Event()
    bad: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                data = paths.store_file.read_bytes()
                json.loads(data)
                reads[0] += 1
            except (ValueError, OSError) as exc:
                bad.append(repr(exc))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(120):
            at = T0 + timedelta(minutes=3 * i)
            store.update(snapshot_change(usage_at(at, five=i % 100)))
    finally:
        stop.set()
        thread.join()
    assert bad == []
    assert reads[0] > 0
    assert store.read().snapshot == usage_at(T0 + timedelta(minutes=3 * 119), five=119 % 100)


def test_readers_never_see_a_torn_file_process(store: Store, paths: AppPaths) -> None:
    store.update(lambda s: s.with_snapshot(usage_at(T0)))
    stop_file = paths.state_dir / "stop-reading"
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import json, os, sys
                path, stop = sys.argv[1], sys.argv[2]
                reads = bad = 0
                while not os.path.exists(stop) or reads == 0:
                    try:
                        with open(path, "rb") as f:
                            json.loads(f.read())
                        reads += 1
                    except (ValueError, OSError):
                        bad += 1
                print(reads, bad)
                """
            ),
            str(paths.store_file),
            str(stop_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for i in range(120):
            at = T0 + timedelta(minutes=3 * i)
            store.update(snapshot_change(usage_at(at, five=i % 100)))
    finally:
        stop_file.write_text("")
        out, _ = reader.communicate(timeout=60)
    reads, bad = (int(x) for x in out.split())
    assert reads > 0
    assert bad == 0


LOCK_TRY = """
    import sys
    from pathlib import Path
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.store import Store, StoreBusy
    root = Path(sys.argv[1])
    paths = AppPaths(
        root / "state" / "claude-usage-gauge", root / "data", root / "log", root / "config"
    )
    try:
        with Store(paths).fetch_lock(0.2):
            print("acquired")
    except StoreBusy as exc:
        print("busy", "claude-usage-gauge" in str(exc))
"""


def test_fetch_lock_excludes_another_process(store: Store, tmp_path: Path) -> None:
    with store.fetch_lock(1.0):
        held = run_python(LOCK_TRY, str(tmp_path))
    assert held.returncode == 0, held.stderr
    assert held.stdout.split() == ["busy", "True"]
    free = run_python(LOCK_TRY, str(tmp_path))
    assert free.returncode == 0, free.stderr
    assert free.stdout.strip() == "acquired"


def test_fetch_lock_does_not_block_store_updates(store: Store) -> None:
    with store.fetch_lock(1.0):
        state = store.update(lambda s: s.with_snapshot(usage_at(T0)), timeout=1.0)
    assert state.snapshot is not None


def test_store_lock_times_out_with_store_busy(
    store: Store, paths: AppPaths, tmp_path: Path
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                from pathlib import Path
                from claude_usage_gauge.paths import AppPaths
                from claude_usage_gauge.store import Store
                root = Path(sys.argv[1])
                paths = AppPaths(root / "state" / "claude-usage-gauge", root / "data", root / "log",
                                 root / "config")
                def hold(state):
                    print("holding", flush=True)
                    sys.stdin.readline()
                    return state
                Store(paths).update(hold)
                """
            ),
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(SRC)),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreBusy):
            store.update(lambda s: s, timeout=0.2)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    assert holder.returncode == 0
    assert store.update(lambda s: s, timeout=5).salt


BUMP = """
    import sys
    from dataclasses import replace
    from pathlib import Path
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.store import Store
    root, rounds = Path(sys.argv[1]), int(sys.argv[2])
    paths = AppPaths(
        root / "state" / "claude-usage-gauge", root / "data", root / "log", root / "config"
    )
    store = Store(paths)
    def bump(state):
        gate = state.gate("shared")
        return state.with_gate("shared", replace(gate, failures=gate.failures + 1))
    for _ in range(rounds):
        store.update(bump, timeout=60)
    print("done")
"""


def test_updates_from_eight_processes_lose_nothing(store: Store, tmp_path: Path) -> None:
    processes, rounds = 8, 25
    env = dict(os.environ, PYTHONPATH=str(SRC))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(BUMP), str(tmp_path), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip() == "done"
    assert store.read().gate("shared").failures == processes * rounds


# -- properties: reading anything never raises -----------------------------------------------

STATE_KEYS = (
    list(State(salt=b"s" * 16).to_json()) + list(Gate().to_json()) + list(usage_at(T0).to_json())
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.sampled_from([10**400, -(10**400), float("inf"), float("nan")])
    | st.text(max_size=20)
    | st.sampled_from(
        [k.value for k in ErrorKind] + [T0.isoformat(), "ab" * 16, "api", "statusline", "0" * 40]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(STATE_KEYS) | st.text(max_size=6), children, max_size=8)
    ),
    max_leaves=40,
)
history_item = st.lists(
    json_scalars | st.dictionaries(st.text(max_size=10), json_scalars), max_size=3
) | st.tuples(
    st.just(T0.isoformat()) | json_scalars,
    st.dictionaries(st.sampled_from([FIVE_HOUR, SEVEN_DAY]) | st.text(max_size=4), json_scalars),
).map(list)
state_like = st.fixed_dictionaries(
    {"version": st.just(STORE_VERSION) | json_scalars, "salt": st.just("ab" * 16) | json_scalars},
    optional={
        "snapshot": json_values | st.just(usage_at(T0).to_json()),
        "history": st.lists(history_item | json_values, max_size=5),
        "last_error": json_values
        | st.fixed_dictionaries(
            {"kind": st.sampled_from([k.value for k in ErrorKind]) | json_scalars},
            optional={"message": json_scalars, "retry_at": json_scalars, "detail": json_scalars},
        ),
        "error_at": json_scalars,
        "gates": st.dictionaries(st.text(max_size=8), json_values, max_size=6) | json_values,
        "last_manual": json_scalars,
        "current_fingerprint": json_scalars,
    },
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(json_values | state_like)
@example({"version": 1, "salt": "ab" * 16, "history": [[T0.isoformat(), {"five_hour": 10**400}]]})
@example(
    {"version": 1, "salt": "ab" * 16, "history": [[T0.isoformat(), {"five_hour": float("inf")}]]}
)
def test_state_from_json_never_raises(raw: object) -> None:
    state = State.from_json(raw)
    if state is not None:
        assert len(state.salt) >= 16
        assert len(state.history) <= HISTORY_MAX_POINTS
        assert len(state.gates) <= MAX_GATES
        # Whatever was read can be written back as strict JSON and read again the same.
        text = json.dumps(state.to_json(), allow_nan=False)
        assert State.from_json(json.loads(text)) == state


@PROPERTY
@given(json_values)
def test_problem_from_json_never_raises(raw: object) -> None:
    problem = Problem.from_json(raw)
    if problem is not None:
        assert isinstance(problem.kind, ErrorKind)
        assert Problem.from_json(json.loads(json.dumps(problem.to_json()))) == problem


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | state_like.map(lambda d: json.dumps(d).encode()))
def test_store_read_of_any_bytes_never_raises(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as root:
        paths = make_paths(Path(root))
        paths.state_dir.mkdir(parents=True)
        paths.store_file.write_bytes(content)
        store = Store(paths)
        assert isinstance(store.read(), State)
        state = store.update(lambda s: s.with_snapshot(usage_at(T0)))
        assert store.read() == state


def test_a_store_from_a_newer_version_is_set_aside_not_overwritten(
    store: Store, paths: AppPaths
) -> None:
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    newer = b'{"version": 99, "something": "we do not understand"}'
    paths.store_file.write_bytes(newer)
    assert store.read() == State()  # read as empty...
    store.update(lambda s: s)
    kept = paths.state_dir / "state.from-v99.json"
    assert kept.read_bytes() == newer  # ...but kept, byte for byte, for that newer version
    assert json.loads(paths.store_file.read_bytes())["version"] == 1


def test_temp_files_left_by_a_killed_writer_are_removed_after_a_minute(
    store: Store, paths: AppPaths
) -> None:
    store.update(lambda s: s)
    old = paths.state_dir / ".state.json.abc123.tmp"
    young = paths.state_dir / ".bridge.json.42.1.tmp"
    foreign = paths.state_dir / "notes.tmp"
    for path in (old, young, foreign):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(foreign, (an_hour_ago, an_hour_ago))
    store.update(lambda s: s)
    assert not old.exists()
    assert young.exists()  # may still be in the middle of being written
    assert foreign.exists()  # not ours


# -- Claude Code's hook events ---------------------------------------------------------------


def test_any_turns_end_is_activity_and_only_a_failure_stands(paths: AppPaths) -> None:
    from claude_usage_gauge.hooks.event_file import write_event

    at = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    stop = {
        "version": 1,
        "at": at.timestamp(),
        "event": "Stop",
        "kind": "",
        "message": "",
        "request_id": "",
    }
    write_event(paths.state_dir, stop)
    state = Store(paths).read()
    assert state.activity_at == at
    assert state.claude_code_event is None

    failed = {**stop, "event": "StopFailure", "kind": "rate_limit", "at": at.timestamp() + 60}
    write_event(paths.state_dir, failed)
    state = Store(paths).read()
    assert state.activity_at == at + timedelta(seconds=60)
    assert state.claude_code_event is not None
    assert state.claude_code_event.kind == "rate_limit"


def test_a_new_sign_in_ends_a_failure_but_not_the_activity(paths: AppPaths, tmp_path: Path) -> None:
    from claude_usage_gauge.hooks.event_file import write_event

    credentials = tmp_path / ".credentials.json"
    credentials.write_text("{}")
    old = credentials.stat().st_mtime - 120
    write_event(
        paths.state_dir,
        {
            "version": 1,
            "at": old + 60,
            "event": "StopFailure",
            "kind": "billing_error",
            "message": "",
            "request_id": "",
        },
    )
    os.utime(credentials, (old, old))
    assert Store(paths, credentials_file=credentials).read().claude_code_event is not None
    os.utime(credentials, (old + 90, old + 90))
    state = Store(paths, credentials_file=credentials).read()
    assert state.claude_code_event is None
    assert state.activity_at is not None

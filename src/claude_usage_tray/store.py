"""The shared state file: the last good snapshot, a bounded history, the last error, the gates.

Every process (tray, `status`, `statusline`) reads and writes this one file, so together they make
no more requests than one of them would. Writes are atomic (temp file, fsync, replace) under a
cross-process lock; reads take no lock, because a replaced file is never seen half-written. A torn,
garbage or foreign-version file reads as empty and is rewritten on the next update.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from claude_usage_tray.bridge_file import finite_number
from claude_usage_tray.errors import Problem, parse_iso
from claude_usage_tray.paths import AppPaths, ensure_private_dir, write_private_file
from claude_usage_tray.schedule import Gate
from claude_usage_tray.usage import Usage, merge_bridged, parse_statusline

log = logging.getLogger(__name__)

STORE_VERSION = 1
# A week of pace estimates at one point per few minutes, thinned (see `append_history`).
HISTORY_MAX_POINTS = 2500
HISTORY_MAX_AGE = timedelta(days=8)
HISTORY_MIN_SPACING = timedelta(minutes=2)
MAX_GATES = 4
# The store is small (a few hundred KiB at most); anything larger is not ours.
MAX_STORE_BYTES = 4 * 1024 * 1024
STALE_TEMP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime
    percents: dict[str, float]


@dataclass(frozen=True, slots=True)
class State:
    salt: bytes = b""
    snapshot: Usage | None = None
    history: tuple[HistoryPoint, ...] = ()
    last_error: Problem | None = None
    error_at: datetime | None = None
    gates: dict[str, Gate] = field(default_factory=dict)
    # The newest manual refresh by any process (one spacing for all of them).
    last_manual: datetime | None = None
    # The fingerprint of the token last seen, so shells can find its gate without the token.
    current_fingerprint: str | None = None

    def gate(self, fingerprint: str) -> Gate:
        return self.gates.get(fingerprint, Gate())

    def with_gate(self, fingerprint: str, gate: Gate) -> State:
        gates = dict(self.gates)
        gates.pop(fingerprint, None)
        gates[fingerprint] = gate
        # Oldest first in insertion order: keep the newest few tokens' gates only.
        while len(gates) > MAX_GATES:
            gates.pop(next(iter(gates)))
        return replace(self, gates=gates, current_fingerprint=fingerprint)

    def with_error(self, problem: Problem | None, now: datetime) -> State:
        if problem is None:
            return replace(self, last_error=None, error_at=None)
        # Keep the first time we saw this same problem: "since 14:02" stays honest.
        if self.last_error is not None and self.last_error.kind == problem.kind and self.error_at:
            return replace(self, last_error=problem)
        return replace(self, last_error=problem, error_at=now)

    def with_snapshot(self, usage: Usage) -> State:
        return replace(
            self,
            snapshot=usage,
            history=append_history(self.history, usage),
        )

    # -- file representation -------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        return {
            "version": STORE_VERSION,
            "salt": self.salt.hex(),
            "snapshot": self.snapshot.to_json() if self.snapshot else None,
            "history": [
                [p.at.isoformat(), {k: round(v, 2) for k, v in p.percents.items()}]
                for p in self.history
            ],
            "last_error": self.last_error.to_json() if self.last_error else None,
            "error_at": self.error_at.isoformat() if self.error_at else None,
            "gates": {fp: g.to_json() for fp, g in self.gates.items()},
            "last_manual": self.last_manual.isoformat() if self.last_manual else None,
            "current_fingerprint": self.current_fingerprint,
        }

    @classmethod
    def from_json(cls, raw: object) -> State | None:
        """None when this is not a store we understand (then it is treated as empty)."""
        version = raw.get("version") if isinstance(raw, dict) else None
        if not isinstance(raw, dict) or type(version) is not int or version != STORE_VERSION:
            return None
        try:
            salt = bytes.fromhex(str(raw.get("salt", "")))
        except ValueError:
            return None
        if len(salt) < 16:
            return None
        history: list[HistoryPoint] = []
        raw_history = raw.get("history")
        if isinstance(raw_history, list):
            for item in raw_history[-HISTORY_MAX_POINTS:]:
                point = _history_point(item)
                if point is not None:
                    history.append(point)
        raw_gates = raw.get("gates")
        gates: dict[str, Gate] = {}
        if isinstance(raw_gates, dict):
            for fp, gate in list(raw_gates.items())[-MAX_GATES:]:
                if isinstance(fp, str):
                    gates[fp] = Gate.from_json(gate)
        current = raw.get("current_fingerprint")
        return cls(
            salt=salt,
            snapshot=Usage.from_json(raw.get("snapshot")),
            history=tuple(history),
            last_error=Problem.from_json(raw.get("last_error")),
            error_at=parse_iso(raw.get("error_at")),
            gates=gates,
            last_manual=parse_iso(raw.get("last_manual")),
            current_fingerprint=current if isinstance(current, str) else None,
        )


def _history_point(item: object) -> HistoryPoint | None:
    if not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], dict):
        return None
    at = parse_iso(item[0])
    if at is None:
        return None
    percents: dict[str, float] = {}
    for key, value in item[1].items():
        number = finite_number(value)
        if isinstance(key, str) and number is not None:
            percents[key] = number
    return HistoryPoint(at=at, percents=percents)


def append_history(history: tuple[HistoryPoint, ...], usage: Usage) -> tuple[HistoryPoint, ...]:
    """Add a point, thinned (no two within a couple of minutes unless values moved) and bounded."""
    point = HistoryPoint(at=usage.fetched_at, percents={w.id: w.percent for w in usage.windows})
    points = list(history)
    if points:
        last = points[-1]
        if point.at < last.at:
            return history  # out of order (a clock jump back): history stays monotonic
        if point.at - last.at < HISTORY_MIN_SPACING and point.percents == last.percents:
            return history
    points.append(point)
    cutoff = point.at - HISTORY_MAX_AGE
    points = [p for p in points if p.at >= cutoff][-HISTORY_MAX_POINTS:]
    return tuple(points)


class Store:
    """The state file and its two locks.

    `store.lock` guards read-modify-write and is held for milliseconds. `fetch.lock` is held
    across one request, so parallel callers wait for the one that fetches and then read its
    result instead of fetching too.
    """

    def __init__(self, paths: AppPaths) -> None:
        self.paths = paths
        # The last parse, keyed by the file's identity: a week of history is ~200 KB of JSON,
        # and the tray re-reads the store every few seconds while nothing has changed.
        self._parsed: tuple[tuple[int, int, int], State] | None = None
        # Set when the file on disk was written by a newer version of the app.
        self._foreign_version: int | None = None
        # Whether the last read folded in statusline numbers the file does not hold yet.
        self.folded_bridge = False

    def read(self) -> State:
        """The current state, with newer statusline numbers folded in. Never raises.

        A missing, torn or foreign state file reads as empty.
        """
        state = self._read_state()
        bridged = self._read_bridge()
        self.folded_bridge = bridged is not None and (
            state.snapshot is None or bridged.fetched_at > state.snapshot.fetched_at
        )
        if self.folded_bridge and bridged is not None:
            state = state.with_snapshot(merge_bridged(state.snapshot, bridged))
        return state

    def _read_bridge(self) -> Usage | None:
        """The statusline bridge's newest numbers (its own file, see bridge_file.py)."""
        from claude_usage_tray.bridge_file import read_bridge

        raw = read_bridge(self.paths.bridge_file)
        at = finite_number(raw.get("at")) if raw is not None else None
        if raw is None or at is None:
            return None
        try:
            received = datetime.fromtimestamp(at, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return parse_statusline({"rate_limits": raw.get("rate_limits")}, received)

    def _read_state(self) -> State:
        self._foreign_version = None
        try:
            with self.paths.store_file.open("rb") as handle:
                info = os.fstat(handle.fileno())
                key = (info.st_mtime_ns, info.st_size, info.st_ino)
                if self._parsed is not None and self._parsed[0] == key:
                    return self._parsed[1]
                data = handle.read(MAX_STORE_BYTES + 1)
        except FileNotFoundError:
            return State()
        except OSError as exc:
            log.warning("state file unreadable, treating as empty: %s", exc.strerror)
            return State()
        if len(data) > MAX_STORE_BYTES:
            log.warning("state file larger than %d bytes, treating as empty", MAX_STORE_BYTES)
            return State()
        try:
            raw = json.loads(data)
            state = State.from_json(raw)
        except (ValueError, RecursionError, OverflowError):
            raw, state = None, None
        if state is None:
            version = raw.get("version") if isinstance(raw, dict) else None
            if type(version) is int and version > STORE_VERSION:
                self._foreign_version = version
            log.warning("state file torn or from another version, treating as empty")
            return State()
        self._parsed = (key, state)
        return state

    def update(self, change: Callable[[State], State], *, timeout: float = 10.0) -> State:
        """Apply `change` to the current state under the store lock and write the result.

        Raises `StoreBusy` if the lock cannot be had within `timeout`, `OSError` if the file
        cannot be written (read-only directory, full disk): callers keep working without it.
        """
        with self._lock(self.paths.store_lock, timeout):
            state = self.read()
            self._keep_newer_version()
            self._remove_stale_temp_files()
            if len(state.salt) < 16:
                state = replace(state, salt=os.urandom(16))
            new_state = change(state)
            write_private_file(
                self.paths.store_file,
                json.dumps(new_state.to_json(), separators=(",", ":")).encode(),
            )
            return new_state

    @contextlib.contextmanager
    def fetch_lock(self, timeout: float) -> Iterator[None]:
        with self._lock(self.paths.fetch_lock, timeout):
            yield

    @contextlib.contextmanager
    def _lock(self, path: os.PathLike[str], timeout: float) -> Iterator[None]:
        import filelock

        ensure_private_dir(self.paths.state_dir)
        lock = filelock.FileLock(os.fspath(path), timeout=timeout, mode=0o600)
        try:
            lock.acquire()
        except filelock.Timeout as exc:
            raise StoreBusy(f"another claude-usage-tray process holds {path}") from exc
        try:
            yield
        finally:
            lock.release()

    def _keep_newer_version(self) -> None:
        """A store from a newer app is set aside, not overwritten: going back a version and
        forth again loses nothing."""
        version = self._foreign_version
        if version is None:
            return
        target = self.paths.store_file.with_name(f"state.from-v{version}.json")
        try:
            os.replace(self.paths.store_file, target)
            log.warning("state file from version %d kept as %s", version, target)
        except OSError as exc:
            log.warning("could not set aside the newer state file: %s", exc)

    def _remove_stale_temp_files(self) -> None:
        """A writer killed mid-write leaves its temp file behind; nothing else would remove it.

        Called under the store lock, so no state write is in flight; a minute is far longer than
        any bridge write takes.
        """
        cutoff = time.time() - STALE_TEMP_SECONDS
        try:
            names = os.listdir(self.paths.state_dir)
        except OSError:
            return
        for name in names:
            if name.endswith(".tmp") and name.startswith((".state.json.", ".bridge.json.")):
                path = self.paths.state_dir / name
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()


class StoreBusy(Exception):
    """The lock could not be had in time (another process is mid-request)."""

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
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge.core.claude_code_event import ClaudeCodeEvent, current_failure
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.state_format import MAX_STORE_BYTES, STORE_VERSION
from claude_usage_gauge.core.usage import Usage, merge_bridged
from claude_usage_gauge.core.usage_parser import parse_statusline
from claude_usage_gauge.core.values import finite_number
from claude_usage_gauge.files import ensure_private_dir, open_regular, write_private_file
from claude_usage_gauge.folders import unsafe_place
from claude_usage_gauge.paths import AppPaths

if TYPE_CHECKING:
    from claude_usage_gauge.sources.claude_home import ClaudeHome
    from claude_usage_gauge.sources.claude_state import ClaudeCodeCache

log = logging.getLogger(__name__)

STALE_TEMP_SECONDS = 60.0


class Store:
    """The state file and its two locks.

    `store.lock` guards read-modify-write and is held for milliseconds. `fetch.lock` is held
    across one request, so parallel callers wait for the one that fetches and then read its
    result instead of fetching too.
    """

    def __init__(
        self,
        paths: AppPaths,
        claude_cache: ClaudeCodeCache | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        credentials_file: Path | None = None,
    ) -> None:
        self.paths = paths
        # A new sign-in (the credentials file changed) ends a failure Claude Code reported.
        self.credentials_file = credentials_file
        # Claude Code's own cached /usage answer, folded in like the bridge when it is newer.
        self.claude_cache = claude_cache
        self._clock = clock
        # The last parse, keyed by the file's identity: a week of history is ~200 KB of JSON,
        # and the tray re-reads the store every few seconds while nothing has changed.
        self._parsed: tuple[tuple[int, int, int], State] | None = None
        # Set when the file on disk was written by a newer version of the app.
        self._foreign_version: int | None = None
        # Whether the last read folded in numbers (Claude Code's statusline feed or its cached
        # /usage) that the file does not hold yet.
        self.folded_bridge = False
        # Problems already logged: a tray reads every few seconds, the log needs each once.
        self._told: set[str] = set()

    @classmethod
    def for_home(cls, paths: AppPaths, home: ClaudeHome) -> Store:
        """The store as a command or the tray sees it for one Claude Code installation: with
        that installation's cached /usage answer folded in."""
        from claude_usage_gauge.sources.claude_state import ClaudeCodeCache

        return cls(paths, ClaudeCodeCache(home.state_file), credentials_file=home.credentials_file)

    def read(self) -> State:
        """The current state, with newer numbers from Claude Code folded in. Never raises.

        A missing, torn or foreign state file reads as empty, and so does a state folder that is
        not ours alone (see `unshared`): nothing another user put there reaches our output.
        """
        problem = self.unshared()
        if problem is not None:
            self._tell_once(problem)
            self.folded_bridge = False
            return State()
        state = self._read_state()
        self.folded_bridge = False
        cached = self.claude_cache.read(self._clock()) if self.claude_cache is not None else None
        if cached is not None and _newer(cached, state):
            # A whole answer of the usage endpoint, as Claude Code's /usage fetched it.
            state = state.with_snapshot(cached)
            self.folded_bridge = True
        bridged = self._read_bridge()
        if bridged is not None and _newer(bridged, state):
            state = state.with_snapshot(merge_bridged(state.snapshot, bridged))
            self.folded_bridge = True
        event = self._read_claude_code_event()
        if event is None:
            return state
        # Any turn's end is a sign Claude Code is in use (the schedule polls at its base rate);
        # a failure stands until a later turn or a new sign-in ends it.
        failure = current_failure(event, self._credentials_changed_at())
        return replace(state.with_activity(event.at), claude_code_event=failure)

    def _read_claude_code_event(self) -> ClaudeCodeEvent | None:
        """How Claude Code's last turn ended, as its hook reported."""
        from claude_usage_gauge.hooks.event_file import event_path, read_event

        raw = read_event(event_path(self.paths.state_dir))
        at = finite_number(raw.get("at")) if raw is not None else None
        if raw is None or at is None:
            return None
        try:
            moment = datetime.fromtimestamp(at, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return ClaudeCodeEvent(
            event=str(raw["event"]),
            at=moment,
            kind=str(raw["kind"]),
            message=str(raw["message"]),
            request_id=str(raw["request_id"]),
        )

    def _credentials_changed_at(self) -> datetime | None:
        if self.credentials_file is None:
            return None
        try:
            return datetime.fromtimestamp(self.credentials_file.stat().st_mtime, tz=UTC)
        except (OSError, OverflowError, ValueError):
            return None

    def watched_files(self) -> tuple[Path, ...]:
        """Every file a read looks at: a change in any of them may change what is shown."""
        from claude_usage_gauge.hooks.event_file import event_path

        files = [
            self.paths.store_file,
            self.paths.bridge_file,
            Path(event_path(self.paths.state_dir)),
        ]
        if self.claude_cache is not None:
            files.append(self.claude_cache.path)
        return tuple(files)

    def unshared(self) -> str | None:
        """Why the state folder cannot be shared (it, or the folder it would be made in, is not
        ours alone), or None when it can."""
        return unsafe_place(self.paths.state_dir)

    def _tell_once(self, problem: str) -> None:
        if problem not in self._told:
            self._told.add(problem)
            log.warning("%s", problem)

    def _read_bridge(self) -> Usage | None:
        """The statusline bridge's newest numbers (its own file, see bridge_file.py)."""
        from claude_usage_gauge.statusline.bridge_file import read_bridge

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
            # A regular file of ours, not larger than a store can be: a pipe, a device or another
            # user's file at this path is not read (and cannot hang or flood us).
            with open_regular(self.paths.store_file, MAX_STORE_BYTES, ours=True) as handle:
                info = os.fstat(handle.fileno())
                key = (info.st_mtime_ns, info.st_size, info.st_ino)
                if self._parsed is not None and self._parsed[0] == key:
                    return self._parsed[1]
                data = handle.read(MAX_STORE_BYTES + 1)
        except FileNotFoundError:
            return State()
        except OSError as exc:
            self._tell_once(f"state file not read, treating as empty: {exc.strerror or exc}")
            return State()
        if len(data) > MAX_STORE_BYTES:
            self._tell_once(f"state file larger than {MAX_STORE_BYTES} bytes, treating as empty")
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
            raise StoreBusy(f"another claude-usage-gauge process holds {path}") from exc
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


def _newer(usage: Usage, state: State) -> bool:
    return state.snapshot is None or usage.fetched_at > state.snapshot.fetched_at


class StoreBusy(Exception):
    """The lock could not be had in time (another process is mid-request)."""

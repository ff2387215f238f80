"""One refresh cycle, shared by the tray's poller and the `status` command.

Reads the credentials, asks the schedule, and only then (holding the fetch lock, re-checking
after every wait) makes the one request; its result goes into the store for everyone.
This is the only place that calls the usage endpoint.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from claude_usage_gauge.core.errors import Problem, UsageError
from claude_usage_gauge.core.polling import decide as decide_from_state
from claude_usage_gauge.core.schedule import (
    Decision,
    record_attempt,
    record_failure,
    record_success,
)
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import RequestRecord, State
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.sources.api_base import validate_api_base
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.keychain import SecretStore
from claude_usage_gauge.store import Store, StoreBusy

log = logging.getLogger(__name__)

# Longer than one request may take (15 s), so a waiting caller sees the fetcher's result.
FETCH_LOCK_WAIT = 20.0

Fetcher = Callable[[str, str, datetime], Usage]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _default_fetch(base: str, token: str, now: datetime) -> Usage:
    # httpx is imported only when a request is really due.
    from claude_usage_gauge.sources.api import fetch_usage

    return fetch_usage(base, token, now)


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    requested: bool  # did this call send a request?
    decision: Decision | None  # None when the credentials stopped us before the schedule


@dataclass
class Refresher:
    store: Store
    settings: Settings
    home: ClaudeHome
    secret_store: SecretStore | None = None
    fetch: Fetcher = _default_fetch
    clock: Clock = utc_now
    jitter: Callable[[], float] = random.random
    # The plan named in the credentials at the last read, for the menu's header (so a redraw
    # does not read the credentials again).
    plan: str | None = field(default=None, init=False)
    # Our state while the state file cannot be written (see `_update`).
    _memory: State | None = field(default=None, init=False, repr=False)

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.settings.poll_interval)

    def refresh(self, *, manual: bool = False, signature: str | None = None) -> Outcome:
        """Bring the store up to date if the schedule allows; never raises for expected faults.

        `signature` is the sign-in's signature when the caller (the poller) has just taken it,
        so one turn looks at the sign-in once for its signature and once for its contents."""
        from claude_usage_gauge.sources.credentials import (
            check_usable,
            credentials_signature,
            read_credentials,
            token_fingerprint,
        )

        now = self.clock()
        if signature is None:
            signature = credentials_signature(self.home, self.secret_store)
        try:
            creds = read_credentials(self.home, self.secret_store)
            self.plan = creds.subscription_type
            check_usable(creds, now)
            # A refused address is our own settings' fault: no attempt is counted and no gate
            # touched, so the fixed address is used at once (by the next process that loads it).
            validate_api_base(self.settings.api_base)
        except UsageError as exc:
            # Found locally, no request: remember it so every shell can explain it.
            return Outcome(self._record_local_problem(exc.problem, now), False, None)

        state = self.current_state()
        fingerprint = token_fingerprint(creds.access_token, state.salt) if state.salt else None
        decision = self.decide(state, fingerprint, now, signature, manual)
        if decision.at is None:
            return Outcome(state, False, decision)  # the server refused this token: keep saying so
        if not decision.allows(now):
            state = self._keep_bridged_history(state)
            if manual:
                # A manual refresh just made by another process may still be in flight: wait
                # for it (the fetch lock) so this caller shows its answer, not the old numbers.
                state = self._after_fetch_in_flight()
            return Outcome(self._forget_local_problem(state, now), False, decision)

        try:
            with self._fetch_lock():
                # Someone else may have fetched while we waited: decide again on fresh state.
                state = self.current_state()
                now = self.clock()
                if not state.salt:
                    state = self._update(lambda s: s)
                fingerprint = token_fingerprint(creds.access_token, state.salt)
                decision = self.decide(state, fingerprint, now, signature, manual)
                if not decision.allows(now):
                    return Outcome(state, False, decision)
                return self._fetch(creds.access_token, fingerprint, signature, now, manual)
        except StoreBusy:
            log.info("another process is fetching; showing the stored state")
            return Outcome(self.current_state(), False, decision)

    def _keep_bridged_history(self, state: State) -> State:
        """Numbers from Claude Code are folded in on read, but only a write keeps them in the
        history the pace line needs: write when the fold added a history point."""
        snapshot = state.snapshot
        if (
            self.store.folded_bridge
            and snapshot is not None
            and state.history
            and state.history[-1].at == snapshot.fetched_at
        ):
            return self._update(lambda s: s)
        return state

    def _after_fetch_in_flight(self) -> State:
        try:
            with self._fetch_lock():
                return self.current_state()
        except StoreBusy:
            # The wait timed out, but the store may hold the other fetch's result by now: show
            # the state as of the end of the wait, not what was read before it.
            return self.current_state()

    def decide(
        self,
        state: State,
        fingerprint: str | None,
        now: datetime,
        signature: str,
        manual: bool = False,
    ) -> Decision:
        """When this token may ask next (also what `doctor` reports)."""
        return decide_from_state(
            state,
            now=now,
            base=self.interval,
            fingerprint=fingerprint,
            signature=signature,
            manual=manual,
        )

    def _fetch(
        self, token: str, fingerprint: str, signature: str, now: datetime, manual: bool
    ) -> Outcome:
        def mark(state: State) -> State:
            state = state.with_gate(fingerprint, record_attempt(state.gate(fingerprint), now))
            state = state.with_request(now)
            return replace(state, last_manual=now) if manual else state

        # The attempt is written before the request, so a crash mid-request still counts it.
        self._update(mark)
        try:
            usage = self.fetch(self.settings.api_base, token, now)
        except UsageError as exc:
            problem = exc.problem
            log.info("usage request failed: %s (%s)", problem.kind.value, problem.detail or "-")
            jitter = self.jitter()

            def failed(state: State) -> State:
                gate = record_failure(
                    state.gate(fingerprint), problem, now=now, signature=signature, jitter=jitter
                )
                # "Next try 15:05" is the schedule's answer, which may be later than the server's.
                next_try = gate.rate_limited_until or gate.backoff_until
                shown = replace(problem, retry_at=next_try) if next_try else problem
                record = RequestRecord(now, problem.kind.value, problem.request_id, next_try)
                return (
                    state.with_gate(fingerprint, gate)
                    .with_error(shown, now)
                    .with_logged_request(record)
                )

            return Outcome(self._update(failed), True, None)

        log.info("usage fetched: %s", ", ".join(f"{w.id} {w.percent:g}%" for w in usage.windows))

        def succeeded(state: State) -> State:
            gate = record_success(state.gate(fingerprint), now)
            record = RequestRecord(now, "ok", usage.request_id)
            updated = state.with_gate(fingerprint, gate).with_snapshot(usage)
            return updated.with_error(None, now).with_logged_request(record)

        return Outcome(self._update(succeeded), True, None)

    def _record_local_problem(self, problem: Problem, now: datetime) -> State:
        def change(state: State) -> State:
            return state.with_error(problem, now)

        return self._update(change)

    def _forget_local_problem(self, state: State, now: datetime) -> State:
        """A credentials problem found earlier is cured once the credentials read fine again."""
        if state.last_error is None or not state.last_error.kind.found_locally:
            return state
        return self._update(lambda s: s.with_error(None, now) if _is_local(s) else s)

    def current_state(self) -> State:
        """The shared state, or our in-memory copy while the state file cannot be written."""
        disk = self.store.read()
        memory = self._memory
        if memory is None:
            return disk
        # Keep our gate and errors; take newer numbers (another process, the bridge) from disk.
        if disk.snapshot is not None and (
            memory.snapshot is None or disk.snapshot.fetched_at > memory.snapshot.fetched_at
        ):
            memory = memory.with_snapshot(disk.snapshot)
        return memory

    def _update(self, change: Callable[[State], State]) -> State:
        interval = self.settings.poll_interval

        def stamped(state: State) -> State:
            return replace(change(state), poll_interval=interval)

        try:
            state = self.store.update(stamped)
        except (OSError, StoreBusy) as exc:
            # A read-only or full disk must not stop the app, nor make it forget its gate (or
            # every turn would ask the server again): carry on in memory until writes work.
            if self._memory is None:
                log.warning("could not write the state file, keeping state in memory: %s", exc)
            base = self.current_state()
            if len(base.salt) < 16:
                base = replace(base, salt=os.urandom(16))
            self._memory = stamped(base)
            return self._memory
        self._memory = None
        return state

    @contextlib.contextmanager
    def _fetch_lock(self) -> Iterator[None]:
        """The cross-process fetch lock; without it (unwritable directory) we fetch alone."""
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.store.fetch_lock(FETCH_LOCK_WAIT))
            except OSError as exc:
                log.warning("fetch lock unavailable (%s); going on without it", exc)
            yield


def _is_local(state: State) -> bool:
    # Found without a request (credentials, a refused address); the server-reported ones (401)
    # stay until a request succeeds.
    return state.last_error is not None and state.last_error.kind.found_locally

"""The schedule's questions asked of the whole shared state: may a request go now, when is the
next check, when may the next manual refresh go. One function feeds them all, so the refresh
cycle, the menu and `status` never disagree about the answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from claude_usage_gauge.core.schedule import (
    Decision,
    adaptive_interval,
    budget_until,
    hourly_budget,
    next_attempt,
    reset_wake,
)
from claude_usage_gauge.core.state import State


def decide(
    state: State,
    *,
    now: datetime,
    base: timedelta,
    fingerprint: str | None,
    signature: str,
    manual: bool = False,
) -> Decision:
    """When the token with `fingerprint` may ask next (`base` is the configured interval)."""
    gate = state.gate(fingerprint or "")
    snapshot = state.snapshot
    last_data = snapshot.fetched_at if snapshot else None
    resets = tuple(w.resets_at for w in snapshot.windows if w.resets_at) if snapshot else ()
    return next_attempt(
        gate,
        now=now,
        interval=current_interval(state, base),
        last_data_at=last_data,
        signature=signature,
        manual=manual,
        last_manual=state.last_manual,
        wake_at=reset_wake(resets, last_data),
        activity_at=state.activity_at,
        recent=state.requests,
        budget=hourly_budget(base),
    )


def current_interval(state: State, base: timedelta) -> timedelta:
    """The wait after the newest numbers: the base while they move, longer while nothing does."""
    return adaptive_interval(
        base,
        last_data_at=state.snapshot.fetched_at if state.snapshot else None,
        moved_at=state.moved_at,
        activity_at=state.activity_at,
    )


def next_check(state: State, now: datetime, base: timedelta) -> datetime | None:
    """When the schedule asks the API next, for the token last used (None: not until new
    credentials, or no token used yet)."""
    decision = _decide_as_last_token(state, now, base, manual=False)
    return decision.at if decision is not None else None


def next_manual(state: State, now: datetime, base: timedelta) -> datetime | None:
    """When a manual refresh fits the hourly budget shared by all processes, if not now (a rate
    limit or a refused sign-in has its own line)."""
    return budget_until(state.requests, now, hourly_budget(base))


def manual_refresh(state: State, now: datetime, base: timedelta) -> Decision | None:
    """What a click on "Refresh now" would meet: when it may send a request (`at` <= now: at
    once; None: not until new credentials) and why; None when no token was used yet (a click
    reads the sign-in and asks)."""
    return _decide_as_last_token(state, now, base, manual=True)


def _decide_as_last_token(
    state: State, now: datetime, base: timedelta, *, manual: bool
) -> Decision | None:
    fingerprint = state.current_fingerprint
    if fingerprint is None:
        return None
    # The shells know the sign-in's signature; a reader of the state alone does not. Assuming
    # it unchanged answers "not until new credentials" where that is the gate's state.
    signature = state.gate(fingerprint).failed_signature or ""
    return decide(
        state, now=now, base=base, fingerprint=fingerprint, signature=signature, manual=manual
    )

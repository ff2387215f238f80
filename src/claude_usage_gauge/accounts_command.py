"""`status` across accounts, and `accounts list|discover [--add]`.

`status` shows every account (a heading each when there are several) or the one `--account`
names; `status --json` keeps its one object for the primary account and, when accounts are
configured, adds `accounts: [{name, config_dir, …the same keys…}]`. Each account is refreshed
through its own store and gate, with its own sign-in.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from claude_usage_gauge.accounts import Account

if TYPE_CHECKING:
    from datetime import datetime

    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.core.view import View
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.refresh import Outcome
    from claude_usage_gauge.sources.keychain import SecretStore

EXIT_OK = 0
EXIT_NOTHING = 1
# `status --refresh` sent no request: the server's rate limit or the hourly budget holds it
# back until the time stated on stderr. Whatever is stored is still shown.
EXIT_NOT_SENT = 3


@dataclass(frozen=True, slots=True)
class AccountStatus:
    account: Account
    view: View
    # Why the account's state folder cannot be used (nothing was asked), else None.
    unshared: str | None = None
    # `--refresh` sent no request: why, and when the next may go (see `held_back`).
    held: str | None = None
    # ...and a time to wait for (not "until you sign in again").
    held_until_a_time: bool = False


def _print(text: str) -> None:
    print(text, flush=True)


def _error(text: str) -> None:
    """An error or a refusal: to stderr, so a script reading stdout gets results only."""
    print(text, file=sys.stderr, flush=True)


def account_status(
    account: Account, settings: Settings, secret_store: SecretStore | None, *, refresh: bool
) -> AccountStatus:
    """One account's view: its store, brought up to date through its own gate."""
    from claude_usage_gauge.core.errors import ErrorKind, Problem
    from claude_usage_gauge.core.state import State
    from claude_usage_gauge.core.view import build_view
    from claude_usage_gauge.refresh import Refresher, utc_now
    from claude_usage_gauge.store import Store

    store = Store.for_home(account.paths, account.home)
    unshared = store.unshared()
    if unshared is not None and not refresh:
        # No request without a place to remember it: every run would ask the server again.
        now = utc_now()
        state = State().with_error(Problem(ErrorKind.CONFIG, unshared), now)
        return AccountStatus(account, build_view(state, now, settings), unshared)
    outcome = Refresher(store, settings, account.home, secret_store).refresh(manual=refresh)
    now = utc_now()
    held = held_back(outcome, now, settings) if refresh else None
    timed = held is not None and outcome.decision is not None and outcome.decision.at is not None
    if refresh and held is None:
        # Not held back by a limit: the numbers are fresh from a refresh moments ago; said, but
        # the answer asked for is shown, so the exit stays 0.
        held = just_refreshed(outcome, now)
    return AccountStatus(account, build_view(outcome.state, now, settings), None, held, timed)


# What held a manual refresh back (the schedule's reasons), said to the person who asked.
_HELD_BECAUSE = {
    "rate limited": "the server asked us to wait (rate limited)",
    "waiting for new credentials": "the server refused this sign-in",
    "manual refresh just happened": "a refresh went out moments ago",
}


def held_back(outcome: Outcome, now: datetime, settings: Settings) -> str | None:
    """Why `status --refresh` sent no request and when the next may go; None when it sent one,
    or when a refresh made moments ago (by another process, too) already brought its answer
    (`just_refreshed` says that)."""
    from datetime import timedelta

    from claude_usage_gauge.core.schedule import BUDGET_SPENT, budget_rule, hourly_budget

    decision = outcome.decision
    if outcome.requested or decision is None or decision.allows(now):
        return None  # sent, or stopped before the schedule (the credentials: status says why)
    state = outcome.state
    if (
        decision.reason == "manual refresh just happened"
        and state.snapshot is not None
        and state.last_manual is not None
        and state.snapshot.fetched_at >= state.last_manual
    ):
        return None
    why = _HELD_BECAUSE.get(decision.reason, decision.reason)
    if decision.reason == BUDGET_SPENT:
        # The rule as it is (a bucket that refills), never "this hour is used up".
        why = budget_rule(hourly_budget(timedelta(seconds=settings.poll_interval)))
    return _not_sent(why, decision.at, now)


def just_refreshed(outcome: Outcome, now: datetime) -> str | None:
    """`status --refresh` within the spacing after a refresh (by any process) that brought
    numbers: nothing was sent because these numbers are seconds old."""
    decision, snapshot = outcome.decision, outcome.state.snapshot
    if (
        outcome.requested
        or decision is None
        or decision.allows(now)
        or decision.reason != "manual refresh just happened"
        or snapshot is None
    ):
        return None
    age = max(int((now - snapshot.fetched_at).total_seconds()), 0)
    why = f"the numbers are {age} s old (fresh: a refresh went out moments ago)"
    if decision.at is None:
        return _not_sent(why, None, now)
    # Seconds away: a clock time to the minute would name the minute it is now.
    wait = max(int((decision.at - now).total_seconds() + 0.999), 1)
    return f"No request was sent: {why}. The next one may go in {wait} s."


def _not_sent(why: str, at: datetime | None, now: datetime) -> str:
    from claude_usage_gauge.local_time import clock

    if at is None:
        return f"No request was sent: {why}. The next one goes once you sign in again."
    return f"No request was sent: {why}. The next one may go at {clock(at, now)}."


def status_command(
    accounts: tuple[Account, ...],
    settings: Settings,
    secret_store: SecretStore | None,
    *,
    as_json: bool,
    refresh: bool,
    listed: bool,
) -> int:
    """`status` for these accounts; `listed`: accounts are configured (and none was picked),
    so the JSON object carries the `accounts` list."""
    from claude_usage_gauge.core.view import status_json
    from claude_usage_gauge.refresh import utc_now

    results = [account_status(a, settings, secret_store, refresh=refresh) for a in accounts]
    now = utc_now()
    for result in results:
        if result.held is not None:
            prefix = f"{result.account.name}: " if len(results) > 1 else ""
            _error(prefix + result.held)
    unshared = [r for r in results if r.unshared is not None]
    if unshared and not as_json:
        # In words an unusable state folder is a refusal (stderr); the JSON object is still the
        # answer a script reads.
        for result in unshared:
            if len(results) > 1:
                _error(heading(result.account))
            for line in _human_lines(result, now):
                _error(line)
        results = [r for r in results if r.unshared is None]
    if as_json:
        data = status_json(results[0].view)
        if listed:
            data["accounts"] = [
                {
                    "name": r.account.name,
                    "config_dir": str(r.account.home.config_dir),
                    **status_json(r.view),
                }
                for r in results
            ]
        _print(json.dumps(data, ensure_ascii=False))
    else:
        for number, result in enumerate(results):
            if len(results) > 1:
                if number:
                    _print("")
                _print(heading(result.account))
            for line in _human_lines(result, now):
                _print(line)
        if any(_shows_times(r.view) for r in results):
            # The lines above show clock times as the menu does (14:02); the zone, once.
            from claude_usage_gauge.local_time import current_zone

            _print(f"Times are local ({current_zone()}).")
    if unshared:
        return EXIT_NOTHING
    if any(r.held_until_a_time for r in results):
        return EXIT_NOT_SENT
    return EXIT_OK if all(r.view.usage is not None for r in results) else EXIT_NOTHING


def _shows_times(view: View) -> bool:
    return view.usage is not None or (view.error is not None and view.error.retry_at is not None)


def heading(account: Account) -> str:
    from claude_usage_gauge.core.text import clean

    return f"== {account.name} ({clean(str(account.home.config_dir), None)}) =="


def _human_lines(result: AccountStatus, now: datetime) -> list[str]:
    from claude_usage_gauge.core.errors import ErrorKind
    from claude_usage_gauge.core.guidance import not_shared_lines
    from claude_usage_gauge.core.view import status_lines

    if result.unshared is not None:
        return list(not_shared_lines(result.unshared))
    view = result.view
    lines = status_lines(view, now) or ["No usage yet."]
    # The cure, when nothing shows or when the numbers and the refusal disagree.
    if view.error is not None and (
        view.usage is None or view.error.kind == ErrorKind.OUT_OF_EXTRA_USAGE
    ):
        from claude_usage_gauge.core.guidance import help_steps

        lines += ["What to do:", *(f"  - {step}" for step in help_steps(view.error.kind))]
    return lines


# -- accounts list | discover ----------------------------------------------------------------


def accounts_command(
    action: str,
    paths: AppPaths,
    settings: Settings,
    secret_store: SecretStore | None,
    *,
    add: bool = False,
) -> int:
    from claude_usage_gauge.accounts import resolve_accounts

    if action == "list":
        if not settings.accounts:
            account = resolve_accounts(paths, settings)[0]
            _print(
                f"No accounts configured: watching {account.home.config_dir}, the one the "
                "environment names. 'accounts discover --add' lists and adds others."
            )
            return EXIT_OK
        accounts = resolve_accounts(paths, settings)
        width = max(len(account.name) for account in accounts)
        for account in accounts:
            primary = "  (primary)" if account.primary else ""
            _print(f"{account.name:<{width}}  {account.home.config_dir}{primary}")
        return EXIT_OK
    return _discover(paths, settings, secret_store, add=add)


def accounts_lines(paths: AppPaths, settings: Settings, shown: Account) -> list[str]:
    """For `doctor`: which account it was about and where each account keeps its state, when
    accounts are configured."""
    from claude_usage_gauge.accounts import resolve_accounts

    if not settings.accounts:
        return []
    lines = ["", "Accounts (doctor --account NAME shows another)"]
    for account in resolve_accounts(paths, settings):
        marks = ["primary"] if account.primary else []
        if account.name == shown.name:
            marks.append("shown above")
        note = f" ({', '.join(marks)})" if marks else ""
        lines.append(f"  {account.name}{note}: {account.home.config_dir}")
        lines.append(f"    state: {account.paths.state_dir}")
    return lines


def as_written(folder: str) -> str:
    """`folder` as people write it in the settings file: `~/.claude-work` under the home (the
    settings expand `~` back), else as it is."""
    from claude_usage_gauge.account_settings import expand_home

    home = expand_home("~").rstrip("/\\")
    for separator in ("/", "\\"):
        if len(home) > 1 and folder.startswith(home + separator):
            return "~" + folder[len(home) :]
    return folder


def _discover(
    paths: AppPaths, settings: Settings, secret_store: SecretStore | None, *, add: bool
) -> int:
    from claude_usage_gauge.account_settings import append_accounts
    from claude_usage_gauge.accounts import discover, resolve_accounts
    from claude_usage_gauge.core.settings import AccountSetting

    found = [
        f for f in discover(settings, secret_store=secret_store) if f.signed_in or f.configured_as
    ]
    if not found:
        _error(
            "No Claude Code sign-in found (looked in ~/.claude, $CLAUDE_CONFIG_DIR, ~/.claude-*)."
        )
        return EXIT_NOTHING
    missing = [f for f in found if f.configured_as is None and f.signed_in]
    # With nothing configured, the installation the environment names is watched already.
    watched = None if settings.accounts else resolve_accounts(paths, settings)[0].home.config_dir
    for item in found:
        state = f"configured as {item.configured_as}" if item.configured_as else "not configured"
        if watched is not None and item.home.config_dir == watched:
            state = "watched (nothing is configured, so this one is)"
        sign_in = f"signed in ({item.where})" if item.signed_in else item.where
        _print(f"{item.home.config_dir}: {sign_in}; {state}")
    more = [f for f in missing if f.home.config_dir != watched]
    if not more:
        return EXIT_OK
    if not add:
        _print(f"Run 'claude-usage-gauge accounts discover --add' to watch {len(more)} more.")
        return EXIT_OK
    # `discover` lists the installation watched so far first: with nothing configured yet it
    # becomes the primary, which keeps the usual folders (and its history).
    new = [AccountSetting(f.suggested_name, as_written(str(f.home.config_dir))) for f in missing]
    try:
        append_accounts(paths.config_file, new)
    except ValueError as exc:
        print(f"Nothing added: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except OSError as exc:
        print(f"Nothing added: {paths.config_file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_NOTHING
    for entry in new:
        _print(f"Added {entry.name}: {entry.config_dir}")
    _print(f"(in {paths.config_file})")
    return EXIT_OK

"""The Claude accounts the app watches: each a Claude Code installation with a room of its own.

With no `[[accounts]]` in the settings there is one account, the installation the environment
names (as before accounts existed), in the app's usual folders. With some, the first listed is
the primary: it keeps the usual folders (so adding a second account moves nothing), and every
other account gets `accounts/<name>/` under the state and data folders. A room holds the
account's store, its fetch lock (so its gate: one account's 429 never delays another), its
statusline bridge and hook event file, its history page and its credential backups, so a
restore can only ever put an account's own sign-in back.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.sources.claude_home import CONFIG_DIR_ENV, ClaudeHome

if TYPE_CHECKING:
    from claude_usage_gauge.sources.keychain import SecretStore

# The name of the one account when none are configured.
DEFAULT_NAME = "default"
# Claude Code's folders beside the default one: `CLAUDE_CONFIG_DIR=~/.claude-work claude`.
SIBLING_PREFIX = ".claude-"


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    home: ClaudeHome
    paths: AppPaths
    primary: bool


class UnknownAccount(LookupError):
    """`--account NAME` names no configured account."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        listed = ", ".join(known)
        super().__init__(f"no account named {name!r} (configured: {listed})")


def _same_folder(first: str | Path, second: str | Path) -> bool:
    def key(path: str | Path) -> str:
        return os.path.normcase(os.path.normpath(os.fspath(path)))

    return key(first) == key(second)


def home_for(config_dir: str, environ: Mapping[str, str] | None = None) -> ClaudeHome:
    """The installation in `config_dir` as Claude Code uses it.

    The default folder (`~/.claude`) is the installation `claude` uses without CLAUDE_CONFIG_DIR:
    its state file is `~/.claude.json` and its Keychain item has no suffix. Any other folder is
    what `CLAUDE_CONFIG_DIR=<folder> claude` uses (its Keychain item is named by the folder).
    """
    env = os.environ if environ is None else environ
    current = ClaudeHome.from_environ(env)
    default = ClaudeHome.from_environ({k: v for k, v in env.items() if k != CONFIG_DIR_ENV})
    if _same_folder(config_dir, default.config_dir):
        return default
    if env.get(CONFIG_DIR_ENV) and _same_folder(config_dir, current.config_dir):
        # The variable's own text names the Keychain item: keep it as the environment has it.
        return current
    return ClaudeHome.at(Path(config_dir), user=default.keychain_account)


def resolve_accounts(
    paths: AppPaths, settings: Settings, environ: Mapping[str, str] | None = None
) -> tuple[Account, ...]:
    """Every account, the primary first."""
    if not settings.accounts:
        return (Account(DEFAULT_NAME, ClaudeHome.from_environ(environ), paths, primary=True),)
    return tuple(
        Account(
            entry.name,
            home_for(entry.config_dir, environ),
            paths if number == 0 else paths.for_account(entry.name),
            primary=number == 0,
        )
        for number, entry in enumerate(settings.accounts)
    )


def select_account(accounts: tuple[Account, ...], name: str | None) -> Account:
    """The account called `name`, or the primary for None; raises UnknownAccount."""
    if name is None:
        return accounts[0]
    for account in accounts:
        if account.name == name:
            return account
    raise UnknownAccount(name, tuple(a.name for a in accounts))


def room_of(paths: AppPaths, settings: Settings, name: str | None) -> AppPaths:
    """The folders of the account called `name` (the primary's for None), without resolving
    any installation: what the statusline bridge and the hook need."""
    return select_account(resolve_accounts(paths, settings, {}), name).paths


def account_state_dir(name: str) -> str | None:
    """The state folder of the account called `name`, for the statusline bridge and the hook
    when their command names an account but no folder; None when there is no such account (they
    then record nothing rather than another account's numbers). Never raises."""
    try:
        from claude_usage_gauge.config import load_settings
        from claude_usage_gauge.paths import app_paths

        paths = app_paths()
        return os.fspath(room_of(paths, load_settings(paths.config_file), name).state_dir)
    except (UnknownAccount, OSError, KeyError, RuntimeError, ValueError):
        return None


# -- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A Claude Code config folder found on this machine."""

    home: ClaudeHome
    signed_in: bool
    # Where the sign-in is (a file or a Keychain item), or why none was found.
    where: str
    configured_as: str | None  # the account's name when it is configured
    suggested_name: str


def discover(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    secret_store: SecretStore | None = None,
) -> list[Found]:
    """Config folders that may hold a Claude Code sign-in: the one the environment names, the
    default `~/.claude`, every `~/.claude-*` folder, and the configured ones; each once."""
    env = os.environ if environ is None else environ
    current = ClaudeHome.from_environ(env)
    default = ClaudeHome.from_environ({k: v for k, v in env.items() if k != CONFIG_DIR_ENV})
    candidates = [current.config_dir, default.config_dir]
    parent = default.config_dir.parent
    try:
        siblings = sorted(
            entry.path
            for entry in os.scandir(parent)
            if entry.name.startswith(SIBLING_PREFIX) and entry.is_dir(follow_symlinks=True)
        )
    except OSError:
        siblings = []
    candidates += [Path(path) for path in siblings]
    candidates += [Path(entry.config_dir) for entry in settings.accounts]

    found: list[Found] = []
    taken = {entry.name for entry in settings.accounts}
    for folder in candidates:
        if any(_same_folder(folder, seen.home.config_dir) for seen in found):
            continue
        home = home_for(str(folder), env)
        signed_in, where = _sign_in(home, secret_store)
        configured = next(
            (e.name for e in settings.accounts if _same_folder(e.config_dir, folder)), None
        )
        name = configured or _free_name(_name_for(home, default), taken)
        taken.add(name)
        found.append(Found(home, signed_in, where, configured, name))
    return found


def _sign_in(home: ClaudeHome, store: SecretStore | None) -> tuple[bool, str]:
    """Whether this installation holds a sign-in (its file, or its Keychain item), and where."""
    from claude_usage_gauge.core.errors import UsageError

    path = home.credentials_file
    try:
        if path.is_file():
            return True, str(path)
    except OSError:
        pass
    if store is not None:
        try:
            if store.get(home.keychain_service, home.keychain_account) is not None:
                return True, home.keychain_location
        except UsageError as exc:  # locked, or access refused: say so, do not guess
            return False, f"{home.keychain_location}: {exc.message}"
    return False, "no sign-in"


def _name_for(home: ClaudeHome, default: ClaudeHome) -> str:
    if _same_folder(home.config_dir, default.config_dir):
        return DEFAULT_NAME
    base = home.config_dir.name
    for prefix in (SIBLING_PREFIX, "."):
        if base.startswith(prefix) and len(base) > len(prefix):
            base = base[len(prefix) :]
            break
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", base).strip("-")[:24]
    return name or "account"


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"

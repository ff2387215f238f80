"""What each subcommand does. Every one imports what it needs inside its own function, so
`status` served from a fresh store never loads the GUI, HTTP, TLS or Keychain modules."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from claude_usage_gauge.accounts import Account
    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.sources.keychain import SecretStore

EXIT_OK = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2


def run(command: str, args: argparse.Namespace) -> int:
    """Run the parsed `command`; its exit status."""
    from claude_usage_gauge.accounts import UnknownAccount

    try:
        return _run(command, args)
    except UnknownAccount as exc:  # `--account NAME` that names no configured account
        print(f"claude-usage-gauge: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(command: str, args: argparse.Namespace) -> int:
    if command == "statusline":
        return _statusline(args)
    if command == "hooks":
        return _hooks(args)
    # The tray and one-shot commands keep separate logs: a rotating file has one writer.
    _setup_logging("tray" if command == "tray" else "cli")
    if command == "status":
        return _status(args.json, args.refresh, args.account)
    if command == "accounts":
        return _accounts(args.action, getattr(args, "add", False))
    if command == "doctor":
        return _report(_account(args)) if args.report else _doctor(_account(args))
    if command == "history":
        return _history(_account(args), args.output, args.open)
    if command == "credentials":
        return _credentials(_account(args), args.action, getattr(args, "yes", False))
    if command == "autostart":
        return _autostart(args.action)
    return _tray(demo=args.demo)


# -- shared plumbing ---------------------------------------------------------------------------


def _paths() -> AppPaths:
    from claude_usage_gauge.paths import app_paths

    return app_paths()


def _settings(paths: AppPaths) -> Settings:
    from claude_usage_gauge.config import load_settings

    return load_settings(paths.config_file)


def _account(args: argparse.Namespace) -> Account:
    """The account `--account NAME` picks, the primary without it (raises UnknownAccount)."""
    from claude_usage_gauge.accounts import resolve_accounts, select_account

    paths = _paths()
    accounts = resolve_accounts(paths, _settings(paths))
    return select_account(accounts, getattr(args, "account", None))


def _secret_store() -> SecretStore | None:
    from claude_usage_gauge.sources.keychain import default_secret_store

    return default_secret_store()


def _setup_logging(name: str) -> None:
    from claude_usage_gauge.logs import setup_logging

    paths = _paths()
    try:
        setup_logging(paths.log_file if name == "tray" else paths.log_dir / f"{name}.log")
    except OSError as exc:
        from claude_usage_gauge.files import UnsafeFolder

        # A folder that is not ours is told where it matters (status, doctor, reset), once.
        if not isinstance(exc, UnsafeFolder):
            print(f"note: logging disabled ({exc.strerror})", file=sys.stderr)


def _print(text: str) -> None:
    """A result: to stdout."""
    print(text, flush=True)


def _error(text: str) -> None:
    """An error or a refusal: to stderr, so a script reading stdout gets results only."""
    print(text, file=sys.stderr, flush=True)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        _error(f"{question} Not asked (no terminal): run again with --yes to confirm.")
        return False
    # The question is asked on stderr, so it shows even when stdout goes to a file or a pipe.
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = input()
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# -- subcommands ---------------------------------------------------------------------------


def _status(as_json: bool, refresh: bool, name: str | None) -> int:
    from claude_usage_gauge.accounts import resolve_accounts, select_account
    from claude_usage_gauge.accounts_command import status_command

    paths = _paths()
    settings = _settings(paths)
    accounts = resolve_accounts(paths, settings)
    if name is not None:
        accounts = (select_account(accounts, name),)
    listed = bool(settings.accounts) and name is None
    return status_command(
        accounts, settings, _secret_store(), as_json=as_json, refresh=refresh, listed=listed
    )


def _accounts(action: str, add: bool) -> int:
    from claude_usage_gauge.accounts_command import accounts_command

    paths = _paths()
    return accounts_command(action, paths, _settings(paths), _secret_store(), add=add)


def _doctor(account: Account) -> int:
    from claude_usage_gauge.doctor import report

    paths = _paths()
    settings = _settings(paths)
    for line in report(account.paths, account.home, settings, _secret_store()):
        _print(line)
    from claude_usage_gauge.accounts_command import accounts_lines

    for line in accounts_lines(paths, settings, account):
        _print(line)
    return EXIT_OK


def _report(account: Account) -> int:
    from claude_usage_gauge.bug_report import gather_report
    from claude_usage_gauge.desktop.tray_backend import probe_backend
    from claude_usage_gauge.refresh import utc_now
    from claude_usage_gauge.store import Store

    paths = _paths()
    home = account.home
    backend = probe_backend()
    text = gather_report(
        Store.for_home(account.paths, home),
        home,
        settings=_settings(paths),
        secret_store=_secret_store(),
        tray=f"{backend.name} ({backend.reason})" if backend.reason else backend.name,
        now=utc_now(),
    )
    sys.stdout.write(text)
    return EXIT_OK


def _history(account: Account, output: str | None, open_browser: bool) -> int:
    from claude_usage_gauge.history_file import history_command

    settings = _settings(_paths())
    return history_command(account.paths, settings, output=output, open_browser=open_browser)


def _credentials(account: Account, action: str, yes: bool) -> int:
    from claude_usage_gauge.core.errors import UsageError
    from claude_usage_gauge.sources.credential_backups import (
        NothingToDo,
        list_backups,
        reset_credentials,
        restore_credentials,
    )

    # The account's own backups: a restore puts back only this account's sign-in.
    paths = account.paths
    store = _secret_store()
    if action == "list":
        backups = list_backups(paths.backups_dir, store)
        if not backups:
            # An empty list is an answer, not a failure: exit 0.
            _print("No backups.")
            _print(f"They would be in {paths.backups_dir}")
            return EXIT_OK
        for backup in backups:  # newest first: the one `restore` puts back
            # Named as reset and restore name it (local time to the second, its zone).
            _print(backup.label)
        return EXIT_OK
    try:
        if action == "reset":
            if not yes and not _confirm(
                "Move Claude Code's credentials aside to a backup in "
                f"{paths.backups_dir}? You will need to sign in again."
            ):
                return EXIT_NOTHING
            result = reset_credentials(paths.backups_dir, account.home, store)
            _print(f"Moved to backup: {result.backup.label}")
            _print(result.next_steps)
            return EXIT_OK
        if not yes and not _confirm("Put the newest credentials backup back?"):
            return EXIT_NOTHING
        restored = restore_credentials(paths.backups_dir, account.home, store)
        _print(restored.next_steps)
        return EXIT_OK
    except NothingToDo as exc:
        _error(str(exc))
        return EXIT_NOTHING
    except UsageError as exc:  # the Keychain refused or is locked
        _error(exc.message)
        return EXIT_NOTHING
    except OSError as exc:
        _error(f"Could not finish: {exc.strerror or exc}. Backups so far: {paths.backups_dir}")
        return EXIT_NOTHING


def _statusline(args: argparse.Namespace) -> int:
    if args.action in ("install", "uninstall"):
        from claude_usage_gauge.statusline.install import install_command

        _setup_logging("cli")
        account = _account(args)
        return install_command(
            args.action,
            dry_run=args.dry_run,
            home=account.home,
            state_dir=str(account.paths.state_dir),
            account=None if account.primary else account.name,
        )
    from claude_usage_gauge.statusline.bridge import bridge_command

    return bridge_command(args.template, args.then_cmd, state_dir=args.state_dir)


def _hooks(args: argparse.Namespace) -> int:
    from claude_usage_gauge.hooks.install import hooks_command

    _setup_logging("cli")
    # The account's own installation gets hooks that write into the account's own folder.
    account = _account(args)
    return hooks_command(
        args.action,
        dry_run=args.dry_run,
        settings_file=account.home.settings_file,
        state_dir=str(account.paths.state_dir),
        account=None if account.primary else account.name,
    )


def _autostart(action: str) -> int:
    from claude_usage_gauge.desktop.autostart import autostart_command

    return autostart_command(action)


def _tray(*, demo: bool) -> int:
    from claude_usage_gauge.desktop.app import run_tray

    return run_tray(demo=demo)

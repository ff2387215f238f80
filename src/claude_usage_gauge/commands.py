"""What each subcommand does. Every one imports what it needs inside its own function, so
`status` served from a fresh store never loads the GUI, HTTP, TLS or Keychain modules."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from claude_usage_gauge.core.settings import Settings
    from claude_usage_gauge.paths import AppPaths
    from claude_usage_gauge.sources.claude_home import ClaudeHome
    from claude_usage_gauge.sources.keychain import SecretStore

EXIT_OK = 0
EXIT_NOTHING = 1


def run(command: str, args: argparse.Namespace) -> int:
    """Run the parsed `command`; its exit status."""
    if command == "statusline":
        return _statusline(args)
    if command == "hooks":
        return _hooks(args)
    # The tray and one-shot commands keep separate logs: a rotating file has one writer.
    _setup_logging("tray" if command == "tray" else "cli")
    if command == "status":
        return _status(args.json, args.refresh)
    if command == "doctor":
        return _report() if args.report else _doctor()
    if command == "history":
        return _history(args.output, args.open)
    if command == "credentials":
        return _credentials(args.action, getattr(args, "yes", False))
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


def _claude_home() -> ClaudeHome:
    """Which Claude Code installation: resolved from the environment once, here."""
    from claude_usage_gauge.sources.claude_home import ClaudeHome

    return ClaudeHome.from_environ()


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
    print(text, flush=True)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        _print(f"{question} Not asked (no terminal): run again with --yes to confirm.")
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# -- subcommands ---------------------------------------------------------------------------


def _status(as_json: bool, refresh: bool) -> int:
    import json

    from claude_usage_gauge.core.view import build_view, status_json, status_lines
    from claude_usage_gauge.refresh import Refresher, utc_now
    from claude_usage_gauge.store import Store

    paths = _paths()
    settings = _settings(paths)
    home = _claude_home()
    store = Store.for_home(paths, home)
    unshared = store.unshared()
    if unshared is not None and not refresh:
        # No request without a place to remember it: every run would ask the server again.
        from claude_usage_gauge.core.view import not_shared_output

        for line in not_shared_output(unshared, as_json, utc_now()):
            _print(line)
        return EXIT_NOTHING
    refresher = Refresher(store, settings, home, _secret_store())
    outcome = refresher.refresh(manual=refresh)
    now = utc_now()
    view = build_view(outcome.state, now, settings)
    if as_json:
        _print(json.dumps(status_json(view), ensure_ascii=False))
    else:
        lines = status_lines(view, now)
        if not lines:
            lines = ["No usage yet."]
        from claude_usage_gauge.core.errors import ErrorKind

        # The cure, when nothing shows or when the numbers and the refusal disagree.
        if view.error is not None and (
            view.usage is None or view.error.kind == ErrorKind.OUT_OF_EXTRA_USAGE
        ):
            from claude_usage_gauge.core.guidance import help_steps

            lines += ["What to do:", *(f"  - {step}" for step in help_steps(view.error.kind))]
        for line in lines:
            _print(line)
    return EXIT_OK if view.usage is not None else EXIT_NOTHING


def _doctor() -> int:
    from claude_usage_gauge.doctor import report

    paths = _paths()
    for line in report(paths, _claude_home(), _settings(paths), _secret_store()):
        _print(line)
    return EXIT_OK


def _report() -> int:
    from claude_usage_gauge.bug_report import gather_report
    from claude_usage_gauge.desktop.tray_backend import probe_backend
    from claude_usage_gauge.refresh import utc_now
    from claude_usage_gauge.store import Store

    paths = _paths()
    home = _claude_home()
    backend = probe_backend()
    text = gather_report(
        Store.for_home(paths, home),
        home,
        settings=_settings(paths),
        secret_store=_secret_store(),
        tray=f"{backend.name} ({backend.reason})" if backend.reason else backend.name,
        now=utc_now(),
    )
    sys.stdout.write(text)
    return EXIT_OK


def _history(output: str | None, open_browser: bool) -> int:
    from claude_usage_gauge.history_file import history_command

    paths = _paths()
    return history_command(paths, _settings(paths), output=output, open_browser=open_browser)


def _credentials(action: str, yes: bool) -> int:
    from claude_usage_gauge.core.errors import UsageError
    from claude_usage_gauge.sources.credential_backups import (
        NothingToDo,
        list_backups,
        reset_credentials,
        restore_credentials,
    )

    paths = _paths()
    store = _secret_store()
    if action == "list":
        backups = list_backups(paths.backups_dir, store)
        if not backups:
            _print(f"No credential backups (they would be in {paths.backups_dir}).")
            return EXIT_NOTHING
        for backup in backups:
            _print(f"{backup.created_at.astimezone():%Y-%m-%d %H:%M}  {backup.label}")
        return EXIT_OK
    try:
        if action == "reset":
            if not yes and not _confirm(
                "Move Claude Code's credentials aside to a backup in "
                f"{paths.backups_dir}? You will need to sign in again."
            ):
                return EXIT_NOTHING
            result = reset_credentials(paths.backups_dir, _claude_home(), store)
            _print(f"Moved to backup: {result.backup.label}")
            _print(result.next_steps)
            return EXIT_OK
        if not yes and not _confirm("Put the newest credentials backup back?"):
            return EXIT_NOTHING
        restored = restore_credentials(paths.backups_dir, _claude_home(), store)
        _print(restored.next_steps)
        return EXIT_OK
    except NothingToDo as exc:
        _print(str(exc))
        return EXIT_NOTHING
    except UsageError as exc:  # the Keychain refused or is locked
        _print(exc.message)
        return EXIT_NOTHING
    except OSError as exc:
        _print(f"Could not finish: {exc.strerror or exc}. Backups so far: {paths.backups_dir}")
        return EXIT_NOTHING


def _statusline(args: argparse.Namespace) -> int:
    if args.action in ("install", "uninstall"):
        from claude_usage_gauge.statusline.install import install_command

        _setup_logging("cli")
        state_dir = str(_paths().state_dir)
        return install_command(
            args.action, dry_run=args.dry_run, home=_claude_home(), state_dir=state_dir
        )
    from claude_usage_gauge.statusline.bridge import bridge_command

    return bridge_command(args.template, args.then_cmd, state_dir=args.state_dir)


def _hooks(args: argparse.Namespace) -> int:
    from claude_usage_gauge.hooks.install import hooks_command

    _setup_logging("cli")
    settings_file = _claude_home().settings_file
    state_dir = str(_paths().state_dir)
    return hooks_command(
        args.action, dry_run=args.dry_run, settings_file=settings_file, state_dir=state_dir
    )


def _autostart(action: str) -> int:
    from claude_usage_gauge.desktop.autostart import autostart_command

    return autostart_command(action)


def _tray(*, demo: bool) -> int:
    from claude_usage_gauge.desktop.app import run_tray

    return run_tray(demo=demo)

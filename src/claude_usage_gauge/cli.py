"""The `claude-usage-gauge` command line: the fast paths Claude Code runs (`statusline`, `hook`),
the parser, and one guard so no traceback ever reaches a user. The subcommands themselves are in
`commands.py`."""

from __future__ import annotations

import sys

from claude_usage_gauge import APP_NAME, __version__

# Not `from typing import TYPE_CHECKING`: the statusline bridge starts here on every refresh and
# typing (like argparse and json) costs more to import than the bridge itself.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence


EXIT_OK = 0
EXIT_USAGE = 2


def _account_option(parser: argparse.ArgumentParser, *, inner: bool = False) -> None:
    """`--account NAME`; on an action (`credentials reset --account work`) it must not reset
    what the command's own level was given (`credentials --account work reset`)."""
    import argparse

    parser.add_argument(
        "--account",
        metavar="NAME",
        default=argparse.SUPPRESS if inner else None,
        help="one of the configured accounts (see 'accounts list'); default: the primary",
    )


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="A tray gauge of your Claude 5-hour and weekly usage limits.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run the tray against the built-in fake usage service (no account needed)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("tray", help="run the tray icon (the default)")

    status = sub.add_parser(
        "status",
        help="show usage (from the shared store when fresh)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "exit status:\n"
            "  0  usage shown (also when --refresh sent nothing because the numbers are seconds\n"
            "     old from a refresh moments ago; stderr says so)\n"
            "  1  no usage to show (not signed in, nothing fetched yet, state folder unusable)\n"
            "  2  wrong command line, or an --account that names no account\n"
            "  3  --refresh sent no request: the usage service's rate limit, or manual\n"
            "     refreshes spaced out, holds it back; stderr says until when, the stored\n"
            "     usage is shown\n"
            "\n"
            "Times are local (the last line names the zone); errors and refusals go to stderr."
        ),
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.add_argument(
        "--refresh",
        action="store_true",
        help="ask the usage service now (still honours rate limits)",
    )
    _account_option(status)

    accounts = sub.add_parser("accounts", help="the Claude accounts (config folders) watched")
    accounts_sub = accounts.add_subparsers(dest="action", metavar="ACTION", required=True)
    accounts_sub.add_parser("list", help="show the configured accounts")
    discover = accounts_sub.add_parser(
        "discover", help="find Claude Code sign-ins (~/.claude, $CLAUDE_CONFIG_DIR, ~/.claude-*)"
    )
    discover.add_argument(
        "--add", action="store_true", help="add the ones not configured to the settings file"
    )

    doctor = sub.add_parser("doctor", help="explain where things are and what is wrong")
    doctor.add_argument(
        "--report",
        action="store_true",
        help="print one plain-text report for a bug filing (no token, no paths)",
    )
    _account_option(doctor)

    history = sub.add_parser("history", help="a page of the last 7 days of usage (HTML)")
    history.add_argument("--open", action="store_true", help="open it in the browser")
    history.add_argument("--output", metavar="FILE", help="write it here ('-': standard output)")
    _account_option(history)

    line = sub.add_parser("statusline", help="Claude Code statusline bridge (reads JSON on stdin)")
    line.add_argument(
        "--format", dest="template", help="template, e.g. '5h {five_hour}%% · 7d {seven_day}%%'"
    )
    line.add_argument(
        "--then", dest="then_cmd", help="your own statusline command, given the same stdin"
    )
    line.add_argument(
        "--state-dir", dest="state_dir", help="the shared state's folder (install writes it)"
    )
    _account_option(line)
    line_sub = line.add_subparsers(dest="action", metavar="ACTION")
    for name, text in (
        ("install", "make Claude Code call this bridge"),
        ("uninstall", "undo install"),
    ):
        action = line_sub.add_parser(name, help=text)
        action.add_argument("--dry-run", action="store_true", help="show the change, write nothing")
        _account_option(action, inner=True)

    hooks = sub.add_parser("hooks", help="let Claude Code tell this app how each turn ends")
    hooks_sub = hooks.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("install", "add a StopFailure and a Stop hook to Claude Code's settings"),
        ("uninstall", "remove them again"),
    ):
        action = hooks_sub.add_parser(name, help=text)
        action.add_argument("--dry-run", action="store_true", help="show the change, write nothing")
        _account_option(action)

    creds = sub.add_parser(
        "credentials",
        help="reset, restore or list credential backups",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "exit status:\n"
            "  0  done, or the list shown (an empty one too)\n"
            "  1  nothing changed: nothing to reset or restore, not confirmed, or refused\n"
            "     (the reason is on stderr)\n"
            "  2  wrong command line, or an --account that names no account"
        ),
    )
    _account_option(creds)
    creds_sub = creds.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("reset", "move Claude Code's credentials aside to a backup, to sign in afresh"),
        ("restore", "put the newest backup back"),
    ):
        action = creds_sub.add_parser(name, help=text)
        action.add_argument("--yes", action="store_true", help="do not ask")
        _account_option(action, inner=True)
    _account_option(creds_sub.add_parser("list", help="show backups"), inner=True)

    auto = sub.add_parser("autostart", help="start the tray at login")
    auto_sub = auto.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("enable", "start the tray when you log in (this user only)"),
        ("disable", "stop starting it at login"),
        ("status", "say whether it starts at login, and how"),
    ):
        auto_sub.add_parser(name, help=text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["hook"]:
        # What Claude Code runs when a turn ends: as light and silent as the bridge.
        from claude_usage_gauge.hooks.command import hook_command, parse_hook_args

        state_dir = parse_hook_args(args_list[1:])
        account = parse_hook_args(args_list[1:], "--account")
        if state_dir is None and account is not None:
            from claude_usage_gauge.accounts import account_state_dir

            state_dir = account_state_dir(account)
            if state_dir is None:
                return EXIT_OK  # no such account: nothing recorded, and Claude Code not bothered
        return hook_command(state_dir)
    if args_list[:1] == ["statusline"]:
        # The bridge's fast path: its two options parsed by hand, nothing else imported.
        from claude_usage_gauge.statusline import bridge as statusline

        bridge_args = statusline.parse_bridge_args(args_list[1:])
        if bridge_args is not None:
            state_dir = bridge_args.state_dir
            if state_dir is None and bridge_args.account is not None:
                # Read the settings only here: the installed command names the folder.
                from claude_usage_gauge.accounts import account_state_dir

                # No such account: an empty folder name records nothing (never the primary's).
                state_dir = account_state_dir(bridge_args.account) or ""
            return statusline.bridge_command(
                bridge_args.template, bridge_args.then_cmd, state_dir=state_dir
            )
    # Every human output (the bridge's own line took the fast path) passes one sanitiser.
    from claude_usage_gauge.console import protect_streams

    restore_streams = protect_streams(json_output="--json" in args_list)
    parser = _parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on a wrong command line, 0 for --help
        restore_streams()
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    command = args.command or "tray"
    try:
        from claude_usage_gauge import commands

        return commands.run(command, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # never a traceback in front of a user: one line, details logged
        import logging

        logging.getLogger(__name__).exception("unexpected error")
        # Some errors (MemoryError) carry no words: their name is better than nothing.
        what = str(exc) or type(exc).__name__
        print(f"{APP_NAME}: unexpected error: {what} (details are in the log)", file=sys.stderr)
        return 1
    finally:
        restore_streams()


def gui_main() -> int:
    """The windowed launcher's entry (no console on Windows): the tray, errors to the log."""
    return main(sys.argv[1:] or ["tray"])

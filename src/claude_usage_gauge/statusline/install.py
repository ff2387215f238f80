"""`statusline install|uninstall [--dry-run]`: point Claude Code's statusLine at the bridge.

Claude Code's settings.json is edited through sources/claude_settings.py (backup first, every
other key kept, the user's own statusline command wrapped with `--then`).
"""

from __future__ import annotations

import logging
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO

    from claude_usage_gauge.sources.claude_home import ClaudeHome


def install_command(
    action: str,
    *,
    dry_run: bool,
    home: ClaudeHome,
    state_dir: str,
    program: list[str] | None = None,
    stdout: TextIO | None = None,
) -> int:
    """`statusline install|uninstall [--dry-run]`: edit Claude Code's settings, with a backup.

    The installed command names `state_dir`, the folder of the shared state, so the bridge need
    not work out the platform's folders (and import platformdirs) on every refresh."""
    from claude_usage_gauge.sources import claude_settings as cs

    out = stdout or sys.stdout
    if program is None:
        from claude_usage_gauge.desktop.launcher import program_command

        program = program_command()
    path = home.settings_file
    try:
        current = cs.read_settings(path)
        if action == "install":
            plan = cs.plan_install(current.data, program, path, state_dir)
        elif action == "uninstall":
            plan = cs.plan_uninstall(current.data, program, path)
        else:
            raise cs.SettingsError(f"Unknown action {action!r}: use install or uninstall.")
        if plan.data is None:
            out.write(plan.message + "\n")
            return 0
        new_text = cs.render(plan.data)
        if dry_run:
            out.write(f"Dry run: nothing was written. The change to {path} would be:\n")
            out.write(cs.unified_diff(current, new_text))
            return 0
        saved = cs.backup(current)
        cs.write_settings(current, new_text)
    except cs.SettingsError as exc:
        out.write(f"{exc}\n")
        return 1
    except OSError as exc:
        out.write(f"Nothing was changed in {path}: {exc.strerror or exc}\n")
        return 1
    logging.getLogger(__name__).info("statusline %s: %s changed (backup %s)", action, path, saved)
    out.write(plan.message + "\n")
    if saved is not None:
        out.write(f"Backup of the previous settings: {saved}\n")
    else:
        out.write(f"{path} did not exist; it was created (no backup needed).\n")
    out.write("Start a new Claude Code session to see the change.\n")
    return 0

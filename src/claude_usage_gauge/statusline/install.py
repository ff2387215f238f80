"""`statusline install|uninstall [--dry-run]`: point Claude Code's statusLine at the bridge.

Claude Code's settings.json is edited through sources/settings_install.py (backup first, every
byte but the statusLine entry kept, the user's own statusline command wrapped with `--then`).
"""

from __future__ import annotations

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
    not work out the platform's folders (and import platformdirs) on every refresh. The edit
    itself (text edits, exact uninstall, no stray backup) is settings_install's."""
    from claude_usage_gauge.sources import settings_install

    out = stdout or sys.stdout
    if program is None:
        from claude_usage_gauge.desktop.launcher import program_command

        program = program_command()
    return settings_install.run(
        action,
        dry_run=dry_run,
        path=home.settings_file,
        program=program,
        state_dir=state_dir,
        out=out,
    )

"""`statusline install|uninstall [--dry-run]`: point Claude Code's statusLine at the bridge.

Claude Code's settings.json is edited through sources/claude_settings.py (backup first, every
other key kept, the user's own statusline command wrapped with `--then`).
"""

from __future__ import annotations

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
    account: str | None = None,
) -> int:
    """`statusline install|uninstall [--dry-run]`: edit Claude Code's settings, with a backup.

    The installed command names `state_dir`, the folder of the shared state, so the bridge need
    not work out the platform's folders (and import platformdirs) on every refresh."""
    from claude_usage_gauge.sources import claude_settings as cs
    from claude_usage_gauge.sources.settings_change import change_settings

    if program is None:
        from claude_usage_gauge.desktop.launcher import program_command

        program = program_command()
    words = program
    path = home.settings_file

    def install(data: dict[str, object]) -> cs.Plan:
        return cs.plan_install(data, words, path, state_dir, account)

    def plan(data: dict[str, object]) -> cs.Plan:
        if action == "install":
            return install(data)
        if action == "uninstall":
            return cs.plan_uninstall(data, words, path)
        raise cs.SettingsError(f"Unknown action {action!r}: use install or uninstall.")

    # Uninstall undoes install: the very bytes from before come back if nothing else changed.
    undoes = install if action == "uninstall" else None
    return change_settings(
        path, plan, dry_run=dry_run, what=f"statusline {action}", stdout=stdout, restores=undoes
    )

"""`hooks install|uninstall [--dry-run]`: let Claude Code tell us how each turn ended.

Adds one `StopFailure` and one `Stop` hook to Claude Code's settings.json, each running this
program's `hook` command, with the same care as `statusline install` (a backup first, every other
key and every other hook kept, nothing done twice); uninstall removes ours and nothing else.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from claude_usage_gauge.sources.claude_settings import (
    ACCOUNT_OPTION,
    STATE_DIR_OPTION,
    Plan,
    SettingsError,
    is_bridge_command,
)

HOOKS_KEY = "hooks"
HOOK_SUBCOMMAND = "hook"
# StopFailure: a turn ended on an API error; Stop: a turn ended normally (it ends a failure).
HOOK_EVENTS = ("StopFailure", "Stop")


def hook_command_line(program: Sequence[str], state_dir: str, account: str | None = None) -> str:
    named = [ACCOUNT_OPTION, account] if account else []
    return shlex.join([*program, HOOK_SUBCOMMAND, *named, STATE_DIR_OPTION, state_dir])


def _is_ours(entry: object, program: Sequence[str]) -> bool:
    command = entry.get("command") if isinstance(entry, dict) else None
    return isinstance(command, str) and is_bridge_command(command, program, HOOK_SUBCOMMAND)


def _hooks(data: Mapping[str, object], path: Path) -> dict[str, object]:
    hooks = data.get(HOOKS_KEY, {})
    if not isinstance(hooks, dict):
        raise SettingsError(f'"{HOOKS_KEY}" in {path} is not an object; it was left unchanged.')
    for event in HOOK_EVENTS:
        groups = hooks.get(event, [])
        if not isinstance(groups, list):
            raise SettingsError(
                f'"{HOOKS_KEY}.{event}" in {path} is not a list; it was left unchanged.'
            )
    return hooks


def _groups(hooks: Mapping[str, object], event: str) -> list[object]:
    groups = hooks.get(event, [])
    return list(groups) if isinstance(groups, list) else []


def _group_entries(group: object) -> list[object]:
    entries = group.get("hooks") if isinstance(group, dict) else None
    return list(entries) if isinstance(entries, list) else []


def plan_install(
    data: Mapping[str, object],
    program: Sequence[str],
    path: Path,
    state_dir: str,
    account: str | None = None,
) -> Plan:
    hooks = _hooks(data, path)
    new_hooks = dict(hooks)
    added: list[str] = []
    command = hook_command_line(program, state_dir, account)
    for event in HOOK_EVENTS:
        groups = _groups(hooks, event)
        if any(_is_ours(entry, program) for group in groups for entry in _group_entries(group)):
            continue
        ours = {"matcher": "", "hooks": [{"type": "command", "command": command}]}
        new_hooks[event] = [*groups, ours]
        added.append(event)
    if not added:
        return Plan(None, f"Already installed in {path}; nothing changed.")
    new_data = dict(data)
    new_data[HOOKS_KEY] = new_hooks
    return Plan(
        new_data,
        f"Installed in {path}: Claude Code now tells this app how each turn ends "
        f"({', '.join(added)} hooks, running {command}).",
    )


def plan_uninstall(data: Mapping[str, object], program: Sequence[str], path: Path) -> Plan:
    hooks = _hooks(data, path)
    new_hooks = dict(hooks)
    removed = False
    for event in HOOK_EVENTS:
        kept_groups: list[object] = []
        for group in _groups(hooks, event):
            entries = _group_entries(group)
            kept = [entry for entry in entries if not _is_ours(entry, program)]
            if len(kept) == len(entries):
                kept_groups.append(group)
                continue
            removed = True
            if kept and isinstance(group, dict):
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            new_hooks[event] = kept_groups
        elif event in new_hooks:
            del new_hooks[event]
    if not removed:
        return Plan(None, f"Not installed in {path}; nothing changed.")
    new_data = dict(data)
    if new_hooks:
        new_data[HOOKS_KEY] = new_hooks
    else:
        del new_data[HOOKS_KEY]
    return Plan(new_data, f"Uninstalled from {path}: Claude Code no longer runs this app's hooks.")


def hooks_command(
    action: str,
    *,
    dry_run: bool,
    settings_file: Path,
    state_dir: str,
    program: list[str] | None = None,
    account: str | None = None,
) -> int:
    """`hooks install|uninstall [--dry-run]` on one Claude Code installation's settings;
    `account` (not the primary) is named in the installed command."""
    from claude_usage_gauge.sources.settings_change import change_settings

    if program is None:
        from claude_usage_gauge.desktop.launcher import program_command

        program = program_command()
    words = program

    def plan(data: dict[str, object]) -> Plan:
        if action == "install":
            return plan_install(data, words, settings_file, state_dir, account)
        if action == "uninstall":
            return plan_uninstall(data, words, settings_file)
        raise SettingsError(f"Unknown action {action!r}: use install or uninstall.")

    def install(data: dict[str, object]) -> Plan:
        return plan_install(data, words, settings_file, state_dir, account)

    # Uninstall undoes install: the very bytes from before come back if nothing else changed.
    undoes = install if action == "uninstall" else None
    return change_settings(
        settings_file, plan, dry_run=dry_run, what=f"hooks {action}", restores=undoes
    )

"""`statusline install|uninstall [--dry-run]`: put the bridge into Claude Code's settings.json
and take it out again, changing nothing else.

Install edits the `statusLine` entry in the file's text and leaves every other byte as it was.
Uninstall gives back the very bytes the file had before install when nothing else changed since
(the newest backup, installed again, reads exactly as the file does now); otherwise it edits the
entry back the same careful way. The new bytes are worked out (and checked to be valid UTF-8
JSON) before the backup is made, so a refusal leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.sources import claude_settings as cs
from claude_usage_gauge.sources.json_edit import apply_changes

_NOT_GUARANTEED = (
    "Note: this system cannot swap files atomically, so an edit another program made in the "
    "same instant cannot be ruled out; the backup above holds the version before ours."
)


def new_text(current: cs.SettingsFile, plan: cs.Plan) -> str:
    """The file's text after `plan`, every byte outside the statusLine entry kept."""
    assert plan.data is not None
    text = cs.original_text(current)
    try:
        if not text.strip():
            return cs.render(plan.data)
        return apply_changes(text, current.data, plan.data)
    except (ValueError, RecursionError) as exc:
        raise cs.SettingsError(
            f"{current.path} could not be edited in place ({exc}); nothing was changed."
        ) from None


def _backups(path: Path) -> list[Path]:
    """The backups made beside `path`, newest first (by their time, then their number)."""
    prefix = f"{path.name}.{APP_NAME}-"

    def order(candidate: Path) -> tuple[str, int]:
        stamp = candidate.name[len(prefix) : -len(".bak")]
        when, _, number = stamp.partition("-")
        return when, int(number) if number.isdigit() else 0

    try:
        found = [p for p in path.parent.glob(f"{prefix}*.bak") if p.is_file()]
    except OSError:
        return []
    return sorted(found, key=order, reverse=True)


def restored_bytes(
    current: cs.SettingsFile, program: Sequence[str], state_dir: str | None = None
) -> bytes | None:
    """The bytes from before install, when installing into them again gives exactly what the
    file holds now (nothing else changed since); None otherwise."""
    from claude_usage_gauge.files import read_regular

    backups = _backups(current.path)
    if not backups or current.original is None:
        return None
    try:
        raw = read_regular(backups[0], cs.MAX_SETTINGS_BYTES, ours=True)
        before = _as_settings(current, backups[0], raw)
        plan = cs.plan_install(before.data, program, current.path, state_dir)
        if plan.data is None:
            return None
        again = cs.encoded(before, new_text(before, plan))
    except (OSError, cs.SettingsError):
        return None
    return raw if again == current.original else None


def _as_settings(current: cs.SettingsFile, where: Path, raw: bytes) -> cs.SettingsFile:
    import json

    try:
        data = json.loads(raw.decode("utf-8-sig")) if raw.strip() else {}
    except (ValueError, RecursionError) as exc:
        raise cs.SettingsError(f"{where} is not a settings file") from exc
    if not isinstance(data, dict):
        raise cs.SettingsError(f"{where} is not a settings file")
    return cs.SettingsFile(current.path, current.target, raw, data, current.mode)


def run(
    action: str,
    *,
    dry_run: bool,
    path: Path,
    program: Sequence[str],
    out: TextIO,
    state_dir: str | None = None,
) -> int:
    """Do `action` ("install" or "uninstall") on the settings file at `path`; say what happened
    on `out`. 0, or 1 on a refusal (nothing changed then). `state_dir` goes into the installed
    command (see statusline.install)."""
    import logging

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
        exact = restored_bytes(current, program, state_dir) if action == "uninstall" else None
        data = exact if exact is not None else cs.encoded(current, new_text(current, plan))
        if dry_run:
            out.write(f"Dry run: nothing was written. The change to {path} would be:\n")
            out.write(cs.unified_diff(current, data.decode("utf-8-sig")))
            return 0
        saved = cs.backup(current)
        try:
            guaranteed = cs.write_bytes(current, data)
        except BaseException:
            if saved is not None:  # nothing was changed: no backup of it either
                saved.unlink(missing_ok=True)
            raise
    except cs.SettingsError as exc:
        out.write(f"{exc}\n")
        return 1
    except OSError as exc:
        out.write(f"Nothing was changed in {path}: {exc.strerror or exc}\n")
        return 1
    logging.getLogger(__name__).info("statusline %s: %s changed (backup %s)", action, path, saved)
    out.write(plan.message + "\n")
    if exact is not None:
        out.write("The file is back to the very bytes it had before install.\n")
    if saved is not None:
        out.write(f"Backup of the previous settings: {saved}\n")
    else:
        out.write(f"{path} did not exist; it was created (no backup needed).\n")
    if not guaranteed:
        out.write(_NOT_GUARANTEED + "\n")
    out.write("Start a new Claude Code session to see the change.\n")
    return 0

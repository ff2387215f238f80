"""Changing Claude Code's settings.json as a command: plan, show (dry run) or back up and write,
and tell the user in plain lines. Shared by `statusline install` and `hooks install`."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from claude_usage_gauge.sources import claude_settings as cs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

log = logging.getLogger(__name__)


def change_settings(
    path: Path,
    plan: Callable[[dict[str, object]], cs.Plan],
    *,
    dry_run: bool,
    what: str,
    stdout: TextIO | None = None,
) -> int:
    """Apply `plan` to the settings in `path`: 0 when done (or nothing to do), 1 when the file
    was left as it was, with the reason. `what` names the change for the log."""
    out = stdout or sys.stdout
    try:
        current = cs.read_settings(path)
        planned = plan(current.data)
        if planned.data is None:
            out.write(planned.message + "\n")
            return 0
        new_text = cs.render(planned.data)
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
    log.info("%s: %s changed (backup %s)", what, path, saved)
    out.write(planned.message + "\n")
    if saved is not None:
        out.write(f"Backup of the previous settings: {saved}\n")
    else:
        out.write(f"{path} did not exist; it was created (no backup needed).\n")
    out.write("Start a new Claude Code session to see the change.\n")
    return 0

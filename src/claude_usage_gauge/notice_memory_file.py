"""The tray's notice memory on disk: which thresholds it already told, per window and period.

A small private file beside the shared state, not inside it: only the tray reads and writes it
(the single-instance lock makes it the only writer), it changes a few times per period, and the
CLI, statusline and hooks that share the state file have no use for it, so it never takes the
state lock nor changes what they read. Losing it costs at most one repeated notice.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from claude_usage_gauge.core.notices import NoticeMemory
from claude_usage_gauge.files import read_regular, write_private_file

log = logging.getLogger(__name__)

# A dozen windows of a few numbers each fit in far less.
MAX_BYTES = 16 * 1024


def load_notice_memory(path: Path) -> NoticeMemory:
    """The memory an earlier run saved; an empty one when there is none or it is unreadable."""
    try:
        raw = json.loads(read_regular(path, MAX_BYTES, ours=True))
    except FileNotFoundError:
        return NoticeMemory()
    except (OSError, ValueError) as exc:
        log.warning("notice memory not read (%s): a threshold may be told once more", exc)
        return NoticeMemory()
    return NoticeMemory.from_json(raw)


def save_notice_memory(path: Path, memory: NoticeMemory) -> None:
    """Keep what a restart must not repeat; a failure only costs a repeated notice later."""
    data = json.dumps(memory.to_json(), sort_keys=True).encode()
    try:
        write_private_file(path, data)
    except OSError as exc:
        log.warning("notice memory not saved: %s", exc.strerror or exc)

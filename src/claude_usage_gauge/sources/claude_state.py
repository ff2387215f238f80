"""Claude Code's own cached usage: what its `/usage` last fetched, kept in its state file.

Claude Code writes `cachedUsageUtilization` into `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/
.claude.json`): `{"fetchedAtMs": <epoch ms>, "accountUuid": "…", "utilization": <the usage
endpoint's JSON>}`, and discards it after an hour. We read it, never write it: it is Claude Code's
busiest file, so a torn or half-written read is simply skipped, and a large file is read only up
to a bound. A fresh one stands in for a request, at no cost to the user's rate limit.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.core.values import finite_number

log = logging.getLogger(__name__)

CACHE_KEY = "cachedUsageUtilization"
# Claude Code keeps projects and history in this file too; past this size it is not read.
MAX_STATE_FILE_BYTES = 32 * 1024 * 1024
# Claude Code itself discards the cache after an hour; so do we.
MAX_CACHE_AGE = timedelta(hours=1)
# A cache from the future (a clock set wrong) is not trusted beyond this.
CLOCK_SLACK = timedelta(minutes=5)


class ClaudeCodeCache:
    """Reads the cache from one state file, parsing again only when the file changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[tuple[int, int, int], Usage | None] | None = None
        self._warned = False

    def read(self, now: datetime) -> Usage | None:
        """The cached answer as a `Usage` (source "claude_code"), or None when there is none,
        it is older than an hour, belongs to another sign-in, or the file cannot be read."""
        usage = self._parsed()
        if usage is None:
            return None
        age = now - usage.fetched_at
        if age > MAX_CACHE_AGE or age < -CLOCK_SLACK:
            return None
        return usage

    def _parsed(self) -> Usage | None:
        data = self._read_if_changed()
        if data is None:
            return self._seen[1] if self._seen is not None else None
        key, raw = data
        usage = cached_usage(raw)
        self._seen = (key, usage)
        return usage

    def _read_if_changed(self) -> tuple[tuple[int, int, int], bytes] | None:
        """The file's identity and bytes when it changed since the last read; None otherwise
        (unchanged, missing, not a regular file, too large). Never blocks on a FIFO."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            self._seen = None
            return None
        try:
            info = os.fstat(fd)
            key = (info.st_mtime_ns, info.st_size, info.st_ino)
            if not stat.S_ISREG(info.st_mode):
                self._seen = None
                return None
            if self._seen is not None and self._seen[0] == key:
                return None
            if info.st_size > MAX_STATE_FILE_BYTES:
                if not self._warned:
                    log.info(
                        "%s is larger than %d bytes; its usage cache is not read",
                        self.path,
                        MAX_STATE_FILE_BYTES,
                    )
                    self._warned = True
                self._seen = (key, None)
                return None
            with os.fdopen(os.dup(fd), "rb") as handle:
                return key, handle.read(MAX_STATE_FILE_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)


def cached_usage(data: bytes) -> Usage | None:
    """The cache in a state file's bytes; None for anything but a whole, matching cache."""
    if len(data) > MAX_STATE_FILE_BYTES:
        return None
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None  # mid-write, or not JSON: skipped, the next change is read again
    if not isinstance(document, dict):
        return None
    cache = document.get(CACHE_KEY)
    if not isinstance(cache, dict):
        return None
    # A cache left from an earlier sign-in (another account) is not this account's usage.
    account = document.get("oauthAccount")
    current = account.get("accountUuid") if isinstance(account, dict) else None
    cached_for = cache.get("accountUuid")
    if isinstance(current, str) and isinstance(cached_for, str) and current != cached_for:
        return None
    fetched_ms = finite_number(cache.get("fetchedAtMs"))
    if fetched_ms is None:
        return None
    try:
        fetched_at = datetime.fromtimestamp(fetched_ms / 1000, UTC)
        usage = parse_usage(cache.get("utilization"), fetched_at)
    except (OverflowError, OSError, ValueError, UsageError):
        return None
    return replace(usage, source="claude_code")

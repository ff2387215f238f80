"""Claude Code's cached /usage answer in its state file: read, never written, skipped when odd."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.sources.claude_state import (
    MAX_STATE_FILE_BYTES,
    ClaudeCodeCache,
    cached_usage,
)
from claude_usage_gauge.testing.claude_code import claude_state_document
from claude_usage_gauge.testing.fake_api import usage_body

NOW = datetime.now(UTC).replace(microsecond=0)


def write(path: Path, document: object) -> bytes:
    data = json.dumps(document, indent=2).encode()
    path.write_bytes(data)
    return data


def test_a_fresh_cache_reads_as_claude_codes_answer(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    write(path, claude_state_document(usage_body(61.0, 23.0), NOW - timedelta(minutes=4)))

    usage = ClaudeCodeCache(path).read(NOW)

    assert usage is not None
    assert usage.source == "claude_code"
    assert usage.fetched_at == NOW - timedelta(minutes=4)
    assert {w.id: w.percent for w in usage.windows} == {FIVE_HOUR: 61.0, SEVEN_DAY: 23.0}


@pytest.mark.parametrize("age", [timedelta(hours=1, seconds=1), timedelta(minutes=-10)])
def test_an_hour_old_or_future_cache_is_not_used(tmp_path: Path, age: timedelta) -> None:
    path = tmp_path / ".claude.json"
    write(path, claude_state_document(usage_body(), NOW - age))
    assert ClaudeCodeCache(path).read(NOW) is None


def test_a_cache_from_another_sign_in_is_not_this_accounts(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    write(path, claude_state_document(usage_body(), NOW, cached_for="another-account"))
    assert ClaudeCodeCache(path).read(NOW) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'{"cachedUsageUtilization": {"fetchedAtMs": 1',  # caught mid-write
        b"[]",
        b'{"cachedUsageUtilization": []}',
        b'{"cachedUsageUtilization": {"fetchedAtMs": "soon", "utilization": {}}}',
        b'{"cachedUsageUtilization": {"fetchedAtMs": 1e300, "utilization": {}}}',
        b'{"cachedUsageUtilization": {"fetchedAtMs": 1, "utilization": "x"}}',
        b"\xff\xfe not json",
        b"[" * 100_000,
    ],
)
def test_anything_but_a_whole_cache_is_skipped(data: bytes) -> None:
    assert cached_usage(data) is None


@given(st.binary(max_size=300))
def test_any_bytes_give_a_usage_or_none(data: bytes) -> None:
    usage = cached_usage(data)
    assert usage is None or usage.source == "claude_code"


def test_missing_directory_fifo_and_huge_files_are_skipped_without_blocking(tmp_path: Path) -> None:
    assert ClaudeCodeCache(tmp_path / "missing.json").read(NOW) is None
    assert ClaudeCodeCache(tmp_path).read(NOW) is None
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    # Opened non-blocking and refused as not a regular file: returns at once, no writer needed.
    assert ClaudeCodeCache(fifo).read(NOW) is None
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(MAX_STATE_FILE_BYTES + 1)  # sparse: no disk, but too large to read
    assert ClaudeCodeCache(huge).read(NOW) is None


def test_the_file_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    write(path, claude_state_document(usage_body(10.0, 5.0), NOW - timedelta(minutes=1)))
    cache = ClaudeCodeCache(path)
    first = cache.read(NOW)
    assert first is not None
    assert cache.read(NOW) is first  # unchanged: the earlier parse, not a new one

    write(path, claude_state_document(usage_body(30.0, 6.0), NOW))
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    second = cache.read(NOW)
    assert second is not None
    assert second.window(FIVE_HOUR) is not None
    assert second.window(FIVE_HOUR).percent == 30.0  # type: ignore[union-attr]


def test_reading_never_changes_the_file(tmp_path: Path) -> None:
    path = tmp_path / ".claude.json"
    data = write(path, claude_state_document(usage_body(), NOW))
    before = path.stat()
    ClaudeCodeCache(path).read(NOW)
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == before.st_mtime_ns

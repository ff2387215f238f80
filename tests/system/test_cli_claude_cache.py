"""Claude Code's cached /usage answer, through the real command: numbers at zero requests.

Each test runs the real `claude-usage-gauge` in a subprocess, in a temporary home where Claude
Code's state file (`~/.claude.json`) holds what its /usage last fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claude_usage_gauge.testing.claude_code import claude_state_document
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, ok, usage_body
from tests.support.cli_home import CliHome, percents


@pytest.fixture
def fake() -> Iterator[FakeUsageAPI]:
    with FakeUsageAPI(default=ok(42.0, 18.0)) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, fake: FakeUsageAPI) -> CliHome:
    made = CliHome(tmp_path / "home", fake.url)
    made.write_credentials()
    return made


def write_claude_state(home: CliHome, age: timedelta, five: float = 61.0) -> bytes:
    body = usage_body(five, 23.0, spend={"used": {"amount_minor": 1250, "currency": "EUR"}})
    document = claude_state_document(body, datetime.now(UTC) - age)
    data = json.dumps(document, indent=2).encode()
    (home.root / ".claude.json").write_bytes(data)
    return data


def test_a_fresh_cache_stands_in_for_a_request(home: CliHome, fake: FakeUsageAPI) -> None:
    data = write_claude_state(home, timedelta(minutes=1))

    proc, status = home.status_json()

    assert proc.returncode == 0, proc.stderr
    assert fake.request_count == 0
    assert status["source"] == "claude_code"
    assert percents(status) == {"five_hour": 61.0, "seven_day": 23.0}
    assert status["extra_usage"] == {
        "enabled": True,
        "used": 12.5,
        "limit": None,
        "currency": "EUR",
        "percent": None,
    }
    assert (home.root / ".claude.json").read_bytes() == data  # never written
    human = home.run("status")
    assert "from Claude Code's /usage" in human.stdout
    assert fake.request_count == 0
    home.assert_clean(proc, human)


def test_an_old_cache_does_not_hold_back_a_due_request(home: CliHome, fake: FakeUsageAPI) -> None:
    data = write_claude_state(home, timedelta(minutes=50))

    proc, status = home.status_json()

    assert proc.returncode == 0, proc.stderr
    assert fake.request_count == 1
    assert status["source"] == "api"
    assert percents(status) == {"five_hour": 42.0, "seven_day": 18.0}
    assert (home.root / ".claude.json").read_bytes() == data


def test_a_cache_older_than_the_stored_answer_changes_nothing(
    home: CliHome, fake: FakeUsageAPI
) -> None:
    home.status_json()  # the API's 42 %, stored now
    write_claude_state(home, timedelta(minutes=2), five=99.0)

    _, status = home.status_json()

    assert fake.request_count == 1
    assert percents(status)["five_hour"] == 42.0


@pytest.mark.parametrize(
    "content", [b'{"cachedUsageUtilization": {"fetchedAt', b"\x00" * 64, b"[" * 50_000]
)
def test_a_torn_or_hostile_state_file_is_skipped(
    home: CliHome, fake: FakeUsageAPI, content: bytes
) -> None:
    (home.root / ".claude.json").write_bytes(content)

    proc, status = home.status_json()

    assert proc.returncode == 0, proc.stderr
    assert status["source"] == "api"
    assert (home.root / ".claude.json").read_bytes() == content
    home.assert_clean(proc)

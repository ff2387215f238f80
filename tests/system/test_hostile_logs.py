"""The log file against hostile records: a third party's line echoing the token without its
prefix, a proxy URL with a password, control characters, and no log file at all."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.core.errors import UsageError
from claude_usage_gauge.logs import SecretMaskingFilter, mask_secrets, setup_logging
from claude_usage_gauge.sources.api import fetch_usage
from claude_usage_gauge.testing.fake_api import FakeUsageAPI
from claude_usage_gauge.testing.hostile import reason_echo

TOKEN = "sk-ant-oat01-HostileLogs" + "Zq7-Wv3_Xr9Ks2Lm8Np4Bd6Fh1Gj5Tc0Yu" * 2
BODY = TOKEN.removeprefix("sk-ant-oat01-")
SLICE = 12  # a run this long of the token in use counts as a piece of it


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs" / "cli.log"
    setup_logging(path)
    yield path
    root = logging.getLogger()
    for handler in [
        h for h in root.handlers if any(isinstance(f, SecretMaskingFilter) for f in h.filters)
    ]:
        root.removeHandler(handler)
        handler.close()


def written(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_a_reason_phrase_echoing_the_token_stays_out_of_the_log(log_file: Path) -> None:
    with FakeUsageAPI(default=reason_echo(500, f"upstream said {BODY}")) as fake:
        with pytest.raises(UsageError):
            fetch_usage(fake.url, TOKEN, datetime.now(UTC))
        # Whoever repeats it later (a library logging at warning) is masked too.
        logging.getLogger("some.library").warning("proxy: %s", BODY[5:40])
    text = written(log_file)
    assert "usage request: HTTP 500" in text
    assert BODY[:SLICE] not in text
    assert all(BODY[i : i + 16] not in text for i in range(len(BODY) - 16))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.integers(min_value=0, max_value=len(TOKEN) - SLICE),
    length=st.integers(min_value=SLICE, max_value=len(TOKEN)),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_every_long_slice_of_a_used_token_is_masked(
    log_file: Path, start: int, length: int, before: str, after: str
) -> None:
    with FakeUsageAPI(default=reason_echo(401, "no")) as fake, pytest.raises(UsageError):
        fetch_usage(fake.url, TOKEN, datetime.now(UTC))
    piece = TOKEN[start : start + length]
    masked = mask_secrets(f"{before}{piece}{after}")
    assert all(TOKEN[i : i + SLICE] not in masked for i in range(len(TOKEN) - SLICE + 1))
    logging.getLogger("elsewhere").error("%s%s%s", before, piece, after)
    assert piece not in written(log_file)


def test_a_remembered_token_does_not_mask_ordinary_text() -> None:
    """Only distinctive runs count: a token with a long repeated stretch (a test's, say) must not
    turn every run of that character in other records into a mask (nor shrink them)."""
    from claude_usage_gauge.logs import remember_secret

    remember_secret("sk-ant-oat01-Plain" + "z" * 40 + "Ends9Kq2")
    assert mask_secrets("z" * 100 + " 42 %") == "z" * 100 + " 42 %"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Unknown scheme for proxy URL URL('socks4://Pa55word@127.0.0.1:1')", "Pa55word"),
        ("proxy http://user:Pa55word@proxy.example:3128 refused", "Pa55word"),
        ("HTTPS_PROXY=https://Pa55word:x@p.example", "Pa55word"),
    ],
)
def test_url_passwords_are_masked(text: str, secret: str) -> None:
    masked = mask_secrets(text)
    assert secret not in masked
    assert "***@" in masked


def test_control_characters_in_a_record_are_escaped(log_file: Path) -> None:
    logging.getLogger("x").warning("label %s", "Opus\x1b]52;c;aGk=\x07\r\nfake line\u202e")
    text = written(log_file)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u202e" not in text
    assert "\\x1b]52" in text
    assert text.count("\n") == 1  # one record, one line


NO_LOG_FILE = """
import logging, sys
from pathlib import Path
from claude_usage_gauge.logs import setup_logging
try:
    setup_logging(Path(sys.argv[1]) / "logs" / "cli.log")
except OSError:
    pass
logging.getLogger("claude_usage_gauge.store").warning("state file unreadable")
"""


def test_without_a_log_file_nothing_is_printed(tmp_path: Path) -> None:
    """In a process of its own: pytest's log capture would stand in for Python's last-resort
    printer, which is what put raw warnings in front of the user."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    done = subprocess.run(
        [sys.executable, "-c", NO_LOG_FILE, str(blocker)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""

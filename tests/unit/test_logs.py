"""The log file: tokens never reach it, it stays private through rotation, set-up is idempotent."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.logs import (
    LOG_BACKUPS,
    MAX_LOG_BYTES,
    TOKEN_PATTERN,
    SecretMaskingFilter,
    mask_secrets,
    setup_logging,
)

TOKEN = "sk-ant-oat01-" + "Tt5_Ll-9Pp" * 9 + "Qk8w"
REFRESH = "sk-ant-ort01-" + "Uu3-Oo_1Ii" * 9 + "Js4e"
OPAQUE = "opaqueBearerValue.abc~def/ghi+jkl=="
POSIX = os.name == "posix"


def ours(root: logging.Logger) -> list[logging.Handler]:
    return [h for h in root.handlers if any(isinstance(f, SecretMaskingFilter) for f in h.filters)]


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    for handler in ours(root):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    return tmp_path / "logs" / "claude-usage-gauge.log"


def flush() -> None:
    for handler in ours(logging.getLogger()):
        handler.flush()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token {TOKEN} end", "token sk-ant-*** end"),
        (f"refresh={REFRESH}", "refresh=sk-ant-***"),
        (f"Authorization: Bearer {OPAQUE}", "Authorization: Bearer ***"),
        (f"authorization: bearer {TOKEN}", "authorization: bearer ***"),
        (f'{{"accessToken": "{OPAQUE}", "x": 1}}', '{"accessToken": "***", "x": 1}'),
        (f"refresh_token={OPAQUE}&a=b", "refresh_token=***&a=b"),
        ("5-hour window at 42%, nothing secret", "5-hour window at 42%, nothing secret"),
    ],
)
def test_mask_secrets(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


def test_token_pattern_matches_claude_tokens_and_bearer_values() -> None:
    assert TOKEN_PATTERN.search(TOKEN)
    assert TOKEN_PATTERN.search(f"Bearer {OPAQUE}")
    assert not TOKEN_PATTERN.search("a plain sentence")


def test_no_token_reaches_the_file(log_file: Path) -> None:
    setup_logging(log_file)
    log = logging.getLogger("claude_usage_gauge.test")
    log.info("in the message %s", "sk-ant-oat01-" + TOKEN[13:])
    log.info(f"formatted in place: {TOKEN}")
    log.warning("in args: %s and %r", TOKEN, {"refreshToken": REFRESH})
    log.info("header %(auth)s", {"auth": f"Bearer {OPAQUE}"})
    try:
        raise ValueError(f"request failed for {TOKEN}")
    except ValueError:
        log.exception("while fetching with %s", TOKEN)
    log.info("stack", stack_info=True)
    logging.getLogger("some.library").error("library says Bearer %s", OPAQUE)
    flush()
    text = log_file.read_text(encoding="utf-8")
    for secret in (TOKEN, TOKEN[13:40], REFRESH, OPAQUE):
        assert secret not in text
    assert "in args: sk-ant-*** and {'refreshToken': '***'}" in text
    assert "Traceback" in text
    assert "ValueError: request failed for sk-ant-***" in text
    assert "library says Bearer ***" in text
    if POSIX:
        assert mode(log_file) == 0o600
        assert mode(log_file.parent) == 0o700


def test_a_broken_format_string_is_kept_masked() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "two %s %s but one", (TOKEN,), None)
    assert SecretMaskingFilter().filter(record)
    assert record.args is None
    assert record.getMessage() == "two %s %s but one ('sk-ant-***',)"


def test_setup_twice_does_not_double_handlers(log_file: Path, tmp_path: Path) -> None:
    setup_logging(log_file)
    setup_logging(log_file)
    assert len(ours(logging.getLogger())) == 1
    logging.getLogger("t").info("once")
    flush()
    assert log_file.read_text(encoding="utf-8").count("once") == 1
    # Called again with another file: the old handler is closed and replaced.
    other = tmp_path / "elsewhere" / "app.log"
    setup_logging(other, also_stderr=True)
    assert len(ours(logging.getLogger())) == 2
    logging.getLogger("t").info("twice")
    flush()
    assert "twice" not in log_file.read_text(encoding="utf-8")
    assert "twice" in other.read_text(encoding="utf-8")


def test_stderr_copy_is_masked_too(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(log_file, also_stderr=True, level=logging.DEBUG)
    logging.getLogger("t").debug("debug with %s", TOKEN)
    flush()
    err = capsys.readouterr().err
    assert "debug with sk-ant-***" in err
    assert TOKEN not in err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_rotation_keeps_every_file_private(log_file: Path) -> None:
    previous = os.umask(0o022)  # what would make a plainly opened file 0644
    try:
        log_file.parent.mkdir(mode=0o755)
        log_file.write_text("left by an older version\n")
        log_file.chmod(0o644)
        setup_logging(log_file)
        assert mode(log_file) == 0o600
        line = f"usage line with {TOKEN} " + "x" * 1000
        for _ in range((MAX_LOG_BYTES * (LOG_BACKUPS + 1)) // 1000 + 50):
            logging.getLogger("t").info(line)
        flush()
    finally:
        os.umask(previous)
    rotated = [log_file.with_name(f"{log_file.name}.{n}") for n in range(1, LOG_BACKUPS + 1)]
    assert all(path.exists() for path in rotated)
    assert not log_file.with_name(f"{log_file.name}.{LOG_BACKUPS + 1}").exists()
    for path in [log_file, *rotated]:
        assert mode(path) == 0o600
        assert path.stat().st_size <= MAX_LOG_BYTES
        assert TOKEN not in path.read_text(encoding="utf-8")
    assert mode(log_file.parent) == 0o700

"""The app's log file: private, size-capped, and with every token masked before it is written.

Masking sits on the handlers, so it covers records from every logger (ours and libraries') and
every part of a record: the message, its arguments, a traceback and a stack. Patterns catch
tokens by their shape; the token actually in use is also masked exactly, with every long slice
of it, so a server or proxy that echoes it without its prefix (say, in the reason phrase httpx
logs) cannot put it in the file. Passwords in URLs (a proxy's) are masked too, and control
characters are escaped so that reading the log in a terminal is safe.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
import threading
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from claude_usage_gauge.core.text import clean, clean_lines
from claude_usage_gauge.files import ensure_private_dir

MAX_LOG_BYTES = 512 * 1024
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Claude tokens (sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…), any bearer credential, and the
# values of the credential file's token keys should one be quoted whole.
TOKEN_PATTERN = re.compile(
    r"(?P<kind>sk-ant-)[A-Za-z0-9_-]+"
    r"|(?P<bearer>\b(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+"
    r"|(?P<key>[\"']?(?:access|refresh)_?[Tt]oken[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+"
    # The user (and password) part of a URL, e.g. a proxy's: scheme://user:secret@host
    r"|(?P<url>\b[A-Za-z][A-Za-z0-9+.-]{0,15}://)[^\s/?#@\"'<>]+@",
)
MASK = "***"
# A run this long that also occurs in a remembered secret is taken for a piece of it.
SLICE = 12
DISTINCT = 6


class _Remembered:
    """The secrets in use in this process, and every SLICE-long run of them."""

    lock = threading.Lock()
    secrets: tuple[str, ...] = ()
    slices: frozenset[str] = frozenset()


def remember_secret(secret: str) -> None:
    """Mask `secret`, and any 12-character run of it, in every log record from now on."""
    if len(secret) < SLICE:
        return
    with _Remembered.lock:
        if secret in _Remembered.secrets:
            return
        _Remembered.secrets += (secret,)
        pieces = {s[i : i + SLICE] for s in _Remembered.secrets for i in range(len(s) - SLICE + 1)}
        # A run with few distinct characters ("xxxxxxxxxxxx") says nothing about the token and
        # would mask ordinary text; a random token's runs are all distinctive.
        _Remembered.slices = frozenset(p for p in pieces if len(set(p)) >= DISTINCT)


def _mask_match(match: re.Match[str]) -> str:
    if match.group("url"):
        return match.group("url") + MASK + "@"
    keep = match.group("kind") or match.group("bearer") or match.group("key") or ""
    return keep + MASK


def _mask_remembered(text: str) -> str:
    slices = _Remembered.slices
    if not slices or len(text) < SLICE:
        return text
    covered = bytearray(len(text))
    for i in range(len(text) - SLICE + 1):
        if text[i : i + SLICE] in slices:
            covered[i : i + SLICE] = b"\x01" * SLICE
    if not any(covered):
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if not covered[i]:
            out.append(char)
        elif i == 0 or not covered[i - 1]:
            out.append(MASK)
    return "".join(out)


def mask_secrets(text: str) -> str:
    # Patterns first: a remembered slice may be a token's public head ("sk-ant-oat01"), and
    # masking that first would hide the shape the patterns recognise a token by.
    return _mask_remembered(TOKEN_PATTERN.sub(_mask_match, text))


class SecretMaskingFilter(logging.Filter):
    """Formats each record's message, masks it, and keeps only the masked text.

    The arguments are dropped (args=None) once formatted, so no later formatter can reinsert them;
    the traceback is formatted here and masked into `exc_text`, which formatters reuse.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string: keep what there is, masked, rather than lose the record.
            message = f"{record.msg} {record.args!r}"
        # One record, one line: a CR or LF in what a server said cannot fake another record.
        record.msg = clean(mask_secrets(message), limit=None)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = clean_lines(mask_secrets(record.exc_text))
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """Opens every log file, the first and each one after a rollover, as 0600."""

    def _open(self) -> TextIOWrapper:
        # Non-blocking: a FIFO planted at the log's path must not hang the app (opening it for
        # writing with no reader fails at once instead), and only a regular file is kept.
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{self.baseFilename} is not a regular file")
        if sys.platform != "win32":
            # A file made before (or by another tool) may be wider; narrow it.
            os.fchmod(fd, 0o600)
        # Always append: rotation needs it, and the base class forces it whenever maxBytes is set.
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_OURS = "_claude_usage_gauge_handler"


def setup_logging(log_file: Path, *, level: int = logging.INFO, also_stderr: bool = False) -> None:
    """Send all logging to `log_file` (and stderr if asked), masked. Calling again replaces ours.

    Raises OSError when the file cannot be opened; records are then dropped, never printed.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    # httpx logs every request at INFO, reason phrase included: what a server says is not ours
    # to keep (our own line records the status).
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        ensure_private_dir(log_file.parent)
        handlers: list[logging.Handler] = [
            _PrivateRotatingFileHandler(
                log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
            )
        ]
    except OSError:
        # No log file: records go nowhere rather than to Python's last-resort stderr printer,
        # which would put raw warnings in front of the user.
        quiet = logging.NullHandler()
        setattr(quiet, _OURS, True)
        root.addHandler(quiet)
        raise
    if also_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    formatter = logging.Formatter(_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(SecretMaskingFilter())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(level)

"""The app's log file: private, size-capped, and with every token masked before it is written.

Masking sits on the handlers, so it covers records from every logger (ours and libraries') and
every part of a record: the message, its arguments, a traceback and a stack.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from io import TextIOWrapper
from logging.handlers import RotatingFileHandler
from pathlib import Path

from claude_usage_gauge.files import ensure_private_dir

MAX_LOG_BYTES = 512 * 1024
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Claude tokens (sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…), any bearer credential, and the
# values of the credential file's token keys should one be quoted whole.
TOKEN_PATTERN = re.compile(
    r"(?P<kind>sk-ant-)[A-Za-z0-9_-]+"
    r"|(?P<bearer>\b(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+"
    r"|(?P<key>[\"']?(?:access|refresh)_?[Tt]oken[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+",
)
MASK = "***"


def _mask_match(match: re.Match[str]) -> str:
    keep = match.group("kind") or match.group("bearer") or match.group("key") or ""
    return keep + MASK


def mask_secrets(text: str) -> str:
    return TOKEN_PATTERN.sub(_mask_match, text)


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
        record.msg = mask_secrets(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """Opens every log file, the first and each one after a rollover, as 0600."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if sys.platform != "win32":
            # A file made before (or by another tool) may be wider; narrow it.
            os.fchmod(fd, 0o600)
        # Always append: rotation needs it, and the base class forces it whenever maxBytes is set.
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_OURS = "_claude_usage_gauge_handler"


def setup_logging(log_file: Path, *, level: int = logging.INFO, also_stderr: bool = False) -> None:
    """Send all logging to `log_file` (and stderr if asked), masked. Calling again replaces ours."""
    ensure_private_dir(log_file.parent)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        _PrivateRotatingFileHandler(
            log_file, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    ]
    if also_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    formatter = logging.Formatter(_FORMAT)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(SecretMaskingFilter())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(level)

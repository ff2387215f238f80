"""What the command line writes: safe for a terminal, and never stopped by its encoding.

Every write to stdout and stderr passes one sanitiser (`core.text`): a control character, bidi
control or line separator from the server, the credentials or a state file is written escaped
(`\\x1b`, `\\u202e`), which a terminal shows as text; under `--json` as a `\\u001b` escape,
which a JSON reader takes for the very same character.
A terminal that cannot show a character (ASCII, Latin-1) gets a plain stand-in ("·" as "-",
"…" as "...", "é" as "e", else "?"); `--json` gets a JSON escape instead, so its values stay exact.
"""

from __future__ import annotations

import codecs
import sys
import unicodedata
from collections.abc import Callable
from typing import TextIO

from claude_usage_gauge.core.text import clean_lines, escape_json

DEGRADE = "claude-usage-gauge-degrade"
JSON_ESCAPE = "claude-usage-gauge-json"

_STAND_INS = {
    "·": "-",
    "•": "*",
    "—": "-",
    "–": "-",
    "…": "...",
    "⚠": "!",
    "▸": ">",
    "→": "->",
    "€": "EUR",
    "£": "GBP",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "\u00a0": " ",
}


def stand_in(char: str) -> str:
    """An ASCII stand-in for one character a terminal cannot show."""
    if char in _STAND_INS:
        return _STAND_INS[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of an undecodable file name, kept by the OS layer
        return f"\\x{code - 0xDC00:02x}"
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return plain or "?"


def _degrade(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(stand_in(c) for c in bad), error.end


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out: list[str] = []
    for char in error.object[error.start : error.end]:
        data = char.encode("utf-16-be", "surrogatepass")
        out += [f"\\u{int.from_bytes(data[i : i + 2], 'big'):04x}" for i in range(0, len(data), 2)]
    return "".join(out), error.end


codecs.register_error(DEGRADE, _degrade)
codecs.register_error(JSON_ESCAPE, _json_escape)


class SafeStream:
    """A text stream whose every write is sanitised; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO, *, json_output: bool = False) -> None:
        self.stream = stream
        self._escape = _json_lines if json_output else clean_lines

    def write(self, text: str) -> int:
        self.stream.write(self._escape(text))
        return len(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def _json_lines(text: str) -> str:
    # Line breaks the program writes pass; every other unsafe character becomes a \u escape.
    return "\n".join(escape_json(line) for line in text.split("\n"))


def protect_streams(*, json_output: bool = False) -> Callable[[], None]:
    """Wrap sys.stdout and sys.stderr; the returned function puts the originals back."""
    originals = (sys.stdout, sys.stderr)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(stream, SafeStream):
            continue
        handler = JSON_ESCAPE if json_output and name == "stdout" else DEGRADE
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:  # noqa: SIM105 - a stream that cannot be reconfigured keeps its own handling
                reconfigure(errors=handler)
            except (OSError, ValueError):
                pass
        setattr(sys, name, SafeStream(stream, json_output=json_output and name == "stdout"))

    def restore() -> None:
        sys.stdout, sys.stderr = originals

    return restore

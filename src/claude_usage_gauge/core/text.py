"""The one sanitiser for text that reaches a person: a terminal, a menu, a tooltip, a log.

Strings from the server (a model's display name, a currency, an error message) and from the
credentials (plan, tier, scopes) are not ours: an ESC sequence in them could clear the screen,
write the clipboard (OSC 52) or hide a link (OSC 8); a CR or LF could fake extra lines; a bidi
override could reverse what follows; a 3,000-character label could push everything else away.
So every control character (C0, DEL, C1), bidi control and line separator is shown escaped
(`\\x1b`, `\\u202e`), and labels are cut to a sensible length. `--json` keeps every value as it
is, with the same characters written as JSON escapes (`escape_json`).
"""

from __future__ import annotations

import re

LABEL_MAX = 60  # a window's name, a currency, a plan: one menu line's worth
MESSAGE_MAX = 400  # an error message or a detail shown in full
ELLIPSIS = "…"

# C1 controls, Arabic letter mark, LRM/RLM, line and paragraph separators, bidi embeddings and
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069).
_WIDE = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_CHARS = re.compile(f"[\x00-\x1f{_WIDE}]")
# The same, but a plain line break or tab passes (multi-line output written in one go).
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_WIDE}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def clean(text: str, limit: int | None = LABEL_MAX) -> str:
    """One line of `text` for a person: unsafe characters escaped, at most `limit` characters."""
    text = _UNSAFE_CHARS.sub(_escape, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


def clean_lines(text: str) -> str:
    """Like `clean` without a limit, but line breaks and tabs are kept (they are ours)."""
    return _UNSAFE_IN_LINES.sub(_escape, text)


def escape_json(text: str) -> str:
    """JSON text with every unsafe character inside its strings written as a \\u escape.

    `json.dumps` escapes C0 controls but writes C1 controls, bidi controls and line separators
    as they are (with ensure_ascii=False). They can only occur inside strings, where a \\u escape
    stands for the very same character: the value read back is unchanged.
    """
    return _UNSAFE_CHARS.sub(_json_escape, text)

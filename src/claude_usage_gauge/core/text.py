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
# Characters per menu row: about 420 px at a desktop's default font, so no menu (or submenu)
# grows wider than ~480 px and covers its parent on a small screen.
ROW_MAX = 60
# Continuation rows of a wrapped text start with this, so a reader sees where one text ends.
CONTINUATION = "    "
# Where a word too long for a row (a path) may be cut: after a folder separator, else after
# a hyphen, underscore or dot.
_CUT_AFTER = ("/\\", "-_.")

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


def wrap(text: str, width: int = ROW_MAX, indent: str = CONTINUATION) -> list[str]:
    """`text` as rows of at most `width` characters (a menu row each), broken at spaces;
    continuation rows start with `indent`. A word longer than a row (a path) is cut after a
    path separator where it has one, else where it must. Blank text gives no rows."""
    rows: list[str] = []
    line = ""
    for word in text.split():
        rest = word
        while rest:
            lead = indent if rows else ""
            joined = f"{line} {rest}" if line else rest
            if len(lead) + len(joined) <= width:
                line, rest = joined, ""
            elif line:
                rows.append(lead + line)
                line = ""
            else:
                cut = _cut(rest, max(width - len(lead), 1))
                rows.append(lead + rest[:cut])
                rest = rest[cut:]
    if line:
        rows.append((indent if rows else "") + line)
    return rows


def _cut(word: str, room: int) -> int:
    """Where to cut `word`, longer than `room`: after the last separator that leaves at least
    a third of the row filled, else at `room`."""
    for separators in _CUT_AFTER:
        best = max((i + 1 for i, c in enumerate(word[:room]) if c in separators), default=0)
        if best >= room // 3:
            return best
    return room


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

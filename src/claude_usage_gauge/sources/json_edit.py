"""Change a few members of a JSON document's text and leave every other byte as it was.

Re-serialising a user's file loses its key order, indentation and spacing, and can even make it
invalid: `1e400` reads as infinity and `json.dumps` writes it back as `Infinity`, which a strict
reader (Claude Code's) rejects. So a change is made as edits of the text: a member's value is
replaced where it stands, a new member is added after the last one in the file's own layout, a
removed member is cut out with its comma. Only the values we write are rendered, never as
NaN or Infinity. The document must already have been read with `json.loads` (it is valid).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Member:
    key: str
    start: int  # the key's opening quote
    colon: tuple[int, int]  # the text between the key and its value (": ")
    value: tuple[int, int]  # the value's text


@dataclass(frozen=True, slots=True)
class Members:
    open: int  # the "{"
    close: int  # the "}"
    items: tuple[Member, ...]

    def last(self, key: str) -> Member | None:
        """The occurrence that counts (json.loads keeps the last of duplicated keys)."""
        found = [m for m in self.items if m.key == key]
        return found[-1] if found else None


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def members(text: str, brace: int) -> Members:
    """The members of the object whose "{" is at `brace`."""
    at = _skip(text, brace + 1)
    items: list[Member] = []
    if text[at] == "}":
        return Members(brace, at, ())
    while True:
        start = at
        key, at = _DECODER.raw_decode(text, at)
        assert isinstance(key, str)  # a valid document's member names are strings
        key_end = at
        at = _skip(text, _skip(text, at) + 1)  # past the colon and its spaces
        value_start = at
        _, at = _DECODER.raw_decode(text, at)
        items.append(Member(key, start, (key_end, value_start), (value_start, at)))
        at = _skip(text, at)
        if text[at] == "}":
            return Members(brace, at, tuple(items))
        at = _skip(text, at + 1)  # past the comma


def _object_at(text: str, path: tuple[str, ...]) -> Members | None:
    """The object reached by following `path` from the top (the last occurrence of each key)."""
    at = _skip(text, 0)
    if at >= len(text) or text[at] != "{":
        return None
    found = members(text, at)
    for key in path:
        member = found.last(key)
        if member is None or text[member.value[0]] != "{":
            return None
        found = members(text, member.value[0])
    return found


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    return text[line_start : _skip_blanks(text, line_start)]


def _skip_blanks(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t":
        at += 1
    return at


def dumps(
    value: object, *, indent: str | None = None, separators: tuple[str, str] | None = None
) -> str:
    """JSON for a value we write: never NaN or Infinity; readable non-ASCII unless that would
    leave a lone surrogate (from an escape in the user's file) that UTF-8 cannot hold."""
    options = {"allow_nan": False, "indent": indent, "separators": separators}
    text = json.dumps(value, ensure_ascii=False, **options)  # type: ignore[arg-type]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, **options)  # type: ignore[arg-type]
    return text


def _newline(text: str) -> str:
    """The file's line break: a file written on Windows ends its lines with CR LF, and the
    lines we add must too, or an editor shows them as changed (or mixed)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _render(
    value: object,
    multiline: bool,
    indent: str,
    unit: str,
    separators: tuple[str, str],
    *,
    newline: str = "\n",
) -> str:
    """`value` laid out like the object it goes into: over several lines (at `indent`, nested
    by `unit`, each ended by `newline`) if that object is, else on one line with the object's
    own separators."""
    if multiline and isinstance(value, dict | list) and value:
        return dumps(value, indent=unit, separators=(",", separators[1])).replace(
            "\n", newline + indent
        )
    return dumps(value, separators=separators)


def _unit(text: str, obj: Members, indent: str) -> str:
    """The file's step of indentation: a member's indent beyond its object's line."""
    outer = _line_indent(text, obj.open)
    if indent.startswith(outer) and len(indent) > len(outer):
        return indent[len(outer) :]
    return "  "


def set_member(text: str, path: tuple[str, ...], key: str, value: object) -> str:
    """`text` with member `key` of the object at `path` set to `value` (added at the end if it
    is not there), every other byte kept."""
    obj = _object_at(text, path)
    if obj is None:
        raise ValueError(f"no object at {'/'.join(path) or 'the top'}")
    member = obj.last(key)
    multiline = "\n" in text[obj.open : obj.close]
    separators = _separators(text, obj)
    nl = _newline(text)
    if member is not None:
        indent = _line_indent(text, member.start)
        shown = _render(value, multiline, indent, _unit(text, obj, indent), separators, newline=nl)
        return text[: member.value[0]] + shown + text[member.value[1] :]
    if not obj.items:
        outer = _line_indent(text, obj.open)
        shown = _render(value, True, outer + "  ", "  ", (", ", ": "), newline=nl)
        entry = f"{dumps(key)}: {shown}"
        return f"{text[: obj.open + 1]}{nl}{outer}  {entry}{nl}{outer}{text[obj.close :]}"
    last = obj.items[-1]
    if len(obj.items) > 1:
        # The layout between two members: the spaces after a comma, up to the next key.
        gap = text[_skip(text, obj.items[-2].value[1]) + 1 : last.start]
    else:
        gap = text[obj.open + 1 : last.start]
    indent = _line_indent(text, last.start)
    shown = _render(value, multiline, indent, _unit(text, obj, indent), separators, newline=nl)
    end = last.value[1]
    return f"{text[:end]},{gap}{dumps(key)}{separators[1]}{shown}{text[end:]}"


def _separators(text: str, obj: Members) -> tuple[str, str]:
    """The object's own ", " and ": " (a compact file writes "," and ":")."""
    if not obj.items:
        return ", ", ": "
    first = obj.items[0]
    colon = text[first.colon[0] : first.colon[1]]
    if len(obj.items) > 1:
        after = _skip(text, first.value[1])
        comma = "," + (" " if text[after + 1 : obj.items[1].start] == " " else "")
    else:
        comma = ", "
    return comma, colon


def remove_member(text: str, path: tuple[str, ...], key: str) -> str:
    """`text` without member `key` (every occurrence) of the object at `path`."""
    while True:
        obj = _object_at(text, path)
        if obj is None:
            return text
        index = next((i for i, m in enumerate(obj.items) if m.key == key), None)
        if index is None:
            return text
        member = obj.items[index]
        if len(obj.items) == 1:
            text = text[: obj.open + 1] + text[obj.close :]
        elif index > 0:
            text = text[: obj.items[index - 1].value[1]] + text[member.value[1] :]
        else:
            text = text[: member.start] + text[obj.items[1].start :]


def apply_changes(
    text: str, old: Mapping[str, object], new: Mapping[str, object], path: tuple[str, ...] = ()
) -> str:
    """`text` (which reads as `old`) edited to read as `new`, touching only what differs.

    A value is "unchanged" when it is the very same object or equal, so NaN or a huge number
    elsewhere in the file is never rewritten. Objects present on both sides are edited inside.
    """
    for key in old:
        if key not in new:
            text = remove_member(text, path, key)
    for key, value in new.items():
        before = old.get(key, _MISSING)
        if before is value or (before is not _MISSING and _same(before, value)):
            continue
        nested = isinstance(before, dict) and isinstance(value, dict)
        if nested and _object_at(text, (*path, key)) is not None:
            assert isinstance(before, dict)
            assert isinstance(value, dict)
            text = apply_changes(text, before, value, (*path, key))
            continue
        text = set_member(text, path, key, value)
    return text


def _same(a: object, b: object) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # comparing something odd: count it as a change
        return False

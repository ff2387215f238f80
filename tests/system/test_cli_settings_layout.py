"""`statusline install` and `hooks install`, run for real, on settings.json files laid out the
way people and editors leave them: tabs, a 3-space indent, CRLF line ends, non-ASCII text, a
byte-order mark, no final line break, all on one line. The change is a text edit (see
`sources/json_edit.py`), so the file after install is the file before with one piece inserted,
laid out like its neighbours; uninstall gives back the very bytes from before, and keeps an
edit the user made in between."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli_home import CliHome, closed_port

LAYOUTS = {
    "tabs": b'{\n\t"model": "opus",\n\t"env": {\n\t\t"NAME": "x"\n\t}\n}\n',
    "three spaces": b'{\n   "model": "opus",\n   "env": {\n      "NAME": "x"\n   }\n}\n',
    "crlf": b'{\r\n  "model": "opus",\r\n  "env": {\r\n    "NAME": "x"\r\n  }\r\n}\r\n',
    "unicode": (
        '{\n  "model": "opus",\n  "env": {\n    "GRÜSSE": "bär ✓ 日本語 \\u00e9"\n  }\n}\n'
    ).encode(),
    "no final line break": b'{\n  "model": "opus",\n  "env": {\n    "NAME": "x"\n  }\n}',
    "byte-order mark": b'\xef\xbb\xbf{\n  "model": "opus",\n  "env": {"NAME": "x"}\n}\n',
    "one line": b'{"model":"opus","env":{"NAME":"x"}}',
    "odd spacing": b'{ "model" : "opus" ,\n\n  "env" : { "NAME" : "x" } }\n',
}


@pytest.fixture
def home(tmp_path: Path) -> CliHome:
    cli_home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    cli_home.claude_dir.mkdir(mode=0o700)
    return cli_home


def inserted(before: bytes, after: bytes) -> bytes:
    """The one piece `after` has that `before` has not; fails unless that is the only change."""
    start = 0
    while start < len(before) and before[start] == after[start]:
        start += 1
    end = 0
    while end < len(before) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    assert start + end == len(before), "more than one piece of the file changed"
    return after[start : len(after) - end]


def indents(piece: bytes) -> set[bytes]:
    """The leading whitespace of every line the piece starts (after its first line break)."""
    return {m.group(1) for m in re.finditer(rb"\n([ \t]*)\S", piece)}


@pytest.mark.parametrize("command", ["statusline", "hooks"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_install_inserts_one_piece_in_the_files_layout_and_uninstall_restores_the_bytes(
    home: CliHome, layout: str, command: str
) -> None:
    path = home.claude_dir / "settings.json"
    original = LAYOUTS[layout]
    path.write_bytes(original)

    install = home.run(command, "install")
    assert install.returncode == 0, install.stderr
    after = path.read_bytes()
    json.loads(after.decode("utf-8-sig"))  # still valid JSON
    piece = inserted(original, after)
    assert (b'"statusLine"' if command == "statusline" else b'"hooks"') in piece
    if b"\n" not in original:
        assert b"\n" not in piece  # a one-line file stays one line
    if b"\r\n" in original:
        assert piece.count(b"\n") == piece.count(b"\r\n") > 0  # no bare LF among CRLF lines
    if layout == "tabs":
        assert indents(piece)
        assert all(set(i) == {ord("\t")} for i in indents(piece))
    if layout == "three spaces":
        assert indents(piece)
        assert all(len(i) % 3 == 0 and b"\t" not in i for i in indents(piece))

    uninstall = home.run(command, "uninstall")
    assert uninstall.returncode == 0, uninstall.stderr
    assert path.read_bytes() == original
    assert "very bytes it had before" in uninstall.stdout
    home.assert_clean(install, uninstall)


@pytest.mark.parametrize("layout", ["crlf", "tabs", "one line"])
def test_uninstall_keeps_an_edit_made_since_install(home: CliHome, layout: str) -> None:
    path = home.claude_dir / "settings.json"
    original = LAYOUTS[layout]
    path.write_bytes(original)
    assert home.run("statusline", "install").returncode == 0
    # The user (or Claude Code) changes another setting meanwhile.
    path.write_bytes(path.read_bytes().replace(b'"opus"', b'"sonnet"'))

    uninstall = home.run("statusline", "uninstall")

    assert uninstall.returncode == 0, uninstall.stderr
    # Only our member is gone: the edit stays, and the rest is the original byte for byte.
    assert path.read_bytes() == original.replace(b'"opus"', b'"sonnet"')
    assert "very bytes" not in uninstall.stdout
    home.assert_clean(uninstall)

"""`statusline install` against settings.json files written by people and by Claude Code: every
byte it does not mean to change stays (numbers such as 1e400 included, never NaN or Infinity
written), uninstall gives the original bytes back, and an edit that lands at the last moment
before the swap is kept, not overwritten.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.statusline.install import install_command
from tests.support.cli_home import CliHome, closed_port

PROGRAM = ["/opt/claude-usage-gauge/bin/claude-usage-gauge"]
STATE_DIR = "/home/someone/.local/state/claude-usage-gauge"
HANDWRITTEN = (
    b'{\n    "$schema": "https://json.schemastore.org/claude-code-settings.json",\n'
    b'    "model" :"opus",\n'
    b'    "cleanupPeriodDays": 1e400,\n'
    b'    "tiny": -0.0, "exp": 1E+2,\n'
    b'    "env": {"NAME": "b\\u00e4r", "PATH_EXTRA": "/x"},\n'
    b'    "statusLine": {\n        "type": "command",\n        "command": "bash ~/line.sh",\n'
    b'        "padding": 0\n    }\n}\n'
)


def strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def spans(text: str) -> dict[str, str]:
    """Each top-level member's text (from its key to the end of its value), but statusLine's."""
    decoder = json.JSONDecoder()
    found: dict[str, str] = {}
    at = text.index("{") + 1
    while True:
        at = len(text) - len(text[at:].lstrip(" \t\r\n"))
        if text[at] == "}":
            return found
        start = at
        key, at = decoder.raw_decode(text, at)
        at = text.index(":", at) + 1
        at = len(text) - len(text[at:].lstrip(" \t\r\n"))
        _, at = decoder.raw_decode(text, at)
        if key != "statusLine":
            found[key] = text[start:at]
        at = len(text) - len(text[at:].lstrip(" \t\r\n"))
        if text[at] == ",":
            at += 1


def run(path: Path, action: str) -> tuple[int, str]:
    out = StringIO()
    home = ClaudeHome.at(path.parent)
    code = install_command(
        action,
        dry_run=False,
        home=home,
        state_dir=STATE_DIR,
        program=PROGRAM,
        stdout=out,
        stderr=out,
    )
    return code, out.getvalue()


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.claude-usage-gauge-*.bak"))


# -- every byte kept ----------------------------------------------------------------------------


def test_the_real_cli_keeps_the_users_file_as_written(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.claude_dir.mkdir(mode=0o700)
    path = home.claude_dir / "settings.json"
    path.write_bytes(HANDWRITTEN)
    path.chmod(0o644)
    install = home.run("statusline", "install")
    assert install.returncode == 0, install.stdout
    text = path.read_text()
    assert "Infinity" not in text
    assert "NaN" not in text
    strict(text)
    assert spans(text) == spans(HANDWRITTEN.decode())
    assert '"cleanupPeriodDays": 1e400' in text
    assert '"padding": 0\n    }\n}\n' in text
    # The backup copies a file readable by anyone on this machine: it is made private anyway.
    assert [stat.S_IMODE(b.stat().st_mode) for b in backups(path)] == [0o600]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    uninstall = home.run("statusline", "uninstall")
    assert uninstall.returncode == 0, uninstall.stdout
    assert path.read_bytes() == HANDWRITTEN
    home.assert_clean(install, uninstall)


def test_hooks_install_keeps_the_users_file_as_written_too(tmp_path: Path) -> None:
    home = CliHome(tmp_path / "home", f"http://127.0.0.1:{closed_port()}")
    home.claude_dir.mkdir(mode=0o700)
    path = home.claude_dir / "settings.json"
    path.write_bytes(HANDWRITTEN)
    install = home.run("hooks", "install")
    assert install.returncode == 0, install.stdout + install.stderr
    text = path.read_text()
    assert "Infinity" not in text
    assert spans(text) == {**spans(HANDWRITTEN.decode()), "hooks": spans(text)["hooks"]}
    assert strict(text)["hooks"]["StopFailure"]  # type: ignore[index]
    uninstall = home.run("hooks", "uninstall")
    assert uninstall.returncode == 0, uninstall.stdout
    assert path.read_bytes() == HANDWRITTEN
    home.assert_clean(install, uninstall)


JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    document=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "statusLine"), JSON_VALUES, max_size=6
    ),
    entry=st.none()
    | st.fixed_dictionaries(
        {"type": st.just("command"), "command": st.text(min_size=1, max_size=20)}
    ),
    layout=st.tuples(
        st.sampled_from([None, 2, 4, "\t"]),
        st.sampled_from([(", ", ": "), (",", ":"), (",", ": ")]),
        st.booleans(),
    ),
    huge=st.booleans(),
)
def test_install_then_uninstall_keeps_every_byte(
    tmp_path_factory: pytest.TempPathFactory,
    document: dict[str, object],
    entry: dict[str, object] | None,
    layout: tuple[int | str | None, tuple[str, str], bool],
    huge: bool,
) -> None:
    indent, separators, ascii_only = layout
    if entry is not None:
        document = {**document, "statusLine": entry}
    text = json.dumps(document, indent=indent, separators=separators, ensure_ascii=ascii_only)
    if huge:  # a number Python reads as infinity: it must come back as written
        text = text.replace("{", '{"huge": 1e400' + (separators[0] if document else ""), 1)
    path = tmp_path_factory.mktemp("settings") / "settings.json"
    original = (text + "\n").encode()
    path.write_bytes(original)
    code, said = run(path, "install")
    assert code == 0, said
    installed = path.read_text()
    parsed = strict(installed)
    assert isinstance(parsed, dict)
    assert "statusline" in parsed["statusLine"]["command"]
    assert spans(installed) == spans(text)
    code, said = run(path, "uninstall")
    assert code == 0, said
    assert path.read_bytes() == original


# -- an edit at the last moment -------------------------------------------------------------------

THEIRS = b'{\n  "model": "sonnet"\n}\n'


def _in_place(path: Path) -> None:
    with path.open("r+b") as handle:  # Claude Code writing the file where it is
        handle.truncate(0)
        handle.write(THEIRS)


def _renamed(path: Path) -> None:
    fresh = path.with_name("claude-code-wrote-this")  # ...or writing a new file and renaming it
    fresh.write_bytes(THEIRS)
    os.replace(fresh, path)


@pytest.mark.parametrize("edit", [_in_place, _renamed], ids=["in place", "renamed over"])
def test_an_edit_just_before_the_swap_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[Path], None]
) -> None:
    """Forced interleaving: the edit lands after every check, right before the file is swapped
    (in the swap function itself, or in os.replace where there is no swap)."""
    path = tmp_path / "settings.json"
    path.write_bytes(b'{\n  "model": "opus"\n}\n')
    target = str(path)
    landed: list[bool] = []

    def land_once(destination: object) -> None:
        if not landed and os.fspath(destination) == target:  # type: ignore[call-overload]
            landed.append(True)
            edit(path)

    real_replace = os.replace

    def replace(src: object, dst: object, **kwargs: object) -> None:
        land_once(dst)
        real_replace(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    swap_module = _module("claude_usage_gauge.sources.careful_write")
    if swap_module is not None:
        real_exchange = swap_module._exchange

        def exchange(first: str, second: str) -> bool:
            land_once(second)
            return bool(real_exchange(first, second))

        monkeypatch.setattr(swap_module, "_exchange", exchange)
    code, said = run(path, "install")
    assert landed
    assert path.read_bytes() == THEIRS, "the other program's edit was overwritten"
    assert code == 1
    assert "changed while it was being edited" in said
    assert backups(path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_without_an_atomic_swap_the_report_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    swap_module = _module("claude_usage_gauge.sources.careful_write")
    assert swap_module is not None
    monkeypatch.setattr(swap_module, "_exchange", lambda first, second: False)
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"model": "opus"}')
    code, said = run(path, "install")
    assert code == 0
    assert "cannot swap files atomically" in said
    assert "statusline" in strict(path.read_text())["statusLine"]["command"]  # type: ignore[index]


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None

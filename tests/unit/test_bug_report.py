"""Handing the report over: to a clipboard tool when there is one, else to a private file."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from claude_usage_gauge.bug_report import REPORT_FILE_NAME, hand_over

REPORT = "claude-usage-gauge report\nplan: max\n"


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux clipboard tools")
def test_a_clipboard_tool_gets_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    pasted = tmp_path / "pasted.txt"
    tool = tools / "xclip"
    tool.write_text(f"#!/bin/sh\nexec /bin/cat > {pasted}\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))

    said = hand_over(REPORT, tmp_path / "state")

    assert "clipboard (xclip)" in said
    assert pasted.read_text() == REPORT
    assert not (tmp_path / "state" / REPORT_FILE_NAME).exists()


def test_without_a_clipboard_it_is_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    state_dir = tmp_path / "state"

    said = hand_over(REPORT, state_dir)

    path = state_dir / REPORT_FILE_NAME
    assert said == f"The report is in {path}; attach it to your bug report."
    assert path.read_text() == REPORT
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux clipboard tools")
def test_a_failing_clipboard_tool_falls_back_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("wl-copy", "xclip", "xsel"):
        (tools / name).write_text("#!/bin/sh\nexit 1\n")
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))

    said = hand_over(REPORT, tmp_path / "state")

    assert said.startswith("The report is in ")

"""How to start this very program again: for autostart entries and the statusline hook.

Absolute paths only, because login sessions and Claude Code do not share the user's shell PATH.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from claude_usage_gauge import APP_NAME


def is_frozen() -> bool:
    """Running from a bundle built by PyInstaller (or a similar freezer)."""
    return bool(getattr(sys, "frozen", False))


def program_command(*, windowed: bool = False) -> list[str]:
    """The argv prefix that runs this app: the bundle, the installed command, or `python -m`.

    `windowed` picks the launcher that opens no console window (Windows' gui-script), for login.
    """
    if is_frozen():
        exe = Path(sys.executable).resolve()
        # The Windows bundle ships a console and a windowed program side by side: login must
        # start the windowed one, or a console window opens at every login.
        gui = exe.with_name(f"{APP_NAME}-gui.exe")
        if windowed and sys.platform == "win32" and gui.is_file():
            return [str(gui)]
        return [str(exe)]
    name = f"{APP_NAME}-gui" if windowed and sys.platform == "win32" else APP_NAME
    # The script installed beside this interpreter (a venv or pipx), then anything on PATH.
    scripts = Path(sys.executable).parent
    for candidate in (scripts / name, scripts / f"{name}.exe"):
        if candidate.is_file():
            return [str(candidate.absolute())]
    found = shutil.which(name)
    if found:
        return [str(Path(found).absolute())]
    interpreter = Path(sys.executable).absolute()
    if windowed and sys.platform == "win32":
        pythonw = interpreter.with_name("pythonw.exe")
        if pythonw.is_file():
            interpreter = pythonw
    return [str(interpreter), "-m", "claude_usage_gauge"]

"""The app's own icon (a gauge at a typical reading, drawn by the tray's renderer) and where a
desktop finds it by name.

scripts/make_icons.py draws the packaged icons from the same view, so an icon written here at
run time is the same picture as the one a native package installs into the icon theme.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import render
from claude_usage_gauge.core.gauge_view import GaugeView

# A typical reading: the icon should look like the app at work, not empty or alarming.
APP_ICON_VIEW = GaugeView(DisplayState.FRESH, session_percent=42.0, week_percent=18.0)
# One file, large enough for any launcher or settings panel to scale down from.
APP_ICON_SIZE = 256
# The extensions an icon theme lookup accepts (Icon Theme Specification).
_THEME_EXTENSIONS = (".png", ".svg", ".xpm")


def app_icon_png(size: int = APP_ICON_SIZE) -> bytes:
    """The icon as PNG bytes; no optional chunks, so the same input gives the same bytes."""
    out = io.BytesIO()
    render(APP_ICON_VIEW, size).save(out, format="PNG", optimize=True)
    return out.getvalue()


def icon_search_dirs(home: Path, environ: Mapping[str, str]) -> list[Path]:
    """Where a desktop looks up an icon by name, in order (Icon Theme Specification):
    ~/.icons, $XDG_DATA_HOME/icons, each $XDG_DATA_DIRS/icons, then /usr/share/pixmaps."""
    data_home = _absolute(environ.get("XDG_DATA_HOME", "")) or home / ".local" / "share"
    data_dirs = [
        path
        for item in (environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(
            os.pathsep
        )
        if (path := _absolute(item)) is not None
    ]
    return [
        home / ".icons",
        data_home / "icons",
        *(folder / "icons" for folder in data_dirs),
        Path("/usr/share/pixmaps"),
    ]


def named_icon_installed(search_dirs: list[Path], name: str = APP_NAME) -> bool:
    """Whether `Icon=name` finds a picture: in the hicolor theme every desktop falls back to
    (where a native package installs it) or loose in a pixmaps folder."""
    for folder in search_dirs:
        try:
            if any((folder / f"{name}{ext}").is_file() for ext in _THEME_EXTENSIONS):
                return True
            if any((folder / "hicolor").glob(f"*/apps/{name}.*")):
                return True
        except OSError:
            continue
    return False


def _absolute(value: str) -> Path | None:
    # The XDG base directory spec: relative paths are invalid and ignored.
    path = Path(value) if value else None
    return path if path is not None and path.is_absolute() else None

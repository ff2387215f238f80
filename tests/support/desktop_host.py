"""The Xvfb desktop the e2e tests run the real tray in, and where they leave their pictures."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.testing.desktop import (
    Desktop,
    Geometry,
    Host,
    missing_tools,
    running_desktop,
)
from claude_usage_gauge.testing.session_bus import wait_until

# Screenshots and measurements the e2e tests leave for people to look at.
ARTIFACTS = Path(os.environ.get("CLAUDE_USAGE_GAUGE_ARTIFACTS", "artifacts")) / "e2e"


@contextlib.contextmanager
def e2e_desktop(workdir: Path, host: Host = "trayer") -> Iterator[Desktop]:
    """A running desktop with `host` as its tray. Without its tools the test fails in CI
    (scripts/test installs them; a run without them must not pass silently) and is skipped
    elsewhere."""
    missing = missing_tools(host)
    if missing:
        message = f"tray host tools missing: {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with running_desktop(workdir, host=host) as running:
        yield running


def docked_icon(desktop: Desktop, timeout: float = 20) -> Geometry:
    """Where the tray's icon is docked in trayer, once it is (the test fails if it never is)."""
    found: list[Geometry] = []

    def docked() -> bool:
        geometry = desktop.docked_icon(APP_NAME)
        if geometry is not None:
            found.append(geometry)
        return geometry is not None

    assert wait_until(docked, timeout), f"icon never docked; windows: {desktop.window_names()}"
    return found[-1]


def crop_icon(desktop: Desktop, geometry: Geometry, name: str) -> Image.Image:
    """The icon's pixels on screen now; the screen and the icon (4x, for people) are kept in
    ARTIFACTS as `<name>-screen.png` and `<name>-icon.png`."""
    shot = desktop.screenshot(ARTIFACTS / f"{name}-screen.png")
    icon = shot.crop(
        (geometry.x, geometry.y, geometry.x + geometry.width, geometry.y + geometry.height)
    )
    icon.resize((icon.width * 4, icon.height * 4), Image.Resampling.NEAREST).save(
        ARTIFACTS / f"{name}-icon.png"
    )
    return icon


def differs(a: Image.Image, b: Image.Image) -> bool:
    """Two crops differ in size or in any pixel."""
    return a.size != b.size or ImageChops.difference(a, b).getbbox() is not None

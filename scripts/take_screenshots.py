"""Real screenshots for the README: the tray docked in a real tray under Xvfb.

Run: .venv/bin/python scripts/take_screenshots.py   (needs the packages scripts/test installs)
Writes docs/screenshots/menu.png (the docked icon and its open menu) and gauge-states.png (every
icon state at 16, 22 and 24 px and 22 px zoomed 2x, on light and dark panel strips, drawn by
the tray's renderer). `--gauge-states-only` writes just that one, without a desktop.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge_view import GaugeView
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import running_desktop
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, usage_body
from claude_usage_gauge.testing.session_bus import wait_until
from claude_usage_gauge.testing.tray_home import TrayHome

if TYPE_CHECKING:
    from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "docs" / "screenshots"


# Every state the tray can show, as the tray's own `gauge_view` builds it, with a caption.
def _state_views() -> list[tuple[str, GaugeView]]:
    return [
        ("42 %", GaugeView(DisplayState.FRESH, 42, 18)),
        ("80 % warn", GaugeView(DisplayState.FRESH, 80, 55)),
        ("95 % critical", GaugeView(DisplayState.FRESH, 95, 92)),
        ("stale", GaugeView(DisplayState.STALE, 42, 18)),
        ("rate limited", GaugeView(DisplayState.RATE_LIMITED, 80, 55)),
        ("error", GaugeView(DisplayState.ERROR, 42, 18)),
        ("error, no data", GaugeView(DisplayState.ERROR, None, None)),
        ("signed out", GaugeView(DisplayState.SIGNED_OUT, 42, 18)),
        ("starting", GaugeView(DisplayState.STARTING, None, None)),
    ]


LIGHT_PANEL = (242, 242, 242)
DARK_PANEL = (32, 32, 32)


def gauge_states(out: Path) -> None:
    """Every state at 22 px (and 16 and 24) as a tray shows it, and 22 px at twice the size,
    on a light and a dark panel strip; drawn by the tray's own renderer (`Tray.icon`)."""
    from PIL import Image, ImageDraw, ImageFont

    views = _state_views()
    column, pad, caption = 78, 8, 14
    font = ImageFont.load_default(size=11)
    # One strip per (panel, size, zoom): label, then the icons.
    strips = [
        (panel, size, zoom)
        for panel in (LIGHT_PANEL, DARK_PANEL)
        for size, zoom in ((16, 1), (22, 1), (24, 1), (22, 2))
    ]
    label_w = 78
    heights = [size * zoom + 2 * pad for _, size, zoom in strips]
    sheet = Image.new("RGB", (label_w + len(views) * column, caption + pad + sum(heights)), "white")
    draw = ImageDraw.Draw(sheet)
    for col, (name, _) in enumerate(views):
        x = label_w + col * column + column // 2
        draw.text((x, pad // 2), name, fill=(40, 40, 40), font=font, anchor="mt")
    y = caption + pad
    for (panel, size, zoom), height in zip(strips, heights, strict=True):
        ink = (40, 40, 40) if panel == LIGHT_PANEL else (220, 220, 220)
        draw.rectangle((0, y, sheet.width, y + height - 1), fill=panel)
        zoomed = f" x{zoom}" if zoom > 1 else ""
        draw.text((pad, y + height // 2), f"{size} px{zoomed}", fill=ink, font=font, anchor="lm")
        for col, (_, view) in enumerate(views):
            icon = _tray_icon(view, size)
            if zoom > 1:
                icon = icon.resize((size * zoom, size * zoom), Image.Resampling.NEAREST)
            x = label_w + col * column + (column - icon.width) // 2
            sheet.paste(icon, (x, y + pad), icon)
        y += height
    sheet.save(out, optimize=True)


def _tray_icon(view: GaugeView, size: int) -> Image.Image:
    """The icon exactly as the tray draws it for its panel (the same call the backends make)."""
    from claude_usage_gauge.core.gauge import render

    return render(view, size, monochrome=False)


def seed_history(paths: AppPaths) -> None:
    """Twenty minutes of earlier readings, so the menu can show its pace line."""
    store = Store(paths)
    now = datetime.now(UTC)
    for minutes_ago, session in ((24, 41.0), (16, 47.0), (8, 54.0)):
        at = now - timedelta(minutes=minutes_ago)
        usage = parse_usage(usage_body(session, 17.0, now=at), at)

        def add(state: State, usage: Usage = usage) -> State:
            return state.with_snapshot(usage)

        store.update(add)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    OUT.mkdir(parents=True, exist_ok=True)
    gauge_states(OUT / "gauge-states.png")
    if "--gauge-states-only" in args:  # no desktop needed for this one
        print(f"wrote {OUT / 'gauge-states.png'}")
        return 0
    extra = {
        "is_enabled": True,
        "monthly_limit": 5000,
        "used_credits": 3462,
        "utilization": 69.2,
        "currency": "USD",
    }
    body = usage_body(62.0, 18.0, resets_in_hours=2.2, extra=extra)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_desktop(Path(tmp)) as desktop,
        FakeUsageAPI(default=Reply(200, body)) as api,
    ):
        home = TrayHome(Path(tmp) / "home", api.url, desktop.env)
        seed_history(home.paths)
        proc = home.launch()
        try:
            if not wait_until(lambda: desktop.docked_icon(APP_NAME) is not None, 20):
                print("the icon never docked", file=sys.stderr)
                return 1
            api.wait_for_requests(1, 20)
            time.sleep(2.0)
            icon = desktop.docked_icon(APP_NAME)
            assert icon is not None
            desktop.click(*icon.centre, button=3)
            if not wait_until(lambda: bool(desktop.menus()), 5):
                print("the menu did not open", file=sys.stderr)
                return 1
            time.sleep(1.0)
            menu = desktop.menus()[0]
            shot = desktop.screenshot(OUT / "full.png")
            # The menu and the panel corner with the icon above it, with a small margin.
            left = max(0, min(menu.x, icon.x) - 16)
            bottom = min(shot.height, menu.y + menu.height + 16)
            shot.crop((left, 0, shot.width, bottom)).save(OUT / "menu.png")
            os.unlink(OUT / "full.png")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"wrote {OUT / 'menu.png'} and {OUT / 'gauge-states.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real screenshots for the README: the tray docked in a real tray under Xvfb.

Run: .venv/bin/python scripts/take_screenshots.py   (needs the packages scripts/test installs)
Writes docs/screenshots/menu.png (the docked icon and its open menu) and gauge-states.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.usage_parser import parse_usage
from claude_usage_gauge.paths import AppPaths
from claude_usage_gauge.store import Store
from claude_usage_gauge.testing.desktop import running_desktop
from claude_usage_gauge.testing.fake_api import FakeUsageAPI, Reply, usage_body
from claude_usage_gauge.testing.session_bus import wait_until
from claude_usage_gauge.testing.tray_home import TrayHome

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "docs" / "screenshots"


def gauge_states() -> None:
    """The icon's states and levels at 64 px, on a light and a dark panel."""
    from PIL import Image

    from claude_usage_gauge.core.display_state import DisplayState
    from claude_usage_gauge.core.gauge import GaugeView, render

    views = [
        GaugeView(DisplayState.FRESH, 42, 18),
        GaugeView(DisplayState.FRESH, 80, 55),
        GaugeView(DisplayState.FRESH, 95, 92),
        GaugeView(DisplayState.STALE, 42, 18),
        GaugeView(DisplayState.RATE_LIMITED, 80, 55),
        GaugeView(DisplayState.ERROR, None, None),
        GaugeView(DisplayState.SIGNED_OUT, 42, 18),
        GaugeView(DisplayState.STARTING, None, None),
    ]
    size, pad = 64, 12
    sheet = Image.new("RGB", (len(views) * (size + pad) + pad, 2 * (size + pad) + pad))
    for row, panel in enumerate(((242, 242, 242), (32, 32, 32))):
        sheet.paste(panel, (0, row * (size + pad), sheet.width, (row + 1) * (size + pad) + pad))
        for col, view in enumerate(views):
            icon = render(view, size)
            sheet.paste(icon, (pad + col * (size + pad), pad + row * (size + pad)), icon)
    sheet.save(OUT / "gauge-states.png")


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


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    gauge_states()
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
            time.sleep(1.0)
            shot = desktop.screenshot(OUT / "full.png")
            shot.crop((shot.width - 470, 0, shot.width, 372)).save(OUT / "menu.png")
            os.unlink(OUT / "full.png")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"wrote {OUT / 'menu.png'} and {OUT / 'gauge-states.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

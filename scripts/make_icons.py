"""Write the app icons in assets/ from the tray's own gauge renderer, so they never drift apart.

    .venv/bin/python scripts/make_icons.py [--out assets]

Every size is rendered at that size (not scaled down from a big one), so 16 px is as crisp as the
tray icon. Output is deterministic: running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

from claude_usage_gauge.core.gauge import render
from claude_usage_gauge.desktop.app_icon import APP_ICON_VIEW

APP_ID = "claude-usage-gauge"
# The picture an autostart entry from a clone shows too (desktop/app_icon.py).
VIEW = APP_ICON_VIEW
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# Windows' taskbar sizes (100 % to 300 % scaling), then Explorer's; 256 is an .ico's largest.
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)  # the sizes the .icns writer stores
# Menu-bar templates: 16 and 18 pt, at 1x and 2x.
TEMPLATE_SIZES = (16, 18, 32, 36)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets"


def _save_png(image: Image.Image, path: Path) -> None:
    # No optional chunks (time, text): identical input gives identical bytes.
    image.save(path, format="PNG", optimize=True)


def make_icons(out: Path) -> list[Path]:
    """Render every asset into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    rendered = {size: render(VIEW, size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    written: list[Path] = []

    for size in PNG_SIZES:
        path = out / f"icon-{size}.png"
        _save_png(rendered[size], path)
        written.append(path)

    ico = out / f"{APP_ID}.ico"
    largest = max(ICO_SIZES)
    rendered[largest].save(
        ico,
        format="ICO",
        sizes=[(size, size) for size in ICO_SIZES],
        append_images=[rendered[size] for size in ICO_SIZES if size != largest],
    )
    written.append(ico)

    icns = out / f"{APP_ID}.icns"
    biggest = max(ICNS_SIZES)
    rendered[biggest].save(
        icns,
        format="ICNS",
        append_images=[rendered[size] for size in ICNS_SIZES if size != biggest],
    )
    written.append(icns)

    for size in TEMPLATE_SIZES:
        path = out / f"template-{size}.png"
        _save_png(render(VIEW, size, monochrome=True), path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the app icons from the gauge renderer.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    for path in make_icons(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

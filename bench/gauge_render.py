"""How long the tray gauge takes to draw, per icon size; optionally a contact sheet to look at.

    .venv/bin/python bench/gauge_render.py [--runs 200] [--sheet /work/notes/gauge-sheet.png]

Prints figures and asserts nothing. The target is a median of at most 2 ms at 64 px.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import render
from claude_usage_gauge.core.gauge_view import GaugeView

SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
TARGET_SIZE = 64
TARGET_MS = 2.0


def _time_ms(view: GaugeView, size: int, runs: int, monochrome: bool) -> tuple[float, float]:
    render(view, size, monochrome=monochrome)  # warm the font cache
    samples: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        render(view, size, monochrome=monochrome)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def bench(runs: int) -> None:
    view = GaugeView(DisplayState.FRESH, 42.0, 18.0)
    print(f"gauge render, {runs} runs per cell (ms)")
    print(f"{'size':>5} | {'colour median':>13} {'p95':>7} | {'mono median':>11} {'p95':>7}")
    print("-" * 54)
    target_median = 0.0
    for size in SIZES:
        med, p95 = _time_ms(view, size, runs, monochrome=False)
        mmed, mp95 = _time_ms(view, size, runs, monochrome=True)
        if size == TARGET_SIZE:
            target_median = max(med, mmed)
        print(f"{size:>5} | {med:>13.3f} {p95:>7.3f} | {mmed:>11.3f} {mp95:>7.3f}")
    verdict = "met" if target_median <= TARGET_MS else "NOT met"
    print(
        f"target: median <= {TARGET_MS} ms at {TARGET_SIZE} px: {verdict} "
        f"(worst median {target_median:.3f} ms)"
    )


# -- contact sheet ----------------------------------------------------------------------------

_LIGHT = (240, 240, 240, 255)
_DARK = (32, 32, 32, 255)
_ROWS: tuple[tuple[str, GaugeView], ...] = (
    ("fresh ok 42/18", GaugeView(DisplayState.FRESH, 42.0, 18.0)),
    ("fresh warn 80/55", GaugeView(DisplayState.FRESH, 80.0, 55.0)),
    ("fresh crit 95/92", GaugeView(DisplayState.FRESH, 95.0, 92.0)),
    ("fresh 100/100", GaugeView(DisplayState.FRESH, 100.0, 100.0)),
    ("stale ok 42/18", GaugeView(DisplayState.STALE, 42.0, 18.0)),
    ("stale crit 95", GaugeView(DisplayState.STALE, 95.0, 60.0)),
    ("rate-lim warn 80", GaugeView(DisplayState.RATE_LIMITED, 80.0, 55.0)),
    ("error ok 42", GaugeView(DisplayState.ERROR, 42.0, 18.0)),
    ("error no data", GaugeView(DisplayState.ERROR, None, None)),
    ("signed out", GaugeView(DisplayState.SIGNED_OUT, None, None)),
    ("starting", GaugeView(DisplayState.STARTING, None, None)),
)


def _tile(icon: Image.Image, background: tuple[int, int, int, int], box: int) -> Image.Image:
    tile = Image.new("RGBA", (box, box), background)
    offset = (box - icon.width) // 2
    tile.alpha_composite(icon, (offset, offset))
    return tile


def _mono_on_dark(icon: Image.Image) -> Image.Image:
    # What a menu bar does with a template image on a dark bar: the same alpha, white ink.
    white = Image.new("RGBA", icon.size, (255, 255, 255, 255))
    white.putalpha(icon.getchannel("A"))
    return white


def sheet(path: Path) -> None:
    """Every view as a row at tray sizes (1:1 and magnified) on a light and a dark panel, the
    monochrome template beside them, then every view at 256 px."""
    font = ImageFont.load_default(size=13)
    label_w, cell, gap = 130, 66, 4
    columns: list[tuple[int, int, bool]] = [  # size, zoom, monochrome
        (16, 1, False),
        (16, 4, False),
        (22, 1, False),
        (24, 1, False),
        (32, 1, False),
        (32, 2, False),
        (64, 1, False),
        (16, 4, True),
        (32, 2, True),
    ]
    big, per_row = 256, 6
    big_rows = -(-len(_ROWS) // per_row)
    small_w = label_w + len(columns) * 2 * (cell + gap)
    width = max(small_w, per_row * (big + gap))
    header = 24
    small_h = header + len(_ROWS) * (cell + gap)
    height = small_h + header + 2 * big_rows * (big + gap)
    out = Image.new("RGBA", (width, height), (128, 128, 128, 255))
    draw = ImageDraw.Draw(out)
    title = (
        "each pair light|dark: 16  16x4  22  24  32  32x2  64  "
        "mono16x4  mono32x2 (dark = as a menu bar tints it)"
    )
    draw.text((6, 5), title, font=font, fill=(0, 0, 0, 255))
    for row, (label, view) in enumerate(_ROWS):
        top = header + row * (cell + gap)
        draw.text((6, top + 24), label, font=font, fill=(0, 0, 0, 255))
        x = label_w
        for size, zoom, mono in columns:
            icon = render(view, size, monochrome=mono)
            for dark in (False, True):
                shown = _mono_on_dark(icon) if mono and dark else icon
                if zoom > 1:
                    shown = shown.resize((size * zoom, size * zoom), Image.Resampling.NEAREST)
                out.alpha_composite(_tile(shown, _DARK if dark else _LIGHT, cell), (x, top))
                x += cell + gap
    draw.text((6, small_h + 5), "256 px, light then dark", font=font, fill=(0, 0, 0, 255))
    for dark in (False, True):
        for index, (_, view) in enumerate(_ROWS):
            line = index // per_row + (big_rows if dark else 0)
            x = (index % per_row) * (big + gap)
            top = small_h + header + line * (big + gap)
            out.alpha_composite(_tile(render(view, big), _DARK if dark else _LIGHT, big), (x, top))
    path.parent.mkdir(parents=True, exist_ok=True)
    out.convert("RGB").save(path)
    print(f"contact sheet written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet PNG here")
    parser.add_argument("--no-bench", action="store_true", help="only write the sheet")
    args = parser.parse_args(argv)
    if not args.no_bench:
        bench(max(1, args.runs))
    if args.sheet is not None:
        sheet(args.sheet)
    return 0


if __name__ == "__main__":
    sys.exit(main())

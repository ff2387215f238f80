"""Where the parts of the tray icon go at a given size, in whole output pixels: the ring's
width, the number's box and its digit grid, the week bar, the corner badge. Pure arithmetic, so
tests and screenshots can measure what `gauge.render` draws.

The number is set in a blocky 3 x 5 digit font whose strokes land on whole pixels at every
size: at 16-24 px a scaled-down typeface is a grey smudge, these digits stay sharp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge_view import GaugeView

Box = tuple[float, float, float, float]  # left, top, right, bottom in output pixels

_SHARP_BADGE_BELOW = 32  # px: in smaller icons the badge is centred on a pixel's centre
BADGED = (DisplayState.RATE_LIMITED, DisplayState.ERROR)

# Digits on a 3 x 5 grid. The outer columns and rows are the strokes; the middle column and the
# two in-between rows stretch, so one pattern serves every size. "1" is a single stroke.
DIGITS: dict[str, tuple[str, ...]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("1", "1", "1", "1", "1"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}


def reading(value: float | None) -> float | None:
    """A percent fit to draw: None/NaN is no reading, the rest is clamped to 0..100 for the arc."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), 100.0)


def _number_text(value: float) -> str:
    # Above 100 the real figure is shown (extra usage can exceed the plan); capped to 3 digits.
    shown = 0 if value < 0 else min(round(value), 999) if math.isfinite(value) else 999
    return str(shown)


@dataclass(frozen=True, slots=True)
class _Font:
    """Stroke widths and stretched cell sizes of the digit grid, in output pixels."""

    stroke_x: int  # width of the outer columns
    middle_x: int  # width of the middle column
    stroke_y: int  # height of the three stroke rows
    middle_y: int  # height of the two rows between them
    gap: int  # between digits

    def columns(self) -> tuple[int, int, int]:
        return (self.stroke_x, self.middle_x, self.stroke_x)

    def rows(self) -> tuple[int, int, int, int, int]:
        s, m = self.stroke_y, self.middle_y
        return (s, m, s, m, s)

    def columns_of(self, char: str) -> tuple[int, ...]:
        # "1" is one stroke wide (proportional), so "100" fits where three full digits do not.
        return (self.stroke_x,) if char == "1" else self.columns()

    def text_width(self, text: str) -> int:
        return sum(sum(self.columns_of(ch)) for ch in text) + (len(text) - 1) * self.gap

    def height(self) -> int:
        return 3 * self.stroke_y + 2 * self.middle_y


@dataclass(frozen=True, slots=True)
class IconLayout:
    """Where the parts of one icon go, in output pixels: what tests and screenshots measure."""

    size: int
    ring_width: float
    number: Box | None  # the digits' bounding box
    week: Box | None  # the week bar's track
    badge: tuple[float, float, float, float] | None  # centre x, centre y, radius, clear gap
    font: _Font | None
    text: str


def _font_for(size: int, text: str, inner: float, room: float) -> _Font:
    """The biggest digit grid whose box fits inside the face's free disc of radius `inner`.

    `room` is the extra height kept below the digits for the week bar; digits and bar are
    centred together, as `layout` places them. A box fits when its corner pixels' centres lie
    inside the disc.
    """
    c = size / 2
    stroke = max(1, round(size / 14))
    font = _Font(
        stroke_x=stroke,
        middle_x=max(1, round(0.27 * size - 2 * stroke)),
        stroke_y=stroke,
        middle_y=max(1, round((0.44 * size - 3 * stroke) / 2)),
        gap=max(1, round(size / 22)),
    )
    while True:
        left, top = _place(size, font.text_width(text), font.height() + room)
        xs = (left + 0.5 - c, left + font.text_width(text) - 0.5 - c)
        ys = (top + 0.5 - c, top + font.height() - 0.5 - c)
        if all(x**2 + y**2 <= inner**2 for x in xs for y in ys):
            return font
        # Shrink what is out of proportion first (digits about 1.75 times as tall as wide),
        # then the strokes; the smallest font is returned even if it does not fit.
        digit_w = 2 * font.stroke_x + font.middle_x
        if font.middle_y > 1 and font.height() > 1.75 * digit_w:
            font = replace(font, middle_y=font.middle_y - 1)
        elif font.middle_x > 1:
            font = replace(font, middle_x=font.middle_x - 1)
        elif font.middle_y > 1:
            font = replace(font, middle_y=font.middle_y - 1)
        elif font.stroke_x > 1 or font.stroke_y > 1:
            font = replace(
                font,
                stroke_x=max(1, font.stroke_x - 1),
                stroke_y=max(1, font.stroke_y - 1),
                middle_x=font.middle_x + 1,
                middle_y=font.middle_y + 1,
            )
        else:
            return font


def _place(size: int, width: float, height: float) -> tuple[float, float]:
    """The top-left corner, on whole pixels, of a `width` x `height` block centred in the icon."""
    return float(round(size / 2 - width / 2)), float(round(size / 2 - height / 2))


def _badge_place(size: int, number: Box) -> tuple[float, float, float, float]:
    """The bottom-right badge: as big as it can be (up to a third of the icon) while its disc
    and clear gap stay off the number's box. Below 32 px its centre sits on a pixel's centre,
    so the symbol's one-pixel strokes land on whole pixels."""
    n = float(size)
    gap = max(1.0, 0.045 * n)
    radius = max(1.5, 0.16 * n)
    x1, y1 = number[2], number[3]

    def centre_for(radius: float) -> float:
        centre = n - radius - 0.02 * n
        return math.floor(centre) + 0.5 if size < _SHARP_BADGE_BELOW else centre

    def clear_of_number(centre: float, radius: float) -> bool:
        nearest = (min(centre, x1), min(centre, y1))
        return math.dist(nearest, (centre, centre)) >= radius + gap

    while radius > 1.5:
        centre = centre_for(radius)
        if clear_of_number(centre, radius):
            return (centre, centre, radius, gap)
        # A pixel further into the corner, if the disc loses at most a pixel to the edge.
        if centre + 1 + radius <= n + 1 and clear_of_number(centre + 1, radius):
            return (centre + 1, centre + 1, radius, gap)
        radius -= 0.125
    centre = centre_for(radius)
    return (centre, centre, radius, gap)


def layout(view: GaugeView, size: int) -> IconLayout:
    """The icon's parts for `view` at `size` px: the ring, the number, the week bar, the badge."""
    if size < 1:
        raise ValueError(f"icon size must be positive, got {size}")
    n = float(size)
    c = n / 2
    ring = max(1.0, min(float(max(2, round(0.09 * n))), n / 6))
    inner = c - ring  # radius of the face inside the ring

    session = reading(view.session_percent)
    no_reading = (DisplayState.SIGNED_OUT, DisplayState.STARTING)
    has_number = view.state not in no_reading and session is not None
    if not has_number or view.session_percent is None:
        return IconLayout(size, ring, None, None, None, None, "")

    text = _number_text(view.session_percent)
    bar_h = max(1, round(n / 11))
    bar_gap = max(1, round(n / 22))
    # The number and the bar below it form one block centred in the face; the block's height
    # decides how far down the bar's corners reach, so fit the digits with that room reserved.
    # The arc is drawn a quarter pixel inside the edge: the free disc is that much smaller.
    font = _font_for(size, text, inner - 0.25, bar_h + bar_gap)
    w, h = font.text_width(text), font.height()
    left, top = _place(size, w, h + bar_gap + bar_h)
    number = (left, top, left + w, top + h)
    bar_top = top + h + bar_gap
    bar_bottom = bar_top + bar_h
    # The bar spans the face's chord at its lower edge, less a pixel either side.
    dy = max(abs(bar_bottom - c), abs(bar_top - c))
    half = math.sqrt(max(0.0, inner**2 - dy**2)) - max(1.0, 0.04 * n)
    bar_left, bar_right = float(math.ceil(c - half)), float(math.floor(c + half))
    badge = _badge_place(size, number) if view.state in BADGED else None
    if badge is not None:
        bx, by, radius, gap = badge
        # Stop the bar short of the badge's circle where the two share rows.
        reach = math.sqrt(max(0.0, (radius + gap) ** 2 - max(0.0, by - bar_bottom) ** 2))
        bar_right = min(bar_right, float(math.floor(bx - reach)))
    week = (bar_left, bar_top, max(bar_left + 1, bar_right), bar_bottom)
    return IconLayout(size, ring, number, week, badge, font, text)

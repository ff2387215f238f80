"""The tray icon: a pure function from a `GaugeView` to a square RGBA image.

Layout (every size, from one set of proportions snapped to whole pixels): a dark round face; at
its edge a ring for the 5-hour session (clockwise from 12 o'clock, length = percent) over a grey
track; in the middle the session number in white; under the number a bar for the week. The
number is drawn from a blocky digit font on the pixel grid, so it stays sharp and readable at
16-24 px, where a scaled-down typeface is a grey smudge. The dark face is what the number is
read against, so the panel's colour (light or dark) never touches the digits.

Colour is never the only signal: the number tells the level, and CRITICAL also fills the face
behind the number with the level colour (in a one-ink template: the whole ring in solid ink).
Numbers that are not current keep their full contrast; their ring turns dashed ("old"), and a
corner badge says why (a pause for rate limited, a "!" for an error), placed in the bottom-right
corner clear of the number. With no number to show, the badge's symbol is drawn large in the
middle instead; signed out is a slash across an empty face.

Where each part goes is `gauge_layout`'s arithmetic; what to show is a `gauge_view.GaugeView`;
this module only draws. Drawn supersampled and reduced with LANCZOS, because ImageDraw arcs are
not anti-aliased. PIL is imported at top level on purpose: only the tray imports this module.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge_layout import BADGED, DIGITS, Box, IconLayout, layout, reading
from claude_usage_gauge.core.gauge_view import GaugeView, Level, level_for

RGBA = tuple[int, int, int, int]

# Luminances of the three level colours lie between 0.14 and 0.30, the band where the WCAG
# contrast ratio is at least 3 against both white and a #202020 panel.
LEVEL_COLOURS: dict[Level, RGBA] = {
    Level.OK: (46, 160, 67, 255),
    Level.WARN: (201, 130, 0, 255),
    Level.CRITICAL: (229, 72, 77, 255),
}
# The canvas is premultiplied ("RGBa", see `render`), so a translucent colour would have to be
# given premultiplied; every translucent colour here is black, where both forms agree.
_FACE: RGBA = (24, 24, 24, 255)
_TRACK: RGBA = (84, 84, 84, 255)
_WEEK_TRACK: RGBA = (78, 78, 78, 255)
_NEUTRAL: RGBA = (150, 150, 150, 255)
_INK: RGBA = (250, 250, 250, 255)  # the number and badge symbols
_RIM: RGBA = (16, 16, 16, 255)  # the dark edge round the slash
_CLEAR: RGBA = (0, 0, 0, 0)
_BADGE_ERROR: RGBA = (229, 72, 77, 255)
_BADGE_RATE: RGBA = (62, 123, 250, 255)
_SLASH: RGBA = (210, 210, 210, 255)

# Monochrome (menu-bar template): black only, the shape carried by alpha.
_M_SOLID: RGBA = (0, 0, 0, 255)
_M_TRACK: RGBA = (0, 0, 0, 80)

_MAX_CANVAS = 1024
_SHARP_SYMBOL_BELOW = 4.0  # px of badge radius: below it the symbol is drawn on whole pixels
_NOT_CURRENT = (DisplayState.STALE, DisplayState.RATE_LIMITED, DisplayState.ERROR)


# -- drawing, on a canvas `scale` times the output size ------------------------------------------


def _circle(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: RGBA) -> None:
    if r > 0:  # tiny icons can shrink a detail to nothing
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def _rect(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], fill: RGBA, radius: float = 0
) -> None:
    x0, y0, x1, y1 = box
    if x1 > x0 and y1 > y0:
        draw.rounded_rectangle(box, radius=radius, fill=fill)


def _px(box: Box, scale: int) -> Box:
    """An output-pixel box on the canvas, its edges on output pixel edges so it stays sharp."""
    x0, y0, x1, y1 = box
    return (x0 * scale, y0 * scale, x1 * scale - 1, y1 * scale - 1)


def _ring_arc(
    draw: ImageDraw.ImageDraw,
    centre: float,
    outer: float,
    width: float,
    *,
    sweep: float,
    fill: RGBA,
    caps: bool,
) -> None:
    """An arc from 12 o'clock clockwise over `sweep` degrees, `width` thick inside `outer`."""
    c = centre
    box = (c - outer, c - outer, c + outer, c + outer)
    w = max(1, round(width))
    if sweep >= 360:
        draw.ellipse(box, outline=fill, width=w)
        return
    if sweep <= 0:
        return
    start = -90.0
    draw.arc(box, start, start + sweep, fill=fill, width=w)
    if caps:
        mid = outer - width / 2
        for angle in (start, start + sweep):
            t = math.radians(angle)
            _circle(draw, c + mid * math.cos(t), c + mid * math.sin(t), width / 2, fill)


def _cut_dashes(
    draw: ImageDraw.ImageDraw, centre: float, outer: float, width: float, *, fill: RGBA, gaps: int
) -> None:
    """Breaks the ring into `gaps` dashes by painting short gaps across it in `fill`."""
    gap_px = max(1.0, width * 0.6)  # canvas pixels of arc length per gap
    mid = outer - width / 2
    step = 360.0 / gaps
    half_angle = math.degrees(gap_px / 2 / mid)
    for i in range(gaps):
        angle = -90.0 + step / 2 + i * step
        t0, t1 = math.radians(angle - half_angle), math.radians(angle + half_angle)
        r0, r1 = outer + 1, outer - width - 1
        points = [
            (centre + r0 * math.cos(t0), centre + r0 * math.sin(t0)),
            (centre + r0 * math.cos(t1), centre + r0 * math.sin(t1)),
            (centre + r1 * math.cos(t1), centre + r1 * math.sin(t1)),
            (centre + r1 * math.cos(t0), centre + r1 * math.sin(t0)),
        ]
        draw.polygon(points, fill=fill)


def _digits(draw: ImageDraw.ImageDraw, parts: IconLayout, fill: RGBA, scale: int) -> None:
    assert parts.number is not None
    assert parts.font is not None
    font = parts.font
    x, top = parts.number[0], parts.number[1]
    for char in parts.text:
        pattern = DIGITS[char]
        y = top
        for row, height in zip(pattern, font.rows(), strict=True):
            cx = x
            for cell, width in zip(row, font.columns_of(char), strict=True):
                if cell == "1":
                    _rect(draw, _px((cx, y, cx + width, y + height), scale), fill)
                cx += width
            y += height
        x += sum(font.columns_of(char)) + font.gap


def _week_bar(
    draw: ImageDraw.ImageDraw,
    parts: IconLayout,
    week: float | None,
    *,
    fill: RGBA,
    track: RGBA,
    scale: int,
) -> None:
    assert parts.week is not None
    x0, y0, x1, y1 = parts.week
    _rect(draw, _px(parts.week, scale), track)
    if week is not None and week > 0:
        # At least one pixel for any use at all, so 1 % is not drawn as none.
        right = x0 + max(1.0, round((x1 - x0) * week / 100))
        _rect(draw, _px((x0, y0, min(x1, right), y1), scale), fill)


def _symbol(
    draw: ImageDraw.ImageDraw,
    state: DisplayState,
    centre: tuple[float, float],
    r: float,
    ink: RGBA,
) -> None:
    """The badge's symbol inside a disc of radius `r`: "!" for an error, a pause otherwise."""
    cx, cy = centre
    if state is DisplayState.ERROR:
        w = max(1.0, r * 0.36)
        _rect(draw, (cx - w / 2, cy - r * 0.72, cx + w / 2, cy + r * 0.18), ink)
        _rect(draw, (cx - w / 2, cy + r * 0.36, cx + w / 2, cy + r * 0.72), ink)
    else:  # RATE_LIMITED: pause
        w, h, gap = max(1.0, r * 0.3), r * 0.62, max(1.0, r * 0.17)
        for x0 in (cx - gap - w, cx + gap):
            _rect(draw, (x0, cy - h, x0 + w, cy + h), ink)


def _badge(
    draw: ImageDraw.ImageDraw,
    badge: tuple[float, float, float, float],
    state: DisplayState,
    monochrome: bool,
    scale: int,
) -> None:
    """A corner badge, cut out of the ring by a transparent gap so it reads as separate."""
    bx, by, r, gap = (v * scale for v in badge)
    _circle(draw, bx, by, r + gap, _CLEAR)
    disc = _M_SOLID if monochrome else _BADGE_ERROR if state is DisplayState.ERROR else _BADGE_RATE
    ink = _CLEAR if monochrome else _INK
    _circle(draw, bx, by, r, disc)
    if badge[2] >= _SHARP_SYMBOL_BELOW:
        _symbol(draw, state, (bx, by), r, ink)
        return
    # A small badge: one-pixel strokes, three pixels tall, on whole pixels round its centre
    # pixel. A blurred pause two pixels wide is a smudge; a sharp one is a pause.
    x, y = badge[0] - 0.5, badge[1] - 0.5  # the centre pixel's top-left corner
    if state is DisplayState.ERROR:
        strokes = [(x, y - 2, x + 1, y + 1), (x, y + 2, x + 1, y + 3)]
    else:
        strokes = [(x - 1, y - 1, x, y + 2), (x + 1, y - 1, x + 2, y + 2)]
    for stroke in strokes:
        _rect(draw, _px(stroke, scale), ink)


def _slash(
    draw: ImageDraw.ImageDraw, centre: float, reach: float, width: float, *, mono: bool
) -> None:
    """The signed-out slash, top-left to bottom-right, with a dark (or cut-out) edge."""
    c = centre
    ends = [(c - reach, c - reach), (c + reach, c + reach)]
    edge = max(1.0, width * 0.3)
    layers = (_CLEAR, _M_SOLID) if mono else (_RIM, _SLASH)
    for colour, thickness in zip(layers, (width + 2 * edge, width), strict=True):
        draw.line(ends, fill=colour, width=round(thickness))
        for x, y in ends:  # round ends
            _circle(draw, x, y, thickness / 2, colour)


def _dash_count(size: int) -> int:
    return 12 if size >= 20 else 8


def _scale_for(size: int) -> int:
    return max(2, min(4, _MAX_CANVAS // size))


def render(view: GaugeView, size: int, *, monochrome: bool = False) -> Image.Image:
    """The gauge for `view` as a `size` x `size` RGBA image.

    With `monochrome`, a menu-bar template: black on transparent, alpha carrying the shape.
    """
    parts = layout(view, size)
    scale = _scale_for(size)
    n = size * scale
    c = n / 2
    ring_outer = c - 0.25 * scale
    ring_width = parts.ring_width * scale
    inner = c - ring_width
    # Premultiplied canvas: resizing it needs no conversion to and from premultiplied alpha (a
    # third of the time at 64 px), and text edges blend correctly over translucent pixels.
    canvas = Image.new("RGBa", (n, n), _CLEAR)
    draw = ImageDraw.Draw(canvas)
    state = view.state
    ground = _CLEAR if monochrome else _FACE
    if not monochrome:
        _circle(draw, c, c, c - 0.25 * scale, _FACE)

    track = _M_TRACK if monochrome else _TRACK
    if state is DisplayState.STARTING:
        neutral = _M_SOLID if monochrome else _NEUTRAL
        _ring_arc(draw, c, ring_outer, ring_width, sweep=360, fill=neutral, caps=False)
        _cut_dashes(draw, c, ring_outer, ring_width, fill=ground, gaps=12)
        return _reduce(canvas, size)

    signed_out = state is DisplayState.SIGNED_OUT
    session = None if signed_out else reading(view.session_percent)
    week = None if signed_out else reading(view.week_percent)
    _ring_arc(draw, c, ring_outer, ring_width, sweep=360, fill=track, caps=False)

    level = Level.OK
    colour = _M_SOLID
    if session is not None and view.session_percent is not None:
        level = level_for(view.session_percent, view.warn_percent, view.critical_percent)
        colour = _M_SOLID if monochrome else LEVEL_COLOURS[level]
        sweep = 360 * session / 100
        _ring_arc(draw, c, ring_outer, ring_width, sweep=sweep, fill=colour, caps=True)
    if state in _NOT_CURRENT:
        # Old numbers: the ring is broken into dashes; the number keeps its full contrast.
        _cut_dashes(draw, c, ring_outer, ring_width, fill=ground, gaps=_dash_count(size))

    if parts.number is not None:
        ink = _M_SOLID if monochrome else _INK
        if level is Level.CRITICAL and monochrome:
            # A template has one ink: digits cut out of a filled face lose their corners to the
            # gap at the ring. Its CRITICAL cue is the whole ring in solid ink instead (the arc
            # is over 90 % of it anyway; the number tells the rest).
            _ring_arc(draw, c, ring_outer, ring_width, sweep=360, fill=_M_SOLID, caps=False)
            if state in _NOT_CURRENT:
                _cut_dashes(draw, c, ring_outer, ring_width, fill=ground, gaps=_dash_count(size))
        elif level is Level.CRITICAL:
            # The shape cue for CRITICAL: the face inside the ring filled with the level colour.
            _circle(draw, c, c, inner - max(scale, 0.03 * n), colour)
        _digits(draw, parts, ink, scale)
        week_level = level
        if week is not None:
            week_level = level_for(week, view.warn_percent, view.critical_percent)
        week_colour = _M_SOLID if monochrome else LEVEL_COLOURS[week_level]
        week_track = _M_TRACK if monochrome else _WEEK_TRACK
        if level is Level.CRITICAL and not monochrome and parts.week is not None:
            # A dark slot under the bar, so a red week bar still shows on the red face.
            x0, y0, x1, y1 = parts.week
            _rect(draw, _px((x0 - 1, y0 - 1, x1 + 1, y1 + 1), scale), ground)
        _week_bar(draw, parts, week, fill=week_colour, track=week_track, scale=scale)
    elif state in BADGED:
        # No number to keep clear: the badge's symbol, large, in the middle.
        r = inner * 0.78
        disc = (
            _M_SOLID
            if monochrome
            else (_BADGE_ERROR if state is DisplayState.ERROR else _BADGE_RATE)
        )
        _circle(draw, c, c, r, disc)
        _symbol(draw, state, (c, c), r, _CLEAR if monochrome else _INK)

    if signed_out:
        _slash(draw, c, c * 0.6, ring_width * 0.9, mono=monochrome)
    elif parts.badge is not None:
        _badge(draw, parts.badge, state, monochrome, scale)
    return _reduce(canvas, size)


def _reduce(canvas: Image.Image, size: int) -> Image.Image:
    # reducing_gap: a cheap box reduction to twice the size first, then LANCZOS; the same look
    # in half the time.
    small = canvas.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return small.convert("RGBA")

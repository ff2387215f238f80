"""The tray icon: a pure function from a `GaugeView` to a square RGBA image.

Layout (every size, scaled): a dark round face; on it a thick outer ring for the 5-hour session
(clockwise from 12 o'clock, length = percent) over a full grey track; a thinner inner ring for the
week; the session number in the centre from 32 px up. The dark face is the halo: it keeps the
coloured rings visible on light panels, and the colours themselves are bright enough for dark ones.

Colour is never the only signal. The level also changes the centre: nothing for OK, a dot (small
sizes) or a ring round the number for WARN, a solid disc for CRITICAL. States add a corner badge or
a change to the track, so every state differs even in a 16 px monochrome template.

Drawn supersampled and reduced with LANCZOS, because ImageDraw arcs are not anti-aliased.
PIL is imported at top level on purpose: only the tray imports this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from claude_usage_gauge.core.display_state import DisplayState

RGBA = tuple[int, int, int, int]


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class GaugeView:
    state: DisplayState
    session_percent: float | None  # the 5-hour window (dominant reading)
    week_percent: float | None  # the 7-day window (secondary reading)
    warn_percent: float = 75.0
    critical_percent: float = 90.0


def level_for(percent: float, warn: float, critical: float) -> Level:
    """OK below `warn`; WARN from `warn` up to and including `critical`; CRITICAL above it.

    So with the defaults 75 and 90: 74.9 is OK, 75 and 90 are WARN, 90.1 is CRITICAL. A NaN
    compares false everywhere and so reads as OK.
    """
    if percent > critical:
        return Level.CRITICAL
    if percent >= warn:
        return Level.WARN
    return Level.OK


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
_WEEK_TRACK: RGBA = (58, 58, 58, 255)
_NEUTRAL: RGBA = (150, 150, 150, 255)
_INK: RGBA = (245, 245, 245, 255)  # numbers and badge symbols
_RIM: RGBA = (16, 16, 16, 255)  # the dark edge round badges and the slash
_CLEAR: RGBA = (0, 0, 0, 0)
_BADGE_ERROR: RGBA = (229, 72, 77, 255)
_BADGE_RATE: RGBA = (62, 123, 250, 255)
_BADGE_STALE: RGBA = (170, 170, 170, 255)
_SLASH: RGBA = (210, 210, 210, 255)

# Monochrome (menu-bar template): black only, the shape carried by alpha.
_M_SOLID: RGBA = (0, 0, 0, 255)
_M_TRACK: RGBA = (0, 0, 0, 80)

_DIM_ALPHA = 0.6  # how much of the reading survives when it is not current
_DIM_GREY = 0.6  # how far its colours move towards grey
_NUMBER_MIN_SIZE = 32
_MAX_CANVAS = 1024


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _reading(value: float | None) -> float | None:
    """A percent fit to draw: None/NaN is no reading, the rest is clamped to 0..100 for the arc."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), 100.0)


def _number_text(value: float) -> str:
    # Above 100 the real figure is shown (extra usage can exceed the plan); capped to 3 digits.
    shown = 0 if value < 0 else min(round(value), 999) if math.isfinite(value) else 999
    return str(shown)


def _dim(colour: RGBA, monochrome: bool) -> RGBA:
    """The colour of a reading that is not current: fainter, and in colour also greyer.

    In colour it sinks into the face rather than turning transparent, because shapes are drawn
    by replacing pixels and a see-through arc would punch a hole in the face.
    """
    r, g, b, a = colour
    if monochrome:
        return (0, 0, 0, round(a * _DIM_ALPHA))
    grey = (r * 299 + g * 587 + b * 114) // 1000
    fr, fg, fb, _ = _FACE
    out = []
    for channel, face in ((r, fr), (g, fg), (b, fb)):
        greyed = channel + (grey - channel) * _DIM_GREY
        out.append(round(greyed + (face - greyed) * (1 - _DIM_ALPHA)))
    return (out[0], out[1], out[2], a)


@dataclass(frozen=True, slots=True)
class _Geometry:
    """Radii and widths in canvas pixels, chosen per size so 16 px stays legible."""

    centre: float
    face: float
    ring_outer: float
    ring_width: float
    week_outer: float
    week_width: float
    hole: float  # radius of the free centre inside the week ring
    badge: float
    badge_gap: float
    numbered: bool


def _geometry(size: int, scale: int) -> _Geometry:
    n = size * scale
    px = float(scale)  # one output pixel
    numbered = size >= _NUMBER_MIN_SIZE
    if numbered:
        ring_outer, ring_width, gap, week_width = 0.465 * n, 0.12 * n, 0.022 * n, 0.055 * n
        badge = 0.21 * n
    else:
        # Small icons: fatter rings and no number, so the reading survives at 16 px.
        ring_outer, ring_width, gap, week_width = 0.44 * n, 0.17 * n, 0.045 * n, 0.075 * n
        badge = 0.25 * n
    week_outer = ring_outer - ring_width - gap
    return _Geometry(
        centre=n / 2,
        face=n / 2 - 0.25 * px,
        ring_outer=ring_outer,
        ring_width=ring_width,
        week_outer=week_outer,
        week_width=week_width,
        hole=week_outer - week_width - gap,
        badge=badge,
        badge_gap=max(px, 0.05 * n),
        numbered=numbered,
    )


def _circle(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: RGBA) -> None:
    if r > 0:  # tiny icons can shrink a detail to nothing
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def _rect(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], fill: RGBA, radius: float = 0
) -> None:
    x0, y0, x1, y1 = box
    if x1 > x0 and y1 > y0:
        draw.rounded_rectangle(box, radius=radius, fill=fill)


def _ring_arc(
    draw: ImageDraw.ImageDraw,
    g: _Geometry,
    outer: float,
    width: float,
    *,
    sweep: float,
    fill: RGBA,
    caps: bool,
) -> None:
    """An arc from 12 o'clock clockwise over `sweep` degrees, `width` thick inside `outer`."""
    c = g.centre
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


def _dashed_ring(draw: ImageDraw.ImageDraw, g: _Geometry, fill: RGBA, segments: int) -> None:
    c, outer = g.centre, g.ring_outer
    box = (c - outer, c - outer, c + outer, c + outer)
    step = 360.0 / segments
    for i in range(segments):
        start = -90.0 + i * step + step * 0.2
        draw.arc(box, start, start + step * 0.6, fill=fill, width=max(1, round(g.ring_width)))


def _number(draw: ImageDraw.ImageDraw, g: _Geometry, text: str, fill: RGBA) -> None:
    # Sized so three digits fit the hole; the stroke in the same ink makes the regular face bold.
    target = 2 * g.hole * (0.92 if len(text) < 3 else 0.82)
    px = max(6, round(g.hole * (1.25 if len(text) < 3 else 1.0)))
    stroke = max(1, round(px / 16))
    font = _font(px)
    left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    if right - left > target:
        px = max(6, int(px * target / (right - left)))
        stroke = max(1, round(px / 16))
        font = _font(px)
        left, top, right, bottom = font.getbbox(text, stroke_width=stroke)
    x = g.centre - (left + right) / 2
    y = g.centre - (top + bottom) / 2
    draw.text((x, y), text, font=font, fill=fill, stroke_width=stroke, stroke_fill=fill)


def _level_cue(
    draw: ImageDraw.ImageDraw, g: _Geometry, level: Level, colour: RGBA, scale: int
) -> None:
    """The shape that tells the level without colour: a dot/ring for WARN, a disc for CRITICAL."""
    c = g.centre
    if level is Level.CRITICAL:
        # Small icons fill the gap to the week ring too, so the disc is clearly bigger than the
        # WARN dot.
        _circle(draw, c, c, g.hole if g.numbered else g.week_outer - g.week_width, colour)
    elif level is Level.WARN:
        if g.numbered:
            draw.ellipse(
                (c - g.hole, c - g.hole, c + g.hole, c + g.hole),
                outline=colour,
                width=max(1, round(max(scale, 0.05 * g.centre))),
            )
        else:
            # Sized for a crisp 2x2 dot at 16 px: the centre lies on a pixel corner.
            _circle(draw, c, c, max(scale * 1.0, g.hole * 0.55), colour)


def _badge(
    draw: ImageDraw.ImageDraw, g: _Geometry, state: DisplayState, monochrome: bool, scale: int
) -> None:
    """A corner badge, cut out of the gauge by a transparent gap so it reads as separate.

    Below 32 px the symbol is snapped to whole output pixels: a blurred "!" two pixels wide
    is a smudge, a sharp one is a "!".
    """
    small = not g.numbered

    def snap(value: float) -> float:
        return round(value / scale) * scale if small else value

    n = 2 * g.centre
    r = g.badge
    bx = by = snap(n - r - 0.01 * n)
    _circle(draw, bx, by, r + g.badge_gap, _CLEAR)
    if monochrome:
        disc, ink = _M_SOLID, _CLEAR
    else:
        disc = {
            DisplayState.ERROR: _BADGE_ERROR,
            DisplayState.RATE_LIMITED: _BADGE_RATE,
        }.get(state, _BADGE_STALE)
        ink = _INK if state is not DisplayState.STALE else _RIM
        _circle(draw, bx, by, r, _RIM)
        r -= max(scale * 0.5, 0.1 * r)
    _circle(draw, bx, by, r, disc)
    if state is DisplayState.ERROR:
        # "!" as geometry, not a glyph: stays crisp and centred at 16 px.
        w = snap(max(scale, r * 0.34))
        top, bottom = snap(by - r * 0.72), snap(by + r * 0.12)
        dot_top, dot_bottom = snap(by + r * 0.3), snap(by + r * 0.72)
        _rect(draw, (bx - w / 2, top, bx + w / 2, bottom), ink, radius=0 if small else w / 2)
        if small:
            _rect(draw, (bx - w / 2, dot_top, bx + w / 2, dot_bottom), ink)
        else:
            _circle(draw, bx, by + r * 0.5, w * 0.6, ink)
    elif state is DisplayState.RATE_LIMITED:
        w, h, gap = snap(max(scale, r * 0.28)), snap(r * 0.6), snap(max(scale / 2, r * 0.16))
        for x0 in (bx - gap - w, bx + gap):
            _rect(draw, (x0, by - h, x0 + w, by + h), ink)
    else:  # STALE: a clock face, hands at twelve and three
        w = snap(max(scale, r * 0.22))
        hx = bx - w if small else bx - w / 2
        _rect(draw, (hx, snap(by - r * 0.7), hx + w, by + (0 if small else w / 2)), ink)
        _rect(draw, (hx, by - (w if small else w / 2), snap(bx + r * 0.6), by), ink)


def _slash(draw: ImageDraw.ImageDraw, g: _Geometry, monochrome: bool, scale: int) -> None:
    """The signed-out slash, top-left to bottom-right, with a dark (or cut-out) edge."""
    c = g.centre
    reach = g.ring_outer * 0.80
    ends = [(c - reach, c - reach), (c + reach, c + reach)]
    width = g.ring_width * 0.75
    edge = max(scale * 0.5, g.ring_width * 0.25)
    layers = (_CLEAR, _M_SOLID) if monochrome else (_RIM, _SLASH)
    for colour, thickness in zip(layers, (width + 2 * edge, width), strict=True):
        draw.line(ends, fill=colour, width=round(thickness))
        for x, y in ends:  # round ends
            _circle(draw, x, y, thickness / 2, colour)


def _scale_for(size: int) -> int:
    return max(2, min(4, _MAX_CANVAS // size))


def render(view: GaugeView, size: int, *, monochrome: bool = False) -> Image.Image:
    """The gauge for `view` as a `size` x `size` RGBA image.

    With `monochrome`, a menu-bar template: black on transparent, alpha carrying the shape.
    """
    if size < 1:
        raise ValueError(f"icon size must be positive, got {size}")
    scale = _scale_for(size)
    g = _geometry(size, scale)
    # Premultiplied canvas: resizing it needs no conversion to and from premultiplied alpha (a
    # third of the time at 64 px), and text edges blend correctly over translucent pixels.
    canvas = Image.new("RGBa", (size * scale, size * scale), _CLEAR)
    draw = ImageDraw.Draw(canvas)
    state = view.state

    if not monochrome:
        _circle(draw, g.centre, g.centre, g.face, _FACE)

    if state is DisplayState.STARTING:
        _dashed_ring(draw, g, _M_SOLID if monochrome else _NEUTRAL, 12)
    else:
        dimmed = state in (DisplayState.STALE, DisplayState.RATE_LIMITED, DisplayState.ERROR)
        _draw_reading(draw, g, view, monochrome=monochrome, dimmed=dimmed, scale=scale)
        if state is DisplayState.SIGNED_OUT:
            _slash(draw, g, monochrome, scale)
        elif dimmed:
            _badge(draw, g, state, monochrome, scale)

    # reducing_gap: a cheap box reduction to twice the size first, then LANCZOS; the same look
    # in half the time.
    small = canvas.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return small.convert("RGBA")


def _draw_reading(
    draw: ImageDraw.ImageDraw,
    g: _Geometry,
    view: GaugeView,
    *,
    monochrome: bool,
    dimmed: bool,
    scale: int,
) -> None:
    signed_out = view.state is DisplayState.SIGNED_OUT
    session = None if signed_out else _reading(view.session_percent)
    week = None if signed_out else _reading(view.week_percent)

    def tone(colour: RGBA) -> RGBA:
        return _dim(colour, monochrome) if dimmed else colour

    def level_colour(level: Level) -> RGBA:
        return tone(_M_SOLID if monochrome else LEVEL_COLOURS[level])

    track = _M_TRACK if monochrome else _TRACK
    week_track = _M_TRACK if monochrome else _WEEK_TRACK
    _ring_arc(draw, g, g.ring_outer, g.ring_width, sweep=360, fill=tone(track), caps=False)
    _ring_arc(draw, g, g.week_outer, g.week_width, sweep=360, fill=tone(week_track), caps=False)

    if week is not None:
        week_level = level_for(week, view.warn_percent, view.critical_percent)
        _ring_arc(
            draw,
            g,
            g.week_outer,
            g.week_width,
            sweep=360 * week / 100,
            fill=level_colour(week_level),
            caps=True,
        )

    if session is None or view.session_percent is None:
        return
    level = level_for(view.session_percent, view.warn_percent, view.critical_percent)
    colour = level_colour(level)
    sweep = 360 * session / 100
    _ring_arc(draw, g, g.ring_outer, g.ring_width, sweep=sweep, fill=colour, caps=True)
    _level_cue(draw, g, level, colour, scale)
    if g.numbered:
        if level is Level.CRITICAL:
            ink = _CLEAR if monochrome else tone(_INK)
        else:
            ink = tone(_M_SOLID if monochrome else _INK)
        _number(draw, g, _number_text(view.session_percent), ink)

"""The tray gauge renderer: sizes, states, levels, monochrome templates, contrast, bad input."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import LEVEL_COLOURS, render
from claude_usage_gauge.core.gauge_layout import layout
from claude_usage_gauge.core.gauge_view import GaugeView, Level, level_for
from tests.support.icon_contrast import MIN_NUMBER_CONTRAST, icon_number_contrast, luminance

ROOT = Path(__file__).resolve().parents[2]
WHITE = (255, 255, 255)
DARK_PANEL = (0x20, 0x20, 0x20)


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def pixels(image: Image.Image) -> list[tuple[int, int, int, int]]:
    data = image.tobytes()
    return [(data[i], data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data), 4)]


def on_panel(image: Image.Image, panel: tuple[int, int, int]) -> Image.Image:
    background = Image.new("RGBA", image.size, (*panel, 255))
    background.alpha_composite(image)
    return background


def view(state: DisplayState, session: float | None = 42.0, week: float | None = 18.0) -> GaugeView:
    return GaugeView(state, session, week)


# -- level_for ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (0.0, Level.OK),
        (74.99, Level.OK),
        (75.0, Level.WARN),  # the warn bound belongs to WARN
        (89.99, Level.WARN),
        (90.0, Level.WARN),  # the critical bound still belongs to WARN
        (90.01, Level.CRITICAL),
        (100.0, Level.CRITICAL),
        (250.0, Level.CRITICAL),
        (-5.0, Level.OK),
    ],
)
def test_level_for_bounds(percent: float, expected: Level) -> None:
    assert level_for(percent, 75.0, 90.0) is expected


def test_level_for_uses_the_given_thresholds() -> None:
    assert level_for(50.0, 40.0, 60.0) is Level.WARN
    assert level_for(50.0, 20.0, 45.0) is Level.CRITICAL
    assert level_for(50.0, 60.0, 80.0) is Level.OK


def test_level_for_nan_reads_ok() -> None:
    assert level_for(math.nan, 75.0, 90.0) is Level.OK


# -- size and mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 20, 22, 24, 32, 48, 64, 128, 256, 512])
@pytest.mark.parametrize("monochrome", [False, True])
def test_render_returns_rgba_of_the_requested_size(size: int, monochrome: bool) -> None:
    image = render(view(DisplayState.FRESH), size, monochrome=monochrome)
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    # Something is drawn, and the corners stay transparent (a round icon).
    assert image.getchannel("A").getextrema()[1] == 255
    assert image.getchannel("A").getpixel((0, 0)) == 0


def test_render_rejects_a_non_positive_size() -> None:
    with pytest.raises(ValueError, match="size"):
        render(view(DisplayState.FRESH), 0)


def test_render_is_deterministic() -> None:
    a = render(view(DisplayState.RATE_LIMITED, 80.0, 55.0), 64)
    b = render(view(DisplayState.RATE_LIMITED, 80.0, 55.0), 64)
    assert a.tobytes() == b.tobytes()


# -- every state, level and reading shows -------------------------------------------------------


@pytest.mark.parametrize("size", [16, 64])
@pytest.mark.parametrize("monochrome", [False, True])
def test_every_pair_of_states_differs(size: int, monochrome: bool) -> None:
    images = {state: render(view(state), size, monochrome=monochrome) for state in DisplayState}
    for a, b in itertools.combinations(DisplayState, 2):
        assert images[a].tobytes() != images[b].tobytes(), f"{a} and {b} look the same"


@pytest.mark.parametrize("size", [16, 64])
@pytest.mark.parametrize("monochrome", [False, True])
def test_session_reading_changes_pixels(size: int, monochrome: bool) -> None:
    low = render(view(DisplayState.FRESH, 20.0), size, monochrome=monochrome)
    high = render(view(DisplayState.FRESH, 95.0), size, monochrome=monochrome)
    assert low.tobytes() != high.tobytes()


@pytest.mark.parametrize("size", [16, 64])
@pytest.mark.parametrize("monochrome", [False, True])
def test_levels_differ(size: int, monochrome: bool) -> None:
    images = [
        render(view(DisplayState.FRESH, percent), size, monochrome=monochrome).tobytes()
        for percent in (50.0, 80.0, 95.0)
    ]
    assert len(set(images)) == 3


@pytest.mark.parametrize("size", [16, 22, 24, 32, 64])
@pytest.mark.parametrize("monochrome", [False, True])
def test_critical_has_a_shape_cue_beyond_arc_length_and_colour(size: int, monochrome: bool) -> None:
    # The same 50 % reading under two threshold settings: the arc and the number are identical,
    # so any difference in a black-only template comes from CRITICAL's filled face. (WARN has
    # no shape of its own: the number, readable at every size, tells it.)
    def at(warn: float, critical: float) -> bytes:
        gauge = GaugeView(DisplayState.FRESH, 50.0, 18.0, warn, critical)
        image = render(gauge, size, monochrome=monochrome)
        return image.getchannel("A").tobytes() if monochrome else image.tobytes()

    assert at(75.0, 90.0) != at(20.0, 40.0)


@pytest.mark.parametrize("size", [16, 64])
@pytest.mark.parametrize("state", [DisplayState.FRESH, DisplayState.STALE, DisplayState.ERROR])
def test_week_reading_changes_pixels(size: int, state: DisplayState) -> None:
    a = render(view(state, 42.0, 10.0), size)
    b = render(view(state, 42.0, 60.0), size)
    none = render(view(state, 42.0, None), size)
    assert len({a.tobytes(), b.tobytes(), none.tobytes()}) == 3


@pytest.mark.parametrize("size", [16, 20, 22, 24, 32, 40, 48, 64])
def test_the_number_is_drawn_at_every_tray_size(size: int) -> None:
    # 43 and 48: the same level and width, so only the digits differ inside the number's box.
    a, b = view(DisplayState.FRESH, 43.0), view(DisplayState.FRESH, 48.0)
    box = layout(a, size).number
    assert box is not None
    assert box == layout(b, size).number
    crop = box
    assert render(a, size).crop(crop).tobytes() != render(b, size).crop(crop).tobytes()


@pytest.mark.parametrize("size", [16, 22, 24, 32, 48, 64])
@pytest.mark.parametrize("percent", [0.0, 7.0, 42.0, 88.0, 100.0, 150.0, 999.0])
def test_the_number_fits_inside_the_ring(size: int, percent: float) -> None:
    # Every corner pixel of the digits' box lies inside the face the ring leaves free. (At
    # 16 px three digits other than 1xx are wider than the face and overlap the ring a pixel.)
    if size == 16 and percent >= 200:
        pytest.skip("three wide digits do not fit a 16 px face")
    parts = layout(view(DisplayState.FRESH, percent), size)
    assert parts.number is not None
    x0, y0, x1, y1 = parts.number
    free = size / 2 - parts.ring_width
    for x in (x0 + 0.5, x1 - 0.5):
        for y in (y0 + 0.5, y1 - 0.5):
            assert math.hypot(x - size / 2, y - size / 2) <= free, (x, y)


# -- monochrome template ------------------------------------------------------------------------


@pytest.mark.parametrize("state", list(DisplayState))
@pytest.mark.parametrize("session", [20.0, 80.0, 95.0, None])
@pytest.mark.parametrize("size", [16, 32, 64])
def test_monochrome_is_black_on_transparent(
    state: DisplayState, session: float | None, size: int
) -> None:
    image = render(view(state, session, 92.0), size, monochrome=True)
    coloured = [p for p in pixels(image) if p[3] > 0 and p[:3] != (0, 0, 0)]
    assert coloured == []
    assert any(p[3] > 0 for p in pixels(image))


# -- contrast on light and dark panels ----------------------------------------------------------


@pytest.mark.parametrize("level", list(Level))
def test_level_colours_contrast_with_light_and_dark_panels(level: Level) -> None:
    colour = LEVEL_COLOURS[level]
    assert contrast(colour, WHITE) >= 3.0
    assert contrast(colour, DARK_PANEL) >= 3.0


@pytest.mark.parametrize("percent", [42.0, 80.0, 95.0])
@pytest.mark.parametrize("size", [16, 24, 64])
def test_icon_stands_out_on_light_and_dark_panels(percent: float, size: int) -> None:
    image = render(view(DisplayState.FRESH, percent), size)
    assert image.mode == "RGBA"
    opaque = [p for p in pixels(image) if p[3] == 255]
    # Some opaque pixels are bright (the ring, the number); the face under them is dark, or
    # red for CRITICAL: either stands out from both panels, as checked below.
    assert sum(luminance(p) > 0.12 for p in opaque) >= len(opaque) // 10
    for panel in (WHITE, DARK_PANEL):
        shown = pixels(on_panel(image, panel))
        standing_out = sum(contrast(p, panel) >= 3.0 for p in shown)
        assert standing_out >= len(opaque) // 5, f"icon fades into {panel}"


@pytest.mark.parametrize("percent", [42.0, 80.0, 95.0])
def test_arc_pixels_carry_the_level_colour(percent: float) -> None:
    level = level_for(percent, 75.0, 90.0)
    image = render(view(DisplayState.FRESH, percent, None), 64)
    assert LEVEL_COLOURS[level] in set(pixels(image))


# -- readable in every state, on light and dark panels -----------------------------------------


NUMBERED = [
    view(DisplayState.FRESH, 42.0, 18.0),
    view(DisplayState.FRESH, 80.0, 55.0),
    view(DisplayState.FRESH, 95.0, 92.0),
    view(DisplayState.FRESH, 100.0, 100.0),
    view(DisplayState.STALE, 42.0, 18.0),
    view(DisplayState.STALE, 95.0, 40.0),
    view(DisplayState.RATE_LIMITED, 80.0, 55.0),
    view(DisplayState.RATE_LIMITED, 95.0, 92.0),
    view(DisplayState.ERROR, 42.0, 18.0),
    view(DisplayState.ERROR, 7.0, None),
]


@pytest.mark.parametrize("gauge", NUMBERED, ids=lambda v: f"{v.state}-{v.session_percent}")
@pytest.mark.parametrize("size", [16, 20, 22, 24, 32, 40, 48, 64])
def test_the_number_keeps_its_contrast_in_every_state(gauge: GaugeView, size: int) -> None:
    assert icon_number_contrast(render(gauge, size), gauge) >= MIN_NUMBER_CONTRAST


def test_the_contrast_measure_fails_a_dimmed_number() -> None:
    # The measure itself: the same icon with its digits dimmed into the face fails it.
    gauge = view(DisplayState.STALE, 42.0, 18.0)
    image = render(gauge, 22)
    box = layout(gauge, 22).number
    assert box is not None
    dimmed = image.copy()
    for x in range(round(box[0]), round(box[2])):
        for y in range(round(box[1]), round(box[3])):
            r, _, _, a = dimmed.getpixel((x, y))  # type: ignore[misc]
            if r > 128:
                dimmed.putpixel((x, y), (157, 157, 157, a))
    assert icon_number_contrast(image, gauge) >= MIN_NUMBER_CONTRAST
    assert icon_number_contrast(dimmed, gauge) < MIN_NUMBER_CONTRAST


def _most_changed(a: Image.Image, b: Image.Image) -> int:
    """The largest change of any channel of any pixel between two images of one size."""
    diff = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    return max(diff.tobytes())


@pytest.mark.parametrize("state", [DisplayState.RATE_LIMITED, DisplayState.ERROR])
@pytest.mark.parametrize("size", [16, 22, 24, 32, 48, 64])
@pytest.mark.parametrize("percent", [7.0, 42.0, 88.0, 100.0])
def test_the_badge_never_covers_the_number(state: DisplayState, size: int, percent: float) -> None:
    gauge = view(state, percent, 30.0)
    parts = layout(gauge, size)
    assert parts.number is not None
    assert parts.badge is not None
    # By geometry: the badge's circle, with its clear gap, misses the number's box.
    bx, by, radius, gap = parts.badge
    x0, y0, x1, y1 = parts.number
    nearest = (min(max(bx, x0), x1), min(max(by, y0), y1))
    assert math.dist(nearest, (bx, by)) >= radius + gap
    # And by pixels: what the badge changes (against the same reading without one) lies
    # outside the number's box.
    with_badge = render(gauge, size)
    without = render(view(DisplayState.STALE, percent, 30.0), size)
    crop = parts.number
    # Resampling ripples a corner pixel by up to a fifth; a badge over a digit changes it by
    # more than half (white to blue, red or clear).
    assert _most_changed(with_badge.crop(crop), without.crop(crop)) <= 64
    assert _most_changed(with_badge, without) > 100


@pytest.mark.parametrize("state", [DisplayState.STALE, DisplayState.RATE_LIMITED])
@pytest.mark.parametrize("size", [16, 22, 64])
def test_old_numbers_look_different_from_fresh_ones(state: DisplayState, size: int) -> None:
    # The ring is dashed: the same reading differs on the ring, not in the number.
    fresh = render(view(DisplayState.FRESH, 60.0, 40.0), size)
    old = render(view(state, 60.0, 40.0), size)
    parts = layout(view(state, 60.0, 40.0), size)
    assert parts.number is not None
    crop = parts.number
    assert _most_changed(fresh.crop(crop), old.crop(crop)) <= 32  # resampling ripple only
    # Dashes: pixels on the ring's middle circle that are ring in the fresh icon are face in
    # the old one.
    ring = (fresh.width / 2 - 0.25) - parts.ring_width / 2
    gaps = 0
    for step in range(360):
        t = math.radians(step)
        x = round(size / 2 + ring * math.cos(t) - 0.5)
        y = round(size / 2 + ring * math.sin(t) - 0.5)
        if luminance(fresh.getpixel((x, y))) - luminance(old.getpixel((x, y))) > 0.02:  # type: ignore[arg-type]
            gaps += 1
    assert gaps >= 12


@pytest.mark.parametrize("size", [20, 22, 24, 32, 64])
def test_the_week_shows_as_a_bar_at_tray_size(size: int) -> None:
    # (At 16 px the bar is 4 px by 1: a hint, not a reading; the README says so.)
    def week_pixels(week: float | None) -> Image.Image:
        gauge = view(DisplayState.FRESH, 42.0, week)
        box = layout(gauge, size).week
        assert box is not None
        return render(gauge, size).crop(box)

    # Four readings of one level (OK): four different bars, growing in the level's colour.
    bars = [week_pixels(w) for w in (0.0, 20.0, 45.0, 70.0)]
    assert len({bar.tobytes() for bar in bars}) == 4
    assert week_pixels(None).tobytes() != bars[1].tobytes()
    colour = LEVEL_COLOURS[Level.OK]
    filled = [
        sum(
            sum(abs(a - b) for a, b in zip(p[:3], colour[:3], strict=True)) <= 40
            for p in pixels(bar)
        )
        for bar in bars
    ]
    assert filled[0] == 0
    assert 0 < filled[1] < filled[2] < filled[3]
    # The fill stands out from the bar's empty track (grey 78) enough to see its length.
    track = pixels(bars[0])[0]
    assert contrast(colour, track) >= 1.8


@pytest.mark.parametrize("size", [22, 24])
def test_the_week_bar_is_at_least_seven_pixels_long_and_two_high(size: int) -> None:
    for state in (DisplayState.FRESH, DisplayState.RATE_LIMITED, DisplayState.ERROR):
        box = layout(view(state, 42.0, 18.0), size).week
        assert box is not None
        assert box[2] - box[0] >= 7
        assert box[3] - box[1] >= 2


def test_signed_out_shows_no_reading() -> None:
    # No arc and no number: the reading passed in does not matter.
    a = render(view(DisplayState.SIGNED_OUT, 10.0, 10.0), 64)
    b = render(view(DisplayState.SIGNED_OUT, 95.0, 80.0), 64)
    assert a.tobytes() == b.tobytes()
    assert not set(LEVEL_COLOURS.values()) & set(pixels(a))


# -- odd input ----------------------------------------------------------------------------------


ODD = [0.0, 100.0, 250.0, -5.0, None, math.nan, math.inf, -math.inf, 1e-9, 99.999]


@pytest.mark.parametrize("state", list(DisplayState))
@pytest.mark.parametrize("percent", ODD)
@pytest.mark.parametrize("size", [16, 64])
def test_odd_percents_render(state: DisplayState, percent: float | None, size: int) -> None:
    for monochrome in (False, True):
        image = render(view(state, percent, percent), size, monochrome=monochrome)
        assert image.size == (size, size)


def _ring_samples(image: Image.Image, ring_width: float) -> list[tuple[int, int, int, int]]:
    """The pixels under the middle circle of the ring, one per degree."""
    c = image.width / 2
    radius = c - 0.25 - ring_width / 2
    data = pixels(image)
    out = []
    for step in range(360):
        t = math.radians(step)
        x, y = int(c + radius * math.cos(t)), int(c + radius * math.sin(t))
        out.append(data[y * image.width + x])
    return out


@pytest.mark.parametrize("size", [22, 64])
def test_over_100_draws_a_full_ring_and_negative_an_empty_one(size: int) -> None:
    ring = layout(view(DisplayState.FRESH, 100.0), size).ring_width
    # The numbers differ (250 is shown as it is, -5 as 0); the rings do not.
    over, full = (render(view(DisplayState.FRESH, p, 18.0), size) for p in (250.0, 100.0))
    below, empty = (render(view(DisplayState.FRESH, p, 18.0), size) for p in (-5.0, 0.0))
    # (Up to a faint ripple from the digits next to the ring.)
    for a, b in zip(_ring_samples(over, ring), _ring_samples(full, ring), strict=True):
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 32, (a, b)
    assert below.tobytes() == empty.tobytes()


@settings(max_examples=60, deadline=None)
@given(
    state=st.sampled_from(list(DisplayState)),
    session=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    week=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    warn=st.floats(-1e6, 1e6),
    critical=st.floats(-1e6, 1e6),
    size=st.integers(1, 40),
    monochrome=st.booleans(),
)
def test_any_view_renders(
    *,
    state: DisplayState,
    session: float | None,
    week: float | None,
    warn: float,
    critical: float,
    size: int,
    monochrome: bool,
) -> None:
    image = render(GaugeView(state, session, week, warn, critical), size, monochrome=monochrome)
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    if monochrome:
        assert all(p[:3] == (0, 0, 0) for p in pixels(image) if p[3] > 0)


# -- the icon assets script ---------------------------------------------------------------------


def test_make_icons_writes_the_same_files_twice(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "make_icons.py"
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        subprocess.run([sys.executable, str(script), "--out", str(out)], check=True)
    names = sorted(p.name for p in first.iterdir())
    assert "claude-usage-gauge.ico" in names
    assert "claude-usage-gauge.icns" in names
    assert {f"icon-{s}.png" for s in (16, 24, 32, 48, 64, 128, 256, 512)} <= set(names)
    assert any(name.startswith("template-") for name in names)
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    with Image.open(first / "claude-usage-gauge.ico") as ico:
        # Windows' taskbar sizes at 100-300 % scaling, each drawn at its size, then Explorer's.
        taskbar = {(s, s) for s in (16, 20, 24, 32, 40, 48)}
        assert taskbar | {(256, 256)} <= set(ico.info["sizes"])
    with Image.open(first / "icon-16.png") as small:
        assert small.size == (16, 16)
        assert small.mode == "RGBA"

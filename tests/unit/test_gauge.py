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
from PIL import Image

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import (
    LEVEL_COLOURS,
    GaugeView,
    Level,
    level_for,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
WHITE = (255, 255, 255)
DARK_PANEL = (0x20, 0x20, 0x20)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, ...]) -> float:
    r, g, b = (_linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


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


@pytest.mark.parametrize("size", [16, 24, 32, 64])
@pytest.mark.parametrize("monochrome", [False, True])
def test_level_has_a_shape_cue_beyond_arc_length_and_colour(size: int, monochrome: bool) -> None:
    # The same 50 % reading under three threshold settings: the arc is identical, so any
    # difference in a black-only template comes from the level's shape cue.
    def at(warn: float, critical: float) -> bytes:
        gauge = GaugeView(DisplayState.FRESH, 50.0, 18.0, warn, critical)
        image = render(gauge, size, monochrome=monochrome)
        return image.getchannel("A").tobytes() if monochrome else image.tobytes()

    ok, warn, critical = at(75.0, 90.0), at(40.0, 90.0), at(20.0, 40.0)
    assert len({ok, warn, critical}) == 3


@pytest.mark.parametrize("size", [16, 64])
@pytest.mark.parametrize("state", [DisplayState.FRESH, DisplayState.STALE, DisplayState.ERROR])
def test_week_reading_changes_pixels(size: int, state: DisplayState) -> None:
    a = render(view(state, 42.0, 10.0), size)
    b = render(view(state, 42.0, 60.0), size)
    none = render(view(state, 42.0, None), size)
    assert len({a.tobytes(), b.tobytes(), none.tobytes()}) == 3


def test_number_shown_from_32_px() -> None:
    # Same arc (both OK, both under one pixel apart at this size) but a different number.
    a = render(view(DisplayState.FRESH, 41.0), 64)
    b = render(view(DisplayState.FRESH, 47.0), 64)
    centre = (24, 24, 40, 40)
    assert a.crop(centre).tobytes() != b.crop(centre).tobytes()


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
    # The outline: some opaque pixels are dark, some bright.
    assert sum(luminance(p) < 0.03 for p in opaque) >= len(opaque) // 10
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


# -- dimmed states ------------------------------------------------------------------------------


def _top_half(image: Image.Image) -> Image.Image:
    # The badge sits bottom right; the reading above it is what gets dimmed.
    return image.crop((0, 0, image.width, image.height // 2))


def _mean_luminance(image: Image.Image) -> float:
    values = [luminance(p) * p[3] / 255 for p in pixels(image)]
    return sum(values) / len(values)


def _mean_alpha(image: Image.Image) -> float:
    values = [p[3] for p in pixels(image)]
    return sum(values) / len(values)


@pytest.mark.parametrize(
    "state", [DisplayState.STALE, DisplayState.RATE_LIMITED, DisplayState.ERROR]
)
@pytest.mark.parametrize("size", [16, 64])
def test_not_current_readings_are_dimmer_than_fresh(state: DisplayState, size: int) -> None:
    fresh = render(view(DisplayState.FRESH, 60.0, 40.0), size)
    dimmed = render(view(state, 60.0, 40.0), size)
    assert _mean_luminance(_top_half(dimmed)) < 0.8 * _mean_luminance(_top_half(fresh))
    fresh_mono = render(view(DisplayState.FRESH, 60.0, 40.0), size, monochrome=True)
    dimmed_mono = render(view(state, 60.0, 40.0), size, monochrome=True)
    assert _mean_alpha(_top_half(dimmed_mono)) < 0.8 * _mean_alpha(_top_half(fresh_mono))


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


def test_over_100_draws_a_full_ring_and_negative_an_empty_one() -> None:
    assert (
        render(view(DisplayState.FRESH, 250.0, 18.0), 16).tobytes()
        == render(view(DisplayState.FRESH, 100.0, 18.0), 16).tobytes()
    )
    assert (
        render(view(DisplayState.FRESH, -5.0, 18.0), 16).tobytes()
        == render(view(DisplayState.FRESH, 0.0, 18.0), 16).tobytes()
    )


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
        assert {(16, 16), (32, 32), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(first / "icon-16.png") as small:
        assert small.size == (16, 16)
        assert small.mode == "RGBA"

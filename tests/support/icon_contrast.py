"""How readable the tray icon's number is: one measure, shared by the unit and e2e tests.

The number must stand out from what is right around it, whatever the panel behind the icon.
The measure looks only inside the number's bounding box (from the gauge's own layout): the
brightest quarter of its pixels is the ink, the darkest quarter the ground, and the result is
the difference of their mean relative luminance (0 to 1). A number dimmed into the face, or a
badge drawn over it, brings the two together.
"""

from __future__ import annotations

from PIL import Image

from claude_usage_gauge.core.gauge_layout import Box, layout
from claude_usage_gauge.core.gauge_view import GaugeView

LIGHT_PANEL = (242, 242, 242)
DARK_PANEL = (32, 32, 32)
PANELS = (LIGHT_PANEL, DARK_PANEL)
# White digits measure 0.7-0.9 on the dark face and 0.64-0.71 on the red CRITICAL face (16-24
# px); the earlier design's stale and rate-limited digits (dimmed, 64 px) measured 0.35.
MIN_NUMBER_CONTRAST = 0.5


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, ...]) -> float:
    """Relative luminance (WCAG), 0 for black to 1 for white."""
    r, g, b = (_linear(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def on_panel(image: Image.Image, panel: tuple[int, int, int]) -> Image.Image:
    """The icon as a tray shows it: composited over a panel of that colour."""
    background = Image.new("RGBA", image.size, (*panel, 255))
    background.alpha_composite(image.convert("RGBA"))
    return background.convert("RGB")


def number_contrast(image: Image.Image, box: Box, panel: tuple[int, int, int]) -> float:
    """The ink-to-ground luminance difference inside `box`, with the icon over `panel`."""
    x0, y0, x1, y1 = (round(v) for v in box)
    region = on_panel(image, panel).crop((x0, y0, x1, y1))
    data = region.tobytes()
    values = sorted(luminance(tuple(data[i : i + 3])) for i in range(0, len(data), 3))
    quarter = max(1, len(values) // 4)
    ink = sum(values[-quarter:]) / quarter
    ground = sum(values[:quarter]) / quarter
    return ink - ground


def icon_number_contrast(image: Image.Image, view: GaugeView) -> float:
    """The lowest `number_contrast` over a light and a dark panel, for an icon drawn for `view`
    at its own size (as the tray sends it). Fails when `view` has no number to read."""
    parts = layout(view, image.width)
    assert parts.number is not None, f"{view} has no number at {image.width} px"
    return min(number_contrast(image, parts.number, panel) for panel in PANELS)

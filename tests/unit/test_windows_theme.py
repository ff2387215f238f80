"""The Windows taskbar theme through `FakeRegistryKey`, and the icons made for it (any OS)."""

from __future__ import annotations

import io

import pytest
from PIL import IcoImagePlugin, Image

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import render
from claude_usage_gauge.core.gauge_view import GaugeView
from claude_usage_gauge.core.menu import MenuContext
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.desktop.autostart._windows import FakeRegistryKey
from claude_usage_gauge.desktop.tray_pystray import PystrayTray
from claude_usage_gauge.desktop.windows_theme import (
    PERSONALIZE_KEY,
    TASKBAR_ICON_SIZES,
    TASKBAR_VALUE,
    default_personalize_key,
    ink_for_taskbar,
    taskbar_icon,
    taskbar_is_light,
)

VIEW = GaugeView(DisplayState.FRESH, session_percent=42.0, week_percent=18.0)


def _inks(image: Image.Image) -> set[tuple[int, ...]]:
    """The colours of the pixels that show (alpha above zero)."""
    data = image.convert("RGBA").tobytes()
    return {tuple(data[i : i + 3]) for i in range(0, len(data), 4) if data[i + 3]}


def test_the_taskbar_setting_is_system_uses_light_theme_not_the_apps_one() -> None:
    assert TASKBAR_VALUE == "SystemUsesLightTheme"
    assert PERSONALIZE_KEY.endswith(r"Themes\Personalize")
    # Apps light, taskbar dark: a common setup, and the taskbar is what the icon sits on.
    key = FakeRegistryKey({"AppsUseLightTheme": 1, "SystemUsesLightTheme": 0})
    assert taskbar_is_light(key) is False
    assert taskbar_is_light(FakeRegistryKey({"AppsUseLightTheme": 0, "SystemUsesLightTheme": 1}))


@pytest.mark.parametrize(
    ("values", "fail_reads", "light"),
    [
        ({"SystemUsesLightTheme": 1}, False, True),
        ({"systemuseslighttheme": 1}, False, True),  # value names ignore case
        ({"SystemUsesLightTheme": 0}, False, False),
        ({}, False, False),  # before Windows 10 1903 there is no value: the taskbar was dark
        ({"SystemUsesLightTheme": "1"}, False, False),  # not a DWORD: not ours to guess
        ({"SystemUsesLightTheme": 1}, True, False),  # unreadable: the default, dark
    ],
)
def test_taskbar_is_light(values: dict[str, str | int], fail_reads: bool, light: bool) -> None:
    assert taskbar_is_light(FakeRegistryKey(values, fail_reads=fail_reads)) is light


def test_monochrome_ink_is_black_on_light_and_white_on_dark_with_the_shape_kept() -> None:
    mono = render(VIEW, 32, monochrome=True)
    for light, ink in ((True, (0, 0, 0)), (False, (255, 255, 255))):
        out = ink_for_taskbar(mono, light=light)
        assert out.getchannel("A").tobytes() == mono.getchannel("A").tobytes()
        inked = _inks(out)
        assert inked == {ink}


def _ico_frames(image: Image.Image) -> dict[int, Image.Image]:
    """Save the way pystray does (`save(f, format="ICO")`, nothing else) and read it back."""
    buffer = io.BytesIO()
    image.save(buffer, format="ICO")
    buffer.seek(0)
    ico = Image.open(buffer)
    assert isinstance(ico, IcoImagePlugin.IcoImageFile)
    return {size[0]: ico.ico.getimage(size).convert("RGBA") for size in ico.info["sizes"]}


def test_the_taskbar_icon_holds_every_size_each_drawn_at_that_size() -> None:
    drawn: list[int] = []

    def draw(size: int) -> Image.Image:
        drawn.append(size)
        return render(VIEW, size)

    icon = taskbar_icon(draw, monochrome=False, key=FakeRegistryKey())
    assert sorted(drawn) == list(TASKBAR_ICON_SIZES)
    frames = _ico_frames(icon)
    assert sorted(frames) == [16, 20, 24, 32, 40, 48]
    for size, frame in frames.items():
        # The gauge drawn for that size, not the 48 px one scaled down.
        assert frame.tobytes() == render(VIEW, size).tobytes()
    scaled = render(VIEW, 48).resize((16, 16), Image.Resampling.LANCZOS)
    assert frames[16].tobytes() != scaled.tobytes()


@pytest.mark.parametrize(("system_light", "ink"), [(1, (0, 0, 0)), (0, (255, 255, 255))])
def test_the_pystray_tray_inks_a_mono_icon_for_the_taskbar_read_at_each_redraw(
    system_light: int, ink: tuple[int, int, int]
) -> None:
    key = FakeRegistryKey({"SystemUsesLightTheme": system_light})
    tray = PystrayTray(
        Settings(icon_style="mono"),
        {},
        lambda: MenuContext(platform="win32"),
        lambda: None,
        theme_key=key,
    )
    image = tray._tray_image(VIEW)
    assert _inks(image) == {ink}
    assert sorted(_ico_frames(image)) == list(TASKBAR_ICON_SIZES)
    # The user flips the taskbar: the next redraw follows.
    key.values["SystemUsesLightTheme"] = 1 - system_light
    flipped = _inks(tray._tray_image(VIEW))
    assert flipped == {(255 - ink[0],) * 3}


def test_colour_icons_keep_their_colours_on_either_taskbar() -> None:
    for value in (0, 1):
        key = FakeRegistryKey({"SystemUsesLightTheme": value})
        icon = taskbar_icon(lambda size: render(VIEW, size), monochrome=False, key=key)
        assert icon.tobytes() == render(VIEW, 48).tobytes()


def test_the_real_registry_is_not_reached_for_off_windows() -> None:
    if __import__("sys").platform == "win32":
        pytest.skip("on Windows the real key is there")
    with pytest.raises(OSError, match="only there on Windows"):
        default_personalize_key()


def test_the_shipped_ico_holds_every_taskbar_size() -> None:
    from pathlib import Path

    ico = Path(__file__).resolve().parents[2] / "assets" / "claude-usage-gauge.ico"
    with Image.open(ico) as image:
        sizes = {width for width, _ in image.info["sizes"]}
    assert set(TASKBAR_ICON_SIZES) <= sizes

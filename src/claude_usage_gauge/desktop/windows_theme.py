r"""The Windows taskbar's light or dark setting, and tray icons made for it.

The taskbar follows "Choose your default Windows mode", stored as the DWORD
`SystemUsesLightTheme` under HKCU\Software\Microsoft\Windows\CurrentVersion\Themes\Personalize
(`AppsUseLightTheme` beside it is the apps' mode, which can differ, so it is not the one to read).
It is read through the same small `RegistryKey` interface as the Run key, so tests use a fake.

The coloured gauge carries its own dark face and reads on either taskbar; the monochrome icon is
ink on transparent, so its ink must be black on a light taskbar and white on a dark one.

Windows asks for the notification-area icon at 16 px at 100 % scaling, 20 at 125 %, 24 at 150 %,
32 at 200 %, 40 at 250 % and 48 at 300 %: every one is drawn at its own size, not scaled.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from claude_usage_gauge.desktop.autostart._windows import RegistryKey, WinRegKey

if TYPE_CHECKING:
    from PIL.Image import Image

PERSONALIZE_KEY = r"Software\Microsoft\Windows\CurrentVersion\Themes\Personalize"
TASKBAR_VALUE = "SystemUsesLightTheme"
TASKBAR_ICON_SIZES = (16, 20, 24, 32, 40, 48)


def taskbar_is_light(key: RegistryKey) -> bool:
    """True for a light taskbar. No value (Windows 10 before 1903), an unreadable key or an odd
    value mean dark: the taskbar was dark before the setting existed, and is by default."""
    try:
        value = key.get(TASKBAR_VALUE)
    except OSError:
        return False
    return isinstance(value, int) and not isinstance(value, bool) and value != 0


def ink_for_taskbar(image: Image, *, light: bool) -> Image:
    """A monochrome icon with its ink recoloured for the taskbar (black on light, white on dark);
    the alpha channel, which carries the shape, is kept."""
    from PIL import Image as PILImage

    rgba = image.convert("RGBA")
    ink = (0, 0, 0) if light else (255, 255, 255)
    out = PILImage.new("RGBA", rgba.size, (*ink, 0))
    out.putalpha(rgba.getchannel("A"))
    return out


def taskbar_icon(draw: Callable[[int], Image], *, monochrome: bool, key: RegistryKey) -> Image:
    """The icon to hand the tray: the largest size, carrying every other size for its .ico.

    pystray saves the image it is given as an .ico for Windows; the sizes and images set in
    `encoderinfo` make that file hold each size drawn by `draw` rather than one scaled down.
    """
    light = taskbar_is_light(key) if monochrome else False
    images = [draw(size) for size in TASKBAR_ICON_SIZES]
    if monochrome:
        images = [ink_for_taskbar(image, light=light) for image in images]
    largest = images[-1]
    largest.encoderinfo = {
        "sizes": [(size, size) for size in TASKBAR_ICON_SIZES],
        "append_images": images[:-1],
    }
    return largest


def default_personalize_key() -> RegistryKey:
    if sys.platform != "win32":
        raise OSError("the Windows registry is only there on Windows")
    return WinRegKey(PERSONALIZE_KEY)

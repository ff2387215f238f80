"""The pystray backend: Windows' and macOS' native trays, and old XEmbed trays on Linux.

Everything that touches the toolkit goes through `_on_main`, because macOS allows UI calls only on
the main thread (pystray's GTK backends already queue their updates onto the GLib loop; Windows'
shell calls are thread-safe).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.menu import Entry, MenuContext
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.desktop.tray import APP_TOPIC, Action, Frame, Tray, TrayUnavailable

if TYPE_CHECKING:
    from PIL.Image import Image

    from claude_usage_gauge.core.gauge_view import GaugeView
    from claude_usage_gauge.desktop.autostart._windows import RegistryKey
    from claude_usage_gauge.desktop.dbus.notify_thread import ThreadedNotifications

log = logging.getLogger(__name__)

ICON_SIZE = 64
# pystray's own names for its backends, which it reads from PYSTRAY_BACKEND when imported.
PYSTRAY_BACKENDS = ("appindicator", "gtk", "xorg", "darwin", "win32")


class PystrayTray(Tray):
    def __init__(
        self,
        settings: Settings,
        actions: dict[str, Action],
        context: Callable[[], MenuContext],
        on_ready: Callable[[], None],
        *,
        backend: str = "",
        theme_key: RegistryKey | None = None,
        bus_address: str | None = None,
    ) -> None:
        super().__init__(settings, actions, context, on_ready)
        self._backend = backend
        self._icon: Any = None
        self._pystray: Any = None
        self._stop_requested = False
        # The taskbar's light/dark setting, on Windows; read again at every redraw.
        self._theme_key = theme_key
        # On Linux, notifications go over the session bus with our own notifier (one per topic)
        # rather than pystray's, which shows one at a time.
        self._bus_notifications: ThreadedNotifications | None = None
        if sys.platform.startswith("linux") and bus_address:
            from claude_usage_gauge.desktop.dbus.notify_thread import ThreadedNotifications

            self._bus_notifications = ThreadedNotifications(bus_address)

    def _tray_image(self, gauge: GaugeView) -> Image:
        """The icon for this OS's tray: on Windows every taskbar size, inked for its theme."""
        if sys.platform == "win32" or self._theme_key is not None:
            from claude_usage_gauge.desktop import windows_theme

            key = self._theme_key or windows_theme.default_personalize_key()
            return windows_theme.taskbar_icon(
                lambda size: self.icon(gauge, size), monochrome=self.mono, key=key
            )
        return self.icon(gauge, ICON_SIZE)

    # -- lifecycle -----------------------------------------------------------------------------

    def run(self) -> None:
        """Create the icon and run the toolkit's loop on this (the main) thread until `stop`."""
        if sys.platform.startswith("linux") and self._backend in PYSTRAY_BACKENDS:
            # The probe chose it (an XEmbed tray: GTK's, else plain X); pystray reads this once.
            os.environ.setdefault("PYSTRAY_BACKEND", self._backend)
        if self._backend in ("gtk", "appindicator"):
            _name_the_program()
        try:
            import pystray
        except Exception as exc:  # pystray connects to the display when imported
            raise TrayUnavailable(f"cannot connect to the display ({exc})") from exc

        self._pystray = pystray
        frame = self.starting_frame()
        self._icon = pystray.Icon(
            APP_NAME,
            icon=self._tray_image(frame.gauge),
            title="Claude usage · starting…",
            menu=self._to_pystray(self.menu_entries(frame)),
        )
        self._install_signal_handlers()
        try:
            self._icon.run(setup=self._setup)
        except Exception as exc:
            if not self._stop_requested:
                raise
            # pystray's GTK notifier closes its notification on the way out, and that raises
            # when the desktop's notification service is gone: the tray has stopped all the same.
            log.warning("the tray toolkit failed while closing: %s", exc)

    def stop(self) -> None:
        self._stop_requested = True
        if self._bus_notifications is not None:
            self._bus_notifications.close()
        icon = self._icon
        if icon is not None:
            self._on_main(icon.stop)

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        self._set_tooltip("Claude usage · starting…")
        if self._is_glib_backend():
            self._install_glib_signal_handlers()
            self._build_menu_on_open()
        self._on_ready()

    def _build_menu_on_open(self) -> None:
        """GTK's StatusIcon (XEmbed trays): build the menu afresh as it opens, so "Start at
        login", "Notifications" and "Refresh now" are as of now, not as of the last redraw (up
        to a minute old). pystray's own handler only pops up the menu it has."""
        icon = self._icon
        status_icon = getattr(icon, "_status_icon", None)
        show = getattr(icon, "_on_status_icon_popup_menu", None)
        if status_icon is None or show is None or not hasattr(icon, "_create_menu"):
            return

        def on_popup(widget: Any, button: int, activate_time: int) -> None:
            self._fresh_menu()
            show(widget, button, activate_time)

        try:
            status_icon.disconnect_by_func(show)
        except TypeError:  # not connected as this pystray version did: leave it be
            return
        status_icon.connect("popup-menu", on_popup)

    def _fresh_menu(self) -> None:
        """Replace the GTK menu now (on the GTK thread, as a menu opens); pystray's own update
        would come later from its idle queue, after the old menu was shown."""
        icon = self._icon
        try:
            menu = self._to_pystray(self.menu_entries())
            handle = icon._create_menu(menu)
        except Exception:
            log.warning("could not build the menu afresh; showing the last one", exc_info=True)
            return
        icon._menu = menu
        icon._menu_handle = handle

    def _present(self, frame: Frame) -> None:
        icon = self._icon
        if icon is None:
            return
        image = self._tray_image(frame.gauge)
        menu = self._to_pystray(self.menu_entries(frame))
        text = frame.tooltip

        def apply() -> None:
            icon.icon = image
            self._mark_template(icon)
            icon.title = text
            icon.menu = menu
            self._set_tooltip(text)

        self._on_main(apply)

    def popup_menu(self) -> bool:
        """Open the menu under the icon (GTK's StatusIcon, on a left click); False if this
        backend cannot. Called from the toolkit's own event handler, so on its main thread."""
        icon = self._icon
        status_icon = getattr(icon, "_status_icon", None)
        if status_icon is not None and hasattr(icon, "_create_menu"):
            self._fresh_menu()
        menu = getattr(icon, "_menu_handle", None)
        if status_icon is None or menu is None:
            return False
        try:
            from gi.repository import Gtk

            menu.popup(
                None,
                None,
                Gtk.StatusIcon.position_menu,
                status_icon,
                0,
                Gtk.get_current_event_time(),
            )
        except Exception:
            log.warning("could not open the menu on a left click", exc_info=True)
            return False
        return True

    def notify(self, title: str, message: str, topic: str = APP_TOPIC) -> None:
        bus = self._bus_notifications
        if bus is not None and bus.notify(topic, title, message):
            return
        # pystray shows one notification at a time: `topic` cannot be honoured here.
        icon = self._icon
        if icon is None or not getattr(icon, "HAS_NOTIFICATION", False):
            log.info("notification skipped (backend has none): %s", title)
            return
        try:
            icon.notify(message, title)
        except Exception:
            log.warning("notification failed", exc_info=True)

    # -- pystray plumbing ----------------------------------------------------------------------

    def _to_pystray(self, entries: tuple[Entry, ...]) -> Any:
        if self._pystray is None:
            import pystray as module

            self._pystray = module
        pystray = self._pystray
        return pystray.Menu(*[self._item(entry) for entry in entries])

    def _item(self, entry: Entry) -> Any:
        pystray = self._pystray
        if entry.is_separator:
            return pystray.Menu.SEPARATOR
        if entry.children:
            return pystray.MenuItem(
                entry.text, pystray.Menu(*[self._item(c) for c in entry.children])
            )
        handler = self._handler(entry.action)
        if entry.checked is not None:
            checked = entry.checked
            return pystray.MenuItem(
                entry.text, handler, checked=lambda _item: checked, enabled=entry.enabled
            )
        # Information rows are disabled: text to read, not a click that does nothing.
        enabled = entry.enabled and not entry.informational
        return pystray.MenuItem(entry.text, handler, default=entry.default, enabled=enabled)

    def _handler(self, action: str | None) -> Callable[[Any, Any], None]:
        def run(_icon: Any, _item: Any) -> None:
            self.run_action(action)

        return run

    def _mark_template(self, icon: Any) -> None:
        # macOS tints a template image for the menu bar's light or dark look; pystray keeps the
        # NSImage it made from our PNG in `_icon_image`.
        image = getattr(icon, "_icon_image", None)
        if self.mono and sys.platform == "darwin" and image is not None:
            image.setTemplate_(True)

    def _is_glib_backend(self) -> bool:
        module = type(self._icon).__module__
        return module.endswith(("_gtk", "_appindicator"))

    def _set_tooltip(self, text: str) -> None:
        # pystray's GTK StatusIcon backend sets a title but no tooltip; hovering should explain.
        status_icon = getattr(self._icon, "_status_icon", None)
        if status_icon is None:
            return
        from gi.repository import GLib

        GLib.idle_add(lambda: status_icon.set_tooltip_text(text) and False)

    def _on_main(self, fn: Action) -> None:
        if sys.platform == "darwin":
            from PyObjCTools import AppHelper

            AppHelper.callAfter(fn)
        else:
            fn()

    def _install_signal_handlers(self) -> None:
        def handle(_signum: int, _frame: object) -> None:
            self.stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
                signal.signal(sig, handle)

    def _install_glib_signal_handlers(self) -> None:
        # pystray resets SIGINT to the default (kill) for GTK; a GLib source ends the loop cleanly.
        from gi.repository import GLib

        def quit_loop() -> bool:
            self.stop()
            return False

        for sig in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, quit_loop)


def _name_the_program() -> None:
    # GTK names the icon's X window (WM_CLASS) after the program, "__main__.py" under `python -m`;
    # trays, window rules and the e2e tests know the app by its name. Before GTK starts.
    with contextlib.suppress(ImportError, ValueError):
        from gi.repository import GLib

        GLib.set_prgname(APP_NAME)

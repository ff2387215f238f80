"""The pystray adapter: icon, tooltip, menu and notifications. It never fetches.

The poller calls `show(state)` from its thread; everything that touches the toolkit goes through
`_on_main`, because macOS allows UI calls only on the main thread (pystray's GTK backends already
queue their updates onto the GLib loop; Windows' shell calls are thread-safe).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from claude_usage_gauge import APP_NAME
from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.gauge import GaugeView, render
from claude_usage_gauge.core.menu import Entry, MenuContext, build_menu
from claude_usage_gauge.core.notices import Notice, NoticeMemory, notices_for
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.view import View, build_view, tooltip
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.refresh import utc_now

log = logging.getLogger(__name__)

ICON_SIZE = 64

Action = Callable[[], None]


def gauge_view(view: View, settings: Settings) -> GaugeView:
    return GaugeView(
        state=view.state,
        session_percent=view.percent(FIVE_HOUR),
        week_percent=view.percent(SEVEN_DAY),
        warn_percent=settings.warn_percent,
        critical_percent=settings.critical_percent,
    )


class TrayIcon:
    """Owns the pystray Icon. `actions` maps menu action names to handlers."""

    def __init__(
        self,
        settings: Settings,
        actions: dict[str, Action],
        context: Callable[[], MenuContext],
        on_ready: Callable[[], None],
    ) -> None:
        self.settings = settings
        self._actions = actions
        self._context = context
        self._on_ready = on_ready
        self._memory = NoticeMemory()
        self._last_state: State | None = None
        self._lock = threading.Lock()
        self._icon: Any = None
        self._pystray: Any = None

    # -- lifecycle -----------------------------------------------------------------------------

    def run(self) -> None:
        """Create the icon and run the toolkit's loop on this (the main) thread until `stop`."""
        try:
            import pystray
        except Exception as exc:  # pystray connects to the display when imported
            raise TrayUnavailable(f"cannot connect to the display ({exc})") from exc

        self._pystray = pystray
        starting = View(
            usage=None, stale=False, error=None, error_at=None, state=DisplayState.STARTING
        )
        self._icon = pystray.Icon(
            APP_NAME,
            icon=render(gauge_view(starting, self.settings), ICON_SIZE, monochrome=self._mono),
            title="Claude usage · starting…",
            menu=self._to_pystray(build_menu(starting, utc_now(), self._context())),
        )
        self._install_signal_handlers()
        self._icon.run(setup=self._setup)

    def stop(self) -> None:
        icon = self._icon
        if icon is not None:
            self._on_main(icon.stop)

    def _setup(self, icon: Any) -> None:
        icon.visible = True
        self._set_tooltip("Claude usage · starting…")
        if self._is_glib_backend():
            self._install_glib_signal_handlers()
        self._on_ready()

    # -- updates from the poller ---------------------------------------------------------------

    def show(self, state: State | None, *, announce: bool = True) -> None:
        """Draw `state` (None: redraw the last one). Build and dispatch happen under one lock,
        so the toolkit applies updates in the order they were made: an older state can never
        be drawn over a newer one."""
        with self._lock:
            if state is None:
                state = self._last_state
                if state is None:
                    return
            self._last_state = state
            now = utc_now()
            view = build_view(state, now, self.settings)
            image = render(gauge_view(view, self.settings), ICON_SIZE, monochrome=self._mono)
            text = tooltip(view, now)
            menu = self._to_pystray(build_menu(view, now, self._context()))
            notes: list[Notice] = []
            if announce:
                notes, self._memory = notices_for(view, self._memory, self.settings.notify_percents)
            icon = self._icon
            if icon is None:
                return

            def apply() -> None:
                icon.icon = image
                self._mark_template(icon)
                icon.title = text
                icon.menu = menu
                self._set_tooltip(text)

            self._on_main(apply)
        if self.settings.notifications:
            for note in notes:
                self.notify(note.title, note.message)

    def rebuild(self) -> None:
        """Redraw from the last state (after a settings toggle), announcing nothing again."""
        self.show(None, announce=False)

    def update_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.rebuild()

    def popup_menu(self) -> bool:
        """Open the menu under the icon (GTK's StatusIcon, on a left click); False if this
        backend cannot. Called from the toolkit's own event handler, so on its main thread."""
        icon = self._icon
        status_icon = getattr(icon, "_status_icon", None)
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

    def notify(self, title: str, message: str) -> None:
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
        return pystray.MenuItem(entry.text, handler, default=entry.default, enabled=entry.enabled)

    def _handler(self, action: str | None) -> Callable[[Any, Any], None]:
        def run(_icon: Any, _item: Any) -> None:
            if action is None:
                return
            callback = self._actions.get(action)
            if callback is None:
                return
            try:
                callback()
            except Exception:
                log.exception("menu action %s failed", action)

        return run

    @property
    def _mono(self) -> bool:
        style = self.settings.icon_style
        return style == "mono" or (style == "auto" and sys.platform == "darwin")

    def _mark_template(self, icon: Any) -> None:
        # macOS tints a template image for the menu bar's light or dark look; pystray keeps the
        # NSImage it made from our PNG in `_icon_image`.
        image = getattr(icon, "_icon_image", None)
        if self._mono and sys.platform == "darwin" and image is not None:
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


class TrayUnavailable(Exception):
    """No tray can be shown here (no display, or it went away)."""

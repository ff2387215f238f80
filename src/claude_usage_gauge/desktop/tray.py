"""The tray adapter: one small interface that every backend implements. It never fetches.

The poller calls `show(state)` from its thread. The base class turns the state into a `Frame`
(view, gauge, tooltip, attention) and the notices it deserves, under one lock so frames reach the
backend in the order they were made; each backend only presents frames, pops up what it can and
sends notifications. Backends: our own StatusNotifierItem over D-Bus on Linux desktops that speak
it (`desktop.dbus.tray`), pystray everywhere else (`desktop.tray_pystray`).
"""

from __future__ import annotations

import logging
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from claude_usage_gauge.core.display_state import DisplayState
from claude_usage_gauge.core.errors import ErrorKind
from claude_usage_gauge.core.gauge_view import GaugeView
from claude_usage_gauge.core.menu import Entry, MenuContext, build_menu, refresh_possible_at
from claude_usage_gauge.core.notices import Notice, NoticeMemory, notices_for
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.core.state import State
from claude_usage_gauge.core.view import View, build_view, tooltip
from claude_usage_gauge.core.window_ids import FIVE_HOUR, SEVEN_DAY
from claude_usage_gauge.refresh import utc_now

if TYPE_CHECKING:
    from PIL.Image import Image

    from claude_usage_gauge.desktop.tray_backend import BackendInfo

log = logging.getLogger(__name__)

Action = Callable[[], None]
# Rate limited this long (waited, or still to wait) counts as blocked, worth the user's attention.
LONG_BLOCK = timedelta(minutes=15)
# Notification topics the app itself uses; the core's notices carry their own.
APP_TOPIC = "app"


def gauge_view(view: View, settings: Settings) -> GaugeView:
    return GaugeView(
        state=view.state,
        session_percent=view.percent(FIVE_HOUR),
        week_percent=view.percent(SEVEN_DAY),
        warn_percent=settings.warn_percent,
        critical_percent=settings.critical_percent,
    )


def needs_attention(view: View, now: datetime) -> bool:
    """Usage is blocked: signed out, Claude Code refused, rate limited for long, a limit hit."""
    if view.state == DisplayState.SIGNED_OUT:
        return True
    error = view.error
    if error is not None and error.kind == ErrorKind.OUT_OF_EXTRA_USAGE:
        return True
    if error is not None and view.state == DisplayState.RATE_LIMITED:
        waited = now - view.error_at if view.error_at is not None else timedelta(0)
        to_wait = error.retry_at - now if error.retry_at is not None else timedelta(0)
        if waited >= LONG_BLOCK or to_wait >= LONG_BLOCK:
            return True
    return any(
        window.percent >= 100.0 for window in view.windows if window.id in (FIVE_HOUR, SEVEN_DAY)
    )


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture of the state, ready for any backend."""

    view: View
    now: datetime
    gauge: GaugeView
    tooltip: str
    attention: bool
    # False when only time passed since the last frame (the poller republishes every minute):
    # a backend whose host asks for the menu when it opens need not rebuild it then.
    changed: bool


class Tray(ABC):
    """`actions` maps the menu's action names to handlers; `context` gives the menu's facts."""

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
        # Keeps the memory's lasting part (thresholds told) for the next run; see remember_notices.
        self._save_notices: Callable[[NoticeMemory], None] | None = None
        self._lock = threading.Lock()
        self._last_state: State | None = None
        self._last_frame: Frame | None = None
        # Redraws the menu when a held-back "Refresh now" becomes a click again.
        self._refresh_timer: threading.Timer | None = None
        # With several accounts (desktop/accounts_app.py) the tooltip and the menu cover them
        # all, while the icon shows the state it is given (the most constrained account's).
        self.tooltip_for: Callable[[View, datetime], str] = tooltip
        self.menu_for: Callable[[View, datetime, MenuContext], tuple[Entry, ...]] = build_menu
        # When the menu must be redrawn by itself (a held-back "Refresh now" becomes a click).
        self.redraw_for: Callable[[View, datetime], datetime | None] = refresh_possible_at

    # -- what each backend provides ------------------------------------------------------------

    @abstractmethod
    def run(self) -> None:
        """Show the icon and run until `stop` (or a signal), on the main thread."""

    @abstractmethod
    def stop(self) -> None:
        """End `run` soon; safe from any thread."""

    @abstractmethod
    def notify(self, title: str, message: str, topic: str = APP_TOPIC) -> None:
        """A desktop notification; one per `topic` is shown at a time where the desktop can."""

    @abstractmethod
    def _present(self, frame: Frame) -> None:
        """Show `frame`. Called under the lock, so frames arrive in the order they were made."""

    def popup_menu(self) -> bool:
        """Open the menu under the icon (a left click); False where the backend cannot."""
        return False

    # -- updates from the poller ---------------------------------------------------------------

    def show(self, state: State | None, *, announce: bool = True) -> None:
        """Draw `state` (None: redraw the last one, as after a settings change)."""
        with self._lock:
            forced = state is None
            if state is None:
                state = self._last_state
                if state is None:
                    return
            changed = forced or state != self._last_state
            self._last_state = state
            now = utc_now()
            view = build_view(state, now, self.settings)
            frame = Frame(
                view=view,
                now=now,
                gauge=gauge_view(view, self.settings),
                tooltip=self.tooltip_for(view, now),
                attention=needs_attention(view, now),
                changed=changed,
            )
            notes: list[Notice] = []
            memory = self._memory
            if announce:
                notes, self._memory = notices_for(view, memory, self.settings.notify_percents, now)
            save = self._save_notices if self._memory.to_json() != memory.to_json() else None
            told = self._memory
            self._last_frame = frame
            self._present(frame)
            self._redraw_at(self.redraw_for(view, now), now)
        # Out of the lock (a write to disk); only the poller's thread announces, so saves keep
        # their order. Before the notices go out: a crash between them repeats none.
        if save is not None:
            save(told)
        if self.settings.notifications:
            for note in notes:
                self.notify(note.title, note.message, note.topic)

    def remember_notices(
        self, memory: NoticeMemory, save: Callable[[NoticeMemory], None] | None
    ) -> None:
        """Start from what an earlier run told (so a restart does not repeat it) and hand each
        change of it to `save`. Before `run`."""
        with self._lock:
            self._memory = memory
            self._save_notices = save

    def expect_sign_out(self, until: datetime) -> None:
        """The user moved the sign-in aside from the menu and was told what to do next: the
        missing sign-in this causes is not announced again (until `until` at the latest)."""
        with self._lock:
            self._memory = self._memory.expecting_sign_out(until)

    def _redraw_at(self, moment: datetime | None, now: datetime) -> None:
        """Redraw once at `moment` (the menu's "Refresh now — possible at …" turns back into a
        click even while nothing else changes); a newer frame replaces the plan. Under the lock."""
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
            self._refresh_timer = None
        if moment is None:
            return
        # A second late, so the schedule agrees that the moment has come.
        delay = (moment - now).total_seconds() + 1.0
        self._refresh_timer = threading.Timer(delay, self._timed_rebuild)
        self._refresh_timer.daemon = True
        self._refresh_timer.start()

    def _timed_rebuild(self) -> None:
        try:
            self.rebuild()
        except Exception:  # a timer's thread: the tray may be stopping; nothing to tell anyone
            log.debug("timed menu redraw failed", exc_info=True)

    def rebuild(self) -> None:
        """Redraw from the last state (after a settings toggle), announcing nothing again."""
        self.show(None, announce=False)

    def update_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.rebuild()

    # -- helpers for backends ------------------------------------------------------------------

    def menu_entries(self, frame: Frame | None = None) -> tuple[Entry, ...]:
        """The menu for `frame`, or for the last state as of now (a host is opening the menu)."""
        if frame is None:
            with self._lock:
                state = self._last_state
            now = utc_now()
            view = (
                build_view(state, now, self.settings)
                if state is not None
                else View(
                    usage=None, stale=False, error=None, error_at=None, state=DisplayState.STARTING
                )
            )
            return self.menu_for(view, now, self._context())
        return self.menu_for(frame.view, frame.now, self._context())

    def starting_frame(self) -> Frame:
        view = View(usage=None, stale=False, error=None, error_at=None, state=DisplayState.STARTING)
        now = utc_now()
        return Frame(view, now, gauge_view(view, self.settings), tooltip(view, now), False, True)

    def icon(self, gauge: GaugeView, size: int) -> Image:
        from claude_usage_gauge.core.gauge import render

        return render(gauge, size, monochrome=self.mono)

    @property
    def mono(self) -> bool:
        style = self.settings.icon_style
        return style == "mono" or (style == "auto" and sys.platform == "darwin")

    def run_action(self, action: str | None) -> None:
        callback = self._actions.get(action) if action is not None else None
        if callback is None:
            return
        try:
            callback()
        except Exception:
            log.exception("menu action %s failed", action)


def make_tray(
    backend: BackendInfo,
    settings: Settings,
    actions: dict[str, Action],
    context: Callable[[], MenuContext],
    on_ready: Callable[[], None],
) -> Tray:
    """The tray for the backend `probe_backend` chose."""
    if backend.name == "sni":
        from claude_usage_gauge.desktop.dbus.tray import DBusTray

        return DBusTray(settings, actions, context, on_ready, bus_address=backend.bus_address)
    from claude_usage_gauge.desktop.tray_pystray import PystrayTray

    return PystrayTray(
        settings, actions, context, on_ready, backend=backend.name, bus_address=backend.bus_address
    )


class TrayUnavailable(Exception):
    """No tray can be shown here (no display, or it went away)."""

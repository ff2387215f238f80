"""The native Linux tray: a StatusNotifierItem with its dbusmenu, on the session bus.

It runs on the main thread as one `Loop`. At start it takes the name
org.kde.StatusNotifierItem-<pid>-1, exports the item and its menu, and registers with the
StatusNotifierWatcher; when the watcher comes back (NameOwnerChanged) it registers again, and on
exit it releases the name, which tells the watcher and every host that the item is gone.
Menu actions run on a worker thread of their own, so a slow one never stalls the bus.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
from collections.abc import Callable
from typing import Any

from jeepney import DBusAddress, Message, new_method_call
from jeepney.bus_messages import MatchRule

from claude_usage_gauge.core.gauge_view import GaugeView
from claude_usage_gauge.core.menu import MenuContext
from claude_usage_gauge.core.settings import Settings
from claude_usage_gauge.desktop.dbus import menu as dbusmenu
from claude_usage_gauge.desktop.dbus import status_item as sni
from claude_usage_gauge.desktop.dbus.connection import (
    BUS,
    BusError,
    CallError,
    Connection,
)
from claude_usage_gauge.desktop.dbus.loop import Loop
from claude_usage_gauge.desktop.dbus.notifications import Notifier
from claude_usage_gauge.desktop.dbus.objects import Objects
from claude_usage_gauge.desktop.tray import APP_TOPIC, Action, Frame, Tray, TrayUnavailable

log = logging.getLogger(__name__)

WATCHER_NAME = "org.kde.StatusNotifierWatcher"
WATCHER = DBusAddress("/StatusNotifierWatcher", bus_name=WATCHER_NAME, interface=WATCHER_NAME)
CONNECT_TIMEOUT = 2.0
RELEASE_TIMEOUT = 0.5
DO_NOT_QUEUE = 4
REGISTER_ATTEMPTS = 10
REGISTER_RETRY = 0.2
NOT_READY = frozenset(
    "org.freedesktop.DBus.Error." + name
    for name in ("UnknownObject", "UnknownMethod", "UnknownInterface", "ServiceUnknown")
)
PRIMARY_OWNER = 1


class DBusTray(Tray):
    def __init__(
        self,
        settings: Settings,
        actions: dict[str, Action],
        context: Callable[[], MenuContext],
        on_ready: Callable[[], None],
        *,
        bus_address: str | None,
    ) -> None:
        super().__init__(settings, actions, context, on_ready)
        self._bus_address = bus_address
        self._loop: Loop | None = None
        self._stop_requested = False
        self._name = f"org.kde.StatusNotifierItem-{os.getpid()}-1"
        self._item = sni.StatusItem(
            self._activate, self._secondary_activate, lambda *_: None
        )  # replaced in `run`, once there is a bus to emit on
        self._menu: dbusmenu.DBusMenu | None = None
        self._notifier: Notifier | None = None
        self._icon_key: tuple[GaugeView, bool] | None = None
        self._pixmaps: list[sni.Pixmap] = []
        self._shown: tuple[object, str, bool] | None = None  # what the loop was last given
        self._worker = _Worker(self.run_action)
        self._watcher_lost = False

    # -- lifecycle -----------------------------------------------------------------------------

    def run(self) -> None:
        address = self._bus_address
        if address is None:
            raise TrayUnavailable("no session D-Bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        try:
            connection = Connection.open(address, CONNECT_TIMEOUT)
        except BusError as exc:
            raise TrayUnavailable(f"cannot reach the session D-Bus ({exc})") from exc
        try:
            self._serve(connection)
        finally:
            self._worker.close()
            connection.close()

    def _serve(self, connection: Connection) -> None:
        objects = Objects(connection)
        loop = Loop(connection, objects.handle)
        self._item = sni.StatusItem(
            self._activate,
            self._secondary_activate,
            lambda member, body: objects.emit(sni.ITEM_PATH, sni.INTERFACE, member, body),
        )
        self._menu = dbusmenu.DBusMenu(
            self.menu_entries,
            self._worker.submit,
            lambda member, body: objects.emit(dbusmenu.MENU_PATH, dbusmenu.INTERFACE, member, body),
        )
        self._notifier = Notifier(loop.call)
        objects.export(sni.ITEM_PATH, self._item.interface())
        objects.export(dbusmenu.MENU_PATH, self._menu.interface())
        with self._lock:
            self._apply(self._last_frame or self.starting_frame(), self._pixmaps_for)
        try:
            owned = connection.request(
                new_method_call(BUS, "RequestName", "su", (self._name, DO_NOT_QUEUE)),
                CONNECT_TIMEOUT,
            )
        except (BusError, CallError) as exc:
            raise TrayUnavailable(f"cannot take the name {self._name} ({exc})") from exc
        if owned[0] != PRIMARY_OWNER:
            raise TrayUnavailable(f"the name {self._name} is taken")
        rule = MatchRule(
            type="signal",
            sender="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            path="/org/freedesktop/DBus",
        )
        rule.add_arg_condition(0, WATCHER_NAME)
        loop.subscribe(rule, self._watcher_changed)
        self._register(loop)
        restore = _install_signal_handlers(self.stop)
        self._loop = loop
        try:
            if self._stop_requested:  # asked to stop while starting
                loop.stop()
            else:
                self._on_ready()
            loop.run()
        except BusError as exc:
            log.warning("the session bus went away (%s); the tray ends", exc)
            return
        finally:
            self._loop = None
            restore()
        self._release(connection)

    def stop(self) -> None:
        self._stop_requested = True
        loop = self._loop
        if loop is not None:
            loop.stop()

    # -- the watcher ---------------------------------------------------------------------------

    def _register(self, loop: Loop, attempt: int = 1) -> None:
        def registered(_body: tuple[Any, ...] | None, error: CallError | None) -> None:
            if error is None:
                log.info("tray item registered as %s", self._name)
            elif error.name in NOT_READY and attempt < REGISTER_ATTEMPTS:
                # A watcher that just took its name may not have exported its object yet.
                loop.call_later(REGISTER_RETRY, lambda: self._register(loop, attempt + 1))
            else:
                log.warning("the StatusNotifierWatcher refused the item: %s", error)

        message = new_method_call(WATCHER, "RegisterStatusNotifierItem", "s", (self._name,))
        loop.call(message, registered)

    def _watcher_changed(self, message: Message) -> None:
        _name, _old, new = message.body
        loop = self._loop
        if new and loop is not None:
            log.info("a StatusNotifierWatcher is back; registering again")
            self._watcher_lost = False
            self._register(loop)
        elif not new and not self._watcher_lost:
            log.warning("the StatusNotifierWatcher left; the icon shows again when it is back")
            self._watcher_lost = True

    def _release(self, connection: Connection) -> None:
        with contextlib.suppress(BusError, CallError):
            connection.request(
                new_method_call(BUS, "ReleaseName", "s", (self._name,)), RELEASE_TIMEOUT
            )

    # -- frames, clicks, notifications ---------------------------------------------------------

    def _present(self, frame: Frame) -> None:
        pixmaps = self._pixmaps_for(frame)  # drawn here, on the caller's thread, not the loop's
        shown = (self._icon_key, frame.tooltip, frame.attention)
        if not frame.changed and shown == self._shown:
            return  # the minute's republish with nothing new: the loop sleeps on
        if self._post(lambda: self._apply(frame, lambda _frame: pixmaps)):
            self._shown = shown

    def _apply(self, frame: Frame, pixmaps: Callable[[Frame], list[sni.Pixmap]]) -> None:
        self._item.set_icon(pixmaps(frame))
        self._item.set_tooltip(frame.tooltip)
        self._item.set_status(sni.NEEDS_ATTENTION if frame.attention else sni.ACTIVE)
        # Only time passed: the menu is rebuilt when a host opens it (AboutToShow), not now.
        if frame.changed and self._menu is not None:
            self._menu.update(self.menu_entries(frame))

    def _pixmaps_for(self, frame: Frame) -> list[sni.Pixmap]:
        key = (frame.gauge, self.mono)
        if key != self._icon_key:
            self._pixmaps = [sni.argb32(self.icon(frame.gauge, size)) for size in sni.SIZES]
            self._icon_key = key
        return self._pixmaps

    def notify(self, title: str, message: str, topic: str = APP_TOPIC) -> None:
        def send() -> None:
            if self._notifier is not None:
                self._notifier.notify(topic, title, message)

        if not self._post(send):
            log.info("notification skipped (the tray is not running): %s", title)

    def _activate(self) -> None:
        # Hosts that honour ItemIsMenu open the menu themselves; this is for those that do not:
        # the details, as a notification (an item cannot ask a host to open its menu).
        self._worker.submit("details")

    def _secondary_activate(self) -> None:
        self._worker.submit("refresh")  # a middle click

    def _post(self, task: Callable[[], None]) -> bool:
        loop = self._loop
        if loop is None:
            return False
        loop.post(task)
        return True


class _Worker:
    """Runs menu actions one after another on a thread of its own, started on first use."""

    def __init__(self, run: Callable[[str], None]) -> None:
        self._run = run
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, action: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="tray-actions", daemon=True)
            self._thread.start()
        self._queue.put(action)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)

    def _serve(self) -> None:
        while (action := self._queue.get()) is not None:
            self._run(action)


def _install_signal_handlers(stop: Callable[[], None]) -> Callable[[], None]:
    """SIGTERM and SIGINT end the loop (a handler writes one byte); returns the undo."""
    previous: dict[int, Any] = {}

    def handle(_signum: int, _frame: object) -> None:
        stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, handler)

    return restore

"""One connection to a message bus, with a deadline on every wait.

jeepney's own blocking connection waits for its "Hello" reply without a limit and owns the wait
on its socket; a tray must also wait on its wake-up pipe, and give up on a peer that never
answers. So the few socket steps are done here, and jeepney does what it does well: the
authentication exchange and the wire format.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import sys
import time
from collections import deque
from collections.abc import Callable
from itertools import count
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    Message,
    MessageFlag,
    MessageType,
    Parser,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.auth import BEGIN, Authenticator
from jeepney.bus import get_connectable_addresses

log = logging.getLogger(__name__)

BUS = DBusAddress(
    "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
)
NO_REPLY = "org.freedesktop.DBus.Error.NoReply"
# A send that cannot finish in this long means the bus stopped reading: treat it as gone.
SEND_TIMEOUT = 2.0
READ_CHUNK = 65536


class BusError(Exception):
    """The bus cannot be reached, or the connection to it broke."""


class CallError(Exception):
    """A method call was answered with an error, or not answered in time."""

    def __init__(self, name: str, text: str = "") -> None:
        super().__init__(f"{name}: {text}" if text else name)
        self.name = name


ReplyHandler = Callable[[tuple[Any, ...] | None, CallError | None], None]


def session_bus_address(configured: str, runtime: str) -> str | None:
    """The session bus as libdbus finds it: `configured` (DBUS_SESSION_BUS_ADDRESS), else the
    per-user socket of systemd in `runtime` (XDG_RUNTIME_DIR)."""
    address = configured.strip()
    if address:
        return address
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return "unix:path=" + os.path.join(runtime, "bus")
    return None


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)


def _authenticate(sock: socket.socket, deadline: float) -> None:
    sock.sendall(b"\0")  # the credentials byte; the bus reads our uid from the socket itself
    auth = Authenticator(enable_fds=False, inc_null_byte=False)
    for request in auth:
        sock.settimeout(_left(deadline) or 0.001)
        sock.sendall(request)
        data = sock.recv(1024)
        if not data:
            raise BusError("the bus closed the connection during authentication")
        auth.feed(data)
    sock.sendall(BEGIN)


def _error_of(message: Message) -> CallError:
    name = str(message.header.fields.get(HeaderFields.error_name, "org.freedesktop.DBus.Error"))
    body = message.body
    text = body[0] if body and isinstance(body[0], str) else ""
    return CallError(name, text)


class Connection:
    """Sends, receives and matches replies; `read` is called only when the socket is readable."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._parser = Parser()
        self._serials = count(1)
        self._pending: dict[int, tuple[float, ReplyHandler]] = {}
        self._backlog: deque[Message] = deque()
        self.unique_name = ""

    @classmethod
    def open(cls, address: str, timeout: float) -> Connection:
        deadline = time.monotonic() + timeout
        try:
            path = next(get_connectable_addresses(address))
        except (RuntimeError, ValueError, StopIteration) as exc:
            raise BusError(f"unusable bus address {address!r}") from exc
        if sys.platform == "win32":
            raise BusError("there is no D-Bus session bus on Windows")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(path)
            _authenticate(sock, deadline)
            sock.settimeout(SEND_TIMEOUT)
            connection = cls(sock)
            reply = connection.request(new_method_call(BUS, "Hello"), _left(deadline))
            connection.unique_name = str(reply[0])
        except (OSError, CallError, ValueError) as exc:  # ValueError: authentication refused
            sock.close()
            raise BusError(str(exc) or type(exc).__name__) from exc
        except BusError:
            sock.close()
            raise
        return connection

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()

    # -- sending -------------------------------------------------------------------------------

    def send(self, message: Message) -> int:
        serial = next(self._serials)
        try:
            self._sock.sendall(message.serialise(serial=serial))
        except OSError as exc:
            raise BusError(f"cannot send to the bus ({exc})") from exc
        return serial

    def call(self, message: Message, on_reply: ReplyHandler, timeout: float) -> None:
        """Send a method call; `on_reply` runs from `read` or `expire`, exactly once."""
        serial = self.send(message)
        self._pending[serial] = (time.monotonic() + timeout, on_reply)

    def request(self, message: Message, timeout: float) -> tuple[Any, ...]:
        """Send a call and wait for its reply (start-up and probes only). Other messages that
        arrive meanwhile are kept for the next `read`."""
        serial = self.send(message)
        deadline = time.monotonic() + timeout
        while True:
            while (incoming := self._parser.get_next_message()) is not None:
                if incoming.header.fields.get(HeaderFields.reply_serial) == serial:
                    if incoming.header.message_type == MessageType.error:
                        raise _error_of(incoming)
                    return tuple(incoming.body)
                self._backlog.append(incoming)
            remaining = _left(deadline)
            if remaining <= 0:
                raise CallError(NO_REPLY, f"no reply to {message_member(message)} in time")
            readable, _, _ = select.select([self._sock], [], [], remaining)
            if readable:
                self._receive()

    def reply(self, call: Message, signature: str | None, body: tuple[Any, ...]) -> None:
        if not wants_reply(call):
            return
        self.send(new_method_return(call, signature, body))

    def reply_error(self, call: Message, name: str, text: str) -> None:
        if not wants_reply(call):
            return
        self.send(new_error(call, name, "s", (text,)))

    def emit(
        self, path: str, interface: str, member: str, signature: str | None, body: tuple[Any, ...]
    ) -> None:
        self.send(new_signal(DBusAddress(path, interface=interface), member, signature, body))

    # -- receiving -----------------------------------------------------------------------------

    def read(self) -> list[Message]:
        """Messages that are not replies to our calls (those go to their handlers)."""
        self._receive()
        return self.take_backlog()

    def take_backlog(self) -> list[Message]:
        messages = list(self._backlog)
        self._backlog.clear()
        while (incoming := self._parser.get_next_message()) is not None:
            messages.append(incoming)
        return [m for m in messages if not self._settle(m)]

    def _receive(self) -> None:
        try:
            data = self._sock.recv(READ_CHUNK)
        except OSError as exc:
            raise BusError(f"the bus connection broke ({exc})") from exc
        if not data:
            raise BusError("the bus closed the connection")
        self._parser.add_data(data)

    def _settle(self, message: Message) -> bool:
        kind = message.header.message_type
        if kind not in (MessageType.method_return, MessageType.error):
            return False
        pending = self._pending.pop(message.header.fields.get(HeaderFields.reply_serial, -1), None)
        if pending is not None:  # else a late reply to a call that already timed out
            _, handler = pending
            if kind == MessageType.error:
                _run(handler, None, _error_of(message))
            else:
                _run(handler, tuple(message.body), None)
        return True

    def next_deadline(self) -> float | None:
        return min((deadline for deadline, _ in self._pending.values()), default=None)

    def expire(self) -> None:
        now = time.monotonic()
        for serial, (deadline, handler) in list(self._pending.items()):
            if deadline <= now:
                del self._pending[serial]
                _run(handler, None, CallError(NO_REPLY, "no reply in time"))


def _run(handler: ReplyHandler, body: tuple[Any, ...] | None, error: CallError | None) -> None:
    try:
        handler(body, error)
    except Exception:  # one bad handler must not end the loop
        log.exception("a D-Bus reply handler failed")


def wants_reply(message: Message) -> bool:
    return not (message.header.flags & MessageFlag.no_reply_expected)


def message_member(message: Message) -> str:
    return str(message.header.fields.get(HeaderFields.member, "?"))

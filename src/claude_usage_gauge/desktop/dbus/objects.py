"""Objects this process exports on the bus: method dispatch, properties, introspection.

An object is a path and a few `Interface` tables: methods with their signatures, properties as
one function returning name -> (signature, value), signal signatures. Properties, Introspectable
and Peer come with every object, as hosts and tools (busctl, d-feet) expect them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from jeepney import HeaderFields, Message

from claude_usage_gauge.desktop.dbus.connection import BusError, Connection

log = logging.getLogger(__name__)

PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
PEER = "org.freedesktop.DBus.Peer"
ERROR = "org.freedesktop.DBus.Error."

Value = tuple[str, Any]  # (signature, value): a property, or a variant as jeepney writes it


class InvalidArgs(Exception):
    """A caller sent arguments this method cannot take."""


@dataclass(frozen=True, slots=True)
class Method:
    in_sig: str
    out_sig: str
    handler: Callable[..., tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    methods: Mapping[str, Method]
    properties: Callable[[], dict[str, Value]] = dict
    signals: Mapping[str, str] = field(default_factory=dict)


def split_signature(signature: str) -> list[str]:
    """'isvu' -> ['i', 's', 'v', 'u']; 'a{sv}(ii)' -> ['a{sv}', '(ii)']: the complete types."""
    types: list[str] = []
    start = depth = 0
    for index, char in enumerate(signature):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if depth == 0 and char != "a":
            types.append(signature[start : index + 1])
            start = index + 1
    return types


class Objects:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._objects: dict[str, dict[str, Interface]] = {}

    def export(self, path: str, *interfaces: Interface) -> None:
        self._objects[path] = {interface.name: interface for interface in interfaces}

    def emit(self, path: str, interface: str, member: str, body: tuple[Any, ...] = ()) -> None:
        signature = self._objects[path][interface].signals[member]
        self._connection.emit(path, interface, member, signature or None, body)

    def handle(self, call: Message) -> None:
        """Answer one method call: a reply, or an error reply; never an exception to the loop."""
        fields = call.header.fields
        path = str(fields.get(HeaderFields.path, ""))
        interface = fields.get(HeaderFields.interface)
        member = str(fields.get(HeaderFields.member, ""))
        signature = str(fields.get(HeaderFields.signature, ""))
        try:
            out_sig, body = self._invoke(path, interface, member, signature, tuple(call.body))
        except _Refusal as refusal:
            self._connection.reply_error(call, ERROR + refusal.name, refusal.text)
            return
        except InvalidArgs as exc:
            self._connection.reply_error(call, ERROR + "InvalidArgs", str(exc))
            return
        except BusError:
            raise
        except Exception:
            log.exception("D-Bus method %s.%s failed", interface, member)
            self._connection.reply_error(call, ERROR + "Failed", "internal error")
            return
        self._connection.reply(call, out_sig or None, body)

    def _invoke(
        self, path: str, interface: object, member: str, signature: str, args: tuple[Any, ...]
    ) -> tuple[str, tuple[Any, ...]]:
        if interface == INTROSPECTABLE and member == "Introspect":
            return "s", (self._introspect(path),)
        if interface in (PEER, None) and member == "Ping":
            return "", ()
        interfaces = self._objects.get(path)
        if interfaces is None:
            raise _Refusal("UnknownObject", f"no object at {path}")
        if interface == PROPERTIES:
            return self._properties(interfaces, member, signature, args)
        candidates = (
            [interfaces[interface]]
            if isinstance(interface, str) and interface in interfaces
            else list(interfaces.values())
            if interface is None
            else []
        )
        if not candidates:
            raise _Refusal("UnknownInterface", f"no interface {interface} at {path}")
        for candidate in candidates:
            method = candidate.methods.get(member)
            if method is not None:
                if signature != method.in_sig:
                    raise InvalidArgs(f"{member} takes ({method.in_sig}), not ({signature})")
                return method.out_sig, method.handler(*args)
        raise _Refusal("UnknownMethod", f"no method {member}")

    def _properties(
        self,
        interfaces: dict[str, Interface],
        member: str,
        signature: str,
        args: tuple[Any, ...],
    ) -> tuple[str, tuple[Any, ...]]:
        if member == "GetAll" and signature == "s":
            table = interfaces.get(args[0])
            return "a{sv}", (table.properties() if table is not None else {},)
        if member == "Get" and signature == "ss":
            table = interfaces.get(args[0])
            value = table.properties().get(args[1]) if table is not None else None
            if value is None:
                raise _Refusal("UnknownProperty", f"no property {args[0]}.{args[1]}")
            return "v", (value,)
        if member == "Set" and signature == "ssv":
            raise _Refusal("PropertyReadOnly", "every property here is read-only")
        raise _Refusal("UnknownMethod", f"no method {member}({signature}) on {PROPERTIES}")

    def _introspect(self, path: str) -> str:
        parts = ['<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"']
        parts.append(' "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n<node>')
        interfaces = self._objects.get(path, {})
        if interfaces:
            parts.append(f'<interface name="{INTROSPECTABLE}"><method name="Introspect">')
            parts.append('<arg type="s" direction="out"/></method></interface>')
            parts.append(f'<interface name="{PROPERTIES}">{_PROPERTIES_XML}</interface>')
            parts.append(f'<interface name="{PEER}"><method name="Ping"/></interface>')
        for interface in interfaces.values():
            parts.append(_interface_xml(interface))
        prefix = path.rstrip("/") + "/"
        children = sorted(
            {p[len(prefix) :].split("/")[0] for p in self._objects if p.startswith(prefix)}
        )
        parts += [f"<node name={quoteattr(child)}/>" for child in children]
        parts.append("</node>")
        return "".join(parts)


class _Refusal(Exception):
    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


_PROPERTIES_XML = (
    '<method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/>'
    '<arg type="v" direction="out"/></method>'
    '<method name="GetAll"><arg type="s" direction="in"/>'
    '<arg type="a{sv}" direction="out"/></method>'
    '<method name="Set"><arg type="s" direction="in"/><arg type="s" direction="in"/>'
    '<arg type="v" direction="in"/></method>'
    '<signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/>'
    "</signal>"
)


def _interface_xml(interface: Interface) -> str:
    out = [f"<interface name={quoteattr(interface.name)}>"]
    for name, method in interface.methods.items():
        args = [f'<arg type="{t}" direction="in"/>' for t in split_signature(method.in_sig)]
        args += [f'<arg type="{t}" direction="out"/>' for t in split_signature(method.out_sig)]
        out.append(f'<method name="{name}">{"".join(args)}</method>')
    for name, signature in interface.signals.items():
        args = [f'<arg type="{t}"/>' for t in split_signature(signature)]
        out.append(f'<signal name="{name}">{"".join(args)}</signal>')
    for name, (signature, _) in interface.properties().items():
        out.append(f'<property name="{name}" type="{signature}" access="read"/>')
    out.append("</interface>")
    return "".join(out)

"""Which usage API addresses we accept; checked before any connection, without httpx.

https to any host; plain http only to this machine, where the fake API and demo mode live.
Kept apart from api.py so the refresh cycle can refuse a bad address before it counts an attempt.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from claude_usage_gauge.core.errors import ErrorKind, UsageError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def is_loopback(host: str) -> bool:
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_base(url: str) -> str:
    """The base URL without a trailing slash, or `UsageError(config)` if we refuse it.

    https to any host is allowed; plain http only to this machine (127.0.0.0/8, ::1, localhost),
    where the fake API and demo mode live. No connection is made.
    """

    def refuse(reason: str) -> UsageError:
        return UsageError(
            ErrorKind.CONFIG,
            f"The usage API address is refused: {reason} It must be an https:// address, "
            "or http:// only to this machine (localhost, 127.0.0.1 or [::1]).",
            detail="api base refused",
        )

    if not isinstance(url, str):
        raise refuse("it is not text.")
    text = url.strip()
    if not text or _CONTROL.search(text) or " " in text:
        raise refuse("it is empty or contains spaces or control characters.")
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise refuse("it is not a readable URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise refuse("only http and https addresses are allowed.")
    if "@" in parts.netloc:
        raise refuse("it may not contain a user name or password.")
    if not host:
        raise refuse("it names no host.")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise refuse("it may not contain a query or fragment.")
    if scheme == "http" and not is_loopback(host):
        raise refuse("plain http is only allowed to this machine.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path}".rstrip("/")

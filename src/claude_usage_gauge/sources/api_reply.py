"""What an answer of the usage endpoint means: a `Usage`, or a `UsageError` of the right kind.

The kind comes from the status line (and, for 400/403, a plain search of the body's text); the
body's JSON only supplies the message shown beside it. A body that cannot be read (nested past
the parser's depth, not UTF-8, cut off) loses its message, never the verdict: a 429 stays a rate
limit with its Retry-After, a 401 stays a refused sign-in.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.core.usage import Usage
from claude_usage_gauge.core.usage_parser import parse_usage

MAX_BODY_BYTES = 1024 * 1024
# Error bodies only matter for their message; no need to read more of them.
MAX_ERROR_BODY_BYTES = 64 * 1024
_DETAIL_CHARS = 200
_TOKEN_PART = 8  # a quoted run this long that also occurs in the token is taken for part of it

_RETRY_SECONDS = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """When the server asks us to retry, or None when it did not say (or said nothing usable).

    Seconds (integer or decimal) greater than zero, or an HTTP date in the future. Never raises.
    """
    try:
        if value is None:
            return None
        text = value.strip()
        if _RETRY_SECONDS.fullmatch(text):
            seconds = float(text)
            if not math.isfinite(seconds) or seconds <= 0:
                return None
            return now + timedelta(seconds=seconds)
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when if when > now else None
    except Exception:
        # Garbage, overflow, a naive `now` against an aware date: all mean "not said".
        return None


def scrub(text: str, token: str) -> str:
    """One line, no token (nor a long piece of it), no URL password, at most ~200 characters."""
    from claude_usage_gauge.logs import mask_secrets

    text = _CONTROL.sub(" ", text).strip()[: _DETAIL_CHARS * 4]
    if token:
        text = text.replace(token, "[token]")
        text = _mask_token_parts(text, token)
    text = mask_secrets(text)
    if len(text) > _DETAIL_CHARS:
        text = text[: _DETAIL_CHARS - 1].rstrip() + "…"
    return text


def _mask_token_parts(text: str, token: str) -> str:
    """Mask every run of 8+ characters that also occurs in the token (a server quoting its head
    or tail). Quadratic in the text, which is cut short before this is called."""
    out: list[str] = []
    i = 0
    while i < len(text):
        end = i + _TOKEN_PART
        if end <= len(text) and text[i:end] in token:
            while end < len(text) and text[i : end + 1] in token:
                end += 1
            out.append("[token]")
            i = end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _decode_json(data: bytes) -> object:
    return json.loads(data.decode("utf-8-sig"))


def server_message(data: bytes, token: str) -> str:
    """The server's `error.message` (or a summary of an HTML page), trimmed and scrubbed; ""
    when the body says nothing readable. Never raises."""
    try:
        return _server_message(data, token)
    except Exception:  # nested past the parser's depth, or anything else odd: no message
        return ""


def _server_message(data: bytes, token: str) -> str:
    try:
        raw = _decode_json(data)
    except ValueError:
        raw = None
    if isinstance(raw, dict):
        error = raw.get("error")
        message = error.get("message") if isinstance(error, dict) else raw.get("message")
        if isinstance(message, str):
            return scrub(message, token)
        return ""
    text = data.decode("utf-8", errors="replace")
    if "<html" in text.lower() or "<!doctype" in text.lower():
        title = _HTML_TITLE.search(text)
        name = scrub(title.group(1), token) if title else ""
        return f"an HTML page ({name})" if name else "an HTML page"
    return scrub(text, token)


_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9_\-]{1,128}")


def request_id(response: httpx.Response, body: bytes) -> str:
    """The answer's `request-id` header, else the error body's `request_id`; "" when neither is
    there or it is not an id's shape (it reaches menus and reports)."""
    found = response.headers.get("request-id", "")
    if not found and body:
        try:
            raw = _decode_json(body)
        except (ValueError, RecursionError):
            raw = None
        value = raw.get("request_id") if isinstance(raw, dict) else None
        found = value if isinstance(value, str) else ""
    found = found.strip()
    return found if _REQUEST_ID_SHAPE.fullmatch(found) else ""


def with_request_id(error: UsageError, rid: str) -> UsageError:
    """`error` carrying the request id of the answer it came from."""
    if not rid:
        return error
    problem = error.problem
    copy = UsageError(
        problem.kind, problem.message, retry_at=problem.retry_at, detail=problem.detail
    )
    copy.problem = replace(problem, request_id=rid)
    return copy


def classify(
    status: int, data: bytes, retry_after: str | None, now: datetime, token: str
) -> UsageError:
    """Every non-2xx answer as a `UsageError`; the status decides, the body only adds words."""
    message = server_message(data, token)
    detail = f"HTTP {status}: {message}" if message else f"HTTP {status}"
    lowered = data.decode("utf-8", errors="replace").lower()
    if status == 429:
        return UsageError(
            ErrorKind.RATE_LIMITED,
            "Rate limited by the usage service.",
            retry_at=parse_retry_after(retry_after, now),
            detail=detail,
        )
    if status == 401:
        return UsageError(
            ErrorKind.UNAUTHORIZED,
            "The usage service did not accept the sign-in (HTTP 401).",
            detail=detail,
        )
    if status == 403:
        if "scope" in lowered or "user:profile" in lowered:
            return UsageError(
                ErrorKind.MISSING_SCOPE,
                "This sign-in may not read usage: it lacks the user:profile permission.",
                detail=detail,
            )
        return UsageError(
            ErrorKind.UNAUTHORIZED,
            "The usage service refused the sign-in (HTTP 403).",
            detail=detail,
        )
    if status == 400 and "out of extra usage" in (message.lower() or lowered):
        return UsageError(
            ErrorKind.OUT_OF_EXTRA_USAGE,
            "The usage service says you are out of extra usage.",
            detail=detail,
        )
    if 300 <= status < 400:
        return UsageError(
            ErrorKind.SERVER_ERROR,
            f"The usage service answered with a redirect (HTTP {status}), which is not followed.",
            detail=detail,
        )
    if 400 <= status < 500:
        return UsageError(
            ErrorKind.SERVER_ERROR,
            f"The usage service refused the request (HTTP {status}).",
            detail=detail,
        )
    return UsageError(
        ErrorKind.SERVER_ERROR,
        f"The usage service had a problem (HTTP {status}).",
        detail=detail,
    )


def too_large(status: int) -> UsageError:
    return UsageError(
        ErrorKind.BAD_RESPONSE,
        "The usage service's answer was too large to be usage data.",
        detail=f"HTTP {status}: body larger than {MAX_BODY_BYTES} bytes (decoded)",
    )


def unreadable(status: int, why: str) -> UsageError:
    """A body we will not decode (an encoding we did not ask for, damaged compressed data)."""
    return UsageError(
        ErrorKind.BAD_RESPONSE,
        "The usage service's answer could not be read.",
        detail=f"HTTP {status}: body {why}",
    )


def parse(status: int, data: bytes, now: datetime) -> Usage:
    try:
        raw = _decode_json(data)
    except ValueError:
        text = data[:512].decode("utf-8", errors="replace").lower()
        what = "an HTML page" if "<html" in text or "<!doctype" in text else "not JSON"
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered with something that is not usage data.",
            detail=f"HTTP {status}: body is {what}",
        ) from None
    except RecursionError:
        raise UsageError(
            ErrorKind.BAD_RESPONSE,
            "The usage service answered with something that is not usage data.",
            detail=f"HTTP {status}: body nested too deeply",
        ) from None
    return parse_usage(raw, now)

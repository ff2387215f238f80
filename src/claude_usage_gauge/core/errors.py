"""Every reason usage cannot be shown, as a kind plus plain words.

One exception type for all of them keeps the shells simple: they catch `UsageError`, store
`error.kind`, show `error.message`, and ask `guidance` what the user can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from claude_usage_gauge.core.values import parse_iso


class ErrorKind(StrEnum):
    # Credentials (found before any request is made)
    NO_CREDENTIALS = "no_credentials"
    BAD_CREDENTIALS = "bad_credentials"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 (a kind name, not a secret)
    MISSING_SCOPE = "missing_scope"
    # The usage endpoint
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    OUT_OF_EXTRA_USAGE = "out_of_extra_usage"
    SERVER_ERROR = "server_error"
    NETWORK = "network"
    BAD_RESPONSE = "bad_response"
    # Our own settings (an API base we refuse, an unreadable settings file)
    CONFIG = "config"


# Kinds that only a change of credentials can cure: no request until they change.
CREDENTIAL_KINDS = frozenset(
    {
        ErrorKind.NO_CREDENTIALS,
        ErrorKind.BAD_CREDENTIALS,
        ErrorKind.TOKEN_EXPIRED,
        ErrorKind.MISSING_SCOPE,
        ErrorKind.UNAUTHORIZED,
    }
)

# Kinds that are passing faults: back off and try again.
TRANSIENT_KINDS = frozenset(
    {
        ErrorKind.NETWORK,
        ErrorKind.SERVER_ERROR,
        ErrorKind.BAD_RESPONSE,
        ErrorKind.OUT_OF_EXTRA_USAGE,
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    """A plain value describing a failure; what the store keeps and the UI shows."""

    kind: ErrorKind
    message: str
    retry_at: datetime | None = None
    # Extra detail for "full text" views (status code, server message); never a token.
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, raw: object) -> Problem | None:
        """Lenient: anything unreadable is None (the store may be torn or from elsewhere)."""
        if not isinstance(raw, dict):
            return None
        raw_kind = raw.get("kind")
        if not isinstance(raw_kind, str):
            return None
        try:
            kind = ErrorKind(raw_kind)
        except ValueError:
            return None
        message = raw.get("message")
        detail = raw.get("detail")
        return cls(
            kind=kind,
            message=message if isinstance(message, str) else kind.value,
            retry_at=parse_iso(raw.get("retry_at")),
            detail=detail if isinstance(detail, str) else "",
        )


class UsageError(Exception):
    """Raised by credentials, api and parser code; carries a `Problem`."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retry_at: datetime | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.problem = Problem(kind=kind, message=message, retry_at=retry_at, detail=detail)

    @property
    def kind(self) -> ErrorKind:
        return self.problem.kind

    @property
    def message(self) -> str:
        return self.problem.message

    @property
    def retry_at(self) -> datetime | None:
        return self.problem.retry_at

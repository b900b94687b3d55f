"""Domain errors. Each says what went wrong in words safe to show (never a phone number or a body).

HTTP status codes are chosen in one place: `switchboard.edge.http_errors`.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; `field` names the input at fault when there is one."""

    code = "refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request clashes with what is stored (a number already in use, a stale version)."""

    code = "conflict"


class RuleRefused(DomainError):
    """A product rule forbids this change (e.g. linking a resource to a pending line)."""

    code = "refused"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    """Something we depend on (the carrier) did not answer; trying again later may work."""

    code = "unavailable"


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"

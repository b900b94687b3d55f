"""Who may see and change what. Pure rules over a `Caller`; the lookup of callers lives in data.users.

- admin: the whole enterprise (the identity provider's `admin` group, or a user record with that role);
- manager: one practice's settings, lines, resources and users;
- staff: the conversations of the lines they are permitted on, nothing else.

Someone outside a practice learns nothing about it: they get "not found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from switchboard.core.errors import Forbidden, NotFound, Unauthenticated


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


@dataclass(frozen=True)
class Identity:
    """What the identity provider vouches for."""

    subject: str
    email: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Caller:
    email: str
    role: Role
    practice_id: str | None = None
    line_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def _groups(raw: object) -> frozenset[str]:
    # API Gateway REST passes Cognito groups as "a,b" (or "[a b]"), an HTTP API as a list.
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    text = str(raw or "").strip("[]")
    return frozenset(g for g in text.replace(",", " ").split() if g)


def identity_from_claims(claims: Mapping[str, object] | None) -> Identity:
    if not claims or not claims.get("sub") or not claims.get("email"):
        raise Unauthenticated("sign in to use the admin API")
    return Identity(str(claims["sub"]), str(claims["email"]).strip().lower(), _groups(claims.get("cognito:groups")))


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("only an enterprise admin may do this")


def _member(caller: Caller, practice_id: str) -> bool:
    return caller.is_admin or caller.practice_id == practice_id


def require_member(caller: Caller, practice_id: str) -> None:
    """Anyone of the practice may read it; anyone else is told it does not exist."""
    if not _member(caller, practice_id):
        raise NotFound("no such practice")


def require_manager(caller: Caller, practice_id: str) -> None:
    require_member(caller, practice_id)
    if caller.role is Role.STAFF:
        raise Forbidden("only the practice's managers may change this")


def may_use_line(caller: Caller, practice_id: str, line_id: str) -> bool:
    return _member(caller, practice_id) and (caller.role is not Role.STAFF or line_id in caller.line_ids)


def require_line(caller: Caller, practice_id: str, line_id: str) -> None:
    require_member(caller, practice_id)
    if not may_use_line(caller, practice_id, line_id):
        raise Forbidden("you have no permission on this line")


class _HasLine(Protocol):
    @property
    def practice_id(self) -> str: ...

    @property
    def line_id(self) -> str: ...


def permitted[T: _HasLine](caller: Caller, items: Iterable[T]) -> list[T]:
    """Lines (or anything on a line) this caller may see."""
    return [item for item in items if may_use_line(caller, item.practice_id, item.line_id)]

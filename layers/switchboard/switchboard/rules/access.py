"""Who may see and change what. Pure rules over a `Caller`; the lookup of callers lives in data.users.

- admin: the whole enterprise (the identity provider's `admin` group);
- manager: a practice's settings, lines, resources and users;
- staff: the conversations of the lines they are permitted on, nothing else.

One person may belong to several practices (call-center agents serve many clinics), with a role in each.
Who someone is comes from what Cognito verified: the token's `sub`, never an email they could change.
Someone outside a practice learns nothing about it: they get "not found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    username: str
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Membership:
    practice_id: str
    role: Role
    line_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str
    is_admin: bool = False
    memberships: tuple[Membership, ...] = ()

    def membership(self, practice_id: str) -> Membership | None:
        return next((m for m in self.memberships if m.practice_id == practice_id), None)

    @property
    def practice_ids(self) -> list[str]:
        return [m.practice_id for m in self.memberships]

    def staff_lines(self, practice_id: str) -> frozenset[str] | None:
        """The lines a staff member of the practice may use; None for those who may use every line."""
        if self.is_admin:
            return None
        found = self.membership(practice_id)
        if found is None:
            return frozenset()
        return found.line_ids if found.role is Role.STAFF else None


def _groups(raw: object) -> frozenset[str]:
    # API Gateway REST passes Cognito groups as "a,b" (or "[a b]"), an HTTP API as a list.
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    text = str(raw or "").strip("[]")
    return frozenset(g for g in text.replace(",", " ").split() if g)


def identity_from_claims(claims: Mapping[str, object] | None) -> Identity:
    """An ID token's claims as the authorizer passed them; an email Cognito has not verified is refused."""
    if not claims or not claims.get("sub") or not claims.get("email"):
        raise Unauthenticated("sign in to use the admin API")
    if str(claims.get("email_verified", "")).lower() != "true":
        raise Unauthenticated("this sign-in's email address is not verified")
    subject = str(claims["sub"])
    return Identity(subject, str(claims["email"]).strip().lower(), str(claims.get("cognito:username") or subject),
                    _groups(claims.get("cognito:groups")))


def session_from_claims(claims: Mapping[str, object] | None) -> str:
    """The sign-in session a token belongs to: Cognito's `origin_jti` stays the same across the session's
    refreshed tokens; without it, the time the person authenticated (`auth_time`)."""
    for name in ("origin_jti", "auth_time", "iat"):
        if claims and claims.get(name):
            return str(claims[name])
    return "unknown"


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("only an enterprise admin may do this")


def _member(caller: Caller, practice_id: str) -> bool:
    return caller.is_admin or caller.membership(practice_id) is not None


def require_member(caller: Caller, practice_id: str) -> None:
    """Anyone of the practice may read it; anyone else is told it does not exist."""
    if not _member(caller, practice_id):
        raise NotFound("no such practice")


def require_manager(caller: Caller, practice_id: str) -> None:
    require_member(caller, practice_id)
    found = caller.membership(practice_id)
    if not caller.is_admin and (found is None or found.role is not Role.MANAGER):
        raise Forbidden("only the practice's managers may change this")


def may_use_line(caller: Caller, practice_id: str, line_id: str) -> bool:
    if not _member(caller, practice_id):
        return False
    lines = caller.staff_lines(practice_id)
    return lines is None or line_id in lines


def member_may_use_line(role: str, line_ids: Iterable[str] | None, line_id: str) -> bool:
    """Whether a user of the practice with `role` and `line_ids` may use the line (to own its conversations)."""
    return role != Role.STAFF.value or line_id in set(line_ids or ())


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

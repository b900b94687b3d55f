"""Who is calling the admin API, from the identity provider's claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from switchboard.errors import Forbidden, Unauthenticated


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    roles: frozenset[Role]

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def _groups(raw: object) -> set[str]:
    # API Gateway REST passes Cognito groups as "a,b" (or "[a b]"), an HTTP API as a list.
    if isinstance(raw, list | tuple):
        return {str(g) for g in raw}
    text = str(raw or "").strip("[]")
    return {g for g in text.replace(",", " ").split() if g}


def caller_from_claims(claims: Mapping[str, object] | None) -> Caller:
    if not claims or not claims.get("sub"):
        raise Unauthenticated("sign in to use the admin API")
    roles = frozenset(Role(g) for g in _groups(claims.get("cognito:groups")) if g in Role._value2member_map_)
    return Caller(user_id=str(claims["sub"]), email=str(claims.get("email", "")), roles=roles)


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("only an enterprise admin may do this")

"""Users of the console: managers and staff of a practice, with the lines staff may use.

One person may be a user of several practices, with a role (and lines) in each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from switchboard.core.fields import DomainModel, EmailAddress
from switchboard.rules.access import Role

PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
PracticeRole = Literal[Role.MANAGER, Role.STAFF]


class NewUser(DomainModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress
    name: PersonName
    role: PracticeRole
    line_ids: list[str] = Field(default_factory=list, max_length=200)


class UserChanges(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    role: PracticeRole | None = None
    line_ids: list[str] | None = Field(default=None, max_length=200)
    version: int | None = Field(default=None, ge=1)


class User(DomainModel):
    """A person's place in one practice; `user_id` is their login's Cognito `sub`."""

    user_id: str
    email: str
    name: str
    role: Role
    practice_id: str | None
    line_ids: list[str]
    version: int

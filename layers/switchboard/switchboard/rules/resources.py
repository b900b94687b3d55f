"""Resources: a practice's locations (or providers), each texting from at most one line."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from switchboard.core.fields import DomainModel

ResourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class NewResource(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: ResourceName


class Resource(DomainModel):
    resource_id: str
    practice_id: str
    name: str
    line_id: str | None = None
    version: int

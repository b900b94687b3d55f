"""Quick responses: a practice's canned replies, each with a title and a language."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from switchboard.core.fields import DomainModel
from switchboard.rules.texts import LanguageTag

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1600)]


class NewQuickResponse(DomainModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    language: LanguageTag = "en"
    body: Body


class QuickResponseChanges(DomainModel):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    language: LanguageTag | None = None
    body: Body | None = None


class QuickResponse(NewQuickResponse):
    quick_response_id: str = Field(min_length=1)

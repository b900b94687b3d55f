"""Texts the clinic writes once and patients receive: after-hours replies with inline translations."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from switchboard.core.fields import DomainModel

LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")]
ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=640)]


class AfterHoursReply(DomainModel):
    """The reply sent while closed; translations follow the main text in the same message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: ReplyText
    translations: dict[LanguageTag, ReplyText] = Field(default_factory=dict, max_length=6)

    def rendered(self) -> str:
        return "\n\n".join([self.text, *self.translations.values()])

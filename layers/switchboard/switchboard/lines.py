"""Lines: the clinic's texting numbers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, computed_field

from switchboard.phones import UsPhoneNumber, format_national

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class LineStatus(StrEnum):
    PENDING = "pending"
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"


class LineSource(StrEnum):
    PURCHASED = "purchased"
    HOSTED = "hosted"
    REGISTERED = "registered"


class NewLine(BaseModel):
    """A number the clinic already has, recorded before it is bought or text-enabled."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName
    number: UsPhoneNumber


class Line(BaseModel):
    line_id: str
    practice_id: str
    display_name: str
    number: str
    source: LineSource
    status: LineStatus
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number_display(self) -> str:
        return format_national(self.number)

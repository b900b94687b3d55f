"""Practices: a clinic or call-center unit with its timezone and weekly hours."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from switchboard.hours import TimezoneName, WeeklyHours, standard_hours

PracticeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class NewPractice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PracticeName
    timezone: TimezoneName
    hours: WeeklyHours = Field(default_factory=standard_hours)


class PracticeChanges(BaseModel):
    """Only the fields given change; `version` (from the last read) guards against lost updates."""

    model_config = ConfigDict(extra="forbid")

    name: PracticeName | None = None
    timezone: TimezoneName | None = None
    hours: WeeklyHours | None = None
    version: int | None = Field(default=None, ge=1)


class Practice(BaseModel):
    practice_id: str
    name: str
    timezone: str
    hours: WeeklyHours
    version: int
    created_at: datetime
    updated_at: datetime

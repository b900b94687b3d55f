"""Practices: a clinic or call-center unit with its timezone, hours, closures and patient-facing texts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from switchboard.core.errors import InvalidInput
from switchboard.core.fields import DomainModel
from switchboard.rules.hours import (
    WEEKDAYS,
    ClockTime,
    Closure,
    HolidayCalendar,
    Span,
    TimezoneName,
    WeeklyHours,
    standard_hours,
)
from switchboard.rules.opening import OpeningHours, line_opening_hours
from switchboard.rules.practice_address import SavedAddress
from switchboard.rules.registration import NOT_CHECKED, Registration
from switchboard.rules.texts import AfterHoursReply, ReplyText

if TYPE_CHECKING:
    from switchboard.rules.lines import Line

PracticeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
DEFAULT_HELP_TEXT = "Reply STOP to opt out. For emergencies call 911."


class QuietHours(DomainModel):
    """When texts the clinic starts (not replies) may not go out, in the line's time: 21:00 to 08:00 by default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    starts: ClockTime = "21:00"
    ends: ClockTime = "08:00"

    def allowed(self, timezone: str) -> OpeningHours:
        """The hours texts may go out, as an opening-hours calendar (so DST and midnight are handled once)."""
        window = [Span(opens=self.ends, closes=self.starts)]
        return OpeningHours(WeeklyHours(**dict.fromkeys(WEEKDAYS, window)), timezone)


class PracticeSettings(DomainModel):
    """What a practice keeps beside its name, timezone and hours."""

    model_config = ConfigDict(extra="forbid")

    closures: list[Closure] = Field(default_factory=list, max_length=100)
    holiday_calendar: HolidayCalendar | None = None
    after_hours: AfterHoursReply | None = None
    help_text: ReplyText = DEFAULT_HELP_TEXT
    duplicate_window_minutes: int = Field(default=10, ge=1, le=1440)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)


class NewPractice(PracticeSettings):
    name: PracticeName
    timezone: TimezoneName
    hours: WeeklyHours = Field(default_factory=standard_hours)


class PracticeChanges(DomainModel):
    """Only the fields given change; `version` (from the last read) guards against lost updates."""

    model_config = ConfigDict(extra="forbid")

    name: PracticeName | None = None
    timezone: TimezoneName | None = None
    hours: WeeklyHours | None = None
    closures: list[Closure] | None = Field(default=None, max_length=100)
    holiday_calendar: HolidayCalendar | None = None
    after_hours: AfterHoursReply | None = None
    help_text: ReplyText | None = None
    duplicate_window_minutes: int | None = Field(default=None, ge=1, le=1440)
    quiet_hours: QuietHours | None = None
    version: int | None = Field(default=None, ge=1)

    def applied_to(self, current: Practice) -> dict[str, Any]:
        """The practice's stored fields after this change; null clears only what may be empty."""
        given = self.model_dump(mode="json", exclude_unset=True, exclude={"version"})
        for name in _REQUIRED_FIELDS & given.keys():
            if given[name] is None:
                raise InvalidInput("may not be empty", field=name)
        return {**current.model_dump(mode="json", include=set(_STORED_FIELDS)), **given}


_REQUIRED_FIELDS = frozenset({"name", "timezone", "hours", "closures", "help_text", "duplicate_window_minutes",
                              "quiet_hours"})
_STORED_FIELDS = _REQUIRED_FIELDS | {"holiday_calendar", "after_hours"}


class Practice(PracticeSettings):
    practice_id: str
    name: str
    timezone: str
    hours: WeeklyHours
    primary_line_id: str | None = None
    messaging_service_sid: str | None = None
    registration: Registration = NOT_CHECKED
    address: SavedAddress | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    def opening_hours(self, line: Line | None = None) -> OpeningHours:
        """The line's hours as its texts and calls follow them (`line_opening_hours`), else the practice's own."""
        if line is None:
            return line_opening_hours(practice_hours=self.hours, practice_timezone=self.timezone,
                                      practice_closures=self.closures, holiday_calendar=self.holiday_calendar)
        return line_opening_hours(practice_hours=self.hours, practice_timezone=self.timezone,
                                  practice_closures=self.closures, holiday_calendar=self.holiday_calendar,
                                  line_hours=line.hours, line_timezone=line.timezone,
                                  line_closures=line.closures or (), emergency_close=line.emergency_close)

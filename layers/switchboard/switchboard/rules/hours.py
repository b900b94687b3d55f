"""Weekly opening hours as admins set them: several spans a day (lunch breaks), spans that run past
midnight, closures and a holiday calendar, validated. `switchboard.rules.opening` answers whether they are open."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from switchboard.core.fields import DomainModel
from switchboard.rules.opening import WEEKDAYS, Weekday, crosses_midnight, end_minute, minutes

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _clock_time(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError("must be a 24-hour time HH:MM (00:00 to 24:00)")
    return value


def _timezone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a known IANA timezone, e.g. America/New_York") from None
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]
TimezoneName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_timezone_name)]


class Span(DomainModel):
    """Open from `opens` to `closes`; a `closes` earlier than `opens` runs past midnight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opens: ClockTime
    closes: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Span:
        if minutes(self.opens) == minutes(self.closes) or self.opens == "24:00":
            raise ValueError("a span must open and close at different times (opens before 24:00)")
        return self

    @property
    def crosses_midnight(self) -> bool:
        return crosses_midnight(self.opens, self.closes)

    @property
    def end_minute(self) -> int:
        return end_minute(self.opens, self.closes)


class WeeklyHours(DomainModel):
    """Spans per weekday; a day left out is closed all day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mon: list[Span] = Field(default_factory=list, max_length=6)
    tue: list[Span] = Field(default_factory=list, max_length=6)
    wed: list[Span] = Field(default_factory=list, max_length=6)
    thu: list[Span] = Field(default_factory=list, max_length=6)
    fri: list[Span] = Field(default_factory=list, max_length=6)
    sat: list[Span] = Field(default_factory=list, max_length=6)
    sun: list[Span] = Field(default_factory=list, max_length=6)

    @model_validator(mode="after")
    def _no_overlaps(self) -> WeeklyHours:
        week = [(WEEKDAYS.index(day) * 1440 + minutes(s.opens), day, s) for day in WEEKDAYS for s in self.spans(day)]
        week.sort(key=lambda item: item[0])
        for (start, day, span), (next_start, next_day, _) in zip(week, week[1:] + week[:1], strict=True):
            end = WEEKDAYS.index(day) * 1440 + span.end_minute
            wrapped_next = next_start if next_start > start else next_start + 7 * 1440
            if len(week) > 1 and end > wrapped_next:
                raise ValueError(f"{day} {span.opens}-{span.closes} overlaps the next span on {next_day}")
        return self

    def spans(self, day: Weekday) -> list[Span]:
        spans: list[Span] = getattr(self, day)
        return spans


def standard_hours() -> WeeklyHours:
    """Weekdays 08:00-17:00: what a new practice starts with until an admin sets its hours."""
    nine_to_five = [Span(opens="08:00", closes="17:00")]
    return WeeklyHours(mon=nine_to_five, tue=nine_to_five, wed=nine_to_five, thu=nine_to_five, fri=nine_to_five)


class Closure(DomainModel):
    """Closed from `starts` to `ends` (inclusive, on the line's or practice's own clock): all day, or from
    `from_time` on the first day and until `until_time` on the last ("closed 24 December from 12:00")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    starts: date
    ends: date
    from_time: ClockTime | None = Field(default=None, description="HH:MM on `starts` the closure begins")
    until_time: ClockTime | None = Field(default=None, description="HH:MM on `ends` the closure ends")
    reason: str = Field(default="", max_length=120)

    @field_validator("ends")
    @classmethod
    def _in_order(cls, ends: date, info: ValidationInfo) -> date:
        starts = info.data.get("starts")
        if starts is not None and ends < starts:
            raise ValueError("must be on or after starts")
        return ends

    @field_validator("from_time")
    @classmethod
    def _from_within_the_day(cls, from_time: str | None) -> str | None:
        if from_time == "24:00":
            raise ValueError("must be before 24:00; start the closure the next day instead")
        return from_time

    @field_validator("until_time")
    @classmethod
    def _until_after_from(cls, until_time: str | None, info: ValidationInfo) -> str | None:
        if until_time == "00:00":
            raise ValueError("must be after 00:00; end the closure the day before instead")
        starts, ends, from_time = info.data.get("starts"), info.data.get("ends"), info.data.get("from_time")
        if until_time is not None and from_time is not None and starts is not None and starts == ends and (
                minutes(until_time) <= minutes(from_time)):
            raise ValueError("must be after from_time on a one-day closure")
        return until_time


HolidayCalendar = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
"""A public-holiday calendar: a country code, optionally with a subdivision (`US`, `US-NY`, `CA-ON`)."""

"""Weekly opening hours: several spans a day (lunch breaks), spans that run past midnight."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from switchboard.fields import DomainModel

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


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
        return minutes(self.closes) < minutes(self.opens)

    @property
    def end_minute(self) -> int:
        """Minutes after the day's midnight when the span closes (past 1440 when it runs overnight)."""
        return minutes(self.closes) + (1440 if self.crosses_midnight else 0)


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
    """Closed all day from `starts` to `ends` (inclusive, in the practice's own dates)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    starts: date
    ends: date
    reason: str = Field(default="", max_length=120)

    @model_validator(mode="after")
    def _in_order(self) -> Closure:
        if self.ends < self.starts:
            raise ValueError("ends must be on or after starts")
        return self


HolidayCalendar = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
"""A public-holiday calendar: a country code, optionally with a subdivision (`US`, `US-NY`, `CA-ON`)."""


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours in a timezone, with closures and public holidays overriding them. No I/O."""

    weekly: WeeklyHours
    timezone: str
    closures: tuple[Closure, ...] = ()
    holiday_calendar: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed_on(self, day: date) -> bool:
        if any(c.starts <= day <= c.ends for c in self.closures):
            return True
        return self.holiday_calendar is not None and day in _holidays(self.holiday_calendar, day.year)

    def _spans_opening_on(self, day: date) -> list[Span]:
        return [] if self.is_closed_on(day) else self.weekly.spans(WEEKDAYS[day.weekday()])

    def is_open_at(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        today = local.date()
        if self.is_closed_on(today):
            return False
        minute = local.hour * 60 + local.minute
        if any(minutes(s.opens) <= minute < s.end_minute for s in self._spans_opening_on(today)):
            return True
        yesterday = today - timedelta(days=1)
        return any(s.crosses_midnight and minute < minutes(s.closes) for s in self._spans_opening_on(yesterday))

    def next_open_after(self, when: datetime) -> datetime | None:
        """The first moment at or after `when` that is open (`when` itself if open now); None if never."""
        if self.is_open_at(when):
            return when
        zone = self.zone
        first_day = when.astimezone(zone).date()
        for offset in range(0, 400):
            day = first_day + timedelta(days=offset)
            # both folds: on a fall-back night a span opening in the repeated hour opens twice
            openings = sorted({_wall_clock(day, s.opens, zone, fold) for s in self._spans_opening_on(day)
                               for fold in (0, 1)})
            later = [moment for moment in openings if moment > when and self.is_open_at(moment)]
            if later:
                return later[0]
        return None


def _wall_clock(day: date, clock: str, zone: ZoneInfo, fold: int = 0) -> datetime:
    # A wall time that a spring-forward night skips (02:30) opens when the clocks jump past it (03:00).
    hour, minute = (int(part) for part in clock.split(":"))
    wall = datetime.combine(day, time(hour, minute))
    moment = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall:
        moment = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        while moment.astimezone(zone).replace(tzinfo=None) < wall:
            moment += timedelta(minutes=1)
    return moment


@cache
def _holidays(calendar: str, year: int) -> frozenset[date]:
    import holidays  # costs ~70 ms; only practices with a holiday calendar pay it

    country, _, subdivision = calendar.partition("-")
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())

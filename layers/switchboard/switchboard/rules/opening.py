"""Whether a practice or line is open at a moment, and when it next opens: weekly spans, closures and
public holidays in the practice's timezone, across midnight and DST. No I/O and no pydantic.

The hours come either as the validated models admins edit (`switchboard.rules.hours`) or, for the voice
webhook, straight from the stored maps (`OpeningHours.from_stored`): both read the same way here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def crosses_midnight(opens: str, closes: str) -> bool:
    return minutes(closes) < minutes(opens)


def end_minute(opens: str, closes: str) -> int:
    """Minutes after the day's midnight when a span closes (past 1440 when it runs overnight)."""
    return minutes(closes) + (1440 if crosses_midnight(opens, closes) else 0)


class Window(Protocol):
    @property
    def opens(self) -> str: ...

    @property
    def closes(self) -> str: ...


class Week(Protocol):
    def spans(self, day: Weekday) -> Sequence[Window]: ...


class ClosedDays(Protocol):
    @property
    def starts(self) -> date: ...

    @property
    def ends(self) -> date: ...


@dataclass(frozen=True)
class StoredSpan:
    opens: str
    closes: str


@dataclass(frozen=True)
class StoredWeek:
    """Weekly spans as stored (`{"mon": [{"opens": "08:00", "closes": "17:00"}], ...}`), checked when saved."""

    days: Mapping[str, tuple[StoredSpan, ...]] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> StoredWeek:
        return cls({day: tuple(StoredSpan(s["opens"], s["closes"]) for s in stored.get(day) or ())
                    for day in WEEKDAYS})

    def spans(self, day: Weekday) -> Sequence[Window]:
        return self.days.get(day, ())


@dataclass(frozen=True)
class StoredClosure:
    starts: date
    ends: date

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> StoredClosure:
        return cls(date.fromisoformat(stored["starts"]), date.fromisoformat(stored["ends"]))


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours in a timezone, with closures and public holidays overriding them."""

    weekly: Week
    timezone: str
    closures: tuple[ClosedDays, ...] = ()
    holiday_calendar: str | None = None

    @classmethod
    def from_stored(cls, hours: Mapping[str, Any], timezone: str, closures: Sequence[Mapping[str, Any]] = (),
                    holiday_calendar: str | None = None) -> OpeningHours:
        return cls(StoredWeek.from_stored(hours), timezone, tuple(StoredClosure.from_stored(c) for c in closures),
                   holiday_calendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed_on(self, day: date) -> bool:
        if any(c.starts <= day <= c.ends for c in self.closures):
            return True
        return self.holiday_calendar is not None and day in _holidays(self.holiday_calendar, day.year)

    def _spans_opening_on(self, day: date) -> Sequence[Window]:
        return [] if self.is_closed_on(day) else self.weekly.spans(WEEKDAYS[day.weekday()])

    def is_open_at(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        today = local.date()
        if self.is_closed_on(today):
            return False
        minute = local.hour * 60 + local.minute
        if any(minutes(s.opens) <= minute < end_minute(s.opens, s.closes) for s in self._spans_opening_on(today)):
            return True
        yesterday = today - timedelta(days=1)
        return any(crosses_midnight(s.opens, s.closes) and minute < minutes(s.closes)
                   for s in self._spans_opening_on(yesterday))

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

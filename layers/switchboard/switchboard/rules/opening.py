"""Whether a practice or line is open at a moment, and when it next opens: weekly spans, closures (whole days or
part of a day), public holidays and an emergency close, in the line's timezone, across midnight and DST. No I/O
and no pydantic.

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

_A_DAY = timedelta(days=1)
_HORIZON = timedelta(days=400)
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
    """Closed from `from_time` on `starts` (its start when None) until `until_time` on `ends` (its end when None)."""

    @property
    def starts(self) -> date: ...

    @property
    def ends(self) -> date: ...

    @property
    def from_time(self) -> str | None: ...

    @property
    def until_time(self) -> str | None: ...


class ClosedUntil(Protocol):
    """An emergency close: closed from `closed_at` until `reopens_at`, whatever the hours say."""

    @property
    def closed_at(self) -> datetime: ...

    @property
    def reopens_at(self) -> datetime: ...


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
    from_time: str | None = None
    until_time: str | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> StoredClosure:
        return cls(date.fromisoformat(stored["starts"]), date.fromisoformat(stored["ends"]),
                   stored.get("from_time"), stored.get("until_time"))


@dataclass(frozen=True)
class StoredEmergencyClose:
    closed_at: datetime
    reopens_at: datetime

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> StoredEmergencyClose | None:
        if not stored:
            return None
        return cls(datetime.fromisoformat(stored["closed_at"]), datetime.fromisoformat(stored["reopens_at"]))


def closure_bounds(closure: ClosedDays, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The moments a closure starts and ends (UTC), read on the clock of `zone` on the days it names."""
    starts = _wall_clock(closure.starts, closure.from_time or "00:00", zone)
    if closure.until_time is None or closure.until_time == "24:00":
        return starts, _wall_clock(closure.ends + timedelta(days=1), "00:00", zone)
    return starts, _wall_clock(closure.ends, closure.until_time, zone)


def _closes_whole_day(closure: ClosedDays, day: date) -> bool:
    """Whether the closure covers all of `day`, so that the spans opening that day do not open at all."""
    if not closure.starts <= day <= closure.ends:
        return False
    partial_first = closure.from_time not in (None, "00:00") and day == closure.starts
    partial_last = closure.until_time not in (None, "24:00") and day == closure.ends
    return not partial_first and not partial_last


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours in a timezone, with closures, public holidays and an emergency close overriding them."""

    weekly: Week
    timezone: str
    closures: tuple[ClosedDays, ...] = ()
    holiday_calendar: str | None = None
    emergency_close: ClosedUntil | None = None

    @classmethod
    def from_stored(cls, hours: Mapping[str, Any], timezone: str, closures: Sequence[Mapping[str, Any]] = (),
                    holiday_calendar: str | None = None) -> OpeningHours:
        return cls(StoredWeek.from_stored(hours), timezone, tuple(StoredClosure.from_stored(c) for c in closures),
                   holiday_calendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_closed_on(self, day: date) -> bool:
        """Closed all day: spans opening that day do not open."""
        if any(_closes_whole_day(c, day) for c in self.closures):
            return True
        return self.holiday_calendar is not None and day in _holidays(self.holiday_calendar, day.year)

    def is_closed_by_closure_at(self, when: datetime) -> bool:
        """Whether a closure or the emergency close covers the moment (whatever the weekly hours say)."""
        emergency = self.emergency_close
        if emergency is not None and emergency.closed_at <= when < emergency.reopens_at:
            return True
        zone = self.zone
        day = when.astimezone(zone).date()
        near = [c for c in self.closures if c.starts <= day + _A_DAY and c.ends >= day - _A_DAY]
        return any(start <= when < end for start, end in (closure_bounds(c, zone) for c in near))

    def _reopenings_after(self, when: datetime) -> list[datetime]:
        """Moments a closure or the emergency close ends after `when`: reopenings that are no span's opening."""
        zone = self.zone
        day = when.astimezone(zone).date()
        # Only closures ending within the search's horizon: far-off dates (up to date.max) are never reckoned.
        ends = [closure_bounds(c, zone)[1] for c in self.closures if day - _A_DAY <= c.ends <= day + _HORIZON]
        if self.emergency_close is not None:
            ends.append(self.emergency_close.reopens_at)
        return sorted(end for end in ends if end > when and self.is_open_at(end))

    def _spans_opening_on(self, day: date) -> Sequence[Window]:
        return [] if self.is_closed_on(day) else self.weekly.spans(WEEKDAYS[day.weekday()])

    def is_open_at(self, when: datetime) -> bool:
        local = when.astimezone(self.zone)
        today = local.date()
        if self.is_closed_on(today) or self.is_closed_by_closure_at(when):
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
        reopenings = self._reopenings_after(when)[:1]
        first_day = when.astimezone(zone).date()
        for offset in range(0, _HORIZON.days):
            day = first_day + timedelta(days=offset)
            # both folds: on a fall-back night a span opening in the repeated hour opens twice
            openings = sorted({_wall_clock(day, s.opens, zone, fold) for s in self._spans_opening_on(day)
                               for fold in (0, 1)})
            later = [moment for moment in openings if moment > when and self.is_open_at(moment)]
            if later:
                return min(later[:1] + reopenings)
        return reopenings[0] if reopenings else None


def line_opening_hours(*, practice_hours: Week, practice_timezone: str, practice_closures: Sequence[ClosedDays],
                       holiday_calendar: str | None, line_hours: Week | None = None, line_timezone: str | None = None,
                       line_closures: Sequence[ClosedDays] = (),
                       emergency_close: ClosedUntil | None = None) -> OpeningHours:
    """A line's opening hours, for its texts and its calls alike: its own hours and timezone where it sets them, else
    its practice's; closed when the practice's closures, the line's own or its emergency close cover the moment."""
    return OpeningHours(practice_hours if line_hours is None else line_hours, line_timezone or practice_timezone,
                        (*practice_closures, *line_closures), holiday_calendar, emergency_close)


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

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from switchboard.rules.hours import Closure, WeeklyHours
from switchboard.rules.opening import OpeningHours


def test_several_spans_a_day_and_overnight_spans_are_accepted():
    hours = WeeklyHours(
        mon=[{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}],
        fri=[{"opens": "22:00", "closes": "02:00"}],
        sat=[{"opens": "08:00", "closes": "12:00"}],
    )
    assert hours.fri[0].crosses_midnight


@pytest.mark.parametrize(
    "hours",
    [
        {"mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:00", "closes": "17:00"}]},
        {"sun": [{"opens": "22:00", "closes": "09:00"}], "mon": [{"opens": "08:00", "closes": "12:00"}]},
        {"tue": [{"opens": "08:00", "closes": "08:00"}]},
        {"wed": [{"opens": "8am", "closes": "17:00"}]},
        {"someday": [{"opens": "08:00", "closes": "17:00"}]},
    ],
)
def test_impossible_hours_are_refused(hours):
    with pytest.raises(ValidationError):
        WeeklyHours.model_validate(hours)


NEW_YORK = "America/New_York"
WEEKDAY_HOURS = WeeklyHours(
    **{
        day: [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
        for day in ("mon", "tue", "wed", "thu", "fri")
    }
)


def at(text: str, zone: str = NEW_YORK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_open_in_the_morning_closed_over_lunch_and_at_night():
    hours = OpeningHours(WEEKDAY_HOURS, NEW_YORK)
    assert hours.is_open_at(at("2026-11-23T09:00"))
    assert not hours.is_open_at(at("2026-11-23T12:30"))
    assert hours.is_open_at(at("2026-11-23T13:00"))
    assert not hours.is_open_at(at("2026-11-23T17:00"))
    assert not hours.is_open_at(at("2026-11-22T10:00"))  # Sunday


def test_evaluated_in_the_hours_own_timezone():
    hours = OpeningHours(WEEKDAY_HOURS, NEW_YORK)
    assert hours.is_open_at(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 09:30 in New York
    assert not hours.is_open_at(datetime(2026, 11, 23, 12, 30, tzinfo=UTC))  # 07:30 in New York


def test_overnight_span_belongs_to_the_day_it_opens():
    hours = OpeningHours(WeeklyHours(fri=[{"opens": "22:00", "closes": "02:00"}]), NEW_YORK)
    assert hours.is_open_at(at("2026-11-27T23:00"))
    assert hours.is_open_at(at("2026-11-28T01:59"))
    assert not hours.is_open_at(at("2026-11-28T02:00"))
    assert not hours.is_open_at(at("2026-11-27T01:00"))  # Friday 01:00 follows Thursday, which is closed


def test_spring_forward_night_in_new_york():
    hours = OpeningHours(WeeklyHours(sun=[{"opens": "01:00", "closes": "04:00"}]), NEW_YORK)
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT. 06:30 UTC is 01:30 EST, 07:30 UTC is 03:30 EDT.
    assert hours.is_open_at(datetime(2026, 3, 8, 6, 30, tzinfo=UTC))
    assert hours.is_open_at(datetime(2026, 3, 8, 7, 30, tzinfo=UTC))
    assert not hours.is_open_at(datetime(2026, 3, 8, 8, 0, tzinfo=UTC))  # 04:00 EDT
    skipped = OpeningHours(WeeklyHours(sun=[{"opens": "02:30", "closes": "05:00"}]), NEW_YORK)
    # 02:30 never happens that night: the span opens as the clocks jump to 03:00 EDT (07:00 UTC), open from then on.
    assert skipped.next_open_after(datetime(2026, 3, 8, 5, 0, tzinfo=UTC)) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_fall_back_night_in_new_york():
    hours = OpeningHours(WeeklyHours(sun=[{"opens": "00:00", "closes": "01:30"}]), NEW_YORK)
    # 2026-11-01: 01:00-02:00 happens twice. 05:15 UTC is the first 01:15 (EDT), 06:15 UTC the second (EST).
    assert hours.is_open_at(datetime(2026, 11, 1, 5, 15, tzinfo=UTC))
    assert hours.is_open_at(datetime(2026, 11, 1, 6, 15, tzinfo=UTC))
    assert not hours.is_open_at(datetime(2026, 11, 1, 6, 45, tzinfo=UTC))  # 01:45 EST


def test_phoenix_has_no_daylight_saving():
    hours = OpeningHours(WEEKDAY_HOURS, "America/Phoenix")
    assert hours.is_open_at(datetime(2026, 7, 6, 15, 0, tzinfo=UTC))  # 08:00 MST in July
    assert hours.is_open_at(datetime(2026, 1, 5, 15, 0, tzinfo=UTC))  # 08:00 MST in January


def test_closure_overrides_an_otherwise_open_day():
    closure = Closure(starts=date(2026, 11, 23), ends=date(2026, 11, 24), reason="inventory")
    hours = OpeningHours(WEEKDAY_HOURS, NEW_YORK, closures=(closure,))
    assert not hours.is_open_at(at("2026-11-23T09:00"))
    assert not hours.is_open_at(at("2026-11-24T09:00"))
    assert hours.is_open_at(at("2026-11-25T09:00"))
    assert hours.next_open_after(at("2026-11-23T09:00")) == at("2026-11-25T08:00")


def test_public_holiday_calendar_closes_the_day():
    hours = OpeningHours(WEEKDAY_HOURS, NEW_YORK, holiday_calendar="US")
    assert not hours.is_open_at(at("2026-11-26T09:00"))  # Thanksgiving
    assert OpeningHours(WEEKDAY_HOURS, NEW_YORK).is_open_at(at("2026-11-26T09:00"))


def test_next_open_after_lunch_evening_and_weekend():
    hours = OpeningHours(WEEKDAY_HOURS, NEW_YORK)
    assert hours.next_open_after(at("2026-11-23T12:10")) == at("2026-11-23T13:00")
    assert hours.next_open_after(at("2026-11-27T18:00")) == at("2026-11-30T08:00")
    assert hours.next_open_after(at("2026-11-23T09:00")) == at("2026-11-23T09:00")
    assert OpeningHours(WeeklyHours(), NEW_YORK).next_open_after(at("2026-11-23T09:00")) is None

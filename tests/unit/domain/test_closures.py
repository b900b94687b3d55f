"""Closures of a line and of its practice, whole days or part of a day, and an emergency close: dates reckoned from
now (the next daylight-saving change in Chicago, the coming week), never fixed."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from switchboard.rules.hours import Closure, WeeklyHours
from switchboard.rules.lines import EmergencyClose, EmergencyCloseRequest
from switchboard.rules.opening import StoredClosure, StoredEmergencyClose, line_opening_hours
from tests.clock import CLINIC_TIMEZONE, coming_week, days_from_now, wall_clock

EVERY_DAY = WeeklyHours(**{day: [{"opens": "08:00", "closes": "17:00"}]
                           for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


def next_clock_change(timezone: str = CLINIC_TIMEZONE) -> date:
    """The next day whose noon is on another UTC offset than the day before's: a spring-forward or fall-back day."""
    zone, day = ZoneInfo(timezone), datetime.now(UTC).astimezone(ZoneInfo(timezone)).date() + timedelta(days=1)
    while True:
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            return day
        day += timedelta(days=1)


def hours_with(practice_closures=(), line_closures=(), emergency=None):
    return line_opening_hours(practice_hours=EVERY_DAY, practice_timezone=CLINIC_TIMEZONE,
                              practice_closures=practice_closures, holiday_calendar=None,
                              line_closures=line_closures, emergency_close=emergency)


def test_a_part_day_closure_closes_at_its_minute_on_a_daylight_saving_day():
    change = next_clock_change()
    hours = hours_with(line_closures=[Closure(starts=change, ends=change, from_time="12:00")])
    assert hours.is_open_at(wall_clock(change, "11:59"))
    assert not hours.is_open_at(wall_clock(change, "12:00"))
    assert not hours.is_open_at(wall_clock(change, "16:59"))
    assert hours.is_open_at(wall_clock(change + timedelta(days=1), "08:00"))
    assert hours.next_open_after(wall_clock(change, "12:00")) == wall_clock(change + timedelta(days=1), "08:00")


def test_a_morning_closure_reopens_at_its_until_time_the_day_after_a_clock_change():
    change = next_clock_change()
    day = change + timedelta(days=1)
    hours = hours_with(practice_closures=[Closure(starts=change, ends=day, from_time="16:00", until_time="10:30")])
    assert hours.is_open_at(wall_clock(change, "15:59"))
    assert not hours.is_open_at(wall_clock(change, "16:00"))
    assert not hours.is_open_at(wall_clock(day, "10:29"))
    assert hours.is_open_at(wall_clock(day, "10:30"))
    assert hours.next_open_after(wall_clock(day, "08:00")) == wall_clock(day, "10:30")


def test_the_stored_closures_read_as_the_validated_ones():
    change = next_clock_change()
    closure = Closure(starts=change, ends=change, from_time="09:15", until_time="13:45")
    validated = hours_with(line_closures=[closure])
    stored = hours_with(line_closures=[StoredClosure.from_stored(closure.model_dump(mode="json"))])
    for clock in ("09:14", "09:15", "13:44", "13:45"):
        moment = wall_clock(change, clock)
        assert stored.is_open_at(moment) == validated.is_open_at(moment), clock
        assert stored.next_open_after(moment) == validated.next_open_after(moment), clock


def test_the_line_is_closed_when_its_own_or_its_practices_closure_covers_the_moment():
    week = coming_week()
    practice = [Closure(starts=week.day("tue"), ends=week.day("tue"), reason="training")]
    line = [Closure(starts=week.day("thu"), ends=week.day("thu"), from_time="13:00", reason="move")]
    hours = hours_with(practice, line)
    assert not hours.is_open_at(week.at("tue", "10:00"))
    assert hours.is_open_at(week.at("thu", "12:59"))
    assert not hours.is_open_at(week.at("thu", "13:00"))
    assert hours.is_open_at(week.at("wed", "10:00"))
    assert hours_with(practice).is_open_at(week.at("thu", "14:00"))  # the line's closure is the line's alone


def test_an_emergency_close_holds_until_it_reopens_by_itself():
    week = coming_week()
    closed_at, reopens_at = week.at("mon", "09:30"), week.at("mon", "11:00")
    hours = hours_with(emergency=StoredEmergencyClose(closed_at, reopens_at))
    assert hours.is_open_at(week.at("mon", "09:29"))  # a text that came in before the close was decided open
    assert not hours.is_open_at(week.at("mon", "10:59"))
    assert hours.is_open_at(week.at("mon", "11:00"))
    assert hours.next_open_after(week.at("mon", "10:00")) == reopens_at
    overnight = hours_with(emergency=StoredEmergencyClose(closed_at, week.at("mon", "20:00")))
    assert overnight.next_open_after(week.at("mon", "10:00")) == week.at("tue", "08:00")
    card = EmergencyClose(reason="Flooded", closed_at=closed_at, reopens_at=reopens_at, closed_by="a@clinic.test")
    assert card.is_on(week.at("mon", "10:00")) and not card.is_on(reopens_at)


DAY, NEXT_DAY = days_from_now(30).isoformat(), days_from_now(31).isoformat()


@pytest.mark.parametrize(("closure", "field"), [
    ({"starts": NEXT_DAY, "ends": DAY}, "ends"),
    ({"starts": DAY, "ends": DAY, "from_time": "12:00", "until_time": "12:00"}, "until_time"),
    ({"starts": DAY, "ends": DAY, "from_time": "14:00", "until_time": "09:00"}, "until_time"),
    ({"starts": DAY, "ends": DAY, "from_time": "24:00"}, "from_time"),
    ({"starts": DAY, "ends": NEXT_DAY, "until_time": "00:00"}, "until_time"),
    ({"starts": DAY, "ends": DAY, "from_time": "noon"}, "from_time"),
])
def test_an_impossible_closure_is_refused_naming_its_field(closure, field):
    with pytest.raises(ValidationError) as refused:
        Closure.model_validate(closure)
    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_a_range_may_end_earlier_on_its_last_days_clock_than_it_began_on_its_first():
    closure = Closure.model_validate({"starts": DAY, "ends": NEXT_DAY, "from_time": "18:00", "until_time": "09:00"})
    assert closure.until_time == "09:00"


def test_an_emergency_close_reopens_in_the_future_within_two_weeks():
    now = datetime.now(UTC)
    for reopens_at, ok in ((now + timedelta(hours=2), True), (now - timedelta(minutes=1), False),
                           (now + timedelta(days=14, minutes=1), False)):
        request = EmergencyCloseRequest(reason="Power cut", reopens_at=reopens_at)
        if ok:
            request.check(now)
        else:
            with pytest.raises(Exception, match="future|days ahead"):
                request.check(now)

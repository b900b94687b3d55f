"""Ring groups on a schedule: each window of the open hours rings its own group, in the line's timezone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from switchboard.rules.call_routing import NOT_FOR_CALLS, CallRules, Dial, Say, route_call, shown_caller
from switchboard.rules.forwarding import Forwarding, routing_summary
from switchboard.rules.opening import OpeningHours

NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FRONT_DESK, NURSES, ON_CALL, OTHER = "+12125550101", "+12125550102", "+12125550150", "+12125550160"
LINE, PATIENT = "+12125550199", "+14155552671"


def next_dst_change() -> date:
    """The local date of America/New_York's next change of clocks after now."""
    moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    offset = moment.astimezone(NEW_YORK).utcoffset()
    for _ in range(24 * 400):
        moment += timedelta(hours=1)
        if moment.astimezone(NEW_YORK).utcoffset() != offset:
            return moment.astimezone(NEW_YORK).date()
    raise AssertionError("no DST change within 400 days")


def stored(**forwarding):
    """Saved as the admin API saves it: validated, then dumped."""
    return CallRules.from_stored(Forwarding.model_validate(forwarding).model_dump(mode="json"))


SCHEDULE = {
    "ring_windows": [
        {"name": "Front desk", "days": EVERY_DAY, "opens": "08:00", "closes": "12:00",
         "ring": {"numbers": [FRONT_DESK], "timeout_seconds": 20}},
        {"name": "Nurses", "days": EVERY_DAY, "opens": "12:00", "closes": "17:00",
         "ring": {"numbers": [NURSES, OTHER], "timeout_seconds": 30}},
    ],
    "after_hours": {"ring": {"numbers": [ON_CALL]}},
}
OPEN_ALL_DAY = OpeningHours.from_stored({day: [{"opens": "07:00", "closes": "19:00"}] for day in EVERY_DAY},
                                        "America/New_York")


def at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=NEW_YORK)


def rung(moment: datetime, rules=None) -> list[str] | str:
    route = route_call(rules or stored(**SCHEDULE), OPEN_ALL_DAY, moment, caller_id=PATIENT)
    return route.numbers if isinstance(route, Dial) else route.text


@pytest.mark.parametrize("days_from_change", [-1, 0, 1])
def test_the_front_desk_rings_until_noon_and_the_nurses_from_noon_across_a_dst_change(days_from_change):
    day = next_dst_change() + timedelta(days=days_from_change)
    assert rung(at(day, "11:59")) == [FRONT_DESK]
    assert rung(at(day, "12:00")) == [NURSES, OTHER]
    assert rung(at(day, "16:59")) == [NURSES, OTHER]


def test_the_windows_keep_to_the_wall_clock_while_the_utc_offset_moves():
    change = next_dst_change()
    before, after = at(change - timedelta(days=1), "12:00"), at(change + timedelta(days=1), "12:00")
    assert before.utcoffset() != after.utcoffset()
    # the same instant of UTC a day later is 11:00 or 13:00 on the clock: another group answers then
    shifted = (before.astimezone(UTC) + timedelta(days=2)).astimezone(NEW_YORK)
    assert shifted.strftime("%H:%M") in {"11:00", "13:00"}
    assert rung(after) == [NURSES, OTHER]
    assert rung(shifted) == ([FRONT_DESK] if shifted.hour == 11 else [NURSES, OTHER])


def test_open_hours_outside_every_window_take_the_after_hours_route_and_closed_hours_too():
    day = next_dst_change() + timedelta(days=2)
    assert rung(at(day, "07:30")) == [ON_CALL]  # open, but before the front desk's window
    assert rung(at(day, "17:30")) == [ON_CALL]
    assert rung(at(day, "20:00")) == [ON_CALL]  # closed


def test_a_window_on_some_days_only_and_the_open_hours_group_otherwise():
    rules = stored(open_hours={"numbers": [OTHER]},
                   ring_windows=[{"name": "Saturday nurses", "days": ["sat"], "opens": "09:00", "closes": "13:00",
                                  "ring": {"numbers": [NURSES]}}])
    saturday = next_dst_change() + timedelta(days=(5 - next_dst_change().weekday()) % 7)
    assert rung(at(saturday, "10:00"), rules) == [NURSES]
    assert rung(at(saturday + timedelta(days=1), "10:00"), rules) == [OTHER]


def test_a_stored_single_open_hours_group_still_rings_all_open_hours():
    rules = CallRules.from_stored({"open_hours": {"numbers": [FRONT_DESK], "timeout_seconds": 25},
                                   "after_hours": None, "linked_line_id": None})
    day = next_dst_change()
    assert rung(at(day, "07:00"), rules) == [FRONT_DESK]
    assert rung(at(day, "18:59"), rules) == [FRONT_DESK]
    assert rung(at(day, "19:00"), rules) != [FRONT_DESK]


def test_no_windows_and_no_open_hours_group_is_still_texts_only_in_open_hours():
    rules = stored(after_hours={"ring": {"numbers": [ON_CALL]}})
    assert isinstance(route_call(rules, OPEN_ALL_DAY, at(next_dst_change(), "10:00"), caller_id=LINE), Say)
    assert rung(at(next_dst_change(), "10:00"), rules) == NOT_FOR_CALLS


@pytest.mark.parametrize("window, field_message", [
    ({"opens": "12:00", "closes": "08:00"}, "close after it opens"),
    ({"days": ["mon", "mon"]}, "lists a day twice"),
    ({"days": ["someday"]}, "days"),
])
def test_a_bad_window_is_refused_with_its_reason(window, field_message):
    base = {"name": "Front desk", "days": ["mon"], "opens": "08:00", "closes": "12:00",
            "ring": {"numbers": [FRONT_DESK]}}
    with pytest.raises(ValidationError, match=field_message):
        Forwarding.model_validate({"ring_windows": [{**base, **window}]})


def test_overlapping_windows_are_refused_naming_both():
    with pytest.raises(ValidationError, match="'Front desk' and 'Nurses' overlap on mon"):
        Forwarding.model_validate({"ring_windows": [
            {"name": "Front desk", "days": ["mon"], "opens": "08:00", "closes": "12:30",
             "ring": {"numbers": [FRONT_DESK]}},
            {"name": "Nurses", "days": ["mon", "tue"], "opens": "12:00", "closes": "17:00",
             "ring": {"numbers": [NURSES]}},
        ]})


def test_the_card_names_each_window_and_its_group():
    summary = routing_summary(Forwarding.model_validate(SCHEDULE))
    assert "Front desk (Mon, Tue, Wed, Thu, Fri, Sat, Sun 08:00–12:00) rings (212) 555-0101" in summary
    assert "Nurses" in summary and "(212) 555-0102, (212) 555-0160 together" in summary


def test_the_desk_sees_the_patients_number_unless_the_caller_withheld_it():
    assert shown_caller(PATIENT, LINE) == PATIENT
    assert shown_caller("anonymous", LINE) == LINE
    assert shown_caller("", LINE) == LINE

import pytest
from pydantic import ValidationError

from switchboard.hours import WeeklyHours


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

"""Where a call goes on to when the numbers rung do not answer: the next number of a group ringing in order, then
the after-hours route, then voicemail or a message. Pure: the rules as saved, a moment, the <Dial>'s outcome."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from switchboard.rules.call_routing import (
    NOBODY_ANSWERED,
    CallRules,
    Dial,
    HangUp,
    Hop,
    Ring,
    Say,
    Voicemail,
    route_call,
)
from switchboard.rules.forwarding import Forwarding, routing_summary
from switchboard.rules.opening import OpeningHours

CHICAGO = ZoneInfo("America/Chicago")
DESK = ["+13125550101", "+13125550102", "+13125550103"]
ON_CALL, PATIENT = "+13125550150", "+14155552671"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
HOURS = OpeningHours.from_stored({day: [{"opens": "08:00", "closes": "17:00"}] for day in WEEKDAYS}, "America/Chicago")
VOICEMAIL = {"voicemail": {"greeting": "Please leave a message after the beep.", "max_seconds": 90}}


def stored(**forwarding):
    """Saved as the admin API saves it: validated, then dumped."""
    return CallRules.from_stored(Forwarding.model_validate(forwarding).model_dump(mode="json"))


def monday(clock: str) -> datetime:
    today = datetime.now(CHICAGO).date()
    return datetime.combine(today + timedelta(days=(7 - today.weekday()) % 7 or 7), time.fromisoformat(clock),
                            tzinfo=CHICAGO)


OPEN, EVENING = monday("10:00"), monday("20:00")


def route(rules, at=OPEN, after=None, dial_status=None):
    return route_call(rules, HOURS, at, caller_id=PATIENT, after=after, dial_status=dial_status)


def in_order(*numbers, timeout=15):
    return {"numbers": list(numbers), "mode": "in_order", "timeout_seconds": timeout}


def test_a_group_ringing_in_order_rings_its_first_number_for_its_own_ring_time():
    assert route(stored(open_hours=in_order(*DESK))) == Dial([DESK[0]], 15, PATIENT, Hop("open", 0))


def test_a_group_ringing_together_rings_every_number_at_once_by_default():
    rules = stored(open_hours={"numbers": DESK, "timeout_seconds": 25})
    assert route(rules) == Dial(DESK, 25, PATIENT, Hop("open", 0))


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed"])
def test_an_unanswered_number_rings_the_next_one_in_order(status):
    rules = stored(open_hours=in_order(*DESK))
    assert route(rules, after=Hop("open", 0), dial_status=status) == Dial([DESK[1]], 15, PATIENT, Hop("open", 1))
    assert route(rules, after=Hop("open", 1), dial_status=status).numbers == [DESK[2]]


@pytest.mark.parametrize("status", ["completed", "answered", "canceled"])
def test_an_answered_or_abandoned_call_hangs_up(status):
    rules = stored(open_hours=in_order(*DESK), after_hours=VOICEMAIL)
    assert route(rules, after=Hop("open", 0), dial_status=status) == HangUp()


def test_after_the_last_number_the_open_hours_call_takes_the_after_hours_route():
    rules = stored(open_hours=in_order(*DESK), after_hours={"ring": {"numbers": [ON_CALL], "timeout_seconds": 30}})
    assert route(rules, after=Hop("open", 2), dial_status="no-answer") == Dial([ON_CALL], 30, PATIENT,
                                                                               Hop("after_hours", 0))


def test_an_unanswered_group_ringing_together_goes_straight_to_the_after_hours_message():
    rules = stored(open_hours={"numbers": DESK}, after_hours={"say": {"text": "We are busy. Please text us."}})
    assert route(rules, after=Hop("open", 0), dial_status="busy") == Say("We are busy. Please text us.")


def test_an_unanswered_open_hours_call_goes_to_voicemail():
    rules = stored(open_hours={"numbers": DESK}, after_hours=VOICEMAIL)
    assert route(rules, after=Hop("open", 0), dial_status="no-answer") == Voicemail(
        Say("Please leave a message after the beep."), 90)


def test_with_no_after_hours_route_an_unanswered_call_hears_that_nobody_answered():
    rules = stored(open_hours={"numbers": DESK})
    assert route(rules, after=Hop("open", 0), dial_status="no-answer") == Say(NOBODY_ANSWERED)


def test_an_unanswered_after_hours_ring_says_nobody_answered_and_hangs_up():
    rules = stored(open_hours={"numbers": DESK}, after_hours={"ring": in_order(ON_CALL, DESK[2])})
    assert route(rules, at=EVENING) == Dial([ON_CALL], 15, PATIENT, Hop("after_hours", 0))
    assert route(rules, at=EVENING, after=Hop("after_hours", 0), dial_status="no-answer").numbers == [DESK[2]]
    assert route(rules, at=EVENING, after=Hop("after_hours", 1), dial_status="no-answer") == Say(NOBODY_ANSWERED)


def test_an_unanswered_after_hours_ring_falls_to_voicemail_where_the_rules_have_one():
    rules = CallRules(after_hours_ring=Ring((ON_CALL,), 20),
                      after_hours_voicemail=Voicemail(Say("Leave a message."), 60))
    assert route(rules, at=EVENING, after=Hop("after_hours", 0), dial_status="no-answer") == Voicemail(
        Say("Leave a message."), 60)


def test_after_hours_voicemail_answers_at_once():
    assert route(stored(open_hours={"numbers": DESK}, after_hours=VOICEMAIL), at=EVENING).max_seconds == 90


def test_a_ring_window_is_named_by_its_place_and_rings_in_order():
    rules = stored(ring_windows=[{"name": "Mornings", "days": WEEKDAYS, "opens": "08:00", "closes": "09:00",
                                  "ring": {"numbers": [ON_CALL]}},
                                 {"name": "Desk", "days": WEEKDAYS, "opens": "09:00", "closes": "17:00",
                                  "ring": in_order(*DESK[:2])}],
                   after_hours=VOICEMAIL)
    assert route(rules).hop == Hop("window-1", 0)
    assert route(rules, after=Hop("window-1", 0), dial_status="no-answer").numbers == [DESK[1]]
    assert isinstance(route(rules, after=Hop("window-1", 1), dial_status="no-answer"), Voicemail)


def test_a_hop_the_rules_no_longer_have_moves_on_instead_of_ringing_again():
    """The rules changed while the call rang: a group gone or shorter is treated as unanswered to its end."""
    rules = stored(open_hours=in_order(*DESK[:2]), after_hours=VOICEMAIL)
    assert isinstance(route(rules, after=Hop("window-4", 0), dial_status="no-answer"), Voicemail)
    assert isinstance(route(rules, after=Hop("open", 7), dial_status="no-answer"), Voicemail)
    assert route(None, after=Hop("open", 0), dial_status="no-answer") == Say(NOBODY_ANSWERED)


def test_groups_saved_before_ringing_in_order_existed_ring_together():
    rules = CallRules.from_stored({"open_hours": {"numbers": DESK[:2], "timeout_seconds": 20}})
    assert route(rules).numbers == DESK[:2]


@pytest.mark.parametrize("after_hours", [
    {}, {"say": {"text": "Closed."}, "voicemail": VOICEMAIL["voicemail"]},
    {"ring": {"numbers": [ON_CALL]}, "say": {"text": "Closed."}},
    {"voicemail": {"greeting": " "}}, {"voicemail": {"greeting": "Hi", "max_seconds": 5}},
    {"voicemail": {"greeting": "Hi", "max_seconds": 601}}, {"voicemail": {"greeting": "Hi", "beep": False}},
])
def test_after_hours_takes_one_of_ring_say_or_voicemail_or_a_ring_with_a_voicemail(after_hours):
    with pytest.raises(ValidationError):
        Forwarding.model_validate({"after_hours": after_hours})


def test_a_ring_group_rings_together_or_in_order_and_nothing_else():
    with pytest.raises(ValidationError):
        Forwarding.model_validate({"open_hours": {"numbers": DESK, "mode": "round_robin"}})
    assert Forwarding.model_validate({"open_hours": {"numbers": DESK}}).open_hours.mode == "simultaneous"


def test_the_summary_says_in_order_ringing_and_voicemail():
    forwarding = Forwarding.model_validate({"open_hours": in_order(*DESK[:2]), "after_hours": VOICEMAIL})
    assert routing_summary(forwarding) == ("Open hours: rings (312) 555-0101, (312) 555-0102 in order; "
                                           "after hours: voicemail")

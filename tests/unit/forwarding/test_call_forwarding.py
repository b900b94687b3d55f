"""Voice calls to texting lines: signed requests in, TwiML out."""

import xml.etree.ElementTree as ElementTree
from urllib.parse import urlencode

import pytest
import time_machine

from switchboard.carrier import sign
from tests.claims import claims_of
from tests.unit.conftest import webhook_event

HOURS = {day: [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
         for day in ("mon", "tue", "wed", "thu", "fri")}
DESK = ["+13125550101", "+13125550102", "+13125550103"]
CELL = "+13125550150"
# In Chicago, in the coming week (the call is answered with the clock there; it writes nothing)
OPEN, LUNCH, EVENING, CLOSURE_DAY = ("mon", "10:00"), ("mon", "12:30"), ("mon", "20:00"), ("wed", "10:00")


@pytest.fixture
def call(call_api, carrier_account, setup, week):
    def place(to: str | None = None, *, at: tuple[str, str] = OPEN, signature: str | None = None):
        params = {"CallSid": "CA" + "1" * 32, "AccountSid": carrier_account.account_sid, "From": "+14155552671",
                  "To": to or setup.line["number"], "CallStatus": "ringing", "Direction": "inbound",
                  "ApiVersion": "2010-04-01"}
        url = "https://api.test/local/twilio/voice"
        signed = sign(url, params, carrier_account.auth_token) if signature is None else signature
        event = webhook_event("POST", "/twilio/voice", body=urlencode(params), resource="/twilio/voice",
                              content_type="application/x-www-form-urlencoded", headers={"X-Twilio-Signature": signed})
        with time_machine.travel(week.at(*at), tick=False):
            answer = call_api("call_forwarding", event)
        if answer.status != 200:
            return answer.status, None
        return answer.status, ElementTree.fromstring(answer.body)

    return place


@pytest.fixture
def rules(admin_api, setup):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"hours": HOURS})

    def set_rules(forwarding, line_id=None):
        line = line_id or setup.line["line_id"]
        return admin_api("PUT", f"/api/practices/{setup.practice_id}/lines/{line}/forwarding",
                         {"forwarding": forwarding})

    return set_rules


def dialed(twiml):
    dial = twiml.find("Dial")
    return None if dial is None else (dial.get("callerId"), [n.text for n in dial.findall("Number")],
                                      dial.get("timeout"))


def spoken(twiml):
    say = twiml.find("Say")
    return None if say is None else (say.text, twiml.find("Hangup") is not None)


FORWARD = {"open_hours": {"numbers": [DESK[0]], "timeout_seconds": 25},
           "after_hours": {"say": {"text": "We are closed. Please text us.", "voice": "alice"}}}


def test_open_hours_dial_the_destination_showing_the_patients_number(call, rules, setup):
    rules(FORWARD)
    status, twiml = call(at=OPEN)
    assert status == 200
    assert dialed(twiml) == ("+14155552671", [DESK[0]], "25")


def test_lunch_break_and_after_hours_speak_the_message_then_hang_up(call, rules):
    rules(FORWARD)
    assert spoken(call(at=LUNCH)[1]) == ("We are closed. Please text us.", True)
    assert spoken(call(at=EVENING)[1]) == ("We are closed. Please text us.", True)


def test_a_closure_day_uses_the_after_hours_route(call, rules, admin_api, setup, week):
    rules({"open_hours": {"numbers": [DESK[0]]}, "after_hours": {"ring": {"numbers": [CELL]}}})
    closed = week.day("wed").isoformat()
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"closures": [{"starts": closed, "ends": closed}]})
    assert dialed(call(at=CLOSURE_DAY)[1])[1] == [CELL]
    assert dialed(call(at=OPEN)[1])[1] == [DESK[0]]


def test_the_lines_own_hours_and_timezone_decide_where_a_call_goes(call, rules, admin_api, setup):
    rules({"open_hours": {"numbers": [DESK[0]]}, "after_hours": {"ring": {"numbers": [CELL]}}})
    line = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
    # 10:00 on Monday in Chicago (the practice is open) is 08:00 in Los Angeles
    assert admin_api("PATCH", line, {"hours": {"mon": [{"opens": "09:00", "closes": "17:00"}]},
                                     "timezone": "America/Los_Angeles"}).status == 200
    assert dialed(call(at=OPEN)[1])[1] == [CELL]
    assert dialed(call(at=("mon", "11:30"))[1])[1] == [DESK[0]]  # 09:30 in Los Angeles
    assert admin_api("PATCH", line, {"hours": {}}).status == 200  # closed all week, whatever the practice's hours
    assert dialed(call(at=OPEN)[1])[1] == [CELL]


def test_a_ring_group_rings_every_number_together(call, rules):
    rules({"open_hours": {"numbers": DESK, "timeout_seconds": 15}})
    assert dialed(call()[1])[1:] == (DESK, "15")


def test_a_linked_line_follows_its_targets_rules(call, rules, admin_api, setup, carrier_account):
    number = admin_api("GET", f"/api/practices/{setup.practice_id}/available-numbers?area_code=312").body[0]
    target = admin_api("POST", f"/api/practices/{setup.practice_id}/lines/purchase",
                       {"display_name": "Back office", "number": number["phone_number"]}).body
    rules({"open_hours": {"numbers": [CELL]}}, line_id=target["line_id"])
    assert rules({"linked_line_id": target["line_id"]}).status == 200
    caller_id, numbers, _ = dialed(call()[1])
    assert (caller_id, numbers) == ("+14155552671", [CELL])
    card = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}").body
    assert card["calls"] == "linked"
    assert card["routing_summary"].startswith("Linked to Back office")
    assert "(312) 555-0150" in card["routing_summary"]


def test_a_chain_of_two_links(call, rules, admin_api, setup):
    numbers = admin_api("GET", f"/api/practices/{setup.practice_id}/available-numbers?area_code=312").body
    middle, end = (admin_api("POST", f"/api/practices/{setup.practice_id}/lines/purchase",
                             {"display_name": name, "number": numbers[n]["phone_number"]}).body
                   for n, name in enumerate(["Middle", "End"]))
    rules({"open_hours": {"numbers": DESK[:2]}}, line_id=end["line_id"])
    rules({"linked_line_id": end["line_id"]}, line_id=middle["line_id"])
    rules({"linked_line_id": middle["line_id"]})
    assert dialed(call()[1])[1] == DESK[:2]


def test_a_loop_and_a_self_link_are_refused_naming_the_loop(rules, admin_api, setup):
    number = admin_api("GET", f"/api/practices/{setup.practice_id}/available-numbers?area_code=312").body[0]
    other = admin_api("POST", f"/api/practices/{setup.practice_id}/lines/purchase",
                      {"display_name": "Back office", "number": number["phone_number"]}).body
    assert rules({"linked_line_id": other["line_id"]}).status == 200
    loop = rules({"linked_line_id": setup.line["line_id"]}, line_id=other["line_id"])
    assert loop.status == 409
    assert loop.body["message"] == "this link would make a loop: Back office → Front desk → Back office"
    assert loop.body["errors"][0]["field"] == "forwarding.linked_line_id"
    itself = rules({"linked_line_id": setup.line["line_id"]})
    assert itself.status == 422


def test_forwarding_to_the_lines_own_number_is_refused(rules, setup):
    answer = rules({"open_hours": {"numbers": [setup.line["number"]]}})
    assert answer.status == 422
    assert "its own number" in answer.body["errors"][0]["reason"]


def test_destinations_must_be_valid_numbers_and_at_most_ten(rules):
    bad = rules({"open_hours": {"numbers": ["12345"]}})
    assert bad.status == 422 and bad.body["errors"][0]["field"].startswith("forwarding.open_hours.numbers")
    assert rules({"open_hours": {"numbers": [f"+1312555{n:04d}" for n in range(200, 211)]}}).status == 422


def test_no_rules_speak_the_texting_notice(call, rules, admin_api, setup):
    text, hangs_up = spoken(call()[1])
    assert "for text messages only" in text and hangs_up
    assert admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}").body[
        "calls"] == "unassigned"


def test_a_disabled_line_speaks_the_notice(call, rules, admin_api, setup):
    rules(FORWARD)
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/disable")
    assert "for text messages only" in spoken(call()[1])[0]


def test_an_unknown_number_gets_a_polite_message_logged_without_the_number(call, caplog):
    text, _ = spoken(call(to="+13125550177")[1])
    assert text == "Sorry, this number is not in service. Goodbye."
    assert "3125550177" not in caplog.text


def test_forged_stale_and_missing_signatures_are_403(call, rules):
    rules(FORWARD)
    assert call(signature="forged")[0] == 403
    assert call(signature="")[0] == 403


def test_card_says_forwarding_with_a_summary(rules, admin_api, setup):
    rules({"open_hours": {"numbers": DESK[:2]}, "after_hours": {"ring": {"numbers": [CELL]}}})
    card = admin_api("GET", f"/api/practices/{setup.practice_id}/lines").body[0]
    assert card["calls"] == "forwarding"
    assert card["routing_summary"] == ("Open hours: rings (312) 555-0101, (312) 555-0102 together; "
                                       "after hours: rings (312) 555-0150")


def test_only_an_enterprise_admin_links_a_line_to_another_practices_line(admin_api, setup):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    number = admin_api("GET", f"/api/practices/{other}/available-numbers?area_code=312").body[0]
    elsewhere = admin_api("POST", f"/api/practices/{other}/lines/purchase",
                          {"display_name": "Oak desk", "number": number["phone_number"]}).body
    manager = admin_api("POST", f"/api/practices/{setup.practice_id}/users",
                        {"email": "mo@maple.com", "name": "Mo", "role": "manager", "line_ids": []}).body
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/forwarding"
    link = {"forwarding": {"linked_line_id": elsewhere["line_id"]}}
    refused = admin_api("PUT", path, link, claims=claims_of(manager))
    assert refused.status == 422
    assert refused.body["errors"][0]["field"] == "forwarding.linked_line_id"
    card = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}").body
    assert card["calls"] != "linked"
    assert admin_api("PUT", path, link).status == 200  # the enterprise admin may


def test_a_lines_own_closure_takes_the_after_hours_route_and_the_practices_still_counts(call, rules, admin_api,
                                                                                       setup, week):
    rules({"open_hours": {"numbers": [DESK[0]]}, "after_hours": {"ring": {"numbers": [CELL]}}})
    line = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
    thursday, wednesday = week.day("thu").isoformat(), week.day("wed").isoformat()
    assert admin_api("PATCH", line, {"closures": [{"starts": thursday, "ends": thursday, "until_time": "11:00"}]}
                     ).status == 200
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"closures": [{"starts": wednesday, "ends": wednesday}]})
    assert dialed(call(at=("thu", "10:59"))[1])[1] == [CELL]
    assert dialed(call(at=("thu", "11:00"))[1])[1] == [DESK[0]]
    assert dialed(call(at=CLOSURE_DAY)[1])[1] == [CELL]
    assert dialed(call(at=OPEN)[1])[1] == [DESK[0]]


def test_an_emergency_close_speaks_the_after_hours_message_until_reopened(call, rules, admin_api, setup, week,
                                                                         clinic_clock):
    rules(FORWARD)
    line = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
    clinic_clock.move_to(week.at("mon", "09:00"))
    assert admin_api("POST", f"{line}/emergency-close",
                     {"reason": "Fire alarm", "reopens_at": week.at("mon", "11:00").isoformat()}).status == 200
    assert spoken(call(at=OPEN)[1]) == ("We are closed. Please text us.", True)
    assert dialed(call(at=("mon", "11:00"))[1])[1] == [DESK[0]]  # reopened by itself
    assert admin_api("DELETE", f"{line}/emergency-close").status == 200
    assert dialed(call(at=OPEN)[1])[1] == [DESK[0]]

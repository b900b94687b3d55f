"""A call to a texting line on the local stack, walked through the carrier sandbox as Twilio would run it: the desk
numbers ring in order, then the after-hours route takes a voicemail that lands once in the caller's conversation; an
emergency close sends calls and texts the after-hours way until the line is reopened."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.clock import wait_until

pytestmark = pytest.mark.integration
CALLER = "+14155552688"
DESK = ["+13125550111", "+13125550112"]
GREETING = "You have reached Maple Family Clinic. Please leave a message after the beep."
# Open every minute of every day, so the call meets open hours whatever the date and time of the run.
ALWAYS_OPEN = {day: [{"opens": "00:00", "closes": "24:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                                        "sun")}
EVENTUALLY_SECONDS = 60.0  # the local stack answers in-process, but a busy machine can be slow


def admin_api(stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    answer = stack.request(method, f"/local{path}", token=stack.token("dev@clinic.test", ("admin",)), json_body=body)
    return answer.status, (answer.json() if answer.body else None)


def test_an_unanswered_call_rings_each_desk_number_then_leaves_one_voicemail_in_the_conversation(local_stack):
    status, practice = admin_api(local_stack, "POST", "/api/practices",
                                 {"name": "Maple Family Clinic", "timezone": "America/Chicago", "hours": ALWAYS_OPEN})
    assert status == 201, practice
    p = practice["practice_id"]
    status, offered = admin_api(local_stack, "GET", f"/api/practices/{p}/available-numbers?area_code=312")
    assert status == 200 and offered
    status, line = admin_api(local_stack, "POST", f"/api/practices/{p}/lines/purchase",
                             {"display_name": "Front desk", "number": offered[0]["phone_number"]})
    assert status == 201, line
    forwarding = {"open_hours": {"numbers": DESK, "mode": "in_order", "timeout_seconds": 15},
                  "after_hours": {"voicemail": {"greeting": GREETING}}}
    status, body = admin_api(local_stack, "PUT", f"/api/practices/{p}/lines/{line['line_id']}/forwarding",
                             {"forwarding": forwarding})
    assert status == 200, body

    answer = local_stack.sandbox("POST", "/sandbox/inbound/call", {"from": CALLER, "to": line["number"]})
    assert answer["status"] == 200, answer
    sid = answer["call_sid"]
    assert local_stack.sandbox("GET", f"/sandbox/calls/{sid}")["rang"] == [
        {"numbers": [DESK[0]], "caller_id": CALLER}]  # the desk sees who is calling

    second = local_stack.sandbox("POST", f"/sandbox/calls/{sid}/dial", {"status": "no-answer"})
    assert second["status"] == 200, second
    assert second["call"]["rang"][-1] == {"numbers": [DESK[1]], "caller_id": CALLER}

    voicemail = local_stack.sandbox("POST", f"/sandbox/calls/{sid}/dial", {"status": "no-answer"})
    assert voicemail["status"] == 200, voicemail
    assert voicemail["call"]["heard"] == [GREETING] and voicemail["call"]["waiting"]["verb"] == "Record"

    left = local_stack.sandbox("POST", f"/sandbox/calls/{sid}/record", {"duration": 42, "replay": True})
    assert left["status"] == 200 and [c["status"] for c in left["step"]["recording_callbacks"]] == [200, 200], left
    call = local_stack.sandbox("GET", f"/sandbox/calls/{sid}")
    assert call["status"] == "completed"
    assert [s["request"] for s in call["steps"]] == ["voice", "dial", "dial", "record"]

    thread_path = f"/api/practices/{p}/lines/{line['line_id']}/conversations/{urllib.parse.quote(CALLER)}"

    def voicemails() -> list[dict[str, Any]]:
        status, thread = admin_api(local_stack, "GET", thread_path)
        return [m for m in thread["messages"] if m["body"].startswith("Voicemail")] if status == 200 else []

    [message] = wait_until(voicemails, within=EVENTUALLY_SECONDS, every=0.1)
    assert (message["direction"], message["sender"], message["body"]) == ("inbound", "patient", "Voicemail (42 s)")
    assert message["recording_url"] == left["step"]["recording_url"]
    local_stack.wait_idle()
    assert len(voicemails()) == 1  # the replayed callback added nothing
    status, inbox = admin_api(local_stack, "GET", f"/api/practices/{p}/inbox")
    assert status == 200
    [conversation] = [c for c in inbox["conversations"] if c["last_message"]["body"] == "Voicemail (42 s)"]
    assert conversation["unread"] == 1


CLOSED_WORDS = "We are closed today. Please text us and we will answer when we reopen."
PATIENT = "+14155552689"


def test_an_emergency_close_sends_calls_and_texts_the_after_hours_way_until_reopened(local_stack):
    status, practice = admin_api(local_stack, "POST", "/api/practices",
                                 {"name": "Maple Family Clinic", "timezone": "America/Chicago", "hours": ALWAYS_OPEN,
                                  "after_hours": {"text": "We are closed right now."}})
    assert status == 201, practice
    p = practice["practice_id"]
    status, offered = admin_api(local_stack, "GET", f"/api/practices/{p}/available-numbers?area_code=312")
    status, line = admin_api(local_stack, "POST", f"/api/practices/{p}/lines/purchase",
                             {"display_name": "Front desk", "number": offered[0]["phone_number"]})
    assert status == 201, line
    path = f"/api/practices/{p}/lines/{line['line_id']}"
    forwarding = {"open_hours": {"numbers": [DESK[0]]}, "after_hours": {"say": {"text": CLOSED_WORDS}}}
    assert admin_api(local_stack, "PUT", f"{path}/forwarding", {"forwarding": forwarding})[0] == 200

    reopens = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    status, closed = admin_api(local_stack, "POST", f"{path}/emergency-close",
                               {"reason": "Flood", "reopens_at": reopens})
    assert status == 200 and closed["closed_now"]["reason"] == "Flood", closed
    answer = local_stack.sandbox("POST", "/sandbox/inbound/call", {"from": CALLER, "to": line["number"]})
    assert answer["status"] == 200, answer
    call = local_stack.sandbox("GET", f"/sandbox/calls/{answer['call_sid']}")
    assert call["heard"] == [CLOSED_WORDS] and call["rang"] == [], call
    local_stack.sandbox("POST", "/sandbox/inbound/sms", {"from": PATIENT, "to": line["number"], "body": "Open?"})

    def replies() -> list[str]:
        found = local_stack.sandbox("GET", f"/sandbox/messages?to={urllib.parse.quote(PATIENT)}")["messages"]
        return [m["body"] for m in found]

    assert wait_until(replies, within=EVENTUALLY_SECONDS, every=0.1) == ["We are closed right now."]

    assert admin_api(local_stack, "DELETE", f"{path}/emergency-close")[0] == 200
    again = local_stack.sandbox("POST", "/sandbox/inbound/call", {"from": CALLER, "to": line["number"]})
    assert again["status"] == 200, again
    rang = local_stack.sandbox("GET", f"/sandbox/calls/{again['call_sid']}")["rang"]
    assert rang == [{"numbers": [DESK[0]], "caller_id": CALLER}]

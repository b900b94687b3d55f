"""The carrier sandbox follows a call as Twilio does: each <Dial>'s action, the <Record>'s action and its recording
callback go back to our webhook signed, and every step the call took can be read back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from local.carrier_sandbox import CarrierSandbox
from local.carrier_sandbox.calls import parse_twiml
from local.carrier_sandbox.recorder import Received, WebhookRecorder

pytestmark = pytest.mark.no_aws

PATIENT = "+14155552671"
DESK = ["+13125550101", "+13125550102"]
GREETING = "Please leave a message after the beep."


def dial(number: str, position: int, caller_id: str = PATIENT) -> str:
    return (f'<Response><Dial callerId="{caller_id}" timeout="15" action="/twilio/voice?group=open&amp;'
            f'position={position}" method="POST"><Number>{number}</Number></Dial></Response>')


VOICEMAIL = (f'<Response><Say>{GREETING}</Say><Record maxLength="90" playBeep="true" '
             'action="/twilio/voice?recorded=1" method="POST" recordingStatusCallback="/twilio/voice?recording=1" '
             'recordingStatusCallbackMethod="POST"/><Hangup/></Response>')


def sandbox_request(sandbox: CarrierSandbox, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{sandbox.url}/sandbox/{path}", json=body, timeout=5)


def control(sandbox: CarrierSandbox, method: str, path: str, body: Any = None) -> Any:
    answer = sandbox_request(sandbox, method, path, body)
    assert answer.status_code < 300, answer.text
    return answer.json()


def signed(request: Received, token: str) -> bool:
    return bool(RequestValidator(token).validate(request.url, request.params, request.headers["X-Twilio-Signature"]))


def call(sandbox: CarrierSandbox, webhooks: WebhookRecorder, line_number: str, twiml: str) -> str:
    webhooks.answer = twiml
    return str(control(sandbox, "POST", "inbound/call", {"from": PATIENT, "to": line_number})["call_sid"])


def test_an_unanswered_dial_posts_its_action_signed_with_twilios_parameters(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, dial(DESK[0], 0))
    webhooks.answer = dial(DESK[1], 1)

    answer = control(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "no-answer"})

    _, action = webhooks.received
    assert action.url == f"{webhooks.url}/twilio/voice?group=open&position=0"  # relative to the voice URL
    assert signed(action, carrier_sandbox.auth_token)
    assert {k: action.params[k] for k in ("CallSid", "AccountSid", "From", "To", "CallStatus", "Direction",
                                          "DialCallStatus", "DialCallDuration", "ApiVersion")} == {
        "CallSid": sid, "AccountSid": carrier_sandbox.account_sid, "From": PATIENT, "To": line_number,
        "CallStatus": "in-progress", "Direction": "inbound", "DialCallStatus": "no-answer", "DialCallDuration": "0",
        "ApiVersion": "2010-04-01"}
    assert re.fullmatch(r"CA[0-9a-f]{32}", action.params["DialCallSid"]) and action.params["DialCallSid"] != sid
    assert answer["status"] == 200 and answer["call"]["status"] == "in-progress"
    assert answer["call"]["rang"] == [{"numbers": [DESK[0]], "caller_id": PATIENT},
                                      {"numbers": [DESK[1]], "caller_id": PATIENT}]


def test_a_voicemail_posts_the_record_action_then_the_recording_callback_and_may_replay_it(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, dial(DESK[0], 0))
    webhooks.answer = VOICEMAIL
    assert control(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "busy"})["call"]["heard"] == [GREETING]
    webhooks.answer = "<Response><Hangup/></Response>"

    answer = control(carrier_sandbox, "POST", f"calls/{sid}/record", {"duration": 42, "replay": True})

    action, *callbacks = webhooks.received[2:]
    recording_sid = answer["step"]["recording_sid"]
    assert re.fullmatch(r"RE[0-9a-f]{32}", recording_sid)
    recording_url = f"https://api.twilio.com/2010-04-01/Accounts/{carrier_sandbox.account_sid}/Recordings/{recording_sid}"
    assert action.url == f"{webhooks.url}/twilio/voice?recorded=1" and signed(action, carrier_sandbox.auth_token)
    assert {k: action.params[k] for k in ("RecordingUrl", "RecordingDuration", "Digits", "CallSid", "From")} == {
        "RecordingUrl": recording_url, "RecordingDuration": "42", "Digits": "hangup", "CallSid": sid, "From": PATIENT}
    assert len(callbacks) == 2 and callbacks[0].params == callbacks[1].params
    assert all(c.url == f"{webhooks.url}/twilio/voice?recording=1" and signed(c, carrier_sandbox.auth_token)
               for c in callbacks)
    assert {k: v for k, v in callbacks[0].params.items() if k != "RecordingStartTime"} == {
        "AccountSid": carrier_sandbox.account_sid, "CallSid": sid, "RecordingSid": recording_sid,
        "RecordingUrl": recording_url, "RecordingStatus": "completed", "RecordingDuration": "42",
        "RecordingChannels": "1", "RecordingSource": "RecordVerb"}
    assert [c["status"] for c in answer["step"]["recording_callbacks"]] == [200, 200]
    assert answer["call"]["status"] == "completed"


def test_the_call_shows_every_step_it_took(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, dial(DESK[0], 0))
    webhooks.answer = VOICEMAIL
    control(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "failed"})

    shown = control(carrier_sandbox, "GET", f"calls/{sid}")

    assert (shown["sid"], shown["from"], shown["to"], shown["status"]) == (sid, PATIENT, line_number, "in-progress")
    assert [s["request"] for s in shown["steps"]] == ["voice", "dial"]
    assert shown["steps"][0]["waiting"] == {"verb": "Dial", "numbers": [DESK[0]], "timeout": 15,
                                                 "action": "/twilio/voice?group=open&position=0", "method": "POST",
                                                 "caller_id": PATIENT}
    assert shown["waiting"]["verb"] == "Record" and shown["waiting"]["max_length"] == 90
    assert shown["twiml"] == VOICEMAIL and shown["heard"] == [GREETING]
    assert [c["sid"] for c in control(carrier_sandbox, "GET", "calls")["calls"]] == [sid]


def test_moving_a_call_that_does_not_wait_on_that_verb_is_409_saying_why(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, "<Response><Say>We are closed.</Say><Hangup/></Response>")

    refused = sandbox_request(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "no-answer"})
    not_recording = sandbox_request(carrier_sandbox, "POST", f"calls/{sid}/record", {"duration": 5})

    assert refused.status_code == 409 and "no <Dial>" in refused.json()["error"]
    assert not_recording.status_code == 409 and "no <Record>" in not_recording.json()["error"]
    assert len(webhooks.received) == 1
    assert control(carrier_sandbox, "GET", f"calls/{sid}")["status"] == "completed"


def test_an_unknown_call_is_404_and_an_unknown_dial_status_400(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, dial(DESK[0], 0))

    assert sandbox_request(carrier_sandbox, "GET", "calls/CA0").status_code == 404
    assert sandbox_request(carrier_sandbox, "POST", "calls/CA0/dial", {"status": "busy"}).status_code == 404
    assert sandbox_request(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "ringing"}).status_code == 400


def test_a_dial_without_an_action_goes_on_with_the_rest_of_the_document(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number,
               f"<Response><Dial>{DESK[0]}</Dial><Say>Nobody answered.</Say><Hangup/></Response>")

    answer = control(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "no-answer"})

    assert len(webhooks.received) == 1  # nothing to post
    assert answer["call"]["heard"] == ["Nobody answered."] and answer["call"]["status"] == "completed"
    assert answer["call"]["rang"] == [{"numbers": [DESK[0]], "caller_id": PATIENT}]  # Twilio shows the caller


def test_an_action_that_fails_plays_twilios_application_error_and_ends_the_call(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = call(carrier_sandbox, webhooks, line_number, dial(DESK[0], 0))
    webhooks.status = 500

    answer = control(carrier_sandbox, "POST", f"calls/{sid}/dial", {"status": "no-answer"})

    assert answer["status"] == 500 and answer["call"]["status"] == "completed"
    assert "application error" in answer["call"]["heard"][-1]


def test_calls_are_kept_across_a_restart_and_forgotten_by_reset(tmp_path: Path, webhooks: WebhookRecorder) -> None:
    from switchboard.carrier import Carrier, Credentials

    first = CarrierSandbox(tmp_path).start()
    carrier = Carrier(Credentials(first.account_sid, first.auth_token), api_url=first.url)
    number = carrier.search_numbers(area_code="404", limit=1)[0].phone_number
    carrier.buy_number(phone_number=number, sms_url="", voice_url=f"{webhooks.url}/twilio/voice")
    sid = call(first, webhooks, number, dial(DESK[0], 0))
    first.stop()
    second = CarrierSandbox(tmp_path).start()
    try:
        webhooks.answer = VOICEMAIL
        assert control(second, "POST", f"calls/{sid}/dial", {"status": "no-answer"})["call"]["heard"] == [GREETING]
        second.reset()
        assert second.calls() == []
    finally:
        second.stop()


def test_twiml_is_read_with_twilios_defaults() -> None:
    [dial_verb, say, record, hangup] = parse_twiml(
        "<Response><Dial>+13125550101</Dial><Say voice='alice'>Hi</Say><Record/><Hangup/></Response>") or []

    assert dial_verb == {"verb": "Dial", "numbers": ["+13125550101"], "timeout": 30, "action": None,
                         "method": "POST", "caller_id": None}
    assert say == {"verb": "Say", "text": "Hi", "voice": "alice", "language": None}
    assert (record["max_length"], record["play_beep"], record["recording_status_callback"]) == (3600, True, None)
    assert hangup == {"verb": "Hangup"}
    assert parse_twiml("not xml") is None and parse_twiml("<Message/>") is None

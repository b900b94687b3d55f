"""Unanswered calls and voicemail through the voice webhook: each <Dial> comes back to the same signed URL saying
which group it rang, and a recording lands once in the caller's conversation."""

import xml.etree.ElementTree as ElementTree
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import time_machine

from switchboard.carrier import sign
from tests.unit.conftest import webhook_event

HOURS = {day: [{"opens": "08:00", "closes": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}
DESK = ["+13125550101", "+13125550102"]
CALLER = "+14155552671"
CALL_SID = "CA" + "2" * 32
RECORDING_SID = "RE" + "3" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC123/Recordings/{RECORDING_SID}"
VOICE_URL = "https://api.test/local/twilio/voice"
GREETING = "You have reached Maple Clinic. Please leave a message after the beep."
FORWARD = {"open_hours": {"numbers": DESK, "mode": "in_order", "timeout_seconds": 15},
           "after_hours": {"voicemail": {"greeting": GREETING, "max_seconds": 90}}}
OPEN, EVENING = ("mon", "10:00"), ("mon", "20:00")


@pytest.fixture
def voice(call_api, carrier_account, setup, week):
    """Post to the voice webhook as the carrier does: `url` is what an earlier answer handed out."""

    def post(url: str = VOICE_URL, *, at=OPEN, signature: str | None = None, of_call: bool = True, **extra: str):
        call = {"From": CALLER, "To": setup.line["number"], "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01"} if of_call else {}
        params = {"CallSid": CALL_SID, "AccountSid": carrier_account.account_sid, **call, **extra}
        parts = urlsplit(url)
        query: dict[str, list[str]] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(name, []).append(value)
        signed = sign(url, params, carrier_account.auth_token) if signature is None else signature
        event = webhook_event("POST", "/twilio/voice", body=urlencode(params), resource="/twilio/voice",
                              query=query or None, content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": signed})
        with time_machine.travel(week.at(*at), tick=False):
            return call_api("call_forwarding", event)

    return post


@pytest.fixture
def rules(admin_api, setup):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"hours": HOURS})

    def set_rules(forwarding):
        answer = admin_api("PUT", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/forwarding",
                           {"forwarding": forwarding})
        assert answer.status == 200, answer.body
        return answer

    return set_rules


@pytest.fixture
def thread(admin_api, setup):
    def read():
        path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{CALLER}"
        answer = admin_api("GET", path)
        return answer.body["messages"] if answer.status == 200 else []

    return read


def xml(answer):
    assert answer.status == 200, answer.body
    return ElementTree.fromstring(answer.body)


def dial_of(answer):
    dial = xml(answer).find("Dial")
    assert dial is not None, answer.body
    return dial


def test_each_dial_comes_back_to_the_voice_url_naming_its_group_and_number(voice, rules):
    rules(FORWARD)
    dial = dial_of(voice())
    assert [n.text for n in dial.findall("Number")] == [DESK[0]]
    assert (dial.get("timeout"), dial.get("action"), dial.get("method")) == (
        "15", f"{VOICE_URL}?group=open&position=0", "POST")


def test_an_unanswered_number_rings_the_next_then_voicemail_takes_the_message(voice, rules):
    rules(FORWARD)
    first = dial_of(voice())
    second = dial_of(voice(first.get("action"), DialCallStatus="no-answer", DialCallDuration="0"))
    assert [n.text for n in second.findall("Number")] == [DESK[1]]
    assert second.get("action") == f"{VOICE_URL}?group=open&position=1"
    twiml = xml(voice(second.get("action"), DialCallStatus="busy"))
    assert twiml.find("Say").text == GREETING
    record = twiml.find("Record")
    assert (record.get("maxLength"), record.get("playBeep"), record.get("method")) == ("90", "true", "POST")
    assert record.get("action") == f"{VOICE_URL}?recorded=1"
    assert (record.get("recordingStatusCallback"), record.get("recordingStatusCallbackMethod")) == (
        f"{VOICE_URL}?recording=1", "POST")
    assert xml(voice(record.get("action"), RecordingUrl=RECORDING_URL, RecordingDuration="42")).find(
        "Hangup") is not None


@pytest.mark.parametrize("status", ["completed", "answered", "canceled"])
def test_an_answered_call_hangs_up_when_the_dial_ends(voice, rules, status):
    rules(FORWARD)
    twiml = xml(voice(f"{VOICE_URL}?group=open&position=0", DialCallStatus=status))
    assert [child.tag for child in twiml] == ["Hangup"]


def test_an_unanswered_open_hours_call_takes_the_after_hours_ring_then_hears_nobody_answered(voice, rules):
    rules({"open_hours": {"numbers": DESK}, "after_hours": {"ring": {"numbers": ["+13125550150"]}}})
    after = dial_of(voice(f"{VOICE_URL}?group=open&position=0", DialCallStatus="no-answer"))
    assert [n.text for n in after.findall("Number")] == ["+13125550150"]
    assert after.get("action") == f"{VOICE_URL}?group=after_hours&position=0"
    twiml = xml(voice(after.get("action"), DialCallStatus="no-answer"))
    assert "nobody could take your call" in twiml.find("Say").text and twiml.find("Hangup") is not None


def test_an_unanswered_after_hours_ring_with_a_voicemail_takes_the_message(voice, rules):
    rules({"open_hours": {"numbers": DESK}, "after_hours": {"ring": {"numbers": ["+13125550150"]},
                                                            "voicemail": {"greeting": GREETING}}})
    after = dial_of(voice(f"{VOICE_URL}?group=open&position=0", DialCallStatus="no-answer"))
    assert [n.text for n in after.findall("Number")] == ["+13125550150"]
    twiml = xml(voice(after.get("action"), DialCallStatus="no-answer"))
    assert twiml.find("Say").text == GREETING and twiml.find("Record") is not None


def test_after_hours_may_not_both_speak_and_ring(admin_api, setup):
    answer = admin_api("PUT", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/forwarding",
                       {"forwarding": {"after_hours": {"ring": {"numbers": ["+13125550150"]},
                                                       "say": {"text": "We are closed."}}}})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"].startswith("forwarding.after_hours")
    assert "one of ring, say or voicemail" in answer.body["errors"][0]["reason"]


def test_an_action_url_signed_for_another_group_is_403(voice, rules, carrier_account):
    rules(FORWARD)
    params = {"CallSid": CALL_SID, "DialCallStatus": "no-answer"}
    forged = sign(f"{VOICE_URL}?group=open&position=0", params, carrier_account.auth_token)
    assert voice(f"{VOICE_URL}?group=open&position=1", signature=forged, DialCallStatus="no-answer").status == 403


@pytest.mark.parametrize(("url", "extra", "field"), [
    (f"{VOICE_URL}?group=lobby&position=0", {"DialCallStatus": "no-answer"}, "group"),
    (f"{VOICE_URL}?group=window-99&position=0", {"DialCallStatus": "no-answer"}, "group"),
    (f"{VOICE_URL}?group=open&position=-1", {"DialCallStatus": "no-answer"}, "position"),
    (f"{VOICE_URL}?group=open&position=one", {"DialCallStatus": "no-answer"}, "position"),
    (f"{VOICE_URL}?group=open&position=10", {"DialCallStatus": "no-answer"}, "position"),
    (f"{VOICE_URL}?position=1", {"DialCallStatus": "no-answer"}, "position"),
    (f"{VOICE_URL}?group=open&position=0", {}, "DialCallStatus"),
    (f"{VOICE_URL}?group=open&position=0", {"DialCallStatus": "ringing"}, "DialCallStatus"),
    (f"{VOICE_URL}?group=open&group=after_hours", {"DialCallStatus": "no-answer"}, "group"),
    (f"{VOICE_URL}?recording=yes", {"RecordingStatus": "completed"}, "recording"),
])
def test_bad_action_parameters_are_400_naming_the_field(voice, rules, url, extra, field):
    rules(FORWARD)
    answer = voice(url, **extra)
    assert answer.status == 400, answer.body
    assert field in str(answer.body)


def recording_done(voice, **extra):
    params = {"RecordingSid": RECORDING_SID, "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed",
              "RecordingDuration": "42", "RecordingChannels": "1", "RecordingSource": "RecordVerb", **extra}
    return voice(f"{VOICE_URL}?recording=1", at=EVENING, **params)


def test_a_finished_recording_lands_once_in_the_callers_conversation(voice, rules, thread, admin_api, setup, caplog,
                                                                     capsys):
    rules(FORWARD)
    assert xml(voice(at=EVENING)).find("Record") is not None
    answer = recording_done(voice)
    assert xml(answer).tag == "Response" and len(xml(answer)) == 0
    assert recording_done(voice).status == 200  # the carrier retried the callback
    messages = thread()
    assert [(m["direction"], m["sender"], m["body"], m["recording_url"]) for m in messages] == [
        ("inbound", "patient", "Voicemail (42 s)", RECORDING_URL)]
    inbox = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert (inbox["unread"], inbox["last_message"]["body"]) == (1, "Voicemail (42 s)")
    logged = caplog.text + capsys.readouterr().out
    assert RECORDING_URL not in logged and RECORDING_SID not in logged and "4155552671" not in logged


def test_the_recording_callback_finds_the_caller_by_the_call_alone(voice, rules, thread):
    """The carrier's recording callback names the call, not the caller or the line."""
    rules(FORWARD)
    voice(at=EVENING)
    assert recording_done(voice, of_call=False, RecordingDuration="7").status == 200
    assert [m["body"] for m in thread()] == ["Voicemail (7 s)"]


def test_a_recording_not_finished_or_of_an_unknown_call_adds_nothing(voice, rules, thread):
    rules(FORWARD)
    voice(at=EVENING)
    assert recording_done(voice, RecordingStatus="absent").status == 200
    assert recording_done(voice, CallSid="CA" + "9" * 32, To="+13125550177").status == 200
    assert thread() == []


def test_a_forged_recording_callback_is_403_and_stores_nothing(voice, rules, thread):
    rules(FORWARD)
    voice(at=EVENING)
    assert recording_done(voice, signature="forged").status == 403
    assert thread() == []


@pytest.mark.parametrize(("extra", "field"), [({"RecordingUrl": "javascript:alert(1)"}, "RecordingUrl"),
                                              ({"RecordingDuration": "4x"}, "RecordingDuration"),
                                              ({"RecordingSid": ""}, "RecordingSid")])
def test_a_malformed_recording_callback_is_400_naming_the_field(voice, rules, thread, extra, field):
    rules(FORWARD)
    voice(at=EVENING)
    answer = recording_done(voice, **extra)
    assert answer.status == 400 and field in str(answer.body)
    assert thread() == []


def test_a_withheld_caller_is_told_nobody_answered_instead_of_recording_for_no_one(voice, rules):
    rules(FORWARD)
    twiml = xml(voice(at=EVENING, From="anonymous"))
    assert twiml.find("Record") is None and "nobody could take your call" in twiml.find("Say").text


def test_the_card_summary_names_in_order_ringing_and_voicemail(rules, admin_api, setup):
    rules(FORWARD)
    card = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}").body
    assert card["routing_summary"] == ("Open hours: rings (312) 555-0101, (312) 555-0102 in order; "
                                       "after hours: voicemail")

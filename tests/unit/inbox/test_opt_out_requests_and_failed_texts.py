"""A text that sounds like a request to stop, shown to staff and answered in one click; a last text that failed,
marked in the inbox list."""

import json

import pytest

from switchboard.data.models import MessageItem
from tests.claims import claims_of
from tests.unit.call_to_text.conftest import status_callback  # noqa: F401
from tests.unit.inbox.test_inbox_api import inbox, staff  # noqa: F401

PHONE = "+14155552671"


@pytest.fixture
def path(setup):
    return f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"


def _entry(admin_api, setup):
    [entry] = inbox(admin_api, setup).body["conversations"]
    return entry


def _audit(admin_api, setup, action):
    trail = admin_api("GET", f"/api/practices/{setup.practice_id}/audit").body["entries"]
    return [e for e in trail if e["action"] == action]


def test_a_request_in_a_sentence_flags_the_conversation_in_the_list_and_the_thread(text_in, admin_api, setup, path):
    text_in("Please stop texting me")
    thread = admin_api("GET", path).body
    [message] = thread["messages"]
    assert message["flag"] == "may want to opt out"
    assert thread["conversation"]["opt_out_requested"]["message_id"] == message["message_id"]
    assert _entry(admin_api, setup)["opt_out_requested"]["message_id"] == message["message_id"]
    assert _entry(admin_api, setup)["opted_out"] is False


@pytest.mark.parametrize("body", ["I need to cancel my appointment", "Can you stop by at 3?"])
def test_an_ordinary_sentence_raises_no_flag(text_in, admin_api, setup, body):
    text_in(body)
    assert _entry(admin_api, setup)["opt_out_requested"] is None


def test_a_stop_keyword_opts_out_and_clears_a_waiting_request(text_in, admin_api, setup):
    text_in("no more texts please")
    text_in("STOP")
    entry = _entry(admin_api, setup)
    assert (entry["opted_out"], entry["opt_out_requested"]) == (True, None)


def test_one_click_opts_the_patient_out_as_stop_would_audited_with_who_and_idempotent(
        text_in, admin_api, setup, path, staff, queues, carrier_account):  # noqa: F811
    text_in("cancel my texts")
    clicked = admin_api("POST", f"{path}/opt-out", claims=staff["permitted"])
    assert clicked.status == 200
    assert (clicked.body["opted_out"], clicked.body["opt_out_requested"]) == (True, None)
    again = admin_api("POST", f"{path}/opt-out", claims=staff["permitted"])
    assert (again.status, again.body) == (200, clicked.body)
    [entry] = _audit(admin_api, setup, "conversation.opt_out")
    assert entry["actor"] == "pat@maplefamilyclinic.com"
    assert "4155552671" not in json.dumps(entry) and "cancel my texts" not in json.dumps(entry)
    thread = admin_api("GET", path).body
    note = thread["messages"][-1]
    assert (note["direction"], note["sender"], note["body"]) == (
        "note", "system", "Opted out by pat@maplefamilyclinic.com after the patient asked")
    refused = admin_api("POST", f"{path}/messages", {"body": "Are you there?"}, claims=staff["permitted"])
    assert refused.status == 409 and "opted out" in refused.body["message"]
    queues.deliver()
    assert carrier_account.messages(to=PHONE) == []
    text_in("START")
    assert _entry(admin_api, setup)["opted_out"] is False


def test_dismissing_clears_the_flag_keeps_the_patient_opted_in_and_audits_who(text_in, admin_api, setup, path,
                                                                            staff):  # noqa: F811
    text_in("don't text me anymore")
    dismissed = admin_api("POST", f"{path}/opt-out-request/dismiss", claims=staff["permitted"])
    assert dismissed.status == 200
    assert (dismissed.body["opted_out"], dismissed.body["opt_out_requested"]) == (False, None)
    assert admin_api("POST", f"{path}/opt-out-request/dismiss", claims=staff["permitted"]).status == 200
    [entry] = _audit(admin_api, setup, "conversation.opt_out_request.dismiss")
    assert entry["actor"] == "pat@maplefamilyclinic.com"
    assert _audit(admin_api, setup, "conversation.opt_out") == []
    assert admin_api("POST", f"{path}/messages", {"body": "Sure, see you then."},
                     claims=staff["permitted"]).status == 202


def test_staff_without_the_line_or_another_practice_cannot_decide(text_in, admin_api, setup, path,
                                                                 staff):  # noqa: F811
    text_in("unsubscribe me")
    for action in ("opt-out", "opt-out-request/dismiss"):
        assert admin_api("POST", f"{path}/{action}", claims=staff["no_lines"]).status == 403
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    sam = admin_api("POST", f"/api/practices/{other}/users",
                    {"email": "sam@oakclinic.com", "name": "Sam", "role": "manager", "line_ids": []}).body
    elsewhere = path.replace(setup.practice_id, other)
    for action in ("opt-out", "opt-out-request/dismiss"):
        answer = admin_api("POST", f"{elsewhere}/{action}", claims=claims_of(sam, "manager"))
        assert answer.status == 404 and PHONE not in str(answer.body)
    entry = _entry(admin_api, setup)
    assert (entry["opted_out"], entry["opt_out_requested"] is not None) == (False, True)


def _reply(admin_api, path, queues, body):
    assert admin_api("POST", f"{path}/messages", {"body": body}).status == 202
    queues.deliver()
    return max(MessageItem.scan(MessageItem.direction == "outbound"), key=lambda m: m.message_id).carrier_sid


def test_a_last_text_that_failed_is_marked_in_the_list_with_the_reason_until_a_later_one_is_delivered(
        text_in, admin_api, setup, path, queues, status_callback):  # noqa: F811
    text_in("Can I come at 3?")
    failed = _reply(admin_api, path, queues, "Yes, see you at 3.")
    assert status_callback(failed, "undelivered", 30007).status == 200
    entry = _entry(admin_api, setup)
    assert entry["last_text_failed"] == {"code": 30007, "reason": "filtered as spam by the carrier"}
    assert admin_api("GET", path).body["conversation"]["last_text_failed"]["code"] == 30007
    later = _reply(admin_api, path, queues, "Please call us at the front desk.")
    status_callback(later, "delivered")
    assert _entry(admin_api, setup)["last_text_failed"] is None


def test_a_failure_that_marks_the_phone_not_textable_is_marked_too(text_in, admin_api, setup, path, queues,
                                                                  status_callback):  # noqa: F811
    text_in("Can I come at 3?")
    failed = _reply(admin_api, path, queues, "Yes, see you at 3.")
    status_callback(failed, "undelivered", 30006)
    entry = _entry(admin_api, setup)
    assert (entry["not_textable"], entry["last_text_failed"]["code"]) == (True, 30006)

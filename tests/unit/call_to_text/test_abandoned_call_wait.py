"""An abandoned-call workflow may wait a few minutes before texting, in case the caller rings back or asks for a
text; the wait ends without a text when the caller reaches the practice meanwhile."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from switchboard.carrier import sign
from switchboard.data.models import MessageItem
from tests.unit.conftest import webhook_event

CALLER = "+14155552671"
SORRY = "Sorry we missed your call - {practice_name}"


@pytest.fixture
def abandoned(admin_api, setup):
    """An abandoned-call workflow on the practice's line that waits five minutes; its webhook's path."""
    made = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                     {"name": "Hang-ups", "kind": "abandoned_call", "vendor": "jive", "line_id": setup.line["line_id"],
                      "template": SORRY, "delay_minutes": 5})
    assert made.status == 201, made.body
    assert made.body["delay_minutes"] == 5
    return urlsplit(made.body["webhook_url"]).path.removeprefix("/local")


@pytest.fixture
def call_back(call_api, carrier_account, setup):
    """The caller rings the practice's line (the carrier's voice webhook, signed)."""

    def ring():
        params = {"CallSid": "CA" + "7" * 32, "AccountSid": carrier_account.account_sid, "From": CALLER,
                  "To": setup.line["number"], "CallStatus": "ringing", "Direction": "inbound",
                  "ApiVersion": "2010-04-01"}
        url = "https://api.test/local/twilio/voice"
        event = webhook_event("POST", "/twilio/voice", body=urlencode(params), resource="/twilio/voice",
                              content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": sign(url, params, carrier_account.auth_token)})
        answer = call_api("call_forwarding", event)
        assert answer.status == 200, answer.body
        return answer

    return ring


def sent_to_caller(carrier_account):
    return [m["body"] for m in carrier_account.messages(to=CALLER)]


def the_wait_is_over(clock):
    clock.move_to(datetime.now(UTC) + timedelta(minutes=5, seconds=1))


def outbound(setup):
    return [m for m in MessageItem.scan() if m.direction == "outbound"]


def counts(admin_api, setup, kind="abandoned_call"):
    workflows = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body
    return next(w["counts"] for w in workflows if w["kind"] == kind)


def test_the_text_waits_its_minutes_then_goes_once(intake, abandoned, queues, carrier_account, clinic_clock,
                                                    admin_api, setup):
    answer = intake(path=abandoned)
    assert answer.status == 202 and answer.body["status"] == "queued"
    assert queues.deliver()["batchItemFailures"] == []  # nothing is handed out before its time
    assert sent_to_caller(carrier_account) == []
    assert queues.jobs_left() == 1
    the_wait_is_over(clinic_clock)
    assert queues.deliver()["batchItemFailures"] == []
    assert sent_to_caller(carrier_account) == ["Sorry we missed your call - Maple Clinic"]
    assert queues.jobs_left() == 0
    hang_ups = counts(admin_api, setup)
    assert (hang_ups["texted"], hang_ups["canceled"]) == (1, 0)


def test_a_text_request_while_it_waits_replaces_it_and_goes_at_once(intake, abandoned, queues, carrier_account,
                                                                     clinic_clock, admin_api, setup):
    waiting = intake(path=abandoned).body["message_id"]
    asked = intake()  # the caller rang again and pressed "text me"
    assert asked.status == 202 and asked.body["status"] == "queued" and asked.body["message_id"] != waiting
    queues.deliver()
    assert sent_to_caller(carrier_account) == [f"Thanks for calling Maple Clinic! Text us back here at "
                                               f"{setup.line['number_display']}."]
    the_wait_is_over(clinic_clock)
    queues.deliver()
    assert len(sent_to_caller(carrier_account)) == 1
    assert queues.jobs_left() == 0
    cancelled = next(m for m in outbound(setup) if m.message_id == waiting)
    assert (cancelled.status, cancelled.error_reason) == ("suppressed", "the caller reached the practice again")
    hang_ups, asks = counts(admin_api, setup), counts(admin_api, setup, "call_to_text")
    assert (hang_ups["received"], hang_ups["texted"], hang_ups["canceled"]) == (1, 0, 1)
    assert (asks["received"], asks["texted"], asks["duplicates"]) == (1, 1, 0)
    assert intake().body["status"] == "duplicate"  # the new text's window holds as any other


def test_a_call_back_while_it_waits_cancels_the_text(intake, abandoned, queues, carrier_account, clinic_clock,
                                                     call_back, admin_api, setup):
    intake(path=abandoned)
    call_back()
    the_wait_is_over(clinic_clock)
    assert queues.deliver()["batchItemFailures"] == []
    assert sent_to_caller(carrier_account) == []
    assert queues.jobs_left() == 0
    (cancelled,) = outbound(setup)
    assert (cancelled.status, cancelled.error_reason) == ("suppressed", "the caller reached the practice again")
    assert counts(admin_api, setup)["canceled"] == 1


def test_a_text_from_the_caller_while_it_waits_cancels_it(intake, abandoned, queues, carrier_account, clinic_clock,
                                                          text_in):
    intake(path=abandoned)
    assert text_in("Hi, I just called", phone=CALLER).status == 200
    the_wait_is_over(clinic_clock)
    queues.deliver()
    assert [b for b in sent_to_caller(carrier_account) if b.startswith("Sorry")] == []


def test_a_call_back_after_the_text_went_changes_nothing(intake, abandoned, queues, carrier_account, clinic_clock,
                                                         call_back):
    intake(path=abandoned)
    the_wait_is_over(clinic_clock)
    queues.deliver()
    call_back()
    assert len(sent_to_caller(carrier_account)) == 1
    assert next(m for m in MessageItem.scan() if m.direction == "outbound").carrier_sid is not None


def test_a_repeated_abandoned_call_webhook_is_a_duplicate_and_the_first_text_still_waits(
        intake, abandoned, queues, carrier_account, clinic_clock):
    first = intake(path=abandoned).body["message_id"]
    assert intake(path=abandoned).body == {"status": "duplicate", "message_id": first}
    the_wait_is_over(clinic_clock)
    queues.deliver()
    assert len(sent_to_caller(carrier_account)) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "abandoned_call", "delay_minutes": 11}, "delay_minutes"),
    ({"kind": "abandoned_call", "delay_minutes": -1}, "delay_minutes"),
    ({"kind": "abandoned_call", "delay_minutes": "soon"}, "delay_minutes"),
    ({"kind": "call_to_text", "delay_minutes": 2}, "delay_minutes"),
])
def test_a_wait_outside_zero_to_ten_minutes_or_on_call_to_text_is_refused_naming_it(admin_api, setup, body, field):
    answer = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                       {"name": "Waits", "vendor": "jive", "line_id": setup.line["line_id"], "template": SORRY, **body})
    assert answer.status == 422, answer.body
    assert [e["field"] for e in answer.body["errors"]] == [field]


def test_a_wait_is_changed_on_an_abandoned_call_workflow_and_refused_on_call_to_text(admin_api, setup, abandoned):
    workflows = {w["kind"]: w for w in admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body}
    base = f"/api/practices/{setup.practice_id}/workflows"
    changed = admin_api("PATCH", f"{base}/{workflows['abandoned_call']['workflow_id']}", {"delay_minutes": 0})
    assert changed.status == 200 and changed.body["delay_minutes"] == 0
    refused = admin_api("PATCH", f"{base}/{workflows['call_to_text']['workflow_id']}", {"delay_minutes": 3})
    assert refused.status == 422
    assert refused.body["errors"][0]["field"] == "delay_minutes"

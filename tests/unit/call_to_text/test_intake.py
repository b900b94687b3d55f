"""From a phone system's webhook to one text at the carrier."""

import json
import os
from urllib.parse import urlencode

import boto3
import pytest

from switchboard.carrier import sign
from switchboard.data.models import ContactItem, ConversationItem, MessageItem
from tests.unit.conftest import webhook_event

EXPECTED_TEXT = "Thanks for calling Maple Clinic! Text us back here at {number}."



def texts_to(sandbox, phone="+14155552671"):
    return [m for m in sandbox.messages(to=phone)]


def test_a_caller_gets_one_text_from_the_workflows_line(intake, queues, setup, carrier_account):
    answer = intake("4155552671")
    assert answer.status == 202
    assert answer.body["status"] == "queued"
    queues.deliver()
    sent = texts_to(carrier_account)
    assert len(sent) == 1
    assert sent[0]["from"] == setup.line["number"]
    assert sent[0]["body"] == EXPECTED_TEXT.format(number=setup.line["number_display"])
    assert sent[0]["status_callback"] == "https://api.test/local/twilio/status"
    message = next(MessageItem.scan())
    assert message.message_id == answer.body["message_id"]
    assert message.carrier_sid == sent[0]["sid"]
    preview = next(ConversationItem.scan()).last_message
    assert preview["body"] == sent[0]["body"] and preview["direction"] == "outbound"


@pytest.mark.parametrize("typed", ["4155552671", "(415) 555-2671", "+14155552671", "14155552671", "415.555.2671"])
def test_caller_number_in_any_common_format_is_accepted(intake, typed):
    assert intake(typed).status == 202


@pytest.mark.parametrize("typed", ["415555267", "CALLME", "+442079460958", "", "4" * 300,
                                   "4155552671' OR '1'='1", "<script>alert(1)</script>"])
def test_a_bad_caller_number_is_a_400_naming_the_parameter_and_nothing_is_stored(intake, queues, typed):
    answer = intake(typed)
    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == "CALLER_ID_NUMBER"
    assert typed not in json.dumps(answer.body) or not typed
    assert list(MessageItem.scan()) == []
    assert queues.messages() == []


def test_a_missing_caller_number_is_a_400(intake):
    answer = intake(None, query={})
    assert answer.status == 400
    assert answer.body["errors"][0]["field"] == "CALLER_ID_NUMBER"


def test_the_number_may_come_as_a_form_or_json_body(intake):
    form = intake(None, method="POST", body="CALLER_ID_NUMBER=4155552671",
                  content_type="application/x-www-form-urlencoded")
    assert form.status == 202
    as_json = intake(None, method="POST", body=json.dumps({"CALLER_ID_NUMBER": "4155550123"}),
                     content_type="application/json")
    assert as_json.status == 202


def test_wrong_content_type_oversize_and_repeated_parameters_are_refused(intake, queues):
    assert intake(None, method="POST", body="<xml/>", content_type="text/xml").status == 415
    assert intake(None, method="POST", body="CALLER_ID_NUMBER=" + "4" * 20_000,
                  content_type="application/x-www-form-urlencoded").status == 413
    repeated = intake(None, query={"CALLER_ID_NUMBER": ["4155552671", "4155550123"]})
    assert repeated.status == 400
    assert intake(None, method="POST", body="{broken", content_type="application/json").status == 400
    assert list(MessageItem.scan()) == []


def test_an_unknown_token_a_revoked_one_and_another_environments_are_the_same_404(intake, setup, admin_api):
    unknown = intake(path="/webhook/jive/local_" + "x" * 43)
    demo = intake(path="/webhook/jive/demo_" + setup.token.split("_", 1)[1])
    admin_api("POST", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}/revoke")
    revoked = intake()
    assert unknown.status == demo.status == revoked.status == 404
    assert unknown.body == demo.body == revoked.body == {"message": "Not Found"}


def test_rotating_the_token_stops_the_old_url(intake, setup, admin_api, call_api):
    rotated = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}/rotate")
    assert rotated.status == 200
    new_path = rotated.body["webhook_url"].split("/local", 1)[1]
    assert intake().status == 404
    assert intake(path=new_path).status == 202


def test_second_webhook_within_window_sends_no_text(intake, queues, carrier_account):
    first = intake("4155552671")
    again = intake("(415) 555-2671")
    assert again.status == 200
    assert again.body == {"status": "duplicate", "message_id": first.body["message_id"]}
    queues.deliver()
    assert len(texts_to(carrier_account)) == 1


def test_abandoned_call_after_call_to_text_for_one_caller_is_a_duplicate(intake, queues, setup, admin_api,
                                                                        carrier_account):
    abandoned = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                          {"name": "Hang-ups", "kind": "abandoned_call", "vendor": "jive",
                           "line_id": setup.line["line_id"], "template": "Sorry we missed you - {practice_name}"})
    assert intake().status == 202
    assert intake(path=abandoned.body["webhook_url"].split("/local", 1)[1]).body["status"] == "duplicate"
    queues.deliver()
    assert len(texts_to(carrier_account)) == 1


def test_a_caller_is_texted_again_after_the_window(intake, queues, setup, carrier_account):
    from datetime import UTC, datetime, timedelta

    from switchboard.flows.intake import take_call

    assert intake().status == 202
    queues.deliver()
    eleven_minutes_on = datetime.now(UTC) + timedelta(minutes=11)
    again = take_call(setup.token, "4155552671", environment="local",
                      status_callback="https://api.test/local/twilio/status",
                      at=eleven_minutes_on)
    assert again.outcome == "queued"
    queues.deliver()
    assert len(texts_to(carrier_account)) == 2


def _call_at(setup, minutes_on, number="4155552671"):
    from datetime import UTC, datetime, timedelta

    from switchboard.flows.intake import take_call

    return take_call(setup.token, number, environment="local", status_callback="https://api.test/local/twilio/status",
                     at=datetime.now(UTC) + timedelta(minutes=minutes_on)).outcome


def test_a_workflows_own_window_decides_and_null_returns_it_to_the_practices(intake, setup, admin_api):
    path = f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}"
    changed = admin_api("PATCH", path, {"duplicate_window_minutes": 1440})  # once per caller per day
    assert changed.status == 200 and changed.body["duplicate_window_minutes"] == 1440
    assert _call_at(setup, 0) == "queued"
    assert _call_at(setup, 23 * 60) == "duplicate"
    assert _call_at(setup, 24 * 60 + 1) == "queued"
    back = admin_api("PATCH", path, {"duplicate_window_minutes": None})
    assert back.status == 200 and back.body["duplicate_window_minutes"] is None
    assert _call_at(setup, 24 * 60 + 12, "4155550142") == "queued"
    assert _call_at(setup, 24 * 60 + 23, "4155550142") == "queued"  # the practice's 10 minutes again


def test_the_practices_window_reaches_the_workflows_that_follow_it(intake, setup, admin_api):
    own = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                    {"name": "Hang-ups", "kind": "abandoned_call", "vendor": "jive", "line_id": setup.line["line_id"],
                     "template": "Sorry we missed you - {practice_name}", "duplicate_window_minutes": 30}).body
    version = admin_api("GET", f"/api/practices/{setup.practice_id}").body["version"]
    assert admin_api("PATCH", f"/api/practices/{setup.practice_id}",
                     {"duplicate_window_minutes": 120, "version": version}).status == 200
    assert _call_at(setup, 0) == "queued"
    assert _call_at(setup, 100) == "duplicate"  # the practice's two hours, not the ten minutes it had before
    assert _call_at(setup, 121) == "queued"
    token = own["webhook_url"].rsplit("/", 1)[1]
    from datetime import UTC, datetime, timedelta

    from switchboard.flows.intake import take_call

    def hang_up(minutes_on):
        return take_call(token, "4155550199", environment="local", at=datetime.now(UTC) + timedelta(minutes=minutes_on),
                         status_callback="https://api.test/local/twilio/status").outcome

    assert (hang_up(0), hang_up(29), hang_up(31)) == ("queued", "duplicate", "queued")  # its own half hour


@pytest.mark.parametrize("window", [9, 1441, "ten"])
def test_a_window_outside_ten_minutes_to_a_day_is_refused_naming_it(admin_api, setup, window):
    answer = admin_api("PATCH", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}",
                       {"duplicate_window_minutes": window})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "duplicate_window_minutes", answer.body


def test_the_contact_and_conversation_are_created_unverified(intake, setup):
    intake()
    contact = next(ContactItem.scan())
    conversation = next(ConversationItem.scan())
    assert contact.verified is False
    assert conversation.line_id == setup.line["line_id"]
    assert conversation.workflow_id == setup.workflow["workflow_id"]


def test_a_landline_caller_ends_failed_not_a_mobile_and_later_calls_send_nothing(intake, queues, carrier_account,
                                                                                admin_api, setup):
    landline = "4155550193"
    intake(landline)
    queues.deliver()
    message = next(MessageItem.scan())
    assert message.status == "suppressed"
    assert message.error_reason == "not a mobile number"
    assert next(ContactItem.scan()).not_textable is True
    from switchboard.data.models import DedupeItem

    for item in DedupeItem.scan():
        item.delete()
    later = intake(landline)
    assert later.status == 200 and later.body["status"] == "not_textable"
    queues.deliver()
    assert carrier_account.messages(to="+14155550193") == []
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}")
    assert counts.body["counts"]["not_textable"] == 2
    assert counts.body["counts"]["received"] == 2


def test_an_opted_out_caller_gets_nothing(intake, queues, carrier_account, setup):
    conversation = ConversationItem(f"LINE#{setup.line['line_id']}", "CONV#+14155552671", line_id=setup.line["line_id"],
                                    practice_id=setup.practice_id, phone="+14155552671", opted_out=True,
                                    last_activity_at=__import__("datetime").datetime.now(__import__("datetime").UTC))
    conversation.save()
    answer = intake()
    assert answer.status == 200 and answer.body["status"] == "opted_out"
    queues.deliver()
    assert texts_to(carrier_account) == []


def test_carrier_opt_out_marks_the_conversation(intake, queues, carrier_account):
    carrier_account.add_faults({"code": 21610, "status": 400})
    intake()
    queues.deliver()
    assert next(ConversationItem.scan()).opted_out is True
    assert next(MessageItem.scan()).status == "suppressed"


def test_carrier_500_then_success_sends_one_text(intake, queues, carrier_account):
    carrier_account.add_faults({"status": 500})
    intake()
    first = queues.deliver()
    assert len(first["batchItemFailures"]) == 1
    second = queues.deliver()
    assert second["batchItemFailures"] == []
    assert len(texts_to(carrier_account)) == 1
    assert next(MessageItem.scan()).carrier_sid is not None


def test_carrier_accepting_then_timing_out_still_sends_one_text(intake, queues, carrier_account):
    carrier_account.add_faults({"accept_then_fail": True, "status": 500})
    intake()
    assert len(queues.deliver()["batchItemFailures"]) == 1
    assert len(texts_to(carrier_account)) == 1
    queues.deliver()
    assert len(texts_to(carrier_account)) == 1
    message = next(MessageItem.scan())
    assert message.carrier_sid == texts_to(carrier_account)[0]["sid"]


def test_a_job_handed_out_again_while_its_first_copy_runs_is_kept_until_its_text_is_sent(
        intake, queues, carrier_account, monkeypatch):
    """SQS hands a job out again once its visibility runs out, even while the first copy still runs, and a
    delete with either copy's receipt removes the job. Here the second copy claims the text between the first
    copy's read and its claim, and the carrier takes the text but answers with an error."""
    from switchboard.aws.jobs import decode
    from switchboard.flows import delivery

    carrier_account.add_faults({"accept_then_fail": True, "status": 500})
    intake()
    (first,) = queues.messages()
    sqs = boto3.client("sqs")
    sqs.change_message_visibility(QueueUrl=os.environ["OUTBOUND_QUEUE_URL"], ReceiptHandle=first["ReceiptHandle"],
                                  VisibilityTimeout=0)
    (second,) = queues.messages()
    read = delivery.store.load_for_sending

    def read_then_second_copy_runs(*args, **kwargs):
        found = read(*args, **kwargs)
        monkeypatch.setattr(delivery.store, "load_for_sending", read)
        with pytest.raises(delivery.RetryLater):  # the carrier's unclear answer: the second copy is kept
            delivery.deliver(decode(second["Body"]))
        return found

    monkeypatch.setattr(delivery.store, "load_for_sending", read_then_second_copy_runs)
    assert len(queues.deliver(jobs=[first])["batchItemFailures"]) == 1  # kept, not deleted as someone else's
    assert queues.jobs_left() == 1
    assert queues.deliver()["batchItemFailures"] == []
    assert len(texts_to(carrier_account)) == 1
    assert next(MessageItem.scan()).carrier_sid == texts_to(carrier_account)[0]["sid"]
    assert queues.jobs_left() == 0


def test_disabled_line_fails_fast_with_the_reason(intake, queues, admin_api, setup, carrier_account):
    intake()
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/disable")
    queues.deliver()
    message = next(MessageItem.scan())
    assert message.status == "failed"
    assert message.error_reason == "line is disabled"
    assert texts_to(carrier_account) == []


def test_status_callbacks_move_forward_only(intake, queues, status_callback, carrier_account):
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    assert status_callback(sid, "delivered").status == 200
    assert status_callback(sid, "sent").status == 200
    assert next(MessageItem.scan()).status == "delivered"


def test_failed_delivery_carries_the_carriers_code_and_reason(intake, queues, status_callback, admin_api, setup):
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    status_callback(sid, "undelivered", 30006)
    message = next(MessageItem.scan())
    assert (message.status, message.error_code, message.error_reason) == ("undelivered", 30006, "not a mobile number")
    assert next(ContactItem.scan()).not_textable is True
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}").body
    assert counts["counts"]["failed_by_reason"] == {"not a mobile number": 1}


def test_a_text_the_carrier_filtered_shows_staff_the_code_the_reason_and_what_to_do(
        intake, queues, status_callback, admin_api, setup):
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    status_callback(sid, "undelivered", 30007)
    thread = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
                              "/conversations/+14155552671").body
    [text] = thread["messages"]
    assert text["status"] == "undelivered"
    assert text["error"]["code"] == 30007
    assert text["error"]["reason"] == "filtered as spam by the carrier"
    assert "Call the patient" in text["error"]["what_to_do"]
    assert "4155552671" not in json.dumps(text["error"])


def test_a_delivered_text_carries_no_error(intake, queues, status_callback, admin_api, setup):
    intake()
    queues.deliver()
    status_callback(next(MessageItem.scan()).carrier_sid, "delivered")
    thread = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
                              "/conversations/+14155552671").body
    assert thread["messages"][0]["error"] is None


def test_a_text_that_failed_before_the_carrier_says_why_without_a_code(intake, queues, admin_api, setup):
    intake()
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/disable")
    queues.deliver()
    thread = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
                              "/conversations/+14155552671").body
    assert thread["messages"][0]["error"] == {"code": None, "reason": "line is disabled", "what_to_do": None}


def test_unknown_message_status_is_ignored_with_200(status_callback):
    assert status_callback("SM" + "0" * 32, "delivered").status == 200


def test_a_call_status_post_to_the_status_route_is_answered_200_and_changes_nothing(
        intake, queues, call_api, carrier_account):
    """Numbers bought before calls got a callback of their own may still post call progress here."""
    intake()
    queues.deliver()
    before = next(MessageItem.scan())
    params = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "AccountSid": carrier_account.account_sid,
              "From": "+14155552671", "To": "+15005550006",
              "Direction": "inbound", "ApiVersion": "2010-04-01", "CallDuration": "12"}
    url = f"{os.environ.get('PUBLIC_BASE_URL', 'https://api.test/local').rstrip('/')}/twilio/status"
    event = webhook_event("POST", "/twilio/status", body=urlencode(params),
                          content_type="application/x-www-form-urlencoded",
                          headers={"X-Twilio-Signature": sign(url, params, carrier_account.auth_token)},
                          resource="/twilio/status")
    assert call_api("status_callback", event).status == 200
    after = next(MessageItem.scan())
    assert (after.status, after.error_code) == (before.status, before.error_code)


def test_forged_or_missing_signature_is_403(intake, queues, status_callback):
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    assert status_callback(sid, "delivered", signature="forged").status == 403
    assert status_callback(sid, "delivered", signature="").status == 403
    assert next(MessageItem.scan()).status != "delivered"


def test_counts_per_workflow(intake, queues, admin_api, setup):
    intake("4155552671")
    intake("4155552671")
    intake("4155550123")
    queues.deliver()
    queues.deliver()
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body[0]["counts"]
    assert counts["received"] == 3
    assert counts["duplicates"] == 1
    assert counts["texted"] == 2


def test_template_over_255_after_rendering_is_refused_at_save(admin_api, setup):
    long_template = "{practice_name} " + "x" * 140
    answer = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                       {"name": "Long", "kind": "call_to_text", "line_id": setup.line["line_id"],
                        "template": long_template})
    assert answer.status == 422
    assert answer.body["errors"][0]["field"] == "template"
    assert "255" in answer.body["errors"][0]["reason"]


def test_unknown_placeholder_is_refused(admin_api, setup):
    answer = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                       {"name": "X", "kind": "call_to_text", "line_id": setup.line["line_id"],
                        "template": "Hi {patient_name}"})
    assert answer.status == 422
    assert "{patient_name}" in answer.body["errors"][0]["reason"]


def test_webhook_url_is_shown_once_and_only_its_hash_is_kept(admin_api, setup):
    from switchboard.data.table import Item

    token = setup.token
    assert all(token not in json.dumps(item.serialize()) for item in Item.scan())
    listed = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body
    assert "webhook_url" not in listed[0]


def test_a_failure_the_carrier_gives_no_code_for_is_still_counted_by_name(intake, queues, status_callback, admin_api,
                                                                          setup):
    intake()
    queues.deliver()
    status_callback(next(MessageItem.scan()).carrier_sid, "failed")
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows/{setup.workflow['workflow_id']}").body
    assert counts["counts"]["failed"] == 1
    assert counts["counts"]["failed_by_reason"] == {"unspecified": 1}


@pytest.mark.parametrize("template", ["Call {practice_name:>500}", "Call {practice_name!r}", "Call {line_number.x}"])
def test_a_workflow_template_with_format_options_is_refused_at_save(admin_api, setup, template):
    answer = admin_api("POST", f"/api/practices/{setup.practice_id}/workflows",
                       {"name": "X", "kind": "call_to_text", "line_id": setup.line["line_id"], "template": template})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "template"


def test_a_callers_text_is_sent_with_four_requests_at_most(intake, queues, carrier_account, dynamodb_reads):
    """One batch read, the patients who may own the phone (a caller's first text), the claim, one transaction."""
    intake()
    queues.hand_off()
    with dynamodb_reads() as traffic:
        queues.deliver()
    assert len(texts_to(carrier_account)) == 1
    assert traffic.operations == ["BatchGetItem", "Query", "UpdateItem", "TransactWriteItems"]


def test_a_patient_who_opted_out_at_the_carrier_is_marked_opted_out_by_the_status_callback(
        intake, queues, status_callback, setup):
    intake()
    queues.deliver()
    sid = next(MessageItem.scan()).carrier_sid
    assert not next(ConversationItem.scan()).opted_out
    status_callback(sid, "failed", 21610)
    assert next(ConversationItem.scan()).opted_out is True
    assert next(MessageItem.scan()).error_code == 21610

"""Patients' texts: signed, stored once, keywords honoured."""

from switchboard.aws.jobs import FollowUp
from switchboard.data.messages import ref_of
from switchboard.data.models import ConversationItem, MessageItem
from switchboard.flows.follow_up import follow_up
from switchboard.rules.keywords import CARRIER_START_REPLY, CARRIER_STOP_REPLY

PHONE = "+14155552671"


def inbound_messages():
    return [m for m in MessageItem.scan() if m.direction == "inbound"]


def test_a_signed_text_is_stored_with_unread_and_activity(text_in, setup):
    answer = text_in("Can I move my appointment?")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "text/xml"
    assert answer.body == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    stored = inbound_messages()
    assert [(m.body, m.status, m.phone) for m in stored] == [("Can I move my appointment?", "received", PHONE)]
    conversation = next(ConversationItem.scan())
    assert conversation.unread == 1
    assert conversation.line_id == setup.line["line_id"]
    text_in("Thanks")
    assert next(ConversationItem.scan()).unread == 2


def test_forged_and_missing_signatures_are_403_and_nothing_is_stored(text_in):
    assert text_in("hi", signature="bm90IGEgc2lnbmF0dXJl").status == 403
    assert text_in("hi", signature="").status == 403
    assert inbound_messages() == []


def test_a_signature_over_the_url_with_its_query_string_verifies(text_in):
    assert text_in("hi", query={"line": ["front"], "a": ["1", "2"]}).status == 200
    assert len(inbound_messages()) == 1


def test_the_same_message_sid_is_stored_once(text_in):
    text_in("hello", sid="SM" + "7" * 32)
    text_in("hello", sid="SM" + "7" * 32)
    assert len(inbound_messages()) == 1
    assert next(ConversationItem.scan()).unread == 1


def test_a_text_to_a_number_no_line_has_is_404(text_in, caplog):
    answer = text_in("hi", to="+13125550100")
    assert answer.status == 404
    assert "3125550100" not in caplog.text


def test_stop_opts_the_pair_out_and_start_opts_back_in(text_in):
    text_in("Stop.")
    assert next(ConversationItem.scan()).opted_out is True
    text_in("START")
    assert next(ConversationItem.scan()).opted_out is False


def test_stop_please_is_not_a_keyword_but_is_flagged_for_staff(text_in):
    text_in("stop please")
    assert next(ConversationItem.scan()).opted_out is not True
    assert inbound_messages()[0].flag == "may want to opt out"


def _carrier_answers():
    return [m.body for m in sorted(MessageItem.scan(), key=lambda m: m.created_at) if m.sender_id == "carrier"]


def test_help_is_answered_by_the_carrier_alone_and_staff_see_its_answer(text_in, admin_api, setup, queues,
                                                                       after_hours):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"help_text": "Maple Clinic: call 312-555-0100.",
                                                               "hours": {}})
    answer = text_in("help")
    assert answer.body == '<?xml version="1.0" encoding="UTF-8"?><Response />'  # no second reply from us
    after_hours()
    queues.deliver()
    assert _carrier_answers() == ["Reply STOP to unsubscribe. Msg&Data Rates May Apply."]
    assert [m.body for m in MessageItem.scan() if m.sender == "auto_response" and m.sender_id != "carrier"] == []
    assert [m for m in MessageItem.scan() if m.pending_pk] == []


def test_under_advanced_opt_out_the_services_reply_is_noted_and_stop_is_confirmed_once(text_in, after_hours):
    assert text_in("INFO", extra={"OptOutType": "HELP"}).body.endswith("<Response />")
    text_in("STOP", extra={"OptOutType": "STOP"})
    text_in("stop", extra={"OptOutType": "STOP"})
    after_hours()
    assert _carrier_answers() == ["(the carrier answered with the Messaging Service's HELP reply)",
                                  "(the carrier answered with the Messaging Service's STOP reply)"]


def test_the_carriers_start_confirmation_is_shown_once_and_only_to_a_patient_who_was_opted_out(
        text_in, queues, after_hours):
    text_in("YES")
    after_hours()
    assert _carrier_answers() == []
    text_in("STOP")
    after_hours()
    text_in("Quit")  # already opted out: the carrier confirms nothing again
    text_in("Start!")
    after_hours()
    start = next(m for m in MessageItem.scan() if m.keyword == "opt_in")
    follow_up(FollowUp(ref_of(start), start.practice_id, start.body or "", start.keyword, start.created_at,
                       start.status_callback or "", start.carrier_reply))  # a redelivered follow-up job
    assert _carrier_answers() == [CARRIER_STOP_REPLY, CARRIER_START_REPLY]


def test_an_opted_out_pair_gets_nothing_from_any_path(text_in, intake, queues, admin_api, setup, carrier_account,
                                                     after_hours):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}", {"hours": {}})  # closed: after-hours would answer
    text_in("hello")
    text_in("STOP")
    after_hours()
    conversation_path = (f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
                         f"/conversations/{PHONE}/messages")
    staff = admin_api("POST", conversation_path, {"body": "Are you there?"})
    assert staff.status == 409 and "opted out" in staff.body["message"]
    assert intake("4155552671").body["status"] == "opted_out"
    text_in("what are your hours?")
    after_hours()
    queues.deliver()
    assert carrier_account.messages(to=PHONE) == []
    text_in("START")
    text_in("what are your hours?")
    after_hours()
    assert len(carrier_account.messages(to=PHONE)) == 1


def test_the_workflows_replied_count_counts_one_reply_per_conversation(intake, queues, text_in, after_hours,
                                                                      admin_api, setup):
    intake("4155552671")
    queues.deliver()
    text_in("thanks!")
    text_in("see you")
    after_hours()
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body[0]["counts"]
    assert counts["replied"] == 1

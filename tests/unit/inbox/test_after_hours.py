"""After-hours answers: once per conversation per closed period, in the line's time."""

import itertools

import pytest

from switchboard.data.models import MessageItem
from switchboard.flows.patient_texts import receive_text

PHONE = "+14155552671"
_sids = itertools.count(1000)
HOURS = {day: [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
         for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def text_at(setup, admin_api, clinic_clock, week):
    """A patient's text on `day` at `clock` in Chicago, in the coming week; the clock stays there for what follows
    (the after-hours answer and its send)."""
    admin_api("PATCH", f"/api/practices/{setup.practice_id}",
              {"hours": HOURS, "after_hours": {"text": "We are closed.", "translations": {"es": "Estamos cerrados."}}})

    def send(body: str, day: str, clock: str, phone: str = PHONE):
        params = {"MessageSid": f"SM{next(_sids):032d}", "From": phone, "To": setup.line["number"], "Body": body}
        at = clinic_clock.move_to(week.at(day, clock))
        return receive_text(params, status_callback="https://api.test/local/twilio/status", at=at)

    return send


def auto_replies():
    """Switchboard's own automated answers (the carrier's answers to keywords are stored too, as the carrier's)."""
    return sorted((m.created_at, m.body) for m in MessageItem.scan()
                  if m.sender == "auto_response" and m.sender_id != "carrier")


def test_one_reply_at_22_none_at_22_05_and_one_again_the_next_evening(text_at, after_hours, carrier_account):
    text_at("Hi, are you open?", "mon", "22:00")
    after_hours()
    text_at("Hello?", "mon", "22:05")
    after_hours()
    assert len(auto_replies()) == 1
    assert carrier_account.messages(to=PHONE)[0]["body"] == "We are closed.\n\nEstamos cerrados."
    text_at("Me again", "tue", "21:00")
    after_hours()
    assert len(auto_replies()) == 2
    assert len(carrier_account.messages(to=PHONE)) == 2


def test_no_reply_while_open_or_for_keywords(text_at, after_hours):
    text_at("Hi", "mon", "10:00")
    text_at("HELP", "mon", "23:00")
    text_at("STOP", "mon", "23:01")
    after_hours()
    assert auto_replies() == []


def test_lunch_break_is_closed(text_at, after_hours):
    text_at("Hi", "mon", "12:30")
    after_hours()
    assert len(auto_replies()) == 1


def test_no_reply_when_staff_answered_in_the_last_five_minutes(text_at, after_hours, admin_api, setup, week):
    text_at("first", "mon", "16:58")
    after_hours()
    from switchboard.data.models import ConversationItem

    conversation = next(ConversationItem.scan())
    conversation.update(actions=[ConversationItem.last_staff_reply_at.set(week.at("mon", "17:01"))])
    text_at("thanks!", "mon", "17:03")
    after_hours()
    assert auto_replies() == []
    text_at("one more thing", "mon", "17:10")
    after_hours()
    assert len(auto_replies()) == 1


def test_line_hours_and_timezone_override_the_practices(text_at, after_hours, admin_api, setup):
    admin_api("PATCH", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}",
              {"timezone": "America/New_York", "hours": {"mon": [{"opens": "20:00", "closes": "23:30"}]}})
    text_at("Hi", "mon", "21:00")  # 22:00 in New York: open by the line's own hours
    after_hours()
    assert auto_replies() == []
    text_at("Hi", "mon", "22:45")  # 23:45 in New York: closed
    after_hours()
    assert len(auto_replies()) == 1


def test_a_closure_closes_an_otherwise_open_day(text_at, after_hours, admin_api, setup, week):
    closed = week.day("wed").isoformat()
    admin_api("PATCH", f"/api/practices/{setup.practice_id}",
              {"closures": [{"starts": closed, "ends": closed, "reason": "staff training"}]})
    text_at("Hi", "wed", "10:00")
    after_hours()
    assert len(auto_replies()) == 1


def test_mpsp_prompt_then_answer_picks_the_patient(text_at, after_hours, admin_api, setup, carrier_account):
    for patient_id, name in (("A1", "Ann Lee"), ("B2", "Bo Lee")):
        admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
                  {"patient_id": patient_id, "name": name, "phone": "4155552671"})
    text_at("can I reschedule", "mon", "10:00")
    after_hours()
    prompt = carrier_account.messages(to=PHONE)[0]["body"]
    assert prompt == "Who is texting? Reply with a number: 1 for Ann; 2 for Bo."
    inbox = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert inbox["mpsp"] is True and inbox["verified"] is True
    text_at("2", "mon", "10:01")
    after_hours()
    inbox = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert inbox["mpsp"] is False and inbox["patient_name"] == "Bo Lee"
    assert len(carrier_account.messages(to=PHONE)) == 1


def test_mpsp_bad_answer_reprompts_once_then_leaves_it_to_staff(text_at, after_hours, admin_api, setup,
                                                               carrier_account):
    for patient_id, name in (("A1", "Ann Lee"), ("B2", "Bo Lee")):
        admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
                  {"patient_id": patient_id, "name": name, "phone": "4155552671"})
    for n, text in enumerate(["hi", "it's Ann", "Ann!", "ANN"]):
        text_at(text, "mon", f"10:0{n}")
        after_hours()
    bodies = [m["body"] for m in carrier_account.messages(to=PHONE)]
    assert len(bodies) == 2 and bodies[1].startswith("Sorry, we did not understand.")


def _two_patients_on_the_phone(admin_api, setup):
    for patient_id, name in (("A1", "Ann Lee"), ("B2", "Bo Lee")):
        admin_api("POST", f"/api/practices/{setup.practice_id}/patients",
                  {"patient_id": patient_id, "name": name, "phone": "4155552671"})


def _follow_up_jobs(queues):
    from switchboard.aws.jobs import decode

    return [decode(m["Body"]) for m in queues.messages("FOLLOW_UP_QUEUE_URL")]


def test_a_patient_text_delivered_twice_moves_mpsp_one_step(text_at, queues, admin_api, setup, carrier_account):
    """The patient's first text happens to be "1": delivered again, it must not be taken as their answer."""
    from switchboard.flows.follow_up import follow_up

    _two_patients_on_the_phone(admin_api, setup)
    text_at("1", "mon", "10:00")
    (job,) = _follow_up_jobs(queues)
    follow_up(job)
    follow_up(job)  # the follow-up queue hands the job out again
    queues.deliver()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == [
        "Who is texting? Reply with a number: 1 for Ann; 2 for Bo."]
    inbox = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"][0]
    assert inbox["mpsp"] is True and inbox["patient_name"] is None


def test_two_texts_followed_up_side_by_side_get_one_prompt_and_count_one_reply(
        intake, text_at, queues, admin_api, setup, carrier_account, monkeypatch):
    """Both follow-ups read the conversation before either wrote: one prompt, one reply counted."""
    from switchboard.data import conversations
    from switchboard.flows.follow_up import follow_up

    _two_patients_on_the_phone(admin_api, setup)
    intake("4155552671")  # the workflow's text: the conversation counts replies
    queues.deliver()
    text_at("hi", "mon", "10:00")
    text_at("hello?", "mon", "10:00")
    first, second = _follow_up_jobs(queues)
    read_together = conversations.load_for_follow_up(first.practice_id, first.message.line_id, first.message.phone)
    follow_up(first)
    monkeypatch.setattr(conversations, "load_for_follow_up", lambda *_: read_together)
    follow_up(second)
    queues.deliver()
    prompts = [m for m in carrier_account.messages(to=PHONE) if m["body"].startswith("Who is texting?")]
    assert len(prompts) == 1
    counts = admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body[0]["counts"]
    assert counts["replied"] == 1


def test_an_after_hours_answer_takes_three_requests(text_at, queues, dynamodb_reads, carrier_account):
    """One batch read (conversation, line, practice), the text told once, the answer stored."""
    from switchboard.flows.follow_up import follow_up

    text_at("hello", "mon", "22:00")
    (first,) = _follow_up_jobs(queues)
    follow_up(first)  # the conversation's first follow-up: MPSP matching is done, the period answered
    text_at("one more thing", "tue", "22:00")  # the next evening: answered again
    (later,) = [job for job in _follow_up_jobs(queues) if job.body == "one more thing"]
    with dynamodb_reads() as traffic:
        assert follow_up(later) == "answered"
    assert traffic.operations == ["BatchGetItem", "UpdateItem", "TransactWriteItems"]


def test_a_callers_first_reply_after_hours_is_answered_and_counted_in_the_same_three_requests(
        intake, text_at, queues, dynamodb_reads, admin_api, setup):
    from switchboard.flows.follow_up import follow_up

    intake("4155552671")  # the workflow's text: its conversation counts the first reply
    queues.deliver()
    text_at("thanks, what time do you open?", "mon", "22:00")
    (job,) = _follow_up_jobs(queues)
    with dynamodb_reads() as traffic:
        assert follow_up(job) == "answered"
    assert traffic.operations == ["BatchGetItem", "UpdateItem", "TransactWriteItems"]
    assert admin_api("GET", f"/api/practices/{setup.practice_id}/workflows").body[0]["counts"]["replied"] == 1


def _conversation():
    from switchboard.data.models import ConversationItem

    return next(ConversationItem.scan())


def _patient_texts():
    return [(m.body, m.keyword) for m in sorted(MessageItem.scan(), key=lambda m: m.created_at)
            if m.sender == "patient"]


def test_yes_from_a_patient_who_never_opted_out_is_an_ordinary_text(text_at, after_hours, carrier_account):
    text_at("Yes", "mon", "22:00")
    after_hours()
    assert [m["body"] for m in carrier_account.messages(to=PHONE)] == ["We are closed.\n\nEstamos cerrados."]
    assert _patient_texts() == [("Yes", None)]
    assert not _conversation().opted_out


@pytest.mark.parametrize("stop", ["opt out", "Opt-out", "\uff33\uff34\uff2f\uff30", "Stop. \U0001f621"])
def test_each_stop_form_opts_out_and_start_opts_back_in_without_an_after_hours_reply(
        stop, text_at, after_hours, carrier_account):
    text_at(stop, "mon", "22:00")
    after_hours()
    assert _conversation().opted_out
    text_at("START", "mon", "22:10")
    after_hours()
    assert not _conversation().opted_out
    assert _patient_texts() == [(stop, "opt_out"), ("START", "opt_in")]
    assert auto_replies() == []
    assert carrier_account.messages(to=PHONE) == []  # the carrier confirms; we send nothing
    text_at("Yes", "tue", "22:00")  # opted in already: an ordinary text, answered
    after_hours()
    assert _patient_texts()[-1] == ("Yes", None)
    assert len(auto_replies()) == 1


def test_a_lines_own_part_day_closure_gets_the_after_hours_reply_from_its_minute(text_at, after_hours, admin_api,
                                                                                  setup, week):
    day = week.day("thu").isoformat()
    assert admin_api("PATCH", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}",
                     {"closures": [{"starts": day, "ends": day, "from_time": "15:00"}]}).status == 200
    text_at("Hi", "thu", "14:59")
    after_hours()
    assert auto_replies() == []
    text_at("Hi again", "thu", "15:00")
    after_hours()
    assert [body for _, body in auto_replies()] == ["We are closed.\n\nEstamos cerrados."]


def test_an_emergency_close_gets_the_after_hours_reply_until_reopened(text_at, after_hours, admin_api, setup, week,
                                                                     clinic_clock):
    line = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}"
    clinic_clock.move_to(week.at("mon", "09:00"))
    closed = admin_api("POST", f"{line}/emergency-close",
                       {"reason": "Power cut", "reopens_at": week.at("mon", "16:00").isoformat()})
    assert closed.status == 200, closed.body
    text_at("Are you open?", "mon", "10:00")
    after_hours()
    assert [body for _, body in auto_replies()] == ["We are closed.\n\nEstamos cerrados."]  # not the reason
    assert admin_api("DELETE", f"{line}/emergency-close").status == 200
    text_at("Hello?", "mon", "10:30")
    after_hours()
    assert len(auto_replies()) == 1


def test_an_emergency_close_runs_out_by_itself(text_at, after_hours, admin_api, setup, week, clinic_clock):
    clinic_clock.move_to(week.at("tue", "09:00"))
    admin_api("POST", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/emergency-close",
              {"reason": "Power cut", "reopens_at": week.at("tue", "10:00").isoformat()})
    text_at("Hi", "tue", "09:59")
    after_hours()
    text_at("Hi", "tue", "10:00")
    after_hours()
    assert len(auto_replies()) == 1

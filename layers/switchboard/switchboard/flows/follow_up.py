"""After a patient's text is stored: announce it, count the workflow's reply, run MPSP, and answer once per
closed period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from switchboard.aws import events
from switchboard.aws.jobs import FollowUp
from switchboard.core.errors import NotFound
from switchboard.data import conversations as store
from switchboard.data import counts, patient_texts
from switchboard.data import lines as line_store
from switchboard.data import patients as patient_store
from switchboard.data import practices as practice_store
from switchboard.data.models import ConversationItem
from switchboard.flows import ownership
from switchboard.flows.outgoing import NotQueued, queue_text
from switchboard.rules.addresses import CountsOf, LineOwner
from switchboard.rules.conversations import PatientMatch
from switchboard.rules.keywords import Keyword
from switchboard.rules.lines import Line
from switchboard.rules.messages import OutgoingText, Refusal, SenderKind
from switchboard.rules.mpsp import next_step
from switchboard.rules.opening import OpeningHours
from switchboard.rules.practices import Practice
from switchboard.rules.texts import AfterHoursReply

STAFF_QUIET = timedelta(minutes=5)
DEFAULT_AFTER_HOURS = AfterHoursReply(text="We're closed right now. We'll read your message when we open.")


class Outcome(StrEnum):
    """What the follow-up did about a patient's text."""

    ANSWERED = "answered"
    NO_CONVERSATION = "no_conversation"
    KEYWORD = "keyword"
    OPEN = "open"
    STAFF_ANSWERING = "staff_answering"
    NOT_ANSWERED = "not_answered"
    ANSWERED_ALREADY = "answered_already"
    OPTED_OUT = "opted_out"


REFUSED = {Refusal.OPTED_OUT: Outcome.OPTED_OUT, Refusal.ALREADY_ANSWERED: Outcome.ANSWERED_ALREADY}


def after_hours_reply(line: Line, practice: Practice) -> str:
    return (line.after_hours or practice.after_hours or DEFAULT_AFTER_HOURS).rendered()


def closed_period(hours: OpeningHours, at: datetime) -> str | None:
    """A name for the closed period `at` falls in (when it ends); None while open."""
    if hours.is_open_at(at):
        return None
    reopens = hours.next_open_after(at)
    return reopens.astimezone(UTC).isoformat() if reopens else "until-further-notice"


def _answer(job: FollowUp, owner: LineOwner, body: str) -> OutgoingText:
    return OutgoingText(owner, job.message.phone, body, SenderKind.AUTO_RESPONSE, job.status_callback)


def _mpsp(job: FollowUp, owner: LineOwner, conversation: ConversationItem) -> None:
    """Ask who is texting, or take their answer: each patient text moves MPSP one step at most, however often
    it is delivered and whatever arrives beside it."""
    matches = [PatientMatch(**m) for m in (conversation.matches or [])]
    if len(matches) < 2 or conversation.patient_id or conversation.mpsp_message == job.message.message_id:
        return
    seen = int(conversation.mpsp_prompts or 0)
    step = next_step(matches, seen, job.body)
    if step.chosen is not None:
        store.take_step(owner.line_id, conversation.phone,
                        store.mpsp_claim(seen, job.message.message_id, chosen=step.chosen.patient_id))
    elif step.prompt is not None:
        try:
            queue_text(_answer(job, owner, step.prompt), at=job.received_at,
                       claim=store.mpsp_claim(seen, job.message.message_id))
        except NotQueued:
            pass  # opted out meanwhile, or another run took this step


def _announce(job: FollowUp, conversation: ConversationItem | None) -> None:
    """Tell other systems once per text (a redelivered job finds it told). Events name the patient by their
    verified id when the conversation knows it, never by phone; `event_id` is the same on any retry."""
    # After the opt-in check above, an opt-in word left here is one that opted the patient back in.
    confirmed = job.carrier_reply if job.keyword == Keyword.OPT_IN.value or (
        job.keyword == Keyword.OPT_OUT.value and patient_texts.newly_opted_out(conversation, job.message)) else None
    if not patient_texts.claim_announcement(job.message, practice_id=job.practice_id, at=job.received_at,
                                            carrier_answer=confirmed):
        return
    ref, at = job.message, job.received_at.isoformat()
    base = {"practice_id": job.practice_id, "line_id": ref.line_id, "message_id": ref.message_id,
            "patient_id": conversation.patient_id if conversation is not None else None}
    events.publish("Message Received", {**base, "event_id": f"{ref.message_id}.received", "keyword": job.keyword,
                                        "received_at": at})
    if job.keyword == Keyword.OPT_OUT.value:
        events.publish("Patient Opted Out", {**base, "event_id": f"{ref.message_id}.opted-out", "at": at})
    elif job.keyword == Keyword.OPT_IN.value:
        events.publish("Patient Opted In", {**base, "event_id": f"{ref.message_id}.opted-in", "at": at})


def follow_up(job: FollowUp) -> Outcome:
    """Count the workflow's reply, run MPSP, and answer once per closed period."""
    ref, owner, at = job.message, LineOwner(job.practice_id, job.message.line_id), job.received_at
    conversation, line_item, practice_item = store.load_for_follow_up(owner.practice_id, ref.line_id, ref.phone)
    if job.keyword == Keyword.OPT_IN.value and not patient_texts.opted_back_in(conversation, ref):
        patient_texts.ordinary_text(ref)
        job = replace(job, keyword=None)
    _announce(job, conversation)
    if conversation is None:
        return Outcome.NO_CONVERSATION
    ownership.give_up_if_owner_gone(owner, conversation)
    if line_item is None or practice_item is None:
        raise NotFound("the line or its practice is gone")
    practice = practice_store.to_practice(practice_item)
    line = line_store.to_line(line_item, practice.primary_line_id)
    counted = CountsOf(owner.practice_id, workflow_id=conversation.workflow_id, campaign_id=conversation.campaign_id)
    # The conversation's first reply is counted with the after-hours answer when there is one (one write).
    reply = (store.replied_claim(), counts.counted(counted, {"replied": 1})) if (
        counted and not conversation.replied) else None
    period = closed_period(practice.opening_hours(line), at)
    outcome = _why_not_answered(job, conversation, line, period)
    if reply is not None and outcome is not None:
        store.take_step(ref.line_id, ref.phone, reply[0], also=reply[1])
    if outcome is Outcome.KEYWORD:
        return outcome
    if conversation.matches is None:
        conversation.matches = [m.model_dump() for m in
                                patient_store.match_conversation(owner.practice_id, ref.line_id, ref.phone)]
    _mpsp(job, owner, conversation)
    if outcome is not None:
        return outcome
    try:
        queue_text(_answer(job, owner, after_hours_reply(line, practice)), at=at, after_hours_period=period,
                   claim=reply[0] if reply else None, also=reply[1] if reply else ())
    except NotQueued as refused:
        if reply is not None:
            store.take_step(ref.line_id, ref.phone, reply[0], also=reply[1])  # counted without the answer
        return REFUSED[refused.refusal]
    return Outcome.ANSWERED


def _why_not_answered(job: FollowUp, conversation: ConversationItem, line: Line, period: str | None
                      ) -> Outcome | None:
    """Why this text gets no after-hours answer; None when it does."""
    if job.keyword:
        return Outcome.KEYWORD
    if period is None:
        return Outcome.OPEN
    if conversation.last_staff_reply_at and job.received_at - conversation.last_staff_reply_at < STAFF_QUIET:
        return Outcome.STAFF_ANSWERING
    if conversation.opted_out or conversation.after_hours_period == period or not line.can_text:
        return Outcome.NOT_ANSWERED
    return None

"""After a patient's text is stored: after-hours answers, MPSP prompts, and staff replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.aws import events, queues
from switchboard.core.errors import NotFound, RuleRefused
from switchboard.data import conversations as store
from switchboard.data import lines as line_store
from switchboard.data import patients as patient_store
from switchboard.data import practices as practice_store
from switchboard.data import workflows as workflow_store
from switchboard.data.conversations import LineOwner, MessageRef, Refusal
from switchboard.data.models import ConversationItem
from switchboard.rules.conversations import PatientMatch
from switchboard.rules.keywords import Keyword
from switchboard.rules.lines import Line
from switchboard.rules.messages import SenderKind
from switchboard.rules.mpsp import next_step
from switchboard.rules.opening import OpeningHours
from switchboard.rules.practices import Practice
from switchboard.rules.texts import AfterHoursReply

STAFF_QUIET = timedelta(minutes=5)
DEFAULT_AFTER_HOURS = AfterHoursReply(text="We're closed right now. We'll read your message when we open.")


def after_hours_reply(line: Line, practice: Practice) -> str:
    return (line.after_hours or practice.after_hours or DEFAULT_AFTER_HOURS).rendered()


def closed_period(hours: OpeningHours, at: datetime) -> str | None:
    """A name for the closed period `at` falls in (when it ends); None while open."""
    if hours.is_open_at(at):
        return None
    reopens = hours.next_open_after(at)
    return reopens.astimezone(UTC).isoformat() if reopens else "until-further-notice"


def _send(owner: LineOwner, phone: str, body: str, status_callback: str, at: datetime,
          period: str | None = None) -> MessageRef | Refusal:
    queued = store.queue_text(owner, phone, body=body, sender=SenderKind.AUTO_RESPONSE, sender_id=None,
                              status_callback=status_callback, at=at, after_hours_period=period)
    if isinstance(queued, MessageRef):
        queues.send_message_job(queued, status_callback)
    return queued


def _mpsp(owner: LineOwner, conversation: ConversationItem, body: str, status_callback: str, at: datetime) -> None:
    matches = [PatientMatch(**m) for m in (conversation.matches or [])]
    if len(matches) < 2 or conversation.patient_id:
        return
    step = next_step(matches, int(conversation.mpsp_prompts or 0), body)
    if step.chosen is not None:
        store.set_conversation(owner.line_id, conversation.phone,
                               [ConversationItem.patient_id.set(step.chosen.patient_id)])
    elif step.prompt is not None:
        store.set_conversation(owner.line_id, conversation.phone,
                               [ConversationItem.mpsp_prompts.set((ConversationItem.mpsp_prompts | 0) + 1)])
        _send(owner, conversation.phone, step.prompt, status_callback, at)


def _announce(owner: LineOwner, ref: MessageRef, event: dict[str, object]) -> None:
    base = {"practice_id": owner.practice_id, "line_id": ref.line_id, "phone": ref.phone}
    events.publish("Message Received", {**base, "message_id": ref.message_id, "keyword": event.get("keyword"),
                                            "received_at": event["received_at"]})
    if event.get("keyword") == Keyword.OPT_OUT.value:
        events.publish("Patient Opted Out", {**base, "at": event["received_at"]})
    elif event.get("keyword") == Keyword.OPT_IN.value:
        events.publish("Patient Opted In", {**base, "at": event["received_at"]})


def answer_inbound(event: dict[str, object]) -> str:
    """After a text is stored: count the workflow's reply, run MPSP, and answer once per closed period."""
    ref = MessageRef(**event["message"])  # type: ignore[arg-type]
    owner = LineOwner(str(event["practice_id"]), ref.line_id)
    at = datetime.fromisoformat(str(event["received_at"]))
    callback = str(event["status_callback"])
    _announce(owner, ref, event)
    conversation = store.load_conversation(ref.line_id, ref.phone)
    if conversation is None:
        return "no conversation"
    counted = store.counts_key(owner.practice_id, workflow_id=conversation.workflow_id,
                               campaign_id=conversation.campaign_id)
    if counted and not conversation.replied:
        store.set_conversation(ref.line_id, ref.phone, [ConversationItem.replied.set(True)])
        workflow_store.bump_counts(owner.practice_id, counted[1], {"replied": 1})
    if event.get("keyword"):
        return "keyword"
    if conversation.matches is None:
        conversation.matches = [m.model_dump() for m in
                                patient_store.match_conversation(owner.practice_id, ref.line_id, ref.phone)]
    _mpsp(owner, conversation, str(event.get("body") or ""), callback, at)
    line = line_store.get_line(owner.practice_id, ref.line_id)
    practice = practice_store.get_practice(owner.practice_id)
    period = closed_period(practice.opening_hours(line), at)
    if period is None:
        return "open"
    if conversation.last_staff_reply_at and at - conversation.last_staff_reply_at < STAFF_QUIET:
        return "staff answering"
    if conversation.opted_out or conversation.after_hours_period == period or not line.can_text:
        return "not answered"
    sent = _send(owner, ref.phone, after_hours_reply(line, practice), callback, at, period)
    return "after-hours reply" if isinstance(sent, MessageRef) else f"not answered: {sent.value}"


def reply_from_staff(owner: LineOwner, phone: str, body: str, *, staff: str, status_callback: str) -> MessageRef:
    """Queue a staff member's reply; refused, with the reason, when it could not reach the patient."""
    line = line_store.get_line(owner.practice_id, owner.line_id)
    if not line.can_text:
        raise RuleRefused(f"the line is {line.status.value}: texts from it would fail")
    conversation = store.load_conversation(owner.line_id, phone)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation.not_textable:
        raise RuleRefused("this number cannot receive texts (not a mobile number)")
    queued = store.queue_text(owner, phone, body=body, sender=SenderKind.STAFF, sender_id=staff,
                              status_callback=status_callback, at=datetime.now(UTC))
    if not isinstance(queued, MessageRef):
        raise RuleRefused("the patient opted out of texts from this line; they must text START first")
    queues.send_message_job(queued, status_callback)
    return queued

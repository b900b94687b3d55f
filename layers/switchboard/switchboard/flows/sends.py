"""Messages a clinic's systems start (appointment reminders, manual sends), from the line that belongs to the
patient's location, inside quiet hours, once per idempotency key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from switchboard.core.errors import NotFound, RuleRefused
from switchboard.data import conversations as store
from switchboard.data import deliveries as delivery_store
from switchboard.data import lines as line_store
from switchboard.data import patients as patient_store
from switchboard.data import practices as practice_store
from switchboard.flows.line_changes import line_for_resource
from switchboard.flows.outgoing import NotQueued, Once, queue_text_once
from switchboard.flows.registration import check_can_start_sends
from switchboard.rules.addresses import LineOwner
from switchboard.rules.lines import Line
from switchboard.rules.messages import OutgoingText, SenderKind
from switchboard.rules.practices import Practice
from switchboard.rules.sends import SendRequest, SendResult, render


def sending_line(practice_id: str, *, resource_id: str | None, line_id: str | None) -> Line:
    """The line a message goes from: the location's linked line, or the line asked for; it must be enabled."""
    if resource_id is not None:
        try:
            line = line_for_resource(practice_id, resource_id)
        except NotFound:
            raise NotFound("no such location in this practice", field="resource_id") from None
        if line is None:
            raise RuleRefused("this location has no line to text from; link it to a line first", field="resource_id")
    else:
        try:
            line = line_store.get_line(practice_id, line_id or "")
        except NotFound:
            raise NotFound("no such line in this practice", field="line_id") from None
    if not line.can_text:
        raise RuleRefused(f"the line is {line.status.value}: texts from it would fail",
                          field="resource_id" if resource_id else "line_id")
    return line


def recipient_phone(practice_id: str, *, to: str | None, patient_id: str | None) -> str:
    if to is not None:
        return to
    phone = patient_store.phones_of(practice_id, [patient_id or ""]).get(patient_id or "")
    if phone is None:
        raise NotFound("no verified patient with this id in the practice", field="patient_id")
    return phone


def check_reachable(line: Line, phone: str) -> None:
    conversation = store.load_conversation(line.line_id, phone)
    if conversation is not None and conversation.opted_out:
        raise RuleRefused("the patient opted out of texts from this line", field="to")
    contact = store.load_contact(line.practice_id, phone)
    if (contact is not None and contact.not_textable) or (conversation is not None and conversation.not_textable):
        raise RuleRefused("this number cannot receive texts (not a mobile number)", field="to")


def allowed_at(practice: Practice, line: Line, at: datetime) -> datetime:
    """`at` if inside the practice's sending hours in the line's time, else the next allowed minute."""
    window = practice.quiet_hours.allowed(line.timezone or practice.timezone)
    return window.next_open_after(at) or at


def send(practice_id: str, request: SendRequest, *, sender_id: str, status_callback: str,
         at: datetime | None = None) -> SendResult:
    """Store the text once per practice and idempotency key: a retry answers the first result, the same key
    with another request is a conflict. The receipt is written in the text's own transaction."""
    now = at or datetime.now(UTC)
    once = Once(practice_id, request.idempotency_key, request.model_dump(mode="json"), field="idempotency_key")
    answered = once.answered()
    if answered is not None:
        return SendResult.model_validate(answered)
    practice = practice_store.get_practice(practice_id)
    line = sending_line(practice_id, resource_id=request.resource_id, line_id=request.line_id)
    check_can_start_sends(practice, field="resource_id" if request.resource_id else "line_id")
    phone = recipient_phone(practice_id, to=request.to, patient_id=request.patient_id)
    check_reachable(line, phone)
    body = request.text or render(request.template or "", request.variables)
    send_at = None if request.urgent else allowed_at(practice, line, now)
    later = send_at if send_at and send_at > now else None
    text = OutgoingText(LineOwner(practice_id, line.line_id), phone, body, SenderKind.INTEGRATION, status_callback,
                        sender_id=sender_id)

    def answer(message_id: str) -> dict[str, Any]:
        return SendResult(message_id=message_id, status="scheduled" if later else "queued", line_id=line.line_id,
                          from_number=line.number, send_at=later).model_dump(mode="json")

    try:
        return SendResult.model_validate(queue_text_once(once, text, answer, at=now, send_at=later))
    except NotQueued:
        raise RuleRefused("the patient opted out of texts from this line", field="to") from None


def release_due(at: datetime | None = None) -> int:
    """Queue every scheduled message whose time has come (run every minute)."""
    now = at or datetime.now(UTC)
    released = 0
    for message in delivery_store.scheduled_due(now):
        released += delivery_store.release_scheduled(message, now)  # the stream queues what is released
    return released

"""Contacts, conversations and messages: the writes of intake, sending and delivery status."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from ulid import ULID

from switchboard.core.errors import InvalidInput
from switchboard.core.phones import format_national
from switchboard.rules.messages import Direction, Handoff, MessageStatus, SenderKind, statuses_before

from .keys import practice_key
from .models import (
    ContactItem,
    ConversationItem,
    CountsItem,
    DedupeItem,
    InboundSidItem,
    MessageItem,
    NumberClaim,
    SidItem,
    TokenItem,
)
from .writes import Writes, count_actions, transaction

if TYPE_CHECKING:
    from switchboard.rules.conversations import InboxEntry, Message

IN_FLIGHT = "IN_FLIGHT"


class IntakeOutcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    NOT_TEXTABLE = "not_textable"


@dataclass(frozen=True)
class Intake:
    outcome: IntakeOutcome
    message_id: str | None


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives; what the outbound queue carries."""

    line_id: str
    phone: str
    message_id: str

    @property
    def key(self) -> tuple[str, str]:
        return message_key(self.line_id, self.phone, self.message_id)


def contact_key(practice_id: str, phone: str) -> tuple[str, str]:
    return practice_key(practice_id), f"CONTACT#{phone}"


def conversation_key(line_id: str, phone: str) -> tuple[str, str]:
    return f"LINE#{line_id}", f"CONV#{phone}"


def message_key(line_id: str, phone: str, message_id: str) -> tuple[str, str]:
    return f"CONV#{line_id}#{phone}", f"MSG#{message_id}"


def _contact_upsert(practice_id: str, phone: str, at: datetime) -> list[Action]:
    return [
        ContactItem.kind.set(ContactItem),
        ContactItem.practice_id.set(practice_id),
        ContactItem.phone.set(phone),
        ContactItem.verified.set(ContactItem.verified | False),
        ContactItem.created_at.set(ContactItem.created_at | at),
        ContactItem.updated_at.set(at),
        ContactItem.gsi1pk.set(f"PHONE#{phone}"),
        ContactItem.gsi1sk.set(practice_id),
    ]


def _preview(direction: Direction, body: str | None, status: MessageStatus, at: datetime) -> dict[str, Any]:
    return {"direction": direction.value, "body": (body or "")[:160], "status": status.value,
            "created_at": at.isoformat()}


def _conversation_touch(practice_id: str, line_id: str, phone: str, at: datetime,
                        last: dict[str, Any] | None = None, *, unread: int = 0) -> list[Action]:
    return [
        *([ConversationItem.last_message.set(last)] if last else []),
        ConversationItem.gsi2pk.set(f"INBOX#{practice_id}"),
        ConversationItem.gsi2sk.set(f"{at.isoformat()}#{line_id}#{phone}"),
        ConversationItem.kind.set(ConversationItem),
        ConversationItem.line_id.set(line_id),
        ConversationItem.practice_id.set(practice_id),
        ConversationItem.phone.set(phone),
        ConversationItem.unread.set((ConversationItem.unread | 0) + unread) if unread
        else ConversationItem.unread.set(ConversationItem.unread | 0),
        ConversationItem.created_at.set(ConversationItem.created_at | at),
        ConversationItem.updated_at.set(at),
        ConversationItem.last_activity_at.set(at),
        ConversationItem.gsi1pk.set(f"INBOX#{line_id}"),
        ConversationItem.gsi1sk.set(f"{at.isoformat()}#{phone}"),
    ]


def new_message(ref: MessageRef, *, practice_id: str, direction: Direction, sender: SenderKind, status: MessageStatus,
                at: datetime, body: str | None = None, sender_id: str | None = None,
                workflow_id: str | None = None, carrier_sid: str | None = None) -> MessageItem:
    pk, sk = ref.key
    item = MessageItem(pk, sk, message_id=ref.message_id, line_id=ref.line_id, practice_id=practice_id,
                       phone=ref.phone, direction=direction.value, sender=sender.value, sender_id=sender_id,
                       workflow_id=workflow_id, status=status.value, body=body, carrier_sid=carrier_sid,
                       created_at=at, updated_at=at)
    if status not in (MessageStatus.RECEIVED, MessageStatus.SUPPRESSED):
        item.pending_pk, item.pending_sk = IN_FLIGHT, f"{at.isoformat()}#{ref.message_id}"
    return item


def record_call(token: TokenItem, phone: str, at: datetime, *, status_callback: str) -> Intake:
    """One transaction: the duplicate window, the contact, the conversation, the queued text and the count.

    A repeat inside the window, an opted-out conversation or a contact known not to take texts cancels
    it whole; DynamoDB says which, and hands back the first call's message id for a repeat.
    """
    ref = MessageRef(token.line_id, phone, str(ULID()))
    window_ends = at + timedelta(minutes=int(token.duplicate_window_minutes))
    dedupe = DedupeItem(f"DEDUPE#{token.practice_id}#{phone}", "DEDUPE", window_ends_at=int(window_ends.timestamp()),
                        message_id=ref.message_id, expires_at=window_ends + timedelta(days=1))
    contact_pk, contact_sk = contact_key(token.practice_id, phone)
    conversation_pk, conversation_sk = conversation_key(token.line_id, phone)
    message = new_message(ref, practice_id=token.practice_id, direction=Direction.OUTBOUND,
                          sender=SenderKind.WORKFLOW, sender_id=token.workflow_id, workflow_id=token.workflow_id,
                          status=MessageStatus.QUEUED, at=at)
    message.status_callback, message.handoff = status_callback, Handoff.OUTBOUND.value
    try:
        with transaction() as writes:
            writes.put(dedupe, condition=DedupeItem.pk.does_not_exist()
                       | (DedupeItem.window_ends_at <= int(at.timestamp())), return_values="ALL_OLD")
            writes.update(ContactItem(contact_pk, contact_sk), _contact_upsert(token.practice_id, phone, at),
                          condition=ContactItem.not_textable.does_not_exist() | (ContactItem.not_textable == False))  # noqa: E712
            writes.update(ConversationItem(conversation_pk, conversation_sk),
                          [*_conversation_touch(token.practice_id, token.line_id, phone, at,
                                                _preview(Direction.OUTBOUND, None, MessageStatus.QUEUED, at)),
                           ConversationItem.workflow_id.set(token.workflow_id)],
                          condition=ConversationItem.opted_out.does_not_exist() | (ConversationItem.opted_out == False))  # noqa: E712
            writes.put(message)
            writes.update(CountsItem(practice_key(token.practice_id), f"COUNTS#{token.workflow_id}"),
                          count_actions({"received": 1}))
    except TransactWriteError as error:
        refused = writes.refusals(error)
        if (dedupe.pk, dedupe.sk) in refused:
            first = refused[(dedupe.pk, dedupe.sk)] or {}
            return Intake(IntakeOutcome.DUPLICATE, first.get("message_id", {}).get("S"))
        if (conversation_pk, conversation_sk) in refused:
            return Intake(IntakeOutcome.OPTED_OUT, None)
        if (contact_pk, contact_sk) in refused:
            return Intake(IntakeOutcome.NOT_TEXTABLE, None)
        raise
    return Intake(IntakeOutcome.QUEUED, ref.message_id)


def load_message(ref: MessageRef) -> MessageItem | None:
    try:
        return MessageItem.get(*ref.key, consistent_read=True)
    except DoesNotExist:
        return None


def load_conversation(line_id: str, phone: str) -> ConversationItem | None:
    try:
        return ConversationItem.get(*conversation_key(line_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def load_contact(practice_id: str, phone: str) -> ContactItem | None:
    try:
        return ContactItem.get(*contact_key(practice_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def claim_for_sending(message: MessageItem, at: datetime) -> bool:
    """queued → sending, recording the attempt; False when another delivery of the same job got there first."""
    expected = message.status
    try:
        message.update(
            actions=[MessageItem.status.set(MessageStatus.SENDING.value), MessageItem.attempt_started_at.set(at),
                     MessageItem.updated_at.set(at)],
            condition=(MessageItem.status == expected) & (MessageItem.carrier_sid.does_not_exist()),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def counts_key(practice_id: str, *, workflow_id: str | None, campaign_id: str | None) -> tuple[str, str] | None:
    """Where a message's outcomes are counted: its workflow's or its campaign's counters."""
    if workflow_id:
        return practice_key(practice_id), f"COUNTS#{workflow_id}"
    if campaign_id:
        return practice_key(practice_id), f"COUNTS#CAMPAIGN#{campaign_id}"
    return None


def _count_update(writes: Writes, key: tuple[str, str] | None, counters: dict[str, int]) -> None:
    if key is not None and counters:
        writes.update(CountsItem(*key), count_actions(counters))


def record_accepted(message: MessageItem, *, sid: str, status: MessageStatus, body: str, at: datetime,
                    counters: dict[str, int]) -> None:
    """The carrier took the message: remember its sid (and where to find us from it) with the count."""
    contact_pk, _ = contact_key(message.practice_id, message.phone)
    with transaction() as writes:
        writes.update(message, [MessageItem.carrier_sid.set(sid), MessageItem.status.set(status.value),
                                MessageItem.body.set(body), MessageItem.updated_at.set(at)])
        writes.put(SidItem(f"SID#{sid}", "SID", message_pk=message.pk, message_sk=message.sk,
                           contact_pk=contact_pk, workflow_id=message.workflow_id, campaign_id=message.campaign_id,
                           practice_id=message.practice_id))
        _count_update(writes, counts_key(message.practice_id, workflow_id=message.workflow_id,
                                         campaign_id=message.campaign_id), counters)


def record_refused(message: MessageItem, *, status: MessageStatus, reason: str, code: int | None, at: datetime,
                   counters: dict[str, int], opted_out: bool = False, not_textable: bool = False) -> None:
    """The message will not go: say why, and mark the conversation or contact so nothing else tries."""
    with transaction() as writes:
        actions: list[Action] = [MessageItem.status.set(status.value), MessageItem.error_reason.set(reason),
                                 MessageItem.updated_at.set(at), MessageItem.pending_pk.remove(),
                                 MessageItem.pending_sk.remove()]
        if code is not None:
            actions.append(MessageItem.error_code.set(code))
        writes.update(message, actions)
        if opted_out:
            writes.update(ConversationItem(*conversation_key(message.line_id, message.phone)),
                          [ConversationItem.opted_out.set(True), ConversationItem.updated_at.set(at)])
        if not_textable:
            _mark_not_textable(writes, message.practice_id, message.phone, message.line_id, at)
        _count_update(writes, counts_key(message.practice_id, workflow_id=message.workflow_id,
                                         campaign_id=message.campaign_id), counters)


def _mark_not_textable(writes: Writes, practice_id: str, phone: str, line_id: str, at: datetime) -> None:
    writes.update(ContactItem(*contact_key(practice_id, phone)),
                  [ContactItem.not_textable.set(True), ContactItem.updated_at.set(at)])
    writes.update(ConversationItem(*conversation_key(line_id, phone)),
                  [ConversationItem.not_textable.set(True), ConversationItem.updated_at.set(at)])


def release_attempt(message: MessageItem, at: datetime) -> None:
    """The carrier never saw the attempt: let the next delivery send without a lookup."""
    message.update(actions=[MessageItem.status.set(MessageStatus.QUEUED.value), MessageItem.updated_at.set(at)],
                   condition=MessageItem.carrier_sid.does_not_exist())


@dataclass(frozen=True)
class StatusChange:
    applied: bool
    message_known: bool
    message: dict[str, str] | None = None


def apply_carrier_status(sid: str, status: MessageStatus, *, error_code: int | None, reason: str | None,
                         not_textable: bool, at: datetime) -> StatusChange:
    """Move a message forward to `status`; older or repeated news changes nothing."""
    try:
        pointer = SidItem.get(f"SID#{sid}", "SID")
    except DoesNotExist:
        return StatusChange(applied=False, message_known=False)
    message = MessageItem(pointer.message_pk, pointer.message_sk)
    actions: list[Action] = [MessageItem.status.set(status.value), MessageItem.updated_at.set(at)]
    if error_code is not None:
        actions += [MessageItem.error_code.set(error_code), MessageItem.error_reason.set(reason or "")]
    if status in (MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED):
        actions += [MessageItem.pending_pk.remove(), MessageItem.pending_sk.remove()]
    condition = MessageItem.status.is_in(*[s.value for s in statuses_before(status)])
    try:
        with transaction() as writes:
            writes.update(message, actions, condition=condition)
            if not_textable:
                _, line_id, phone = pointer.message_pk.split("#", 2)
                _mark_not_textable(writes, pointer.practice_id, phone, line_id, at)
            key = counts_key(pointer.practice_id, workflow_id=pointer.workflow_id, campaign_id=pointer.campaign_id)
            if status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
                _count_update(writes, key, {"failed": 1, f"failed:{reason}": 1})
            elif status is MessageStatus.DELIVERED:
                _count_update(writes, key, {"delivered": 1})
    except TransactWriteError as error:
        if (message.pk, message.sk) in writes.failed(error):
            return StatusChange(applied=False, message_known=True)
        raise
    _, line_id, phone = pointer.message_pk.split("#", 2)
    return StatusChange(applied=True, message_known=True,
                        message={"practice_id": pointer.practice_id, "line_id": line_id,
                                 "message_id": pointer.message_sk.removeprefix("MSG#")})


def in_flight_before(cutoff: datetime, limit: int = 100) -> list[MessageItem]:
    """Messages not yet final since before `cutoff`: from the sparse index, oldest first."""
    query = MessageItem.pending.query(IN_FLIGHT, MessageItem.pending_sk < cutoff.isoformat(), limit=limit)
    return [item for item in query if isinstance(item, MessageItem)]


def settle(message: MessageItem, status: MessageStatus, at: datetime) -> None:
    """Take a message off the in-flight index once the reconciler has its last word."""
    message.update(actions=[MessageItem.status.set(status.value), MessageItem.updated_at.set(at),
                            MessageItem.pending_pk.remove(), MessageItem.pending_sk.remove()])


@dataclass(frozen=True)
class LineOwner:
    """Which line (of which practice) a number belongs to."""

    practice_id: str
    line_id: str


def line_for_number(number: str) -> LineOwner | None:
    try:
        claim = NumberClaim.get(f"NUMBER#{number}", "NUMBER")
    except DoesNotExist:
        return None
    return LineOwner(claim.practice_id, claim.line_id)


def record_inbound(owner: LineOwner, phone: str, *, body: str, sid: str, keyword: str | None, flag: str | None,
                   at: datetime, status_callback: str) -> MessageRef | None:
    """Store a patient's text with its conversation and contact in one write; None when it was stored already.
    The table's stream hands it on to be answered (`status_callback` is for the answer)."""
    ref = MessageRef(owner.line_id, phone, str(ULID()))
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.INBOUND, sender=SenderKind.PATIENT,
                          status=MessageStatus.RECEIVED, at=at, body=body, carrier_sid=sid)
    message.keyword, message.flag = keyword, flag
    message.status_callback, message.handoff = status_callback, Handoff.INBOUND.value
    marker = InboundSidItem(f"INBOUND#{sid}", "INBOUND", expires_at=at + timedelta(days=7))
    conversation = _conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                       _preview(Direction.INBOUND, body, MessageStatus.RECEIVED, at), unread=1)
    if keyword == "opt_out":
        conversation.append(ConversationItem.opted_out.set(True))
    elif keyword == "opt_in":
        conversation.append(ConversationItem.opted_out.set(False))
    try:
        with transaction() as writes:
            writes.put(marker, condition=InboundSidItem.pk.does_not_exist())
            writes.update(ContactItem(*contact_key(owner.practice_id, phone)),
                          _contact_upsert(owner.practice_id, phone, at))
            writes.update(ConversationItem(*conversation_key(owner.line_id, phone)), conversation)
            writes.put(message)
    except TransactWriteError as error:
        if (marker.pk, marker.sk) in writes.failed(error):
            return None
        raise
    return ref


class Refusal(StrEnum):
    OPTED_OUT = "opted_out"
    ALREADY_ANSWERED = "already_answered"


SCHEDULED = "SCHEDULED"


def queue_text(owner: LineOwner, phone: str, *, body: str, sender: SenderKind, sender_id: str | None,
               status_callback: str, at: datetime, after_hours_period: str | None = None,
               send_at: datetime | None = None, campaign_id: str | None = None) -> MessageRef | Refusal:
    """A text we start (staff reply, automatic answer): stored queued, never to an opted-out conversation.

    With `after_hours_period`, the write also claims that closed period on the conversation, so two
    texts arriving together get one after-hours answer between them.
    """
    ref = MessageRef(owner.line_id, phone, str(ULID()))
    status = MessageStatus.SCHEDULED if send_at else MessageStatus.QUEUED
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.OUTBOUND, sender=sender,
                          sender_id=sender_id, status=status, at=at, body=body)
    message.status_callback, message.campaign_id = status_callback, campaign_id
    if send_at is not None:
        message.send_at = send_at
        message.pending_pk, message.pending_sk = SCHEDULED, f"{send_at.isoformat()}#{ref.message_id}"
    actions = _conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                  _preview(Direction.OUTBOUND, body, status, at))
    if campaign_id:
        actions.append(ConversationItem.campaign_id.set(campaign_id))
    condition = ConversationItem.opted_out.does_not_exist() | (ConversationItem.opted_out == False)  # noqa: E712
    if sender is SenderKind.STAFF:
        actions.append(ConversationItem.last_staff_reply_at.set(at))
    if after_hours_period is not None:
        actions.append(ConversationItem.after_hours_period.set(after_hours_period))
        condition = condition & (ConversationItem.after_hours_period.does_not_exist()
                                 | (ConversationItem.after_hours_period != after_hours_period))
    key = conversation_key(owner.line_id, phone)
    try:
        with transaction() as writes:
            writes.put(message)
            writes.update(ConversationItem(*key), actions, condition=condition)
    except TransactWriteError as error:
        refused = writes.refusals(error)
        if key in refused:
            stored = refused[key] or {}
            if stored.get("opted_out", {}).get("BOOL"):
                return Refusal.OPTED_OUT
            return Refusal.ALREADY_ANSWERED
        raise
    return ref


def mark_read(line_id: str, phone: str, at: datetime) -> None:
    ConversationItem(*conversation_key(line_id, phone)).update(
        actions=[ConversationItem.unread.set(0), ConversationItem.updated_at.set(at)],
        condition=ConversationItem.pk.exists())


def set_conversation(line_id: str, phone: str, actions: list[Action]) -> None:
    ConversationItem(*conversation_key(line_id, phone)).update(actions=actions, condition=ConversationItem.pk.exists())


@dataclass(frozen=True)
class Page:
    items: list[Any]
    cursor: dict[str, Any] | None


def inbox_page(practice_id: str, *, line_ids: set[str] | None, unread_only: bool, limit: int,
               cursor: dict[str, Any] | None) -> Page:
    """One query: the practice's conversations by last activity, newest first, narrowed to `line_ids`."""
    condition = None
    if line_ids is not None:
        condition = ConversationItem.line_id.is_in(*sorted(line_ids)) if line_ids else ConversationItem.pk == "-"
    if unread_only:
        condition = (ConversationItem.unread > 0) if condition is None else condition & (ConversationItem.unread > 0)
    query = ConversationItem.gsi2.query(f"INBOX#{practice_id}", scan_index_forward=False, limit=limit,
                                        filter_condition=condition, last_evaluated_key=cursor, page_size=limit)
    items = [item for item in query if isinstance(item, ConversationItem)]
    return Page(items, query.last_evaluated_key)


def thread_page(line_id: str, phone: str, *, limit: int, cursor: dict[str, Any] | None) -> Page:
    """A conversation's messages, newest first, one query per page."""
    pk = f"CONV#{line_id}#{phone}"
    query = MessageItem.query(pk, MessageItem.sk.startswith("MSG#"), scan_index_forward=False, limit=limit,
                              last_evaluated_key=cursor, page_size=limit)
    items = [item for item in query if isinstance(item, MessageItem)]
    return Page(items, query.last_evaluated_key)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise InvalidInput("is not a cursor this API gave out", field="cursor") from None
    if not isinstance(key, dict):
        raise InvalidInput("is not a cursor this API gave out", field="cursor")
    return key


def to_entry(item: ConversationItem) -> InboxEntry:
    # The inbox's pydantic models load with the first page, not in the webhooks that share this module.
    from switchboard.rules.conversations import InboxEntry, LastMessage, PatientMatch

    matches = [PatientMatch(**m) for m in (item.matches or [])]
    chosen = next((m for m in matches if m.patient_id == item.patient_id), None)
    return InboxEntry(
        line_id=item.line_id, phone=item.phone, phone_display=format_national(item.phone)
        if item.phone.startswith("+1") else item.phone, unread=int(item.unread or 0),
        last_activity_at=item.last_activity_at, opted_out=bool(item.opted_out), not_textable=bool(item.not_textable),
        verified=bool(item.verified), mpsp=len(matches) > 1 and chosen is None, patient_id=item.patient_id,
        patient_name=chosen.name if chosen else None, matches=matches,
        last_message=LastMessage(**item.last_message) if item.last_message else None,
    )


def to_message(item: MessageItem) -> Message:
    from switchboard.rules.conversations import Message

    return Message(
        message_id=item.message_id, line_id=item.line_id, phone=item.phone, direction=Direction(item.direction),
        body=item.body, sender=SenderKind(item.sender), sender_id=item.sender_id, status=MessageStatus(item.status),
        error_code=item.error_code, error_reason=item.error_reason, carrier_sid=item.carrier_sid, flag=item.flag,
        created_at=item.created_at,
    )


def scheduled_due(at: datetime, limit: int = 200) -> list[MessageItem]:
    """Scheduled messages whose time has come: from the sparse index, oldest first."""
    query = MessageItem.pending.query(SCHEDULED, MessageItem.pending_sk <= f"{at.isoformat()}~", limit=limit)
    return [item for item in query if isinstance(item, MessageItem)]


def release_scheduled(message: MessageItem, at: datetime) -> bool:
    """scheduled → queued (joins the in-flight index); False when another run released it first."""
    try:
        message.update(actions=[MessageItem.status.set(MessageStatus.QUEUED.value), MessageItem.updated_at.set(at),
                                MessageItem.pending_pk.set(IN_FLIGHT),
                                MessageItem.pending_sk.set(f"{at.isoformat()}#{message.message_id}")],
                       condition=MessageItem.status == MessageStatus.SCHEDULED.value)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def show_sent_text(message: MessageItem, body: str) -> None:
    """A workflow's text is written when sent; put it in the inbox preview unless something newer is there."""
    try:
        ConversationItem(*conversation_key(message.line_id, message.phone)).update(
            actions=[ConversationItem.last_message.set(
                _preview(Direction.OUTBOUND, body, MessageStatus.SENT, message.created_at))],
            condition=ConversationItem.last_activity_at == message.created_at)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise

"""A message's way out: claimed for sending, accepted or refused by the carrier, moved forward by status
callbacks, settled by the reconciler, and released when its scheduled time comes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from switchboard.rules.addresses import CountsOf, MessageRef
from switchboard.rules.messages import Direction, Handoff, MessageStatus, statuses_before

from .counts import add_in, failed_counter
from .keys import contact_key, conversation_key, message_ref
from .messages import IN_FLIGHT, SCHEDULED, preview
from .models import ContactItem, ConversationItem, CursorItem, MessageItem, SidItem
from .writes import Writes, transaction

RECONCILER_CURSOR = ("RECONCILER", "CURSOR")


def counts_of(message: MessageItem | SidItem) -> CountsOf:
    return CountsOf(message.practice_id, workflow_id=message.workflow_id, campaign_id=message.campaign_id)


def claim_for_sending(message: MessageItem, at: datetime, *, seen_attempt: datetime | None) -> bool:
    """→ sending, recording this attempt; False when another delivery claimed it after `seen_attempt` (the
    attempt this one read), or the carrier's answer is recorded."""
    expected = message.status
    same_attempt = (MessageItem.attempt_started_at.does_not_exist() if seen_attempt is None
                    else MessageItem.attempt_started_at == seen_attempt)
    try:
        message.update(
            actions=[MessageItem.status.set(MessageStatus.SENDING.value), MessageItem.attempt_started_at.set(at),
                     MessageItem.updated_at.set(at)],
            condition=(MessageItem.status == expected) & MessageItem.carrier_sid.does_not_exist() & same_attempt,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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
        add_in(writes, counts_of(message), counters)


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
            mark_not_textable(writes, message.practice_id, message.phone, message.line_id, at)
        add_in(writes, counts_of(message), counters)


def mark_not_textable(writes: Writes, practice_id: str, phone: str, line_id: str, at: datetime) -> None:
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
    practice_id: str | None = None
    message: MessageRef | None = None


def apply_carrier_status(sid: str, status: MessageStatus, *, error_code: int | None, reason: str | None,
                         not_textable: bool, at: datetime) -> StatusChange:
    """Move a message forward to `status`; older or repeated news changes nothing."""
    try:
        pointer = SidItem.get(f"SID#{sid}", "SID")
    except DoesNotExist:
        return StatusChange(applied=False, message_known=False)
    message = MessageItem(pointer.message_pk, pointer.message_sk)
    ref = message_ref(pointer.message_pk, pointer.message_sk)
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
                mark_not_textable(writes, pointer.practice_id, ref.phone, ref.line_id, at)
            if status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
                add_in(writes, counts_of(pointer), {"failed": 1, failed_counter(reason): 1})
            elif status is MessageStatus.DELIVERED:
                add_in(writes, counts_of(pointer), {"delivered": 1})
    except TransactWriteError as error:
        if (message.pk, message.sk) in writes.failed(error):
            return StatusChange(applied=False, message_known=True)
        raise
    return StatusChange(applied=True, message_known=True, practice_id=pointer.practice_id, message=ref)


def in_flight_page(cutoff: datetime, *, limit: int) -> list[MessageItem]:
    """The next `limit` messages not yet final since before `cutoff`, oldest first, going on from where the
    last page ended (kept in the table) and starting over once every one was seen."""
    try:
        start = CursorItem.get(*RECONCILER_CURSOR, consistent_read=True).position
    except DoesNotExist:
        start = None
    query = MessageItem.pending.query(IN_FLIGHT, MessageItem.pending_sk < cutoff.isoformat(), limit=limit,
                                      page_size=limit, last_evaluated_key=start)
    items = [item for item in query if isinstance(item, MessageItem)]
    following = query.last_evaluated_key if len(items) == limit else None
    CursorItem(*RECONCILER_CURSOR, position=following).save()
    return items


def settle(message: MessageItem, status: MessageStatus, at: datetime) -> None:
    """Take a message off the in-flight index once the reconciler has its last word."""
    message.update(actions=[MessageItem.status.set(status.value), MessageItem.updated_at.set(at),
                            MessageItem.pending_pk.remove(), MessageItem.pending_sk.remove()])


def scheduled_due(at: datetime, limit: int = 200) -> list[MessageItem]:
    """Scheduled messages whose time has come: from the sparse index, oldest first."""
    query = MessageItem.pending.query(SCHEDULED, MessageItem.pending_sk <= f"{at.isoformat()}~", limit=limit)
    return [item for item in query if isinstance(item, MessageItem)]


def release_scheduled(message: MessageItem, at: datetime) -> bool:
    """scheduled → queued (joins the in-flight index) with its hand-off, so the table's stream queues it once;
    False when another run released it first."""
    try:
        message.update(actions=[MessageItem.status.set(MessageStatus.QUEUED.value), MessageItem.updated_at.set(at),
                                MessageItem.handoff.set(Handoff.OUTBOUND.value),
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
                preview(Direction.OUTBOUND, body, MessageStatus.SENT, message.created_at))],
            condition=ConversationItem.last_activity_at == message.created_at)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise

"""A message's way out: claimed for sending, accepted or refused by the carrier, moved forward by status
callbacks, settled by the reconciler, and released when its scheduled time comes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.expressions.update import Action

from switchboard.rules.addresses import CountsOf, MessageRef
from switchboard.rules.messages import Direction, Handoff, MessageStatus, statuses_before

from .counts import add_in, failed_counter
from .keys import contact_key, conversation_key, dedupe_key, line_key, message_key, message_ref, practice_key
from .messages import IN_FLIGHT, SCHEDULED, load_message, preview
from .models import (
    CampaignItem,
    ContactItem,
    ConversationItem,
    CursorItem,
    DedupeItem,
    EarlyStatusItem,
    EnterpriseItem,
    LineItem,
    LineRateItem,
    MessageItem,
    PracticeItem,
    SidItem,
    WorkflowItem,
)
from .table import Item
from .writes import Writes, transaction, update_if

RECONCILER_CURSOR = ("RECONCILER", "CURSOR")
EARLY_KEPT = timedelta(days=1)  # a send records its sid within seconds, or the reconciler asks the carrier


def counts_of(message: MessageItem | SidItem) -> CountsOf:
    return CountsOf(message.practice_id, workflow_id=message.workflow_id, campaign_id=message.campaign_id)


@dataclass(frozen=True)
class ForSending:
    """What a send reads, in one batch: the message, its line and practice, its conversation, and the
    workflow (its template), campaign and the line's rate slot when it has them."""

    message: MessageItem
    line: LineItem | None
    practice: PracticeItem | None
    conversation: ConversationItem | None
    workflow: WorkflowItem | None = None
    enterprise: EnterpriseItem | None = None
    campaign: CampaignItem | None = None
    slot: LineRateItem | None = None
    window: DedupeItem | None = None  # the caller's duplicate window, for a workflow's text


def load_for_sending(ref: MessageRef, *, practice_id: str | None, workflow_id: str | None,
                     campaign_id: str | None) -> ForSending | None:
    """One consistent batch read (a job from before jobs named the practice reads the message first)."""
    message: MessageItem | None = None
    if practice_id is None:
        message = load_message(ref)
        if message is None:
            return None
        practice_id, workflow_id, campaign_id = message.practice_id, message.workflow_id, message.campaign_id
    practice = practice_key(practice_id)
    keys = [(practice, "PRACTICE"), (practice, line_key(ref.line_id)), conversation_key(ref.line_id, ref.phone)]
    if message is None:
        keys.append(message_key(ref))
    if workflow_id:
        keys += [(practice, f"WORKFLOW#{workflow_id}"), ("ENTERPRISE", "SETTINGS"), dedupe_key(practice_id, ref.phone)]
    if campaign_id:
        keys += [(practice, f"CAMPAIGN#{campaign_id}"), (line_key(ref.line_id), "RATE")]
    found = {(item.pk, item.sk): item for item in Item.batch_get(keys, consistent_read=True)}

    def of[T](kind: type[T], key: tuple[str, str]) -> T | None:
        item = found.get(key)
        return item if isinstance(item, kind) else None

    message = message or of(MessageItem, message_key(ref))
    if message is None:
        return None
    return ForSending(
        message, of(LineItem, (practice, line_key(ref.line_id))), of(PracticeItem, (practice, "PRACTICE")),
        of(ConversationItem, conversation_key(ref.line_id, ref.phone)),
        of(WorkflowItem, (practice, f"WORKFLOW#{workflow_id}")), of(EnterpriseItem, ("ENTERPRISE", "SETTINGS")),
        of(CampaignItem, (practice, f"CAMPAIGN#{campaign_id}")), of(LineRateItem, (line_key(ref.line_id), "RATE")),
        of(DedupeItem, dedupe_key(practice_id, ref.phone)))



def claim_for_sending(message: MessageItem, at: datetime, *, seen_attempt: datetime | None) -> bool:
    """→ sending, recording this attempt; False when another delivery claimed it after `seen_attempt` (the
    attempt this one read), or the carrier's answer is recorded. A released message's hand-off becomes
    `outbound`, so no later change of it is handed off again."""
    expected = message.status
    same_attempt = (MessageItem.attempt_started_at.does_not_exist() if seen_attempt is None
                    else MessageItem.attempt_started_at == seen_attempt)
    return update_if(
        message, [MessageItem.status.set(MessageStatus.SENDING.value), MessageItem.attempt_started_at.set(at),
                  MessageItem.updated_at.set(at), MessageItem.handoff.set(Handoff.OUTBOUND.value)],
        (MessageItem.status == expected) & MessageItem.carrier_sid.does_not_exist() & same_attempt)


def record_accepted(message: MessageItem, *, sid: str, status: MessageStatus, body: str, at: datetime,
                    counters: dict[str, int], conversation: Sequence[Action] = (), show_text: bool = False) -> bool:
    """The carrier took the message: remember its sid (and where to find us from it) with the count, and
    the conversation's `conversation` actions. With `show_text`, the inbox preview shows the text as sent,
    unless something newer is there (then the rest is written without it). True when a status callback for
    the sid came first and was kept (`kept_status`): the caller applies it."""
    early = (f"SID#{sid}", "EARLY")
    contact_pk, _ = contact_key(message.practice_id, message.phone)
    key = conversation_key(message.line_id, message.phone)
    shown = [ConversationItem.last_message.set(
        preview(Direction.OUTBOUND, body, MessageStatus.SENT, message.created_at))] if show_text else []
    check_early, kept = True, False
    while True:
        try:
            with transaction() as writes:
                writes.update(message, [MessageItem.carrier_sid.set(sid), MessageItem.status.set(status.value),
                                        MessageItem.body.set(body), MessageItem.updated_at.set(at)])
                writes.put(SidItem(f"SID#{sid}", "SID", message_pk=message.pk, message_sk=message.sk,
                                   contact_pk=contact_pk, workflow_id=message.workflow_id,
                                   campaign_id=message.campaign_id, practice_id=message.practice_id))
                if check_early:
                    writes.check(EarlyStatusItem, *early, EarlyStatusItem.pk.does_not_exist())
                add_in(writes, counts_of(message), counters)
                if conversation or shown:
                    condition = ConversationItem.pk.exists()
                    if shown:
                        condition = condition & (ConversationItem.last_activity_at == message.created_at)
                    writes.update(ConversationItem(*key), [*conversation, *shown], condition=condition)
        except TransactWriteError as error:
            failed, again = writes.failed(error), False
            if check_early and early in failed:
                check_early, kept, again = False, True, True
            if shown and key in failed:
                shown, again = [], True  # a newer message is the conversation's latest: leave its preview
            if not again:
                raise
            continue
        return kept


def keep_early_status(sid: str, status: MessageStatus, news: dict[str, Any], at: datetime) -> bool:
    """Keep a status callback for a sid the send has not stored yet (the carrier may call back before its answer
    to the send is recorded); the latest status wins. True when the sid is known by now, so the caller applies
    the news at once (the send may have missed what was kept)."""
    item = EarlyStatusItem(f"SID#{sid}", "EARLY", status=status.value, news=news, expires_at=at + EARLY_KEPT)
    try:
        item.save(condition=EarlyStatusItem.pk.does_not_exist() | EarlyStatusItem.status.is_in(
            *[s.value for s in statuses_before(status)]))
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        SidItem.get(f"SID#{sid}", "SID", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def kept_status(sid: str) -> tuple[MessageStatus, dict[str, Any]] | None:
    """The status callback kept for `sid`, taken (deleted) so it is applied once."""
    try:
        item = EarlyStatusItem.get(f"SID#{sid}", "EARLY", consistent_read=True)
    except DoesNotExist:
        return None
    item.delete()
    return MessageStatus(item.status), dict(item.news)


def record_refused(message: MessageItem, *, status: MessageStatus, reason: str, code: int | None, at: datetime,
                   counters: dict[str, int], opted_out: bool = False, not_textable: bool = False) -> None:
    """The message will not go: say why, and mark the conversation or contact so nothing else tries."""
    with transaction() as writes:
        actions: list[Action] = [MessageItem.status.set(status.value), MessageItem.error_reason.set(reason),
                                 MessageItem.updated_at.set(at), MessageItem.pending_pk.remove(),
                                 MessageItem.pending_sk.remove(), MessageItem.handoff.set(Handoff.OUTBOUND.value)]
        if code is not None:
            actions.append(MessageItem.error_code.set(code))
        writes.update(message, actions)
        if opted_out:
            writes.update(ConversationItem(*conversation_key(message.line_id, message.phone)),
                          [ConversationItem.opted_out.set(True), ConversationItem.updated_at.set(at)])
        if not_textable:
            mark_not_textable(writes, message.practice_id, message.phone, message.line_id, at)
        add_in(writes, counts_of(message), counters)


def mark_not_textable(writes: Writes, practice_id: str, phone: str, line_id: str, at: datetime,
                      also: Sequence[Action] = ()) -> None:
    """The phone takes no texts; `also` are the conversation's other changes in the same write."""
    writes.update(ContactItem(*contact_key(practice_id, phone)),
                  [ContactItem.not_textable.set(True), ContactItem.updated_at.set(at)])
    writes.update(ConversationItem(*conversation_key(line_id, phone)),
                  [ConversationItem.not_textable.set(True), ConversationItem.updated_at.set(at), *also])


def end_attempt(message: MessageItem, at: datetime) -> None:
    """The attempt is over though its outcome is unclear (the carrier may have taken it): the next delivery
    may look it up at once, with no wait for an attempt that might still be running."""
    update_if(message, [MessageItem.attempt_ended_at.set(at)],
              MessageItem.attempt_started_at == message.attempt_started_at)


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
                         not_textable: bool, at: datetime, opted_out: bool = False) -> StatusChange:
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
            conversation = [ConversationItem.opted_out.set(True)] if opted_out else []
            if status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED):
                add_in(writes, counts_of(pointer), {"failed": 1, failed_counter(reason): 1})
                conversation.append(ConversationItem.last_text_failed.set(
                    {"message_id": ref.message_id, "code": error_code, "reason": reason}))
            elif status is MessageStatus.DELIVERED:
                add_in(writes, counts_of(pointer), {"delivered": 1})
                conversation.append(ConversationItem.last_text_failed.remove())
            # The inbox lists the failure from here, with no read of the thread.
            if not_textable:
                mark_not_textable(writes, pointer.practice_id, ref.phone, ref.line_id, at, also=conversation)
            elif conversation:
                writes.update(ConversationItem(*conversation_key(ref.line_id, ref.phone)),
                              [*conversation, ConversationItem.updated_at.set(at)])
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
    if following != start:
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
    return update_if(message, [MessageItem.status.set(MessageStatus.QUEUED.value), MessageItem.updated_at.set(at),
                               MessageItem.handoff.set(Handoff.RELEASED.value), MessageItem.pending_pk.set(IN_FLIGHT),
                               MessageItem.pending_sk.set(f"{at.isoformat()}#{message.message_id}")],
                     MessageItem.status == MessageStatus.SCHEDULED.value)

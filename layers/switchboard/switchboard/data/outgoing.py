"""A text we start (workflow answer, staff reply, integration send, campaign), stored to be sent, never to
an opted-out conversation."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from switchboard.rules.addresses import MessageRef
from switchboard.rules.messages import Direction, MessageStatus, OutgoingText, Refusal, SenderKind

from .conversations import conversation_touch
from .keys import conversation_key
from .messages import SCHEDULED, new_message, preview
from .models import ConversationItem
from .writes import transaction


def store_text(text: OutgoingText, *, at: datetime, after_hours_period: str | None = None,
               send_at: datetime | None = None) -> MessageRef | Refusal:
    """Stored queued (or scheduled for `send_at`), never to an opted-out conversation.

    With `after_hours_period`, the write also claims that closed period on the conversation, so two
    texts arriving together get one after-hours answer between them.
    """
    owner, phone, body = text.owner, text.phone, text.body
    ref = MessageRef(owner.line_id, phone, str(ULID()))
    status = MessageStatus.SCHEDULED if send_at else MessageStatus.QUEUED
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.OUTBOUND, sender=text.sender,
                          sender_id=text.sender_id, status=status, at=at, body=body,
                          status_callback=text.status_callback)
    message.campaign_id = text.campaign_id
    if send_at is not None:
        message.send_at = send_at
        message.pending_pk, message.pending_sk = SCHEDULED, f"{send_at.isoformat()}#{ref.message_id}"
    actions = conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                  preview(Direction.OUTBOUND, body, status, at))
    if text.campaign_id:
        actions.append(ConversationItem.campaign_id.set(text.campaign_id))
    condition = ConversationItem.opted_out.does_not_exist() | (ConversationItem.opted_out == False)  # noqa: E712
    if text.sender is SenderKind.STAFF:
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

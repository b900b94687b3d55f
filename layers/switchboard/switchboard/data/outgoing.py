"""A text we start (workflow answer, staff reply, integration send, campaign), stored to be sent, never to
an opted-out conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from switchboard.rules.addresses import MessageRef
from switchboard.rules.media import label
from switchboard.rules.messages import Direction, Handoff, MessageStatus, OutgoingText, Refusal, SenderKind

from .conversations import Claim, conversation_touch
from .keys import conversation_key
from .messages import SCHEDULED, new_message, new_message_id, preview
from .models import ConversationItem
from .writes import Write, transaction


def store_text(text: OutgoingText, *, at: datetime, after_hours_period: str | None = None,
               send_at: datetime | None = None, not_before: datetime | None = None,
               also: Sequence[Write] = (), message_id: str | None = None,
               claim: Claim | None = None) -> MessageRef | Refusal:
    """Stored queued with its hand-off (the table's stream puts it on the outbound queue, held back until
    `not_before`), or scheduled for `send_at`; never to an opted-out conversation.

    With `after_hours_period`, the write also claims that closed period on the conversation, so two
    texts arriving together get one after-hours answer between them; a `claim` (a step on the
    conversation, as MPSP's) is taken by the same write. `also` joins the same transaction (what the text
    is the result of), so the text exists if and only if they were written.
    """
    owner, phone, body = text.owner, text.phone, text.body
    ref = MessageRef(owner.line_id, phone, message_id or new_message_id())
    status = MessageStatus.SCHEDULED if send_at else MessageStatus.QUEUED
    message = new_message(ref, practice_id=owner.practice_id, direction=Direction.OUTBOUND, sender=text.sender,
                          sender_id=text.sender_id, status=status, at=at, body=body,
                          status_callback=text.status_callback)
    message.campaign_id = text.campaign_id
    if text.media:
        message.media = [item.stored() for item in text.media]
    if send_at is not None:
        message.send_at = send_at
        message.pending_pk, message.pending_sk = SCHEDULED, f"{send_at.isoformat()}#{ref.message_id}"
    else:
        message.handoff, message.send_at = Handoff.OUTBOUND.value, not_before
    # A staff member's reply takes the conversation up again; an automatic text leaves it where it was.
    actions = conversation_touch(owner.practice_id, owner.line_id, phone, at,
                                  preview(Direction.OUTBOUND, body or (label(list(text.media)) if text.media else body),
                                          status, at), reopen=text.sender is SenderKind.STAFF)
    if text.campaign_id:
        actions.append(ConversationItem.campaign_id.set(text.campaign_id))
    condition = ConversationItem.opted_out.does_not_exist() | (ConversationItem.opted_out == False)  # noqa: E712
    if text.sender is SenderKind.STAFF:
        actions.append(ConversationItem.last_staff_reply_at.set(at))
    if after_hours_period is not None:
        actions.append(ConversationItem.after_hours_period.set(after_hours_period))
        condition = condition & (ConversationItem.after_hours_period.does_not_exist()
                                 | (ConversationItem.after_hours_period != after_hours_period))
    if claim is not None:
        actions += claim.actions
        condition = condition & claim.condition
    key = conversation_key(owner.line_id, phone)
    try:
        with transaction() as writes:
            writes.put(message)
            writes.update(ConversationItem(*key), actions, condition=condition)
            for write in also:
                writes.apply(write)
    except TransactWriteError as error:
        refused = writes.refusals(error)
        if any((write.item.pk, write.item.sk) in refused for write in also):
            return Refusal.ALREADY_DONE
        if key in refused:
            stored = refused[key] or {}
            if stored.get("opted_out", {}).get("BOOL"):
                return Refusal.OPTED_OUT
            return Refusal.ALREADY_ANSWERED if after_hours_period is not None else Refusal.ALREADY_DONE
        raise
    return ref

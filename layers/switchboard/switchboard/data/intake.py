"""Intake's one write: a caller's first text, never two within the duplicate window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pynamodb.exceptions import TransactWriteError

from switchboard.rules.addresses import CountsOf, MessageRef
from switchboard.rules.messages import Direction, Handoff, MessageStatus, SenderKind

from .conversations import contact_upsert, conversation_touch
from .counts import add_in
from .keys import contact_key, conversation_key
from .messages import new_message, new_message_id, preview
from .models import ContactItem, ConversationItem, DedupeItem, TokenItem
from .writes import transaction


class IntakeOutcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    NOT_TEXTABLE = "not_textable"


@dataclass(frozen=True)
class Intake:
    outcome: IntakeOutcome
    message_id: str | None


def record_call(token: TokenItem, phone: str, at: datetime, *, status_callback: str) -> Intake:
    """One transaction: the duplicate window, the contact, the conversation, the queued text and the count.

    A repeat inside the window, an opted-out conversation or a contact known not to take texts cancels
    it whole; DynamoDB says which, and hands back the first call's message id for a repeat.
    """
    ref = MessageRef(token.line_id, phone, new_message_id())
    window_ends = at + timedelta(minutes=int(token.duplicate_window_minutes))
    dedupe = DedupeItem(f"DEDUPE#{token.practice_id}#{phone}", "DEDUPE", window_ends_at=int(window_ends.timestamp()),
                        message_id=ref.message_id, expires_at=window_ends + timedelta(days=1))
    contact_pk, contact_sk = contact_key(token.practice_id, phone)
    conversation_pk, conversation_sk = conversation_key(token.line_id, phone)
    message = new_message(ref, practice_id=token.practice_id, direction=Direction.OUTBOUND,
                          sender=SenderKind.WORKFLOW, sender_id=token.workflow_id, workflow_id=token.workflow_id,
                          status=MessageStatus.QUEUED, at=at, status_callback=status_callback)
    message.handoff = Handoff.OUTBOUND.value
    try:
        with transaction() as writes:
            writes.put(dedupe, condition=DedupeItem.pk.does_not_exist()
                       | (DedupeItem.window_ends_at <= int(at.timestamp())), return_values="ALL_OLD")
            writes.update(ContactItem(contact_pk, contact_sk), contact_upsert(token.practice_id, phone, at),
                          condition=ContactItem.not_textable.does_not_exist() | (ContactItem.not_textable == False))  # noqa: E712
            writes.update(ConversationItem(conversation_pk, conversation_sk),
                          [*conversation_touch(token.practice_id, token.line_id, phone, at,
                                                preview(Direction.OUTBOUND, None, MessageStatus.QUEUED, at),
                                                reopen=True),  # the caller reached out again
                           ConversationItem.workflow_id.set(token.workflow_id)],
                          condition=ConversationItem.opted_out.does_not_exist() | (ConversationItem.opted_out == False))  # noqa: E712
            writes.put(message)
            add_in(writes, CountsOf(token.practice_id, workflow_id=token.workflow_id), {"received": 1})
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

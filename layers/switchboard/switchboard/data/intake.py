"""Intake's one write: a caller's first text, never two within the duplicate window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pynamodb.exceptions import TransactWriteError

from switchboard.rules.addresses import CountsOf, MessageRef
from switchboard.rules.messages import Direction, Handoff, MessageStatus, SenderKind
from switchboard.rules.tokens import WorkflowKind

from .conversations import contact_upsert, conversation_touch
from .counts import add_in
from .keys import contact_key, conversation_key, dedupe_key, message_key
from .messages import new_message, new_message_id, preview
from .models import ContactItem, ConversationItem, DedupeItem, MessageItem, TokenItem
from .writes import Writes, transaction, update_if

if TYPE_CHECKING:
    from pynamodb.expressions.update import Action


class IntakeOutcome(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    NOT_TEXTABLE = "not_textable"


@dataclass(frozen=True)
class Intake:
    outcome: IntakeOutcome
    message_id: str | None


REACHED_AGAIN = "the caller reached the practice again"


def record_call(token: TokenItem, phone: str, at: datetime, *, status_callback: str) -> Intake:
    """One transaction: the duplicate window, the contact, the conversation, the queued text and the count.

    A repeat inside the window, an opted-out conversation or a contact known not to take texts cancels
    it whole; DynamoDB says which, and hands back the first call's message id for a repeat. An abandoned-call
    workflow's text may wait a few minutes (`send_at`); a call-to-text request while it waits supersedes it:
    the waiting text is cancelled and this one goes at once.
    """
    ref = MessageRef(token.line_id, phone, new_message_id())
    delay = timedelta(minutes=int(token.delay_minutes or 0))
    window_ends = at + timedelta(minutes=int(token.duplicate_window_minutes))
    dedupe = DedupeItem(*dedupe_key(token.practice_id, phone), window_ends_at=int(window_ends.timestamp()),
                        message_id=ref.message_id, line_id=token.line_id, workflow_id=token.workflow_id,
                        held_until=int((at + delay).timestamp()) if delay else None,
                        expires_at=window_ends + timedelta(days=1))
    message = new_message(ref, practice_id=token.practice_id, direction=Direction.OUTBOUND,
                          sender=SenderKind.WORKFLOW, sender_id=token.workflow_id, workflow_id=token.workflow_id,
                          status=MessageStatus.QUEUED, at=at, status_callback=status_callback)
    message.handoff = Handoff.OUTBOUND.value
    if delay:
        message.send_at = at + delay  # the hand-off holds its job back until then
    try:
        with transaction() as writes:
            writes.put(dedupe, condition=DedupeItem.pk.does_not_exist()
                       | (DedupeItem.window_ends_at <= int(at.timestamp())), return_values="ALL_OLD")
            _queue(writes, token, phone, at, message)
    except TransactWriteError as error:
        refused = writes.refusals(error)
        if (dedupe.pk, dedupe.sk) in refused:
            stored = refused[(dedupe.pk, dedupe.sk)]
            first = DedupeItem.from_raw_data(stored) if stored else None
            if first is not None and _supersedes(token, first, at):
                return _supersede(token, phone, at, message, dedupe, first)
            return Intake(IntakeOutcome.DUPLICATE, first.message_id if first else None)
        return _refusal(writes, error, token, phone)
    return Intake(IntakeOutcome.QUEUED, ref.message_id)


def _queue(writes: Writes, token: TokenItem, phone: str, at: datetime, message: MessageItem) -> None:
    """The contact (unless it takes no texts), the conversation (unless opted out), the text and its count."""
    contact_pk, contact_sk = contact_key(token.practice_id, phone)
    conversation_pk, conversation_sk = conversation_key(token.line_id, phone)
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


def _refusal(writes: Writes, error: TransactWriteError, token: TokenItem, phone: str) -> Intake:
    refused = writes.refusals(error)
    if conversation_key(token.line_id, phone) in refused:
        return Intake(IntakeOutcome.OPTED_OUT, None)
    if contact_key(token.practice_id, phone) in refused:
        return Intake(IntakeOutcome.NOT_TEXTABLE, None)
    raise error


def _supersedes(token: TokenItem, first: DedupeItem, at: datetime) -> bool:
    """A caller asking for a text while an abandoned call's text still waits for them."""
    return (token.workflow_kind == WorkflowKind.CALL_TO_TEXT.value and first.held_until is not None
            and first.held_until > at.timestamp() and bool(first.line_id))


def _supersede(token: TokenItem, phone: str, at: datetime, message: MessageItem, dedupe: DedupeItem,
               first: DedupeItem) -> Intake:
    """Cancel the waiting text (unless a delivery already took it) and queue this one, with a new window."""
    waiting = MessageRef(str(first.line_id), phone, first.message_id)
    try:
        with transaction() as writes:
            writes.update(MessageItem(*message_key(waiting)), cancel_actions(REACHED_AGAIN, at),
                          condition=(MessageItem.status == MessageStatus.QUEUED.value)
                          & MessageItem.attempt_started_at.does_not_exist())
            add_in(writes, CountsOf(token.practice_id, workflow_id=first.workflow_id), {"canceled": 1})
            writes.put(dedupe, condition=DedupeItem.message_id == first.message_id)
            _queue(writes, token, phone, at, message)
    except TransactWriteError as error:
        failed = writes.failed(error)
        if message_key(waiting) in failed or (dedupe.pk, dedupe.sk) in failed:
            return Intake(IntakeOutcome.DUPLICATE, first.message_id)  # it went, or another call took its place
        return _refusal(writes, error, token, phone)
    return Intake(IntakeOutcome.QUEUED, message.message_id)


def cancel_actions(reason: str, at: datetime) -> list[Action]:
    """A queued text that will not go, with why: final, out of the in-flight index, handed off no more."""
    return [MessageItem.status.set(MessageStatus.SUPPRESSED.value), MessageItem.error_reason.set(reason),
            MessageItem.updated_at.set(at), MessageItem.pending_pk.remove(), MessageItem.pending_sk.remove(),
            MessageItem.handoff.set(Handoff.OUTBOUND.value)]


def note_reached(practice_id: str, phone: str, at: datetime) -> None:
    """The caller rang one of the practice's lines: a text still waiting for them (an abandoned call's) will not
    go. One conditional write, nothing when no text waits."""
    seconds = int(at.timestamp())
    update_if(DedupeItem(*dedupe_key(practice_id, phone)), [DedupeItem.reached_at.set(seconds)],
              DedupeItem.held_until > seconds)


def reached_since(message: MessageItem, window: DedupeItem | None) -> bool:
    """Whether the caller reached the practice after `message` (a waiting text) was queued: rang one of its lines,
    texted this line or left a voicemail on it, or staff texted them here."""
    if window is not None and window.message_id == message.message_id and window.reached_at is not None:
        return True
    later = MessageItem.query(message.pk, MessageItem.sk > message.sk, consistent_read=True,
                              filter_condition=(MessageItem.direction == Direction.INBOUND.value)
                              | (MessageItem.sender == SenderKind.STAFF.value), limit=50)
    return next(iter(later), None) is not None

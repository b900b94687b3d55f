"""A staff member's reply from the inbox."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.errors import NotFound, RuleRefused
from switchboard.data import conversations as store
from switchboard.data import lines as line_store
from switchboard.flows.outgoing import NotQueued, Once, queue_text, queue_text_once
from switchboard.rules.addresses import LineOwner, MessageRef
from switchboard.rules.messages import OutgoingText, SenderKind


def reply_from_staff(owner: LineOwner, phone: str, body: str, *, staff: str, status_callback: str,
                     draft_id: str | None = None) -> MessageRef:
    """Queue a staff member's reply; refused, with the reason, when it could not reach the patient. With the
    console's `draft_id`, Send pressed again for the same draft (its first answer lost) answers what the first
    did and queues nothing more."""
    # `/` is in no integration idempotency key: a draft's receipt never meets one of theirs.
    once = Once(owner.practice_id, f"draft/{owner.line_id}/{draft_id}", {"phone": phone, "body": body},
                field="draft_id") if draft_id else None
    if once is not None and (answered := once.answered()) is not None:
        return MessageRef(owner.line_id, phone, str(answered["message_id"]))
    line = line_store.get_line(owner.practice_id, owner.line_id)
    if not line.can_text:
        raise RuleRefused(f"the line is {line.status.value}: texts from it would fail")
    conversation = store.load_conversation(owner.line_id, phone)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation.not_textable:
        raise RuleRefused("this number cannot receive texts (not a mobile number)")
    text = OutgoingText(owner, phone, body, SenderKind.STAFF, status_callback, sender_id=staff)
    try:
        if once is None:
            return queue_text(text, at=datetime.now(UTC))
        queued = queue_text_once(once, text, lambda message_id: {"message_id": message_id}, at=datetime.now(UTC))
        return MessageRef(owner.line_id, phone, str(queued["message_id"]))
    except NotQueued:
        raise RuleRefused("the patient opted out of texts from this line; they must text START first") from None

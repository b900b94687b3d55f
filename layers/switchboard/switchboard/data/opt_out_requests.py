"""Staff's answer to a patient's apparent request to stop, written with its audit entry and a note in the thread
(its own module: the inbound webhook, which flags the request, loads no audit models)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from switchboard.rules.addresses import LineOwner, MessageRef
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from . import audit
from .keys import conversation_key
from .messages import new_message, new_message_id
from .models import ConversationItem, MessageItem
from .patient_texts import opted_out_now
from .writes import transaction


def _decision(owner: LineOwner, phone: str, *, staff: str, request: dict[str, str] | None, at: datetime,
              opt_out: bool) -> bool:
    """Staff's answer to a patient's apparent request to stop, audited with who; False when there was nothing
    to decide (already opted out, or no request to dismiss), which changes nothing."""
    item = ConversationItem(*conversation_key(owner.line_id, phone))
    if opt_out:
        actions = opted_out_now()
        condition = ConversationItem.pk.exists() & (ConversationItem.opted_out.does_not_exist() |
                                                     (ConversationItem.opted_out == False))  # noqa: E712
    else:
        actions = [ConversationItem.opt_out_requested.remove()]
        condition = ConversationItem.pk.exists() & ConversationItem.opt_out_requested.exists()
    about = (request or {}).get("message_id")
    try:
        with transaction() as writes:
            writes.update(item, [*actions, ConversationItem.updated_at.set(at)], condition=condition)
            audit.record(writes, actor=staff, practice_id=owner.practice_id,
                         action="conversation.opt_out" if opt_out else "conversation.opt_out_request.dismiss",
                         entity="conversation", entity_id=f"{owner.line_id}/{about or 'unasked'}",
                         before={"opted_out": False, "opt_out_requested": about is not None},
                         after={"opted_out": opt_out, "opt_out_requested": False})
            if opt_out:
                writes.put(_note(owner, phone, f"Opted out by {staff} after the patient asked" if about else
                                 f"Opted out by {staff}", staff=staff, at=at))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            return False
        raise
    return True


def opt_out_by_staff(owner: LineOwner, phone: str, *, staff: str, request: dict[str, str] | None,
                     at: datetime) -> bool:
    return _decision(owner, phone, staff=staff, request=request, at=at, opt_out=True)


def dismiss_opt_out_request(owner: LineOwner, phone: str, *, staff: str, request: dict[str, str] | None,
                            at: datetime) -> bool:
    return _decision(owner, phone, staff=staff, request=request, at=at, opt_out=False)


def _note(owner: LineOwner, phone: str, body: str, *, staff: str, at: datetime) -> MessageItem:
    """A line in the thread for staff alone: never sent, handed off or counted."""
    return new_message(MessageRef(owner.line_id, phone, new_message_id()), practice_id=owner.practice_id,
                       direction=Direction.NOTE, sender=SenderKind.SYSTEM, status=MessageStatus.RECEIVED, at=at,
                       body=body, sender_id=staff)

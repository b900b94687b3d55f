"""Staff's answer to a text that sounds like a request to stop: opt the patient out on the line, or not."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.errors import NotFound
from switchboard.data import conversations as store
from switchboard.data import opt_out_requests as decisions
from switchboard.data.models import ConversationItem
from switchboard.rules.addresses import LineOwner


def _found(owner: LineOwner, phone: str) -> ConversationItem:
    conversation = store.load_conversation(owner.line_id, phone)
    if conversation is None or conversation.practice_id != owner.practice_id:
        raise NotFound("no such conversation")
    return conversation


def opt_out(owner: LineOwner, phone: str, *, staff: str) -> ConversationItem:
    """Opt the patient out as their STOP would (nothing more is sent from the line until they text START),
    with a note in the thread naming who decided. A patient opted out already is left as they are."""
    conversation = _found(owner, phone)
    if conversation.opted_out:
        return conversation
    decisions.opt_out_by_staff(owner, phone, staff=staff, request=conversation.opt_out_requested,
                               at=datetime.now(UTC))
    return _found(owner, phone)


def dismiss(owner: LineOwner, phone: str, *, staff: str) -> ConversationItem:
    """Not a request to stop: the flag goes, the patient stays opted in, and who said so is audited."""
    conversation = _found(owner, phone)
    if conversation.opt_out_requested is None:
        return conversation
    decisions.dismiss_opt_out_request(owner, phone, staff=staff, request=conversation.opt_out_requested,
                                      at=datetime.now(UTC))
    return _found(owner, phone)

"""Staff taking a conversation in hand: assign it (to a colleague, or to nobody), claim it, close, reopen or
snooze it; and a conversation whose owner has left the practice or the line is given up when the patient
writes again."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.errors import Conflict, InvalidInput, NotFound
from switchboard.data import conversations as store
from switchboard.data import ownership
from switchboard.data import users as user_store
from switchboard.data.models import ConversationItem
from switchboard.rules.access import member_may_use_line
from switchboard.rules.addresses import LineOwner
from switchboard.rules.conversations import LONGEST_SNOOZE, Assignee

SYSTEM = "switchboard"


def _found(owner: LineOwner, phone: str) -> ConversationItem:
    conversation = store.load_conversation(owner.line_id, phone)
    if conversation is None or conversation.practice_id != owner.practice_id:
        raise NotFound("no such conversation")
    return conversation


def _may_own(owner: LineOwner, user_id: str) -> Assignee | None:
    """The user as an assignee when they may use the line; None when they are no user of the practice, or a
    staff member without the line."""
    try:
        member = user_store.load_membership(owner.practice_id, user_id)
    except NotFound:
        return None
    if not member_may_use_line(member.role, member.line_ids, owner.line_id):
        return None
    return Assignee(user_id=member.user_id, name=member.name or member.email)


def assignees(owner: LineOwner) -> list[Assignee]:
    """The users who may own the line's conversations, by name."""
    return sorted((Assignee(user_id=user.user_id, name=user.name or user.email)
                   for user in user_store.list_users(owner.practice_id)
                   if member_may_use_line(user.role.value, user.line_ids, owner.line_id)),
                  key=lambda assignee: assignee.name.casefold())


def _changed(owner: LineOwner, phone: str, found: ConversationItem, change: ownership.Change, *, actor: str
             ) -> ConversationItem:
    if not ownership.apply(owner, found, change, actor=actor, at=datetime.now(UTC)):
        raise Conflict("someone changed this conversation a moment ago; it is shown as it is now")
    return _found(owner, phone)


def assign(owner: LineOwner, phone: str, user_id: str | None, *, actor: str) -> ConversationItem:
    """Give the conversation to a user who may use its line, or (None) to nobody."""
    found = _found(owner, phone)
    assignee = None
    if user_id is not None:
        assignee = _may_own(owner, user_id)
        if assignee is None:
            raise InvalidInput("is not a user of this practice who may use this line", field="user_id")
    if (assignee.user_id if assignee else None) == found.assignee_id:
        return found
    return _changed(owner, phone, found, ownership.assignment(found, assignee, claim=False), actor=actor)


def claim(owner: LineOwner, phone: str, *, user_id: str, name: str, actor: str) -> ConversationItem:
    """Take the conversation for yourself; one someone else owns is theirs until they or a colleague give it up."""
    found = _found(owner, phone)
    if found.assignee_id == user_id:
        return found
    if found.assignee_id is not None:
        raise Conflict(f"{found.assignee_name or 'a colleague'} owns this conversation; ask them, or assign it")
    # By their name in the practice; an enterprise admin with no membership there, by the name given.
    assignee = _may_own(owner, user_id) or Assignee(user_id=user_id, name=name)
    return _changed(owner, phone, found, ownership.assignment(found, assignee, claim=True), actor=actor)


def close(owner: LineOwner, phone: str, *, actor: str) -> ConversationItem:
    found = _found(owner, phone)
    if found.state == "closed":
        return found
    return _changed(owner, phone, found, ownership.closing(found), actor=actor)


def reopen(owner: LineOwner, phone: str, *, actor: str) -> ConversationItem:
    found = _found(owner, phone)
    if found.state != "closed" and found.snoozed_until is None:
        return found
    return _changed(owner, phone, found, ownership.reopening(found), actor=actor)


def snooze(owner: LineOwner, phone: str, until: datetime, *, actor: str) -> ConversationItem:
    """Out of the views until `until` (a new patient text wakes it sooner)."""
    now = datetime.now(UTC)
    if until <= now:
        raise InvalidInput("must be in the future", field="until")
    if until - now > LONGEST_SNOOZE:
        raise InvalidInput(f"may be at most {LONGEST_SNOOZE.days} days ahead", field="until")
    found = _found(owner, phone)
    return _changed(owner, phone, found, ownership.snoozing(found, until), actor=actor)


def give_up_if_owner_gone(owner: LineOwner, conversation: ConversationItem) -> bool:
    """A patient wrote to a conversation whose owner is no longer a user who may use the line: unassign it
    (audited as the system's doing) so the text reaches Unassigned rather than nobody; whether it did."""
    if conversation.assignee_id is None or _may_own(owner, conversation.assignee_id) is not None:
        return False
    return ownership.apply(owner, conversation, ownership.assignment(conversation, None, claim=False),
                           actor=SYSTEM, at=datetime.now(UTC))

"""Who owns a conversation and where it stands: assign, claim, close, reopen, snooze. Each change is written
with its audit entry (who, when, what it was before) and only if the conversation is still as it was read,
so two staff changing it at once do not overwrite each other unseen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from switchboard.rules.addresses import LineOwner
from switchboard.rules.conversations import Assignee

from . import audit
from .conversations import closed, new_conversation_id, reopened
from .keys import conversation_key
from .models import ConversationItem
from .writes import transaction


@dataclass(frozen=True)
class Change:
    action: str
    actions: list[Action]
    condition: Condition
    before: dict[str, Any]
    after: dict[str, Any]


def _assignee_is(found: ConversationItem) -> Condition:
    if found.assignee_id is None:
        return ConversationItem.assignee_id.does_not_exist()
    return ConversationItem.assignee_id == found.assignee_id


def _state(found: ConversationItem) -> dict[str, Any]:
    return {"state": found.state or "open", "assignee_id": found.assignee_id,
            "snoozed_until": found.snoozed_until.isoformat() if found.snoozed_until else None}


def assignment(found: ConversationItem, assignee: Assignee | None, *, claim: bool) -> Change:
    actions: list[Action] = [ConversationItem.assignee_id.remove(), ConversationItem.assignee_name.remove()]
    if assignee is not None:
        actions = [ConversationItem.assignee_id.set(assignee.user_id),
                   ConversationItem.assignee_name.set(assignee.name)]
    action = "conversation.claim" if claim else "conversation.assign" if assignee else "conversation.unassign"
    return Change(action, actions, _assignee_is(found), _state(found),
                  {**_state(found), "assignee_id": assignee.user_id if assignee else None})


def closing(found: ConversationItem) -> Change:
    return Change("conversation.close", closed(found.practice_id, found.line_id),
                  ConversationItem.state.does_not_exist() | (ConversationItem.state != "closed"), _state(found),
                  {**_state(found), "state": "closed", "snoozed_until": None})


def reopening(found: ConversationItem) -> Change:
    return Change("conversation.reopen", reopened(found.practice_id, found.line_id),
                  (ConversationItem.state == "closed") | ConversationItem.snoozed_until.exists(), _state(found),
                  {**_state(found), "state": "open", "snoozed_until": None})


def snoozing(found: ConversationItem, until: datetime) -> Change:
    actions = reopened(found.practice_id, found.line_id, snoozed_until=until)
    stale = ConversationItem.snoozed_until.does_not_exist() if found.snoozed_until is None else (
        ConversationItem.snoozed_until == found.snoozed_until)
    return Change("conversation.snooze", actions, stale, _state(found),
                  {**_state(found), "state": "snoozed", "snoozed_until": until.isoformat()})


def apply(owner: LineOwner, found: ConversationItem, change: Change, *, actor: str, at: datetime) -> bool:
    """Write `change` and its audit entry; False when the conversation changed since `found` was read (or the
    change would change nothing), which writes nothing."""
    item = ConversationItem(*conversation_key(owner.line_id, found.phone))
    conversation_id = found.conversation_id or new_conversation_id()
    actions = [*change.actions, ConversationItem.updated_at.set(at),
               ConversationItem.conversation_id.set(ConversationItem.conversation_id | conversation_id)]
    try:
        with transaction() as writes:
            writes.update(item, actions, condition=ConversationItem.pk.exists() & change.condition)
            audit.record(writes, actor=actor, practice_id=owner.practice_id, action=change.action,
                         entity="conversation", entity_id=f"{owner.line_id}/{conversation_id}",
                         before=change.before, after=change.after)
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            return False
        raise
    return True

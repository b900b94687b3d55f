"""Contacts and conversations: what a practice knows of a phone, the inbox's pages, and the write actions
every new message applies to its conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from ulid import ULID

from .keys import contact_key, conversation_key, line_key, practice_key
from .models import ContactItem, ConversationItem, LineItem, PracticeItem
from .table import Item
from .writes import Write, transaction, update_if

if TYPE_CHECKING:
    pass


def contact_upsert(practice_id: str, phone: str, at: datetime) -> list[Action]:
    return [
        ContactItem.kind.set(ContactItem),
        ContactItem.practice_id.set(practice_id),
        ContactItem.phone.set(phone),
        ContactItem.verified.set(ContactItem.verified | False),
        ContactItem.created_at.set(ContactItem.created_at | at),
        ContactItem.updated_at.set(at),
        ContactItem.gsi1pk.set(f"PHONE#{phone}"),
        ContactItem.gsi1sk.set(practice_id),
    ]


OPEN, CLOSED = "INBOX#", "CLOSED#"  # the inbox indexes' partitions: a closed conversation is in the other one


def reopened(practice_id: str, line_id: str, *, snoozed_until: datetime | None = None) -> list[Action]:
    """What opens a conversation again (a patient's text, a staff reply, staff's Reopen): back in the open
    views, or with `snoozed_until`, open but out of them until then."""
    return [ConversationItem.gsi1pk.set(f"{OPEN}{line_id}"), ConversationItem.gsi2pk.set(f"{OPEN}{practice_id}"),
            ConversationItem.state.remove(), ConversationItem.snoozed_until.set(snoozed_until) if snoozed_until
            else ConversationItem.snoozed_until.remove()]


def closed(practice_id: str, line_id: str) -> list[Action]:
    return [ConversationItem.gsi1pk.set(f"{CLOSED}{line_id}"), ConversationItem.gsi2pk.set(f"{CLOSED}{practice_id}"),
            ConversationItem.state.set("closed"), ConversationItem.snoozed_until.remove()]


def conversation_touch(practice_id: str, line_id: str, phone: str, at: datetime,
                        last: dict[str, Any] | None = None, *, unread: int = 0, reopen: bool | None = None
                        ) -> list[Action]:
    """A new message's mark on its conversation. A patient's (`unread`) reopens a closed or snoozed one, as
    `reopen` does for others; any other keeps the state it found (an after-hours answer does not reopen)."""
    if reopen is None:
        reopen = unread > 0
    return [
        *([ConversationItem.last_message.set(last)] if last else []),
        *(reopened(practice_id, line_id) if reopen else
          [ConversationItem.gsi1pk.set(ConversationItem.gsi1pk | f"{OPEN}{line_id}"),
           ConversationItem.gsi2pk.set(ConversationItem.gsi2pk | f"{OPEN}{practice_id}")]),
        ConversationItem.conversation_id.set(ConversationItem.conversation_id | new_conversation_id()),
        ConversationItem.gsi2sk.set(f"{at.isoformat()}#{line_id}#{phone}"),
        ConversationItem.kind.set(ConversationItem),
        ConversationItem.line_id.set(line_id),
        ConversationItem.practice_id.set(practice_id),
        ConversationItem.phone.set(phone),
        ConversationItem.unread.set((ConversationItem.unread | 0) + unread) if unread
        else ConversationItem.unread.set(ConversationItem.unread | 0),
        ConversationItem.created_at.set(ConversationItem.created_at | at),
        ConversationItem.updated_at.set(at),
        ConversationItem.last_activity_at.set(at),
        ConversationItem.gsi1sk.set(f"{at.isoformat()}#{phone}"),
    ]


def new_conversation_id() -> str:
    return str(ULID())


def load_conversation(line_id: str, phone: str) -> ConversationItem | None:
    try:
        return ConversationItem.get(*conversation_key(line_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def load_for_follow_up(practice_id: str, line_id: str, phone: str
                       ) -> tuple[ConversationItem | None, LineItem | None, PracticeItem | None]:
    """A patient's conversation with the line and its practice, in one consistent batch read."""
    keys = [conversation_key(line_id, phone), (practice_key(practice_id), line_key(line_id)),
            (practice_key(practice_id), "PRACTICE")]
    found = {(item.pk, item.sk): item for item in Item.batch_get(keys, consistent_read=True)}
    conversation, line, practice = (found.get(key) for key in keys)
    return (conversation if isinstance(conversation, ConversationItem) else None,
            line if isinstance(line, LineItem) else None, practice if isinstance(practice, PracticeItem) else None)


def load_contact(practice_id: str, phone: str) -> ContactItem | None:
    try:
        return ContactItem.get(*contact_key(practice_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def mark_read(line_id: str, phone: str, at: datetime) -> None:
    ConversationItem(*conversation_key(line_id, phone)).update(
        actions=[ConversationItem.unread.set(0), ConversationItem.updated_at.set(at)],
        condition=ConversationItem.pk.exists())


@dataclass(frozen=True)
class Claim:
    """A step on a conversation taken at most once: its actions apply only while `condition` holds."""

    actions: list[Action]
    condition: Condition


def mpsp_claim(seen_prompts: int, message_id: str, *, chosen: str | None = None) -> Claim:
    """MPSP's next step for the patient's text `message_id`, from the prompt count this run read: a redelivered
    text, or a second text read at the same count, finds it taken."""
    counted = (ConversationItem.mpsp_prompts == seen_prompts) if seen_prompts else (
        ConversationItem.mpsp_prompts.does_not_exist() | (ConversationItem.mpsp_prompts == 0))
    condition = counted & (ConversationItem.mpsp_message.does_not_exist()
                           | (ConversationItem.mpsp_message != message_id))
    actions: list[Action] = [ConversationItem.mpsp_message.set(message_id)]
    if chosen is None:
        actions.append(ConversationItem.mpsp_prompts.set(seen_prompts + 1))
    else:
        actions.append(ConversationItem.patient_id.set(chosen))
        condition = condition & ConversationItem.patient_id.does_not_exist()
    return Claim(actions, condition)


def replied_claim() -> Claim:
    """The conversation's first reply, counted once however many texts or retries arrive."""
    return Claim([ConversationItem.replied.set(True)],
                 ConversationItem.replied.does_not_exist() | (ConversationItem.replied == False))  # noqa: E712


def take_step(line_id: str, phone: str, claim: Claim, *, also: Sequence[Write] = ()) -> bool:
    """Apply the claim (with `also`, all or nothing); False when it was taken already."""
    key = conversation_key(line_id, phone)
    condition = ConversationItem.pk.exists() & claim.condition
    if not also:
        return update_if(ConversationItem(*key), claim.actions, condition)
    try:
        with transaction() as writes:
            writes.update(ConversationItem(*key), claim.actions, condition=condition)
            for write in also:
                writes.apply(write)
    except TransactWriteError as error:
        if key in writes.failed(error):
            return False
        raise
    return True

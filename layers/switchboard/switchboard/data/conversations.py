"""Contacts and conversations: what a practice knows of a phone, the inbox's pages, and the write actions
every new message applies to its conversation."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from switchboard.core.errors import InvalidInput
from switchboard.core.phones import format_national
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from .keys import contact_key, conversation_key
from .models import ContactItem, ConversationItem, MessageItem

if TYPE_CHECKING:
    from switchboard.rules.conversations import InboxEntry, Message


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


def conversation_touch(practice_id: str, line_id: str, phone: str, at: datetime,
                        last: dict[str, Any] | None = None, *, unread: int = 0) -> list[Action]:
    return [
        *([ConversationItem.last_message.set(last)] if last else []),
        ConversationItem.gsi2pk.set(f"INBOX#{practice_id}"),
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
        ConversationItem.gsi1pk.set(f"INBOX#{line_id}"),
        ConversationItem.gsi1sk.set(f"{at.isoformat()}#{phone}"),
    ]


def load_conversation(line_id: str, phone: str) -> ConversationItem | None:
    try:
        return ConversationItem.get(*conversation_key(line_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def load_contact(practice_id: str, phone: str) -> ContactItem | None:
    try:
        return ContactItem.get(*contact_key(practice_id, phone), consistent_read=True)
    except DoesNotExist:
        return None


def mark_read(line_id: str, phone: str, at: datetime) -> None:
    ConversationItem(*conversation_key(line_id, phone)).update(
        actions=[ConversationItem.unread.set(0), ConversationItem.updated_at.set(at)],
        condition=ConversationItem.pk.exists())


def set_conversation(line_id: str, phone: str, actions: list[Action]) -> None:
    ConversationItem(*conversation_key(line_id, phone)).update(actions=actions, condition=ConversationItem.pk.exists())


@dataclass(frozen=True)
class Page:
    items: list[Any]
    cursor: dict[str, Any] | None


def inbox_page(practice_id: str, *, line_ids: set[str] | None, unread_only: bool, limit: int,
               cursor: dict[str, Any] | None) -> Page:
    """One query: the practice's conversations by last activity, newest first, narrowed to `line_ids`."""
    condition = None
    if line_ids is not None:
        condition = ConversationItem.line_id.is_in(*sorted(line_ids)) if line_ids else ConversationItem.pk == "-"
    if unread_only:
        condition = (ConversationItem.unread > 0) if condition is None else condition & (ConversationItem.unread > 0)
    query = ConversationItem.gsi2.query(f"INBOX#{practice_id}", scan_index_forward=False, limit=limit,
                                        filter_condition=condition, last_evaluated_key=cursor, page_size=limit)
    items = [item for item in query if isinstance(item, ConversationItem)]
    return Page(items, query.last_evaluated_key)


def thread_page(line_id: str, phone: str, *, limit: int, cursor: dict[str, Any] | None) -> Page:
    """A conversation's messages, newest first, one query per page."""
    pk = f"CONV#{line_id}#{phone}"
    query = MessageItem.query(pk, MessageItem.sk.startswith("MSG#"), scan_index_forward=False, limit=limit,
                              last_evaluated_key=cursor, page_size=limit)
    items = [item for item in query if isinstance(item, MessageItem)]
    return Page(items, query.last_evaluated_key)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise InvalidInput("is not a cursor this API gave out", field="cursor") from None
    if not isinstance(key, dict):
        raise InvalidInput("is not a cursor this API gave out", field="cursor")
    return key


def to_entry(item: ConversationItem) -> InboxEntry:
    # The inbox's pydantic models load with the first page, not in the webhooks that share this module.
    from switchboard.rules.conversations import InboxEntry, LastMessage, PatientMatch

    matches = [PatientMatch(**m) for m in (item.matches or [])]
    chosen = next((m for m in matches if m.patient_id == item.patient_id), None)
    return InboxEntry(
        line_id=item.line_id, phone=item.phone, phone_display=format_national(item.phone)
        if item.phone.startswith("+1") else item.phone, unread=int(item.unread or 0),
        last_activity_at=item.last_activity_at, opted_out=bool(item.opted_out), not_textable=bool(item.not_textable),
        verified=bool(item.verified), mpsp=len(matches) > 1 and chosen is None, patient_id=item.patient_id,
        patient_name=chosen.name if chosen else None, matches=matches,
        last_message=LastMessage(**item.last_message) if item.last_message else None,
    )


def to_message(item: MessageItem) -> Message:
    from switchboard.rules.conversations import Message

    return Message(
        message_id=item.message_id, line_id=item.line_id, phone=item.phone, direction=Direction(item.direction),
        body=item.body, sender=SenderKind(item.sender), sender_id=item.sender_id, status=MessageStatus(item.status),
        error_code=item.error_code, error_reason=item.error_reason, carrier_sid=item.carrier_sid, flag=item.flag,
        created_at=item.created_at,
    )

"""Contacts and conversations: what a practice knows of a phone, the inbox's pages, and the write actions
every new message applies to its conversation."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from switchboard.core.errors import InvalidInput
from switchboard.core.phones import format_national
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from .keys import contact_key, conversation_key, line_key, practice_key
from .models import ContactItem, ConversationItem, LineItem, MessageItem, PracticeItem
from .table import Item
from .writes import Write, transaction, update_if

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


@dataclass(frozen=True)
class Page:
    items: list[Any]
    cursor: str | None


def _not_ours() -> InvalidInput:
    return InvalidInput("is not a cursor this API gave out", field="cursor")


def _encode(position: object) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode() \
        if position else None


def _decode(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise _not_ours() from None


def _phone_of(sort_key: str) -> str:
    return sort_key.rsplit("#", 1)[-1]


def _unread(condition: Any, unread_only: bool) -> Any:
    if not unread_only:
        return condition
    return (ConversationItem.unread > 0) if condition is None else condition & (ConversationItem.unread > 0)


def inbox_page(practice_id: str, *, unread_only: bool, limit: int, cursor: str | None) -> Page:
    """One query: every conversation of the practice by last activity, newest first."""
    position = _decode(cursor)
    start = None
    if position is not None:
        after = position.get("after") if isinstance(position, dict) else None
        if not isinstance(after, str) or after.count("#") < 2:
            raise _not_ours()
        line_id, phone = after.split("#")[-2:]
        start = {"pk": {"S": line_key(line_id)}, "sk": {"S": f"CONV#{phone}"},
                 "gsi2pk": {"S": f"INBOX#{practice_id}"}, "gsi2sk": {"S": after}}
    query = ConversationItem.gsi2.query(f"INBOX#{practice_id}", scan_index_forward=False, limit=limit,
                                        filter_condition=_unread(None, unread_only), last_evaluated_key=start,
                                        page_size=limit)
    items = [item for item in query if isinstance(item, ConversationItem)]
    last = query.last_evaluated_key
    return Page(items, _encode({"after": last["gsi2sk"]["S"]} if last else None))


def _line_start(line_id: str, after: str) -> dict[str, Any]:
    return {"pk": {"S": line_key(line_id)}, "sk": {"S": f"CONV#{_phone_of(after)}"},
            "gsi1pk": {"S": f"INBOX#{line_id}"}, "gsi1sk": {"S": after}}


def lines_inbox_page(practice_id: str, line_ids: set[str], *, unread_only: bool, limit: int,
                     cursor: str | None) -> Page:
    """The conversations of `line_ids` only: a query per line, merged by last activity.

    The cursor holds, per line with more to read, where that line's next page starts; it names no other line.
    """
    position = _decode(cursor)
    if position is None:
        starts: dict[str, str | None] = dict.fromkeys(sorted(line_ids))
    else:
        lines = position.get("lines") if isinstance(position, dict) else None
        if not isinstance(lines, dict) or not lines or not set(lines) <= line_ids \
                or not all(after is None or (isinstance(after, str) and "#" in after) for after in lines.values()):
            raise _not_ours()
        starts = lines
    from switchboard.rules.conversations import newest_first

    condition = _unread(ConversationItem.practice_id == practice_id, unread_only)
    read: dict[str, list[ConversationItem]] = {}
    more: dict[str, bool] = {}
    for line_id, after in starts.items():
        query = ConversationItem.gsi1.query(
            f"INBOX#{line_id}", scan_index_forward=False, limit=limit, page_size=limit, filter_condition=condition,
            last_evaluated_key=_line_start(line_id, after) if after else None)
        read[line_id] = [item for item in query if isinstance(item, ConversationItem)]
        more[line_id] = query.last_evaluated_key is not None
    taken = newest_first(read, limit, key=lambda item: item.last_activity_at)
    rest: dict[str, str | None] = {}
    for line_id, items in read.items():
        used = taken.counts[line_id]
        if used < len(items) or more[line_id]:
            rest[line_id] = items[used - 1].gsi1sk if used else starts[line_id]
    return Page(taken.items, _encode({"lines": rest} if rest else None))


def thread_page(line_id: str, phone: str, *, limit: int, cursor: str | None) -> Page:
    """A conversation's messages, newest first, one query per page."""
    pk = f"CONV#{line_id}#{phone}"
    position = _decode(cursor)
    start = None
    if position is not None:
        after = position.get("after") if isinstance(position, dict) else None
        if not isinstance(after, str) or not after.startswith("MSG#"):
            raise _not_ours()
        start = {"pk": {"S": pk}, "sk": {"S": after}}
    query = MessageItem.query(pk, MessageItem.sk.startswith("MSG#"), scan_index_forward=False, limit=limit,
                              last_evaluated_key=start, page_size=limit)
    items = [item for item in query if isinstance(item, MessageItem)]
    last = query.last_evaluated_key
    return Page(items, _encode({"after": last["sk"]["S"]} if last else None))


def to_entry(item: ConversationItem) -> InboxEntry:
    # The inbox's pydantic models load with the first page, not in the webhooks that share this module.
    from switchboard.rules.conversations import (
        InboxEntry,
        LastMessage,
        PatientMatch,
        last_text_failure,
        open_opt_out_request,
    )

    matches = [PatientMatch(**m) for m in (item.matches or [])]
    chosen = next((m for m in matches if m.patient_id == item.patient_id), None)
    return InboxEntry(
        line_id=item.line_id, phone=item.phone, phone_display=format_national(item.phone)
        if item.phone.startswith("+1") else item.phone, unread=int(item.unread or 0),
        last_activity_at=item.last_activity_at, opted_out=bool(item.opted_out), not_textable=bool(item.not_textable),
        verified=bool(item.verified), mpsp=len(matches) > 1 and chosen is None, patient_id=item.patient_id,
        patient_name=chosen.name if chosen else None, matches=matches,
        last_message=LastMessage(**item.last_message) if item.last_message else None,
        opt_out_requested=open_opt_out_request(item.opt_out_requested, opted_out=bool(item.opted_out)),
        last_text_failed=last_text_failure(item.last_text_failed),
    )


def to_message(item: MessageItem) -> Message:
    from switchboard.rules.conversations import Message

    return Message(
        message_id=item.message_id, line_id=item.line_id, phone=item.phone, direction=Direction(item.direction),
        body=item.body, sender=SenderKind(item.sender), sender_id=item.sender_id, status=MessageStatus(item.status),
        error_code=item.error_code, error_reason=item.error_reason, carrier_sid=item.carrier_sid, flag=item.flag,
        recording_url=item.recording_url, created_at=item.created_at,
    )

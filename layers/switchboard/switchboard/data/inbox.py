"""The inbox's reads: a practice's or some lines' conversations in a view, page by page, and a conversation's
messages; and how a stored conversation or message is shown."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pynamodb.expressions.condition import Condition

from switchboard.core.errors import InvalidInput
from switchboard.core.phones import format_national
from switchboard.rules.messages import Direction, MessageStatus, SenderKind

from .conversations import CLOSED, OPEN
from .keys import line_key
from .models import ConversationItem, MessageItem

if TYPE_CHECKING:
    from switchboard.rules.conversations import InboxEntry, InboxView, Message


@dataclass(frozen=True)
class Page:
    items: list[Any]
    cursor: str | None


def not_a_cursor() -> InvalidInput:
    return InvalidInput("is not a cursor this API gave out", field="cursor")


def encode_cursor(position: object) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode() \
        if position else None


def decode_cursor(cursor: str | None) -> Any:
    if not cursor:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise not_a_cursor() from None


def cursor_after(cursor: str | None, valid: Callable[[str], bool]) -> str | None:
    """The key a page's cursor goes on after (None on the first page); not_a_cursor for one this query did not
    write."""
    position = decode_cursor(cursor)
    if position is None:
        return None
    after = position.get("after") if isinstance(position, dict) else None
    if not isinstance(after, str) or not valid(after):
        raise not_a_cursor()
    return after


def _phone_of(sort_key: str) -> str:
    return sort_key.rsplit("#", 1)[-1]


@dataclass(frozen=True)
class InboxFilter:
    """Which conversations a page lists: a view (whose "mine" is `user_id`'s), unread ones only or all, as of `at`
    (a snooze that has run out lists the conversation again)."""

    view: InboxView
    user_id: str
    at: datetime
    unread_only: bool = False
    active_since: datetime | None = None
    """Only conversations with activity at or after this (a poll for what is new: a key condition, not a filter)."""

    def newer(self, sort_key: Any) -> Any:
        return None if self.active_since is None else sort_key >= self.active_since.astimezone(UTC).isoformat()

    @property
    def partition(self) -> str:
        return CLOSED if self.view == "closed" else OPEN

    def condition(self, practice_id: str | None = None) -> Condition | None:
        from switchboard.rules.conversations import InboxView

        awake = ConversationItem.snoozed_until.does_not_exist() | (ConversationItem.snoozed_until <= self.at)
        conditions: list[Condition] = {
            InboxView.UNASSIGNED: [awake, ConversationItem.assignee_id.does_not_exist()],
            InboxView.MINE: [awake, ConversationItem.assignee_id == self.user_id],
            InboxView.OPEN: [awake],
            InboxView.SNOOZED: [ConversationItem.snoozed_until > self.at],
            InboxView.CLOSED: [],
        }[self.view]
        if practice_id is not None:
            conditions.append(ConversationItem.practice_id == practice_id)
        if self.unread_only:
            conditions.append(ConversationItem.unread > 0)
        if not conditions:
            return None
        combined = conditions[0]
        for condition in conditions[1:]:
            combined = combined & condition
        return combined


def inbox_page(practice_id: str, which: InboxFilter, *, limit: int, cursor: str | None) -> Page:
    """One query: the practice's conversations in the view, by last activity, newest first."""
    partition = f"{which.partition}{practice_id}"
    after = cursor_after(cursor, lambda key: key.count("#") >= 2)
    start = None
    if after is not None:
        line_id, phone = after.split("#")[-2:]
        start = {"pk": {"S": line_key(line_id)}, "sk": {"S": f"CONV#{phone}"},
                 "gsi2pk": {"S": partition}, "gsi2sk": {"S": after}}
    query = ConversationItem.gsi2.query(partition, which.newer(ConversationItem.gsi2sk), scan_index_forward=False,
                                        limit=limit,
                                        filter_condition=which.condition(), last_evaluated_key=start,
                                        page_size=limit)
    items = [item for item in query if isinstance(item, ConversationItem)]
    last = query.last_evaluated_key
    return Page(items, encode_cursor({"after": last["gsi2sk"]["S"]} if last else None))


def _line_start(partition: str, line_id: str, after: str) -> dict[str, Any]:
    return {"pk": {"S": line_key(line_id)}, "sk": {"S": f"CONV#{_phone_of(after)}"},
            "gsi1pk": {"S": f"{partition}{line_id}"}, "gsi1sk": {"S": after}}


def lines_inbox_page(practice_id: str, line_ids: set[str], which: InboxFilter, *, limit: int,
                     cursor: str | None) -> Page:
    """The conversations of `line_ids` only: a query per line, merged by last activity.

    The cursor holds, per line with more to read, where that line's next page starts; it names no other line.
    """
    position = decode_cursor(cursor)
    if position is None:
        starts: dict[str, str | None] = dict.fromkeys(sorted(line_ids))
    else:
        lines = position.get("lines") if isinstance(position, dict) else None
        if not isinstance(lines, dict) or not lines or not set(lines) <= line_ids \
                or not all(after is None or (isinstance(after, str) and "#" in after) for after in lines.values()):
            raise not_a_cursor()
        starts = lines
    from switchboard.rules.conversations import newest_first

    condition = which.condition(practice_id)
    read: dict[str, list[ConversationItem]] = {}
    more: dict[str, bool] = {}
    for line_id, after in starts.items():
        query = ConversationItem.gsi1.query(
            f"{which.partition}{line_id}", which.newer(ConversationItem.gsi1sk), scan_index_forward=False,
            limit=limit, page_size=limit, filter_condition=condition,
            last_evaluated_key=_line_start(which.partition, line_id, after) if after else None)
        read[line_id] = [item for item in query if isinstance(item, ConversationItem)]
        more[line_id] = query.last_evaluated_key is not None
    taken = newest_first(read, limit, key=lambda item: item.last_activity_at)
    rest: dict[str, str | None] = {}
    for line_id, items in read.items():
        used = taken.counts[line_id]
        if used < len(items) or more[line_id]:
            rest[line_id] = items[used - 1].gsi1sk if used else starts[line_id]
    return Page(taken.items, encode_cursor({"lines": rest} if rest else None))


def thread_page(line_id: str, phone: str, *, limit: int, cursor: str | None) -> Page:
    """A conversation's messages, newest first, one query per page."""
    pk = f"CONV#{line_id}#{phone}"
    after = cursor_after(cursor, lambda key: key.startswith("MSG#"))
    start = {"pk": {"S": pk}, "sk": {"S": after}} if after is not None else None
    query = MessageItem.query(pk, MessageItem.sk.startswith("MSG#"), scan_index_forward=False, limit=limit,
                              last_evaluated_key=start, page_size=limit)
    items = [item for item in query if isinstance(item, MessageItem)]
    last = query.last_evaluated_key
    return Page(items, encode_cursor({"after": last["sk"]["S"]} if last else None))


def to_entry(item: ConversationItem) -> InboxEntry:
    # The inbox's pydantic models load with the first page, not in the webhooks that share this module.
    from switchboard.rules.conversations import (
        Assignee,
        InboxEntry,
        LastMessage,
        PatientMatch,
        StaffReply,
        last_text_failure,
        open_opt_out_request,
        state_of,
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
        state=state_of(closed=item.state == "closed", snoozed_until=item.snoozed_until, at=datetime.now(UTC)),
        assignee=Assignee(user_id=item.assignee_id, name=item.assignee_name or "")
        if item.assignee_id else None,
        snoozed_until=item.snoozed_until if item.state != "closed" else None,
        last_staff_reply=StaffReply(message_id=item.last_staff_reply_id, user_id=item.last_staff_reply_by,
                                    name=item.last_staff_reply_name or "", at=item.last_staff_reply_at)
        if item.last_staff_reply_id and item.last_staff_reply_by and item.last_staff_reply_at else None,
    )


def to_message(item: MessageItem) -> Message:
    from switchboard.rules.conversations import Attachment, Message
    from switchboard.rules.media import INLINE_TYPES

    from . import media

    attachments = [Attachment(n=m.n, state=m.state.value, content_type=m.content_type or m.declared_type or None,
                              size=m.size, inline=m.content_type in INLINE_TYPES, url=media.link(m), reason=m.reason)
                   for m in media.items_of(item)]
    return Message(
        message_id=item.message_id, line_id=item.line_id, phone=item.phone, direction=Direction(item.direction),
        body=item.body, sender=SenderKind(item.sender), sender_id=item.sender_id, status=MessageStatus(item.status),
        error_code=item.error_code, error_reason=item.error_reason, carrier_sid=item.carrier_sid, flag=item.flag,
        recording_url=item.recording_url, media=attachments, created_at=item.created_at,
    )

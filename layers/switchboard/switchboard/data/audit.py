"""Audit entries, written in the same transaction as the change they record; read a page at a time, newest
first, by who, what and when; a conversation's first opening in a sign-in session recorded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from ulid import ULID

from switchboard.core.errors import InvalidInput
from switchboard.rules.audit import AuditEntry, AuditFilter, differences

from .conversations import new_conversation_id
from .inbox import Page, cursor_after, encode_cursor
from .keys import conversation_key
from .models import AuditItem, ConversationItem, ReadMarkItem
from .writes import Writes, transaction

EXPORT_LIMIT = 20_000
# How long an opening is remembered: a sign-in session lasts at most this long in the console (an older one
# records its next opening again, which says no less).
READ_REMEMBERED = timedelta(hours=24)
_ULID_TIME = 10  # a ULID's first ten characters are its time, so entries sort and range by time


def record(writes: Writes, *, actor: str, practice_id: str, action: str, entity: str, entity_id: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    item = AuditItem(
        f"AUDIT#{practice_id}",
        str(ULID()),
        practice_id=practice_id,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes=differences(before, after),
    )
    writes.put(item)


def note(practice_id: str, *, actor: str, action: str, entity: str, entity_id: str, details: dict[str, Any]) -> None:
    """An entry on its own: something done that changed nothing (an export)."""
    with transaction() as writes:
        record(writes, actor=actor, practice_id=practice_id, action=action, entity=entity, entity_id=entity_id,
               before=None, after=details)


def _entry(item: AuditItem) -> AuditEntry:
    return AuditEntry(at=item.created_at, actor=item.actor, action=item.action, entity=item.entity,
                      entity_id=item.entity_id, changes=item.changes)


_ULID_LAST_MS = 2**48 - 1  # a ULID's time is 48 bits of milliseconds since 1970


def _time_part(at: datetime) -> str:
    """The time part of the ULIDs written at `at`; a time a ULID cannot hold stands for the first or last one."""
    milliseconds = min(max(int(at.timestamp() * 1000), 0), _ULID_LAST_MS)
    return str(ULID.from_timestamp(milliseconds))[:_ULID_TIME]  # an int is milliseconds


def _query(practice_id: str, which: AuditFilter, **options: Any) -> Any:
    if which.since and which.until and which.since > which.until:
        raise InvalidInput("must not be before since", field="until")
    low = _time_part(which.since) + "0" * 16 if which.since else "0"
    high = _time_part(which.until) + "Z" * 16 if which.until else "Z"
    conditions: list[Condition] = []
    if which.actor:
        conditions.append(AuditItem.actor == which.actor.strip().lower())
    if which.action:
        conditions.append(AuditItem.action.startswith(which.action))
    condition = None
    for each in conditions:
        condition = each if condition is None else condition & each
    return AuditItem.query(f"AUDIT#{practice_id}", AuditItem.sk.between(low, high), filter_condition=condition,
                           scan_index_forward=False, **options)


def recent(practice_id: str, which: AuditFilter, *, limit: int, cursor: str | None) -> Page:
    """A page of the practice's trail, newest first, and the cursor of the next (None after the last)."""
    after = cursor_after(cursor, lambda key: len(key) == 26)
    start = {"pk": {"S": f"AUDIT#{practice_id}"}, "sk": {"S": after}} if after else None
    query = _query(practice_id, which, limit=limit, page_size=limit, last_evaluated_key=start)
    entries = [_entry(item) for item in query if isinstance(item, AuditItem)]
    last = query.last_evaluated_key
    return Page(entries, encode_cursor({"after": last["sk"]["S"]} if last and entries else None))


def every(practice_id: str, which: AuditFilter) -> Iterator[AuditEntry]:
    """Every entry the filter selects, newest first; refused past EXPORT_LIMIT (narrow the dates)."""
    for count, item in enumerate(_query(practice_id, which, page_size=500), start=1):
        if count > EXPORT_LIMIT:
            raise InvalidInput(f"selects more than {EXPORT_LIMIT} entries; choose a shorter time", field="since")
        if isinstance(item, AuditItem):
            yield _entry(item)


def _conversation_entity(writes: Writes, found: ConversationItem) -> str:
    """How the trail names a conversation (its line and id, never the number); named in `writes` if it has no id
    yet."""
    conversation_id = found.conversation_id or new_conversation_id()
    if not found.conversation_id:
        unnamed = ConversationItem.pk.exists() & ConversationItem.conversation_id.does_not_exist()
        writes.update(ConversationItem(*conversation_key(found.line_id, found.phone)),
                      [ConversationItem.conversation_id.set(conversation_id)], condition=unnamed)
    return f"{found.line_id}/{conversation_id}"


def record_read(found: ConversationItem, *, user_id: str, session: str, actor: str, at: datetime) -> bool:
    """The first opening of a conversation in a sign-in session goes on the trail; False when it already has."""
    mark = ReadMarkItem(f"READ#{user_id}#{session}", f"{found.line_id}#{found.phone}",
                        expires_at=at + READ_REMEMBERED)
    try:
        ReadMarkItem.get(mark.pk, mark.sk)
        return False
    except DoesNotExist:
        pass
    try:
        with transaction() as writes:
            writes.put(mark, condition=ReadMarkItem.pk.does_not_exist())
            record(writes, actor=actor, practice_id=found.practice_id, action="conversation.read",
                   entity="conversation", entity_id=_conversation_entity(writes, found), before=None, after=None)
    except TransactWriteError as error:
        if writes.failed(error):
            return False  # opened at the same moment elsewhere in the session (or named meanwhile): on the trail
        raise
    return True


def note_conversation(found: ConversationItem, *, actor: str, action: str, details: dict[str, Any]) -> None:
    """An entry about a conversation that changes nothing in it (an export)."""

    def write(conversation: ConversationItem) -> None:
        with transaction() as writes:
            record(writes, actor=actor, practice_id=conversation.practice_id, action=action, entity="conversation",
                   entity_id=_conversation_entity(writes, conversation), before=None, after=details)

    try:
        write(found)
    except TransactWriteError:  # named by someone else meanwhile: that name it is
        write(ConversationItem.get(*conversation_key(found.line_id, found.phone), consistent_read=True))

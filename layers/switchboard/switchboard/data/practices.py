"""Storing and reading practices."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from ulid import ULID

from switchboard.core.errors import Conflict, NotFound
from switchboard.rules.practices import NewPractice, Practice, PracticeChanges, PracticeSettings

from . import audit
from .keys import practice_key
from .models import PracticeItem
from .table import now
from .writes import transaction

STALE = "the practice was changed by someone else; reload and try again"


def to_practice(item: PracticeItem) -> Practice:
    return Practice(
        practice_id=item.practice_id,
        name=item.name,
        timezone=item.timezone,
        hours=item.hours,
        primary_line_id=item.primary_line_id,
        version=item.version or 0,
        created_at=item.created_at,
        updated_at=item.updated_at,
        **(item.settings or {}),
    )


def _snapshot(practice: Practice) -> dict[str, Any]:
    return practice.model_dump(mode="json", exclude={"practice_id", "version", "created_at", "updated_at"})


def _write_fields(item: PracticeItem, fields: dict[str, Any]) -> None:
    item.name = fields["name"]
    item.timezone = fields["timezone"]
    item.hours = fields["hours"]
    item.settings = {name: fields[name] for name in PracticeSettings.model_fields if name in fields}
    item.gsi1pk = "PRACTICES"
    item.gsi1sk = f"{item.name.casefold()}#{item.practice_id}"
    item.updated_at = now()


def add_practice(draft: NewPractice, *, actor: str) -> Practice:
    practice_id = str(ULID())
    item = PracticeItem(practice_key(practice_id), "PRACTICE", practice_id=practice_id)
    _write_fields(item, draft.model_dump(mode="json"))
    with transaction() as writes:
        writes.put(item, condition=PracticeItem.pk.does_not_exist())
        audit.record(writes, actor=actor, practice_id=practice_id, action="practice.create", entity="practice",
                     entity_id=practice_id, before=None, after=draft.model_dump(mode="json"))
    return to_practice(item)


def load(practice_id: str) -> PracticeItem:
    try:
        return PracticeItem.get(practice_key(practice_id), "PRACTICE", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such practice") from None


def get_practice(practice_id: str) -> Practice:
    return to_practice(load(practice_id))


def list_practices(limit: int = 500) -> list[Practice]:
    items = PracticeItem.gsi1.query("PRACTICES", limit=limit)
    return [to_practice(item) for item in items if isinstance(item, PracticeItem)]


def change_practice(practice_id: str, changes: PracticeChanges, *, actor: str) -> Practice:
    item = load(practice_id)
    current = to_practice(item)
    if changes.version is not None and changes.version != item.version:
        raise Conflict(STALE, field="version")
    fields = changes.applied_to(current)
    _write_fields(item, fields)
    after = _snapshot(to_practice(item))
    try:
        with transaction() as writes:
            writes.put(item)  # the version attribute makes this conditional on nobody else having saved
            audit.record(writes, actor=actor, practice_id=practice_id, action="practice.update", entity="practice",
                         entity_id=practice_id, before=_snapshot(current), after=after)
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict(STALE, field="version") from None
        raise
    return to_practice(item)


def set_primary_line(practice_id: str, line_id: str, *, actor: str) -> str | None:
    """Move the primary badge; one write on the practice, so two lines can never both hold it."""
    from .lines import line_key
    from .models import LineItem

    item = load(practice_id)
    before = item.primary_line_id
    item.primary_line_id = line_id
    item.updated_at = now()
    try:
        with transaction() as writes:
            writes.check(LineItem, practice_key(practice_id), line_key(line_id), LineItem.status.is_in(
                "enabled", "disabled", "pending"))
            writes.put(item)
            audit.record(writes, actor=actor, practice_id=practice_id, action="line.primary", entity="practice",
                         entity_id=practice_id, before={"primary_line_id": before},
                         after={"primary_line_id": line_id})
    except TransactWriteError as error:
        failed = writes.failed(error)
        if (item.pk, item.sk) in failed:
            raise Conflict(STALE) from None
        if failed:
            raise NotFound("no such line") from None
        raise
    return before

"""Storing and reading practices."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from ulid import ULID

from switchboard.errors import Conflict, NotFound
from switchboard.practices import NewPractice, Practice, PracticeChanges

from .models import PracticeItem, now


def practice_key(practice_id: str) -> str:
    return f"PRACTICE#{practice_id}"


def _practice(item: PracticeItem) -> Practice:
    return Practice(
        practice_id=item.practice_id,
        name=item.name,
        timezone=item.timezone,
        hours=item.hours.as_dict(),
        version=item.version,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _index_fields(item: PracticeItem) -> None:
    item.gsi1pk = "PRACTICES"
    item.gsi1sk = f"{item.name.casefold()}#{item.practice_id}"


def add_practice(draft: NewPractice) -> Practice:
    practice_id = str(ULID())
    item = PracticeItem(
        practice_key(practice_id),
        "PRACTICE",
        practice_id=practice_id,
        name=draft.name,
        timezone=draft.timezone,
        hours=draft.hours.model_dump(),
    )
    _index_fields(item)
    item.save(condition=PracticeItem.pk.does_not_exist())
    return _practice(item)


def _load(practice_id: str) -> PracticeItem:
    try:
        return PracticeItem.get(practice_key(practice_id), "PRACTICE", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such practice") from None


def get_practice(practice_id: str) -> Practice:
    return _practice(_load(practice_id))


def practice_exists(practice_id: str) -> bool:
    return PracticeItem.count(practice_key(practice_id), PracticeItem.sk == "PRACTICE") > 0


def list_practices(limit: int = 500) -> list[Practice]:
    items = PracticeItem.gsi1.query("PRACTICES", limit=limit)
    return [_practice(item) for item in items if isinstance(item, PracticeItem)]


def change_practice(practice_id: str, changes: PracticeChanges) -> Practice:
    item = _load(practice_id)
    if changes.version is not None and changes.version != item.version:
        raise Conflict("the practice was changed by someone else; reload and try again", field="version")
    if changes.name is not None:
        item.name = changes.name
    if changes.timezone is not None:
        item.timezone = changes.timezone
    if changes.hours is not None:
        item.hours = changes.hours.model_dump()
    item.updated_at = now()
    _index_fields(item)
    try:
        item.save()
    except (PutError, UpdateError) as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("the practice was changed by someone else; reload and try again", field="version") from None
        raise
    return _practice(item)

"""Storing quick responses."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from ulid import ULID

from switchboard.core.errors import NotFound
from switchboard.rules.quick_responses import NewQuickResponse, QuickResponse, QuickResponseChanges

from . import audit
from .keys import practice_key
from .models import QuickResponseItem
from .practices import load as load_practice
from .writes import transaction


def to_quick_response(item: QuickResponseItem) -> QuickResponse:
    return QuickResponse(quick_response_id=item.quick_response_id, title=item.title, language=item.language,
                         body=item.body)


def list_quick_responses(practice_id: str) -> list[QuickResponse]:
    query = QuickResponseItem.query(practice_key(practice_id), QuickResponseItem.sk.startswith("QUICK#"))
    return sorted((to_quick_response(i) for i in query), key=lambda q: (q.language, q.title.casefold()))


def _save(item: QuickResponseItem, *, actor: str, action: str, before: QuickResponse | None) -> QuickResponse:
    with transaction() as writes:
        writes.put(item)
        audit.record(writes, actor=actor, practice_id=item.practice_id, action=action, entity="quick_response",
                     entity_id=item.quick_response_id, before=before.model_dump() if before else None,
                     after=to_quick_response(item).model_dump())
    return to_quick_response(item)


def add_quick_response(practice_id: str, draft: NewQuickResponse, *, actor: str) -> QuickResponse:
    load_practice(practice_id)
    quick_id = str(ULID())
    item = QuickResponseItem(practice_key(practice_id), f"QUICK#{quick_id}", practice_id=practice_id,
                             quick_response_id=quick_id, **draft.model_dump())
    return _save(item, actor=actor, action="quick_response.create", before=None)


def _load(practice_id: str, quick_id: str) -> QuickResponseItem:
    try:
        return QuickResponseItem.get(practice_key(practice_id), f"QUICK#{quick_id}", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such quick response") from None


def change_quick_response(practice_id: str, quick_id: str, changes: QuickResponseChanges, *,
                          actor: str) -> QuickResponse:
    item = _load(practice_id, quick_id)
    before = to_quick_response(item)
    for name, value in changes.model_dump(exclude_none=True).items():
        setattr(item, name, value)
    return _save(item, actor=actor, action="quick_response.update", before=before)


def remove_quick_response(practice_id: str, quick_id: str, *, actor: str) -> None:
    item = _load(practice_id, quick_id)
    with transaction() as writes:
        writes.delete(item)
        audit.record(writes, actor=actor, practice_id=practice_id, action="quick_response.delete",
                     entity="quick_response", entity_id=quick_id, before=to_quick_response(item).model_dump(),
                     after=None)

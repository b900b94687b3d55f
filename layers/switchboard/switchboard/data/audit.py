"""Audit entries, written in the same transaction as the change they record."""

from __future__ import annotations

from typing import Any

from ulid import ULID

from switchboard.rules.audit import AuditEntry, differences

from .models import AuditItem
from .writes import Writes


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


def recent(practice_id: str, limit: int = 100) -> list[AuditEntry]:
    items = AuditItem.query(f"AUDIT#{practice_id}", scan_index_forward=False, limit=limit)
    return [
        AuditEntry(at=item.created_at, actor=item.actor, action=item.action, entity=item.entity,
                   entity_id=item.entity_id, changes=item.changes)
        for item in items
    ]

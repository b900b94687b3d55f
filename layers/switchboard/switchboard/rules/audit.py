"""The audit trail: who changed what, when, with the fields before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.core.fields import DomainModel


class AuditEntry(DomainModel):
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    changes: dict[str, dict[str, Any]]


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """`{field: {"before": x, "after": y}}` for each field that differs (JSON-ready values in, out)."""
    old, new = before or {}, after or {}
    return {
        name: {"before": old.get(name), "after": new.get(name)}
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    }

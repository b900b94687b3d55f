"""The audit trail: who changed (or opened) what, when, with the fields before and after; a page of it narrowed
by who, what and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from switchboard.core.fields import DomainModel


class AuditEntry(DomainModel):
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    changes: dict[str, dict[str, Any]]


class AuditFilter(DomainModel):
    """Which entries a page holds: by whom (their email), what (an action, or the start of one: "conversation" is
    every conversation action), and when (from `since` up to `until`)."""

    actor: str | None = Field(default=None, min_length=1, max_length=254)
    action: str | None = Field(default=None, min_length=1, max_length=80, pattern=r"^[a-z_]+(\.[a-z_]+)*\.?$")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    def described(self) -> dict[str, str]:
        return {name: value.isoformat() if isinstance(value, datetime) else str(value)
                for name, value in self.model_dump().items() if value is not None}


class AuditPage(DomainModel):
    entries: list[AuditEntry]
    next_cursor: str | None


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """`{field: {"before": x, "after": y}}` for each field that differs (JSON-ready values in, out)."""
    old, new = before or {}, after or {}
    return {
        name: {"before": old.get(name), "after": new.get(name)}
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    }

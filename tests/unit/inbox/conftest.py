from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")


def chicago(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).astimezone(UTC)

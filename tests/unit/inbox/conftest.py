from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_sids = itertools.count(1)
CHICAGO = ZoneInfo("America/Chicago")


def chicago(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).astimezone(UTC)

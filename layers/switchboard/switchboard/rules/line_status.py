"""A line's lifecycle, on its own so the voice webhook can check it without the line's models."""

from __future__ import annotations

from enum import StrEnum


class LineStatus(StrEnum):
    PENDING = "pending"
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"
    RELEASED = "released"

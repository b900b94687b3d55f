"""Partition keys shared across the data modules."""

from __future__ import annotations


def practice_key(practice_id: str) -> str:
    return f"PRACTICE#{practice_id}"


def line_key(line_id: str) -> str:
    return f"LINE#{line_id}"

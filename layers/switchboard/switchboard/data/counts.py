"""Counters of workflows and campaigns: ADDs, never read-modify-write, so concurrent outcomes all count."""

from __future__ import annotations

from switchboard.rules.addresses import CountsOf

from .keys import counts_key
from .models import CountsItem
from .table import Item, connection
from .writes import Write, Writes, count_actions

FAILED_PREFIX = "failed:"


def failed_counter(reason: str | None) -> str:
    # A carrier failure may come with no reason; it still needs a name a report can show.
    return f"{FAILED_PREFIX}{reason or 'unspecified'}"


def add(of: CountsOf, counters: dict[str, int]) -> None:
    """ADD to the counters (names may be `failed:<reason>`) in one request; nothing when nobody counts."""
    key = counts_key(of)
    if key is not None and counters:
        connection().update_item(Item.Meta.table_name, *key, actions=count_actions(counters))


def counted(of: CountsOf, counters: dict[str, int]) -> list[Write]:
    """The same ADD, to write with something else (none when nobody counts)."""
    key = counts_key(of)
    return [Write(CountsItem(*key), count_actions(counters))] if key is not None and counters else []


def add_in(writes: Writes, of: CountsOf, counters: dict[str, int]) -> None:
    """The same ADD, as part of a transaction."""
    key = counts_key(of)
    if key is not None and counters:
        writes.update(CountsItem(*key), count_actions(counters))

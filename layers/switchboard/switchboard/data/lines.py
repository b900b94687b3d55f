"""Storing and reading lines, the enterprise-wide claim on each number, and the pending-order index."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pynamodb.exceptions import TransactWriteError
from ulid import ULID

from switchboard.core.errors import Conflict, NotFound
from switchboard.rules.lines import Line, LineConfiguration, LineSource, LineStatus

from . import audit
from .call_routing import find_line as find_line  # re-exported: callers read lines through data.lines
from .call_routing import line_with_practice
from .keys import line_key, practice_key
from .models import LineItem, NumberClaim, PracticeItem, ResourceItem, WorkflowItem
from .table import Item, now
from .writes import Writes, transaction

PENDING_ORDERS = "LINE_ORDERS"
STALE = "the line was changed by someone else; reload and try again"
_SETTINGS = set(LineConfiguration.model_fields) | {"authorization", "forwarding", "hosted_order", "order_contact",
                                                   "emergency_close"}


def to_line(item: LineItem, primary_line_id: str | None = None) -> Line:
    return Line(
        line_id=item.line_id,
        practice_id=item.practice_id,
        display_name=item.display_name,
        number=item.number,
        source=LineSource(item.source),
        status=LineStatus(item.status),
        status_reason=item.status_reason,
        status_changed_at=item.status_changed_at,
        primary=item.line_id == primary_line_id,
        sends_pictures=item.sends_pictures,
        version=item.version or 0,
        created_at=item.created_at,
        **(item.settings or {}),
    )


def snapshot(line: Line) -> dict[str, Any]:
    return line.model_dump(mode="json", exclude={"version", "created_at", "number_display", "primary", "calls",
                                                  "routing_summary", "location_name", "closed_now", "sends_pictures"})


def add_line(practice_id: str, *, display_name: str, number: str, source: LineSource, status: LineStatus,
             actor: str, status_reason: str | None = None, settings: dict[str, Any] | None = None,
             carrier_sid: str | None = None, order_sid: str | None = None,
             messaging_service_sid: str | None = None) -> Line:
    """Line, number claim and a check that the practice exists, all or nothing."""
    line_id = str(ULID())
    item = LineItem(
        practice_key(practice_id),
        line_key(line_id),
        practice_id=practice_id,
        line_id=line_id,
        display_name=display_name,
        number=number,
        source=source.value,
        carrier_sid=carrier_sid,
        order_sid=order_sid,
        messaging_service_sid=messaging_service_sid,
        settings=settings or {},
        gsi1pk="LINES",
        gsi1sk=line_id,
    )
    set_status(item, status, status_reason)
    claim = NumberClaim(f"NUMBER#{number}", "NUMBER", practice_id=practice_id, line_id=line_id)
    try:
        with transaction() as writes:
            writes.check(PracticeItem, practice_key(practice_id), "PRACTICE", PracticeItem.pk.exists())
            writes.put(claim, condition=NumberClaim.pk.does_not_exist())
            writes.put(item, condition=LineItem.pk.does_not_exist())
            audit.record(writes, actor=actor, practice_id=practice_id, action="line.create", entity="line",
                         entity_id=line_id, before=None, after=snapshot(to_line(item)))
    except TransactWriteError as error:
        failed = writes.failed(error)
        if (claim.pk, claim.sk) in failed:
            raise Conflict("this number is already used by another line", field="number") from None
        if (practice_key(practice_id), "PRACTICE") in failed:
            raise NotFound("no such practice") from None
        raise
    return to_line(item)


def practice_partition(practice_id: str) -> list[Item]:
    """The practice with its lines and resources: one query."""
    return list(Item.query(practice_key(practice_id), consistent_read=True))


def _primary_of(items: Iterable[Item]) -> str | None:
    return next((i.primary_line_id for i in items if isinstance(i, PracticeItem)), None)


def list_lines(practice_id: str, *, include_released: bool = False) -> list[Line]:
    items = practice_partition(practice_id)
    primary = _primary_of(items)
    lines = [to_line(i, primary) for i in items if isinstance(i, LineItem)]
    return [line for line in lines if include_released or line.status is not LineStatus.RELEASED]


def load(practice_id: str, line_id: str) -> tuple[LineItem, str | None]:
    """The line's item and the practice's primary line id, in one batch read."""
    found = line_with_practice(practice_id, line_id)
    if found is None:
        raise NotFound("no such line")
    line, practice = found
    return line, practice.primary_line_id


def get_line(practice_id: str, line_id: str) -> Line:
    item, primary = load(practice_id, line_id)
    return to_line(item, primary)


def save_line(item: LineItem, before: Line, *, actor: str, action: str, primary: str | None,
              also: Callable[[Writes], None] | None = None) -> Line:
    """Save a changed line with its audit entry; a concurrent save makes this a conflict."""
    item.updated_at = now()
    after = to_line(item, primary)
    try:
        with transaction() as writes:
            writes.put(item)  # conditional on the version read: the second of two racing saves is refused
            if also is not None:
                also(writes)
            audit.record(writes, actor=actor, practice_id=item.practice_id, action=action, entity="line",
                         entity_id=item.line_id, before=snapshot(before), after=snapshot(after))
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict(STALE, field="version") from None
        raise
    return to_line(item, primary)


def check_version(item: LineItem, expected: int | None) -> None:
    if expected is not None and expected != item.version:
        raise Conflict(STALE, field="version")


def apply_changes(item: LineItem, changes: dict[str, Any]) -> None:
    if "display_name" in changes:
        item.display_name = changes["display_name"]
    settings = dict(item.settings or {})
    for name in _SETTINGS & changes.keys():
        if changes[name] is None:
            settings.pop(name, None)
        else:
            settings[name] = changes[name]
    item.settings = settings


def set_status(item: LineItem, status: LineStatus, reason: str | None) -> None:
    item.status = status.value
    item.status_reason = reason
    item.status_changed_at = now()
    if status is LineStatus.PENDING:
        item.pending_pk, item.pending_sk = PENDING_ORDERS, f"{item.practice_id}#{item.line_id}"
    else:
        item.pending_pk = item.pending_sk = None


def pending_lines() -> list[LineItem]:
    """Lines waiting on a carrier order: read from the sparse index, never a scan."""
    return [item for item in LineItem.pending.query(PENDING_ORDERS) if isinstance(item, LineItem)]


def release_claim(writes: Writes, item: LineItem) -> None:
    writes.delete(NumberClaim(f"NUMBER#{item.number}", "NUMBER"))


def number_is_claimed(number: str) -> bool:
    return NumberClaim.count(f"NUMBER#{number}", NumberClaim.sk == "NUMBER") > 0


def dependants(practice_id: str, line_id: str) -> list[str]:
    """What points at a line and would break if it went away, in words for the admin."""
    found: list[str] = []
    for item in practice_partition(practice_id):
        if isinstance(item, ResourceItem) and item.line_id == line_id:
            found.append(f"resource '{item.name}'")
        elif isinstance(item, WorkflowItem) and item.line_id == line_id and not item.revoked:
            found.append(f"workflow '{item.name}'")
        elif isinstance(item, PracticeItem) and item.primary_line_id == line_id:
            found.append("the practice's primary badge")
    found += [f"line '{item.display_name}' (forwards its calls here)" for item in lines_linked_to(line_id)]
    return found


def lines_linked_to(line_id: str) -> list[LineItem]:
    """Lines anywhere in the enterprise whose calls follow this line's rules."""
    return [item for item in LineItem.gsi2.query(f"LINKED_TO#{line_id}") if isinstance(item, LineItem)]


def set_link(item: LineItem, target: str | None) -> None:
    item.gsi2pk, item.gsi2sk = (f"LINKED_TO#{target}", item.line_id) if target else (None, None)


def record_sends_pictures(item: LineItem, sends: bool) -> None:
    """The carrier's word on the number's MMS, kept beside the line without a new version: an admin's edit
    in flight is not refused for it."""
    item.sends_pictures = sends
    LineItem._get_connection().update_item(item.pk, item.sk, actions=[LineItem.sends_pictures.set(sends)])

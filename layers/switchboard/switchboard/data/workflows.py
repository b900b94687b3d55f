"""Storing workflows, their webhook tokens and their counters."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from ulid import ULID

from switchboard.core.errors import Conflict, InvalidInput, NotFound, RuleRefused
from switchboard.rules.lines import LineStatus
from switchboard.rules.tokens import token_hash
from switchboard.rules.workflows import (
    ONLY_ABANDONED_CALLS_WAIT,
    NewWorkflow,
    Workflow,
    WorkflowChanges,
    WorkflowCounts,
    WorkflowKind,
    may_wait,
)

from . import audit
from .counts import FAILED_PREFIX
from .keys import line_key, practice_key, workflow_counts_sk
from .models import CountsItem, LineItem, PracticeItem, TokenItem, WorkflowItem
from .practices import load as load_practice
from .table import Item, connection
from .writes import Writes, transaction

STALE = "the workflow was changed by someone else; reload and try again"
_COUNTERS = ("received", "texted", "delivered", "duplicates", "failed", "opted_out", "not_textable", "canceled",
             "replied")


def counts_from_raw(raw: dict[str, Any] | None) -> WorkflowCounts:
    """Counters from the raw item: reasons are attribute names only known at run time."""
    numbers = {name: int(value["N"]) for name, value in (raw or {}).items() if "N" in value}
    reasons = {k.removeprefix(FAILED_PREFIX): v for k, v in numbers.items() if k.startswith(FAILED_PREFIX)}
    return WorkflowCounts(**{name: numbers.get(name, 0) for name in _COUNTERS}, failed_by_reason=reasons)


def to_workflow(item: WorkflowItem, counts: dict[str, Any] | None = None) -> Workflow:
    return Workflow(
        workflow_id=item.workflow_id, practice_id=item.practice_id, name=item.name,
        kind=WorkflowKind(item.workflow_kind), vendor=item.vendor, language=item.language, line_id=item.line_id,
        template=item.template, enabled=item.enabled, revoked=item.revoked,
        duplicate_window_minutes=int(item.duplicate_window_minutes) if item.duplicate_window_minutes else None,
        delay_minutes=int(item.delay_minutes or 0), version=item.version or 0,
        created_at=item.created_at, counts=counts_from_raw(counts),
    )


def _snapshot(workflow: Workflow) -> dict[str, Any]:
    return workflow.model_dump(mode="json", exclude={"version", "created_at", "counts"})


def practice_window(practice: PracticeItem) -> int:
    return int((practice.settings or {}).get("duplicate_window_minutes", 10))


def _token_item(workflow: WorkflowItem, practice: PracticeItem, hashed: str) -> TokenItem:
    window = int(workflow.duplicate_window_minutes or practice_window(practice))
    return TokenItem(f"TOKEN#{hashed}", "TOKEN", practice_id=workflow.practice_id,
                     workflow_id=workflow.workflow_id, line_id=workflow.line_id,
                     enabled=workflow.enabled and not workflow.revoked, duplicate_window_minutes=window,
                     workflow_kind=workflow.workflow_kind, delay_minutes=int(workflow.delay_minutes or 0) or None)


def _check_delay(kind: str, delay_minutes: float | None) -> None:
    if not may_wait(WorkflowKind(kind), int(delay_minutes or 0)):
        raise InvalidInput(ONLY_ABANDONED_CALLS_WAIT, field="delay_minutes")


def _check_line(writes: Writes, practice_id: str, line_id: str) -> None:
    # `<>` holds for an attribute that is missing, so the line's existence is checked on its own.
    writes.check(LineItem, practice_key(practice_id), line_key(line_id),
                 LineItem.pk.exists() & (LineItem.status != LineStatus.RELEASED.value))


def _line_refusal(writes: Writes, error: TransactWriteError, practice_id: str, line_id: str) -> Exception | None:
    if (practice_key(practice_id), line_key(line_id)) in writes.failed(error):
        return InvalidInput("no such line in this practice (or it was released)", field="line_id")
    return None


def add_workflow(practice_id: str, draft: NewWorkflow, token: str, *, actor: str) -> Workflow:
    _check_delay(draft.kind.value, draft.delay_minutes)
    practice = load_practice(practice_id)
    workflow_id = str(ULID())
    item = WorkflowItem(practice_key(practice_id), f"WORKFLOW#{workflow_id}", practice_id=practice_id,
                        workflow_id=workflow_id, name=draft.name, workflow_kind=draft.kind.value,
                        vendor=draft.vendor, language=draft.language, line_id=draft.line_id,
                        template=draft.template, enabled=draft.enabled, token_hash=token_hash(token),
                        duplicate_window_minutes=draft.duplicate_window_minutes,
                        delay_minutes=draft.delay_minutes or None)
    counts = CountsItem(practice_key(practice_id), workflow_counts_sk(workflow_id), practice_id=practice_id,
                        workflow_id=workflow_id)
    try:
        with transaction() as writes:
            _check_line(writes, practice_id, draft.line_id)
            writes.put(item, condition=WorkflowItem.pk.does_not_exist())
            writes.put(_token_item(item, practice, item.token_hash), condition=TokenItem.pk.does_not_exist())
            writes.put(counts, condition=CountsItem.pk.does_not_exist())
            audit.record(writes, actor=actor, practice_id=practice_id, action="workflow.create", entity="workflow",
                         entity_id=workflow_id, before=None, after=_snapshot(to_workflow(item)))
    except TransactWriteError as error:
        raise (_line_refusal(writes, error, practice_id, draft.line_id) or error) from None
    return to_workflow(item)


def load(practice_id: str, workflow_id: str) -> WorkflowItem:
    try:
        return WorkflowItem.get(practice_key(practice_id), f"WORKFLOW#{workflow_id}", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such workflow") from None


def _load_counts(practice_id: str, workflow_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = connection().get_item(
        Item.Meta.table_name, practice_key(practice_id), workflow_counts_sk(workflow_id), consistent_read=True
    ).get("Item")
    return found


def get_workflow(practice_id: str, workflow_id: str) -> Workflow:
    return to_workflow(load(practice_id, workflow_id), _load_counts(practice_id, workflow_id))


def list_workflows(practice_id: str) -> list[Workflow]:
    table = Item.Meta.table_name
    found = connection().query(table, practice_key(practice_id), WorkflowItem.sk.startswith("WORKFLOW#"))
    counts = connection().query(table, practice_key(practice_id), CountsItem.sk.startswith("COUNTS#"))
    counts_by_id = {raw["workflow_id"]["S"]: raw for raw in counts.get("Items", [])}
    workflows = [WorkflowItem.from_raw_data(raw) for raw in found.get("Items", [])]
    return [to_workflow(w, counts_by_id.get(w.workflow_id)) for w in workflows]


def change_workflow(practice_id: str, workflow_id: str, changes: WorkflowChanges, *, actor: str,
                    new_token: str | None = None, revoke: bool = False) -> Workflow:
    """Change a workflow; its token item follows in the same write (and is replaced on rotation)."""
    item = load(practice_id, workflow_id)
    if item.revoked:
        raise RuleRefused("the workflow is revoked; create a new one")
    if changes.version is not None and changes.version != item.version:
        raise Conflict(STALE, field="version")
    before = to_workflow(item)
    for name, value in changes.model_dump(exclude_unset=True, exclude={"version"}).items():
        if value is not None or name == "duplicate_window_minutes":  # null: back to the practice's window
            setattr(item, name, value)
    _check_delay(item.workflow_kind, item.delay_minutes)
    old_hash = item.token_hash
    if new_token is not None:
        item.token_hash = token_hash(new_token)
    if revoke:
        item.revoked, item.enabled = True, False
    practice = load_practice(practice_id)
    action = "workflow.revoke" if revoke else "workflow.rotate" if new_token else "workflow.update"
    try:
        with transaction() as writes:
            if changes.line_id is not None:
                _check_line(writes, practice_id, changes.line_id)
            writes.put(item)
            if old_hash != item.token_hash or revoke:
                writes.delete(TokenItem(f"TOKEN#{old_hash}", "TOKEN"))
            if not revoke:
                writes.put(_token_item(item, practice, item.token_hash))
            audit.record(writes, actor=actor, practice_id=practice_id, action=action, entity="workflow",
                         entity_id=workflow_id, before=_snapshot(before), after=_snapshot(to_workflow(item)))
    except TransactWriteError as error:
        refusal = _line_refusal(writes, error, practice_id, changes.line_id or item.line_id)
        if refusal:
            raise refusal from None
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict(STALE, field="version") from None
        raise
    return to_workflow(item, _load_counts(practice_id, workflow_id))

"""Storing and reading practices."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from ulid import ULID

from switchboard.core.errors import Conflict, NotFound
from switchboard.rules.practice_address import SavedAddress
from switchboard.rules.practices import NewPractice, Practice, PracticeChanges, PracticeSettings
from switchboard.rules.registration import NOT_CHECKED, Registration

from . import audit
from .keys import practice_key
from .models import PracticeItem, TokenItem, WorkflowItem
from .table import now
from .writes import Writes, transaction, update_if

STALE = "the practice was changed by someone else; reload and try again"


def to_practice(item: PracticeItem) -> Practice:
    return Practice(
        practice_id=item.practice_id,
        name=item.name,
        timezone=item.timezone,
        hours=item.hours,
        primary_line_id=item.primary_line_id,
        messaging_service_sid=item.messaging_service_sid,
        registration=Registration.model_validate(item.registration) if item.registration else NOT_CHECKED,
        address=SavedAddress.model_validate(item.address) if item.address else None,
        version=item.version or 0,
        created_at=item.created_at,
        updated_at=item.updated_at,
        **(item.settings or {}),
    )


def _snapshot(practice: Practice) -> dict[str, Any]:
    return practice.model_dump(mode="json", exclude={"practice_id", "version", "created_at", "updated_at",
                                                     "messaging_service_sid", "registration", "address"})


def _write_fields(item: PracticeItem, fields: dict[str, Any]) -> None:
    item.name = fields["name"]
    item.timezone = fields["timezone"]
    item.hours = fields["hours"]
    item.settings = {name: fields[name] for name in PracticeSettings.model_fields if name in fields}
    item.gsi1pk = "PRACTICES"
    item.gsi1sk = f"{item.name.casefold()}#{item.practice_id}"
    item.updated_at = now()


def add_practice(draft: NewPractice, *, actor: str) -> Practice:
    practice_id = str(ULID())
    item = PracticeItem(practice_key(practice_id), "PRACTICE", practice_id=practice_id)
    _write_fields(item, draft.model_dump(mode="json"))
    with transaction() as writes:
        writes.put(item, condition=PracticeItem.pk.does_not_exist())
        audit.record(writes, actor=actor, practice_id=practice_id, action="practice.create", entity="practice",
                     entity_id=practice_id, before=None, after=draft.model_dump(mode="json"))
    return to_practice(item)


def load(practice_id: str) -> PracticeItem:
    try:
        return PracticeItem.get(practice_key(practice_id), "PRACTICE", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such practice") from None


def get_practice(practice_id: str) -> Practice:
    return to_practice(load(practice_id))


def list_practices(limit: int = 500) -> list[Practice]:
    items = PracticeItem.gsi1.query("PRACTICES", limit=limit)
    return [to_practice(item) for item in items if isinstance(item, PracticeItem)]


def change_practice(practice_id: str, changes: PracticeChanges, *, actor: str) -> Practice:
    item = load(practice_id)
    current = to_practice(item)
    if changes.version is not None and changes.version != item.version:
        raise Conflict(STALE, field="version")
    fields = changes.applied_to(current)
    _write_fields(item, fields)
    changed = to_practice(item)
    after = _snapshot(changed)
    window = changed.duplicate_window_minutes
    following = [] if window == current.duplicate_window_minutes else _tokens_following(practice_id)
    try:
        with transaction() as writes:
            writes.put(item)  # the version attribute makes this conditional on nobody else having saved
            audit.record(writes, actor=actor, practice_id=practice_id, action="practice.update", entity="practice",
                         entity_id=practice_id, before=_snapshot(current), after=after)
            for token in following[:TOKENS_WITH_THE_CHANGE]:
                _follow(writes, token, window)
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict(STALE, field="version") from None
        raise
    for start in range(TOKENS_WITH_THE_CHANGE, len(following), 100):  # a practice with very many workflows
        with transaction() as writes:
            for token in following[start:start + 100]:
                _follow(writes, token, window)
    return to_practice(item)


TOKENS_WITH_THE_CHANGE = 90  # what fits beside the practice and its audit entry in one transaction


def _tokens_following(practice_id: str) -> list[str]:
    """The token keys of the practice's live workflows that text callers once per the practice's window."""
    workflows = WorkflowItem.query(practice_key(practice_id), WorkflowItem.sk.startswith("WORKFLOW#"))
    return [f"TOKEN#{w.token_hash}" for w in workflows
            if isinstance(w, WorkflowItem) and not w.revoked and not w.duplicate_window_minutes]


def _follow(writes: Writes, token_pk: str, window: int) -> None:
    writes.update(TokenItem(token_pk, "TOKEN"), [TokenItem.duplicate_window_minutes.set(window)],
                  condition=TokenItem.pk.exists())


def set_address(practice_id: str, address: SavedAddress, *, actor: str) -> Practice:
    """Keep the practice's business address with the carrier's Address sid, audited in the same transaction."""
    item = load(practice_id)
    before = item.address
    item.address = address.model_dump(mode="json")
    item.updated_at = now()
    try:
        with transaction() as writes:
            writes.put(item)
            audit.record(writes, actor=actor, practice_id=practice_id, action="practice.address", entity="practice",
                         entity_id=practice_id, before=before, after=item.address)
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict(STALE) from None
        raise
    return to_practice(item)


def set_primary_line(practice_id: str, line_id: str, *, actor: str) -> str | None:
    """Move the primary badge; one write on the practice, so two lines can never both hold it."""
    from .lines import line_key
    from .models import LineItem

    item = load(practice_id)
    before = item.primary_line_id
    item.primary_line_id = line_id
    item.updated_at = now()
    try:
        with transaction() as writes:
            writes.check(LineItem, practice_key(practice_id), line_key(line_id), LineItem.status.is_in(
                "enabled", "disabled", "pending"))
            writes.put(item)
            audit.record(writes, actor=actor, practice_id=practice_id, action="line.primary", entity="practice",
                         entity_id=practice_id, before={"primary_line_id": before},
                         after={"primary_line_id": line_id})
    except TransactWriteError as error:
        failed = writes.failed(error)
        if (item.pk, item.sk) in failed:
            raise Conflict(STALE) from None
        if failed:
            raise NotFound("no such line") from None
        raise
    return before


SERVICES = "MESSAGING_SERVICES"


def keep_messaging_service(practice_id: str, service_sid: str) -> str:
    """Record the practice's Messaging Service unless it has one already; the one it keeps (ours or the first)."""
    for _ in range(5):  # the practice's version moves under us when an admin saves it meanwhile
        item = load(practice_id)
        if item.messaging_service_sid:
            return item.messaging_service_sid
        if update_if(item, [PracticeItem.messaging_service_sid.set(service_sid),
                            PracticeItem.pending_pk.set(SERVICES), PracticeItem.pending_sk.set(practice_id),
                            PracticeItem.updated_at.set(now())],
                     PracticeItem.messaging_service_sid.does_not_exist()):
            return service_sid
    raise Conflict("the practice kept changing; try again", field="practice_id")


def with_messaging_services(limit: int = 500) -> list[PracticeItem]:
    """Practices that have a Messaging Service (the sparse `pending` index: the poller reads these alone)."""
    return [item for item in PracticeItem.pending.query(SERVICES, limit=limit) if isinstance(item, PracticeItem)]


def set_registration(item: PracticeItem, registration: Registration) -> bool:
    """Store what the carrier said; False when nothing changed (no write). The time checked is kept only when
    the state changes, so the poller writes nothing on a quiet run."""
    stored = Registration.model_validate(item.registration) if item.registration else None
    if stored is not None and stored.model_copy(update={"checked_at": None}) == registration.model_copy(
            update={"checked_at": None}):
        return False
    stored_form = registration.model_dump(mode="json", exclude={"summary", "next_step"})
    item.update(actions=[PracticeItem.registration.set(stored_form), PracticeItem.updated_at.set(now())])
    return True

"""Storing resources and their link to a line."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from ulid import ULID

from switchboard.core.errors import Conflict, NotFound, RuleRefused
from switchboard.rules.lines import LineStatus
from switchboard.rules.resources import NewResource, Resource

from . import audit
from .keys import line_key, practice_key
from .models import LineItem, PracticeItem, ResourceItem
from .writes import transaction


def to_resource(item: ResourceItem) -> Resource:
    return Resource(resource_id=item.resource_id, practice_id=item.practice_id, name=item.name,
                    line_id=item.line_id, version=item.version or 0)


def add_resource(practice_id: str, draft: NewResource, *, actor: str) -> Resource:
    resource_id = str(ULID())
    item = ResourceItem(practice_key(practice_id), f"RESOURCE#{resource_id}", practice_id=practice_id,
                        resource_id=resource_id, name=draft.name)
    try:
        with transaction() as writes:
            writes.check(PracticeItem, practice_key(practice_id), "PRACTICE", PracticeItem.pk.exists())
            writes.put(item, condition=ResourceItem.pk.does_not_exist())
            audit.record(writes, actor=actor, practice_id=practice_id, action="resource.create", entity="resource",
                         entity_id=resource_id, before=None, after={"name": draft.name})
    except TransactWriteError as error:
        if (practice_key(practice_id), "PRACTICE") in writes.failed(error):
            raise NotFound("no such practice") from None
        raise
    return to_resource(item)


def _load(practice_id: str, resource_id: str) -> ResourceItem:
    try:
        return ResourceItem.get(practice_key(practice_id), f"RESOURCE#{resource_id}", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such resource") from None


def get_resource(practice_id: str, resource_id: str) -> Resource:
    return to_resource(_load(practice_id, resource_id))


def list_resources(practice_id: str) -> list[Resource]:
    query = ResourceItem.query(practice_key(practice_id), ResourceItem.sk.startswith("RESOURCE#"))
    return [to_resource(item) for item in query]


def link_resource(practice_id: str, resource_id: str, line_id: str | None, *, actor: str) -> Resource:
    """Point a resource at an enabled line (or at none); the line's status is checked in the same write."""
    item = _load(practice_id, resource_id)
    before = {"line_id": item.line_id}
    item.line_id = line_id
    try:
        with transaction() as writes:
            if line_id is not None:
                writes.check(LineItem, practice_key(practice_id), line_key(line_id),
                             LineItem.status == LineStatus.ENABLED.value)
            writes.put(item)
            audit.record(writes, actor=actor, practice_id=practice_id,
                         action="resource.link" if line_id else "resource.unlink", entity="resource",
                         entity_id=resource_id, before=before, after={"line_id": line_id})
    except TransactWriteError as error:
        failed = writes.failed(error)
        if line_id is not None and (practice_key(practice_id), line_key(line_id)) in failed:
            raise RuleRefused("the line is not enabled: texts from it would fail; pick an enabled line",
                              field="line_id") from None
        if (item.pk, item.sk) in failed:
            raise Conflict("the resource was changed by someone else; reload and try again") from None
        raise
    return to_resource(item)

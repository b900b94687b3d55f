"""Storing integration keys: the key's item in its practice, and a lookup item by the key's hash."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist
from ulid import ULID

from switchboard.aws import gateway_keys
from switchboard.core.errors import NotFound, Unauthenticated
from switchboard.rules.integrations import ApiKey, NewApiKey, key_hash

from . import audit
from .keys import practice_key
from .models import ApiKeyItem, ApiKeyLookupItem
from .practices import load as load_practice
from .writes import transaction


def to_api_key(item: ApiKeyItem) -> ApiKey:
    return ApiKey(key_id=item.key_id, practice_id=item.practice_id, name=item.name, revoked=bool(item.revoked),
                  created_by=item.created_by, created_at=item.created_at, last_used_at=item.last_used_at)


def add_api_key(practice_id: str, draft: NewApiKey, key: str, *, actor: str) -> ApiKey:
    load_practice(practice_id)
    key_id = str(ULID())
    hashed = key_hash(key)
    item = ApiKeyItem(practice_key(practice_id), f"APIKEY#{key_id}", practice_id=practice_id, key_id=key_id,
                      name=draft.name, key_hash=hashed, created_by=actor)
    lookup = ApiKeyLookupItem(f"APIKEY#{hashed}", "APIKEY", practice_id=practice_id, key_id=key_id)
    item.gateway_key_id = gateway_keys.register(key_id, key)
    with transaction() as writes:
        writes.put(item, condition=ApiKeyItem.pk.does_not_exist())
        writes.put(lookup, condition=ApiKeyLookupItem.pk.does_not_exist())
        audit.record(writes, actor=actor, practice_id=practice_id, action="api_key.create", entity="api_key",
                     entity_id=key_id, before=None, after={"name": draft.name})
    return to_api_key(item)


def list_api_keys(practice_id: str) -> list[ApiKey]:
    return [to_api_key(i) for i in ApiKeyItem.query(practice_key(practice_id), ApiKeyItem.sk.startswith("APIKEY#"))]


def revoke_api_key(practice_id: str, key_id: str, *, actor: str) -> ApiKey:
    try:
        item = ApiKeyItem.get(practice_key(practice_id), f"APIKEY#{key_id}", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such key") from None
    item.revoked = True
    gateway_keys.withdraw(item.gateway_key_id)
    with transaction() as writes:
        writes.put(item)
        writes.delete(ApiKeyLookupItem(f"APIKEY#{item.key_hash}", "APIKEY"))
        audit.record(writes, actor=actor, practice_id=practice_id, action="api_key.revoke", entity="api_key",
                     entity_id=key_id, before={"revoked": False}, after={"revoked": True})
    return to_api_key(item)


def practice_for_key(key: str | None) -> str:
    """The practice a presented key belongs to; a missing, unknown or revoked key is unauthenticated."""
    if not key:
        raise Unauthenticated("send your integration key in the X-Api-Key header")
    try:
        lookup = ApiKeyLookupItem.get(f"APIKEY#{key_hash(key)}", "APIKEY")
    except DoesNotExist:
        raise Unauthenticated("this key is not valid (unknown or revoked)") from None
    ApiKeyItem(practice_key(lookup.practice_id), f"APIKEY#{lookup.key_id}").update(
        actions=[ApiKeyItem.last_used_at.set(datetime.now(UTC))], condition=ApiKeyItem.pk.exists())
    return lookup.practice_id

"""The single table: its base item, its indexes and its connection. Which items it holds, and their keys,
is tabled in `keys.py`.

gsi2 and the sparse `pending` index are declared with the table so that later items can use them
without a table migration (CloudFormation changes one GSI per update).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from switchboard.core.settings import store_settings

_store = store_settings()


def now() -> datetime:
    return datetime.now(UTC)


def connection() -> Connection:
    """The table's connection, for transactions (PynamoDB 6 needs one passed explicitly)."""
    return Item._get_connection().connection


class _IndexMeta:
    projection = AllProjection()


class Gsi1(GlobalSecondaryIndex["Item"]):
    class Meta(_IndexMeta):
        index_name = "gsi1"

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["Item"]):
    class Meta(_IndexMeta):
        index_name = "gsi2"

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class PendingIndex(GlobalSecondaryIndex["Item"]):
    """Sparse: only items waiting on the carrier carry `pending_pk`, so a poller reads those alone."""

    class Meta(_IndexMeta):
        index_name = "pending"

    pending_pk = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Every item of the table; `kind` tells PynamoDB which subclass to load."""

    class Meta:
        table_name = _store.table_name
        region = _store.region
        host = _store.dynamodb_endpoint
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_IMAGE"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    created_at = UTCDateTimeAttribute(default_for_new=now)
    updated_at = UTCDateTimeAttribute(default=now)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    gsi1 = Gsi1()
    gsi2 = Gsi2()
    pending = PendingIndex()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        # One botocore client for every kind of item: each client costs tens of ms to build on a cold start.
        if cls is not Item:
            return Item._get_connection()
        return super()._get_connection()


def item_from_stream(image: Mapping[str, Any]) -> Item | None:
    """The item a stream record's new image shows, as Powertools deserializes it; None for an unknown kind."""
    # Imported here: boto3 costs ~200 ms of cold start in every function that imports the table.
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    try:
        return Item.from_raw_data({name: serializer.serialize(value) for name, value in image.items()})
    except ValueError:
        return None


def create_table(wait: bool = True) -> None:
    """Create the table from the models when it is missing, its stream on when it is off (local stack, tests)."""
    if not Item.exists():
        Item.create_table(wait=wait, billing_mode="PAY_PER_REQUEST")
        return
    described = connection().describe_table(Item.Meta.table_name)
    stream = described.get("StreamSpecification") or {}
    client: Any = connection().client  # PynamoDB's update_table cannot turn a stream on
    if stream.get("StreamEnabled") and stream.get("StreamViewType") != Item.Meta.stream_view_type:
        # Kept data from a stream of another view: a stream's view type changes only by turning it off and on.
        client.update_table(TableName=Item.Meta.table_name, StreamSpecification={"StreamEnabled": False})
        stream = {}
    if not stream.get("StreamEnabled"):
        client.update_table(TableName=Item.Meta.table_name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": Item.Meta.stream_view_type})

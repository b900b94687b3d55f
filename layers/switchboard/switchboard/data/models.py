"""PynamoDB models of the single table. Key shapes are private to `switchboard.data`.

| item          | pk                  | sk              | gsi1 (pk / sk)                  |
|---------------|---------------------|-----------------|---------------------------------|
| practice      | PRACTICE#<id>       | PRACTICE        | PRACTICES / <name>#<id>         |
| line          | PRACTICE#<id>       | LINE#<id>       | LINES / <line id>               |
| number claim  | NUMBER#<e164>       | NUMBER          |                                 |

gsi2 and the sparse `pending` index are declared with the table so that later items can use them
without a table migration (CloudFormation changes one GSI per update).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    DiscriminatorAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from switchboard.settings import store_settings

_store = store_settings()


def now() -> datetime:
    return datetime.now(UTC)


def connection() -> Connection:
    """A connection for transactions (PynamoDB 6 needs one passed explicitly)."""
    return Connection(region=_store.region, host=_store.dynamodb_endpoint)


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


class PracticeItem(Item, discriminator="practice"):
    practice_id = UnicodeAttribute()
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    hours = MapAttribute[str, Any]()
    version = VersionAttribute()


class LineItem(Item, discriminator="line"):
    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    number = UnicodeAttribute()
    source = UnicodeAttribute()
    status = UnicodeAttribute()
    status_reason = UnicodeAttribute(null=True)
    status_changed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()


class NumberClaim(Item, discriminator="number_claim"):
    """Holds a number for one line in the whole enterprise; written in the same transaction as the line."""

    practice_id = UnicodeAttribute()
    line_id = UnicodeAttribute()


class Counter(Item, discriminator="counter"):
    value = NumberAttribute(default=0)


def table_schema() -> dict[str, Any]:
    """Key schema and indexes as CreateTable takes them; template.yaml must declare the same."""
    return dict(Item._get_schema())


def create_table(wait: bool = True) -> None:
    """Create the table from the models when it is missing (local stack and tests)."""
    if not Item.exists():
        Item.create_table(wait=wait, billing_mode="PAY_PER_REQUEST")

"""PynamoDB models of the integration API's items: its keys, campaigns and their recipients, send rates,
receipts and cursors (imported by `models`, so every kind of item is known wherever a query returns one)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from .table import Item


class ApiKeyItem(Item, discriminator="api_key"):
    practice_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    key_hash = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    created_by = UnicodeAttribute()
    last_used_at = UTCDateTimeAttribute(null=True)
    gateway_key_id = UnicodeAttribute(null=True)


class ApiKeyLookupItem(Item, discriminator="api_key_lookup"):
    """What a request with a key needs: one read by the key's hash."""
    practice_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)


class CampaignItem(Item, discriminator="campaign"):
    practice_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    line_id = UnicodeAttribute()
    template = UnicodeAttribute()
    status = UnicodeAttribute()
    failure = UnicodeAttribute(null=True)
    rate_per_second = NumberAttribute()
    recipients = NumberAttribute()
    status_callback = UnicodeAttribute()
    created_by = UnicodeAttribute()
    version = VersionAttribute()


class RecipientItem(Item, discriminator="recipient"):
    campaign_id = UnicodeAttribute()
    patient_id = UnicodeAttribute()
    phone = UnicodeAttribute()
    variables = JSONAttribute()
    status = UnicodeAttribute()
    message_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)


class LineRateItem(Item, discriminator="line_rate"):
    """The next moment a campaign may send from a line: keeps every campaign under the carrier's rate."""
    next_slot = NumberAttribute()


class SendReceiptItem(Item, discriminator="send_receipt"):
    """What an idempotent API send answered; the request's hash tells a retry from another request."""
    request_hash = UnicodeAttribute()
    result = JSONAttribute()


class CursorItem(Item, discriminator="cursor"):
    """Where a scheduled job that pages through an index stopped last time."""
    position = JSONAttribute(null=True)

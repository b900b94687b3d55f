"""Idempotent API sends: a receipt per practice and idempotency key, written in the same transaction as the
text the send stored, so a send's text and its answer to retries exist together or not at all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from .models import SendReceiptItem
from .writes import Write

KEPT_FOR = timedelta(days=7)  # a retry within a week answers the first result; DynamoDB's TTL removes it later


def _key(practice_id: str, idempotency_key: str) -> tuple[str, str]:
    return f"RECEIPT#{practice_id}#{idempotency_key}", "RECEIPT"


def request_hash(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def receipt(practice_id: str, idempotency_key: str, request: str, result: Mapping[str, Any], at: datetime) -> Write:
    """The receipt to write with the text; refused (so the text is not stored) when the key has one."""
    item = SendReceiptItem(*_key(practice_id, idempotency_key), request_hash=request, result=dict(result),
                           created_at=at, updated_at=at, expires_at=at + KEPT_FOR)
    return Write(item, condition=SendReceiptItem.pk.does_not_exist())


def load_receipt(practice_id: str, idempotency_key: str) -> SendReceiptItem | None:
    try:
        return SendReceiptItem.get(*_key(practice_id, idempotency_key), consistent_read=True)
    except DoesNotExist:
        return None

"""Where Powertools Idempotency keeps its records: our table, under their own partition, expiring with TTL."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from switchboard.core.settings import store_settings

from .table import connection

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

SEND_RECORDS = "IDEMPOTENCY#send"


@cache
def send_persistence() -> DynamoDBPersistenceLayer:
    """Built on first use, on the table's one client: no second DynamoDB client, none during cold start."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    # PynamoDB's botocore client is the DynamoDB client boto3 would build; typed differently, used the same.
    return DynamoDBPersistenceLayer(table_name=store_settings().table_name, key_attr="pk", sort_key_attr="sk",
                                    static_pk_value=SEND_RECORDS, expiry_attr="expires_at",
                                    boto3_client=connection().client)  # type: ignore[arg-type]


@cache
def send_config() -> IdempotencyConfig:
    """One send per practice and idempotency key for a week; the same key with another request is refused."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(event_key_jmespath="[practice_id, request.idempotency_key]",
                             payload_validation_jmespath="request", expires_after_seconds=7 * 24 * 3600,
                             raise_on_no_idempotency_key=True)

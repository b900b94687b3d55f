"""Where Powertools Idempotency keeps its records: our table, under their own partition, expiring with TTL."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from switchboard.settings import store_settings

from .models import connection

SEND_RECORDS = "IDEMPOTENCY#send"


@cache
def send_persistence() -> DynamoDBPersistenceLayer:
    """Built on first use, on the table's one client: no second DynamoDB client, none during cold start."""
    return DynamoDBPersistenceLayer(table_name=store_settings().table_name, key_attr="pk", sort_key_attr="sk",
                                    static_pk_value=SEND_RECORDS, expiry_attr="expires_at",
                                    boto3_client=connection().client)


def send_config() -> IdempotencyConfig:
    """One send per practice and idempotency key for a week; the same key with another request is refused."""
    return IdempotencyConfig(event_key_jmespath="[practice_id, request.idempotency_key]",
                             payload_validation_jmespath="request", expires_after_seconds=7 * 24 * 3600,
                             raise_on_no_idempotency_key=True)

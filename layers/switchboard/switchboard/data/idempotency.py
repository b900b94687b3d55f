"""Where Powertools Idempotency keeps its records: our table, under their own partition, expiring with TTL."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from switchboard.settings import store_settings

SEND_RECORDS = "IDEMPOTENCY#send"


def send_persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=store_settings().table_name, key_attr="pk", sort_key_attr="sk",
                                    static_pk_value=SEND_RECORDS, expiry_attr="expires_at")


def send_config() -> IdempotencyConfig:
    """One send per practice and idempotency key for a week; the same key with another request is refused."""
    return IdempotencyConfig(event_key_jmespath="[practice_id, request.idempotency_key]",
                             payload_validation_jmespath="request", expires_after_seconds=7 * 24 * 3600,
                             raise_on_no_idempotency_key=True)

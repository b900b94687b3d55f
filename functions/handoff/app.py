"""Hand-off: new items on the table's stream; a message a webhook stored for sending or answering goes on its queue.

The stream's filter passes only such messages; anything else that arrives is skipped. Records are
handed off in order and the first that fails stops the batch: it and every record after it are
reported, so the retry (from the lowest reported sequence number) hands nothing off twice. After six
hours of failing a record's batch is described in the hand-off DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import queue_settings, store_settings
from switchboard.flows import handoff

_ = store_settings(), queue_settings()


def handle(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    handed = handoff.hand_off(image or {})
    metrics.add_metric(name=f"HandedOff{handed.title()}" if handed else "HandoffSkipped", unit=MetricUnit.Count,
                       value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = [DynamoDBRecord(raw) for raw in event.get("Records") or []]
    for index, record in enumerate(records):
        try:
            handle(record)
        except Exception:
            logger.exception("hand-off failed; it and the records after it are retried in order",
                             extra={"sequence_number": record.dynamodb.sequence_number if record.dynamodb else None})
            metrics.add_metric(name="HandoffFailed", unit=MetricUnit.Count, value=1)
            return {"batchItemFailures": [{"itemIdentifier": r.dynamodb.sequence_number if r.dynamodb else ""}
                                          for r in records[index:]]}
    return {"batchItemFailures": []}

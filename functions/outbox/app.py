"""Outbox: new items on the table's stream; a message a webhook stored for sending or answering goes on its queue.

The stream's filter passes only such messages; anything else that arrives is skipped. A record that
could not be queued is reported by its sequence number and retried, then lands in the outbox DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard import outbox
from switchboard.observability import MetricUnit, logger, metrics, tracer
from switchboard.settings import queue_settings, store_settings

_ = store_settings(), queue_settings()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else None
    handed = outbox.hand_off(image or {})
    metrics.add_metric(name=f"HandedOff{handed.title()}" if handed else "HandoffSkipped", unit=MetricUnit.Count,
                       value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)

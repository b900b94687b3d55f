"""Outbound messaging: sends queued texts through the carrier; partial batch failures.

A send the carrier could not take goes back on the queue with a growing delay (exponential
backoff on the record's visibility), and after the queue's max receives lands in the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.aws import queues
from switchboard.aws.jobs import SendText, decode
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, queue_settings, store_settings
from switchboard.flows import delivery

_ = store_settings(), carrier_settings(), queue_settings()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle(record: SQSRecord) -> None:
    job = decode(record.body)
    if not isinstance(job, SendText):
        raise ValueError("the outbound queue carries texts to send only")
    try:
        outcome = delivery.deliver(job)
    except delivery.RetryLater as later:
        queues.retry_later(record.receipt_handle, attempt=int(record.attributes.approximate_receive_count),
                           delay_seconds=later.delay_seconds)
        metrics.add_metric(name="DeliveryRetried", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"Delivery{outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)

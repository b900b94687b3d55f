"""Inbound media: a patient's pictures and files, copied from the carrier into the media bucket and deleted there.

A job whose carrier is unreachable is reported failed and retried by the queue (what it did stays done);
after five receives it waits in the media DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.aws.jobs import KeepMedia, decode
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, media_settings, store_settings
from switchboard.flows.media import keep_media
from switchboard.rules.media import MediaState

_ = store_settings(), carrier_settings(), media_settings()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle(record: SQSRecord) -> None:
    job = decode(record.body)
    if not isinstance(job, KeepMedia):
        raise ValueError("the media queue carries patients' pictures and files only")
    items = keep_media(job)
    for state in (MediaState.KEPT, MediaState.REFUSED):
        metrics.add_metric(name=f"Media{state.title()}", unit=MetricUnit.Count,
                           value=sum(1 for item in items if item.state is state))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)

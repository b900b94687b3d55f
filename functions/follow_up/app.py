"""Follow-up: for each stored patient text, count replies, run MPSP, and answer once per closed period."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.aws.jobs import FollowUp, decode
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import store_settings
from switchboard.flows.follow_up import Outcome, follow_up

_ = store_settings()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle(record: SQSRecord) -> None:
    job = decode(record.body)
    if not isinstance(job, FollowUp):
        raise ValueError("the follow-up queue carries patients' texts only")
    outcome = follow_up(job)
    metrics.add_metric(name="InboundAnswered" if outcome is Outcome.ANSWERED else "InboundNotAnswered",
                       unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)

"""Search index: conversations and texts on the table's stream, written under the terms staff find them by.

The stream's filter passes conversations (their phone, their possible patients' names) and new patient and
staff texts (their words). Writing a term is idempotent, so a batch is indexed whole or retried whole; a
batch that keeps failing is bisected, and after its retries described in the search index's DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import store_settings
from switchboard.data import search

_ = store_settings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    images = (DynamoDBRecord(raw).dynamodb for raw in event.get("Records") or [])
    found = [f for f in (search.found_in(image.new_image) for image in images if image and image.new_image) if f]
    written = search.index(found)
    metrics.add_metric(name="SearchTermsWritten", unit=MetricUnit.Count, value=written)
    return {"batchItemFailures": []}

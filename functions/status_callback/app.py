"""Status callback: the carrier reports a message's delivery; statuses only ever move forward."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, deployment_settings, store_settings
from switchboard.edge import webhooks
from switchboard.flows import delivery_status

_ = deployment_settings(), store_settings(), carrier_settings()


def record_status(request: webhooks.CarrierRequest) -> dict[str, Any]:
    applied = delivery_status.record(request.params)
    metrics.add_metric(name="StatusApplied" if applied else "StatusIgnored", unit=MetricUnit.Count, value=1)
    return webhooks.answer(200, "", content_type="text/plain")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhooks.from_carrier(raw, record_status)

"""Status callback: the carrier reports a message's delivery; statuses only ever move forward."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard import delivery_status, web
from switchboard.carrier import credentials
from switchboard.errors import DomainError
from switchboard.observability import MetricUnit, logger, metrics, tracer
from switchboard.settings import carrier_settings, deployment_settings, store_settings

DEPLOYMENT, _, _ = deployment_settings(), store_settings(), carrier_settings()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = APIGatewayProxyEvent(raw)
    try:
        params = web.carrier_parameters(event, auth_token=credentials().auth_token,
                                        public_base_url=DEPLOYMENT.public_base_url)
    except DomainError as error:
        return web.error_answer(error)
    applied = delivery_status.record(params)
    metrics.add_metric(name="StatusApplied" if applied else "StatusIgnored", unit=MetricUnit.Count, value=1)
    return web.answer(200, "", content_type="text/plain")

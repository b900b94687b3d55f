"""Webhook intake: a phone system reports a caller (call-to-text or abandoned call); we queue one text."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.errors import DomainError, NotFound
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import deployment_settings, store_settings
from switchboard.edge import webhooks
from switchboard.flows.intake import CALLER_FIELD, IntakeOutcome, take_call

DEPLOYMENT, _ = deployment_settings(), store_settings()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    event = webhooks.ProxyEvent(raw)
    try:
        number = webhooks.single(webhooks.parameters(event), CALLER_FIELD)
        urls = webhooks.carrier_webhooks(event)
        intake = take_call(event.path_parameters.get("token", ""), number, environment=DEPLOYMENT.environment,
                           status_callback=urls.status_url)
    except NotFound:
        return webhooks.answer(404, {"message": "Not Found"})
    except DomainError as error:
        return webhooks.error_answer(error)
    metrics.add_metric(name=f"Intake{intake.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    if intake.outcome is IntakeOutcome.QUEUED:
        return webhooks.answer(202, {"status": "queued", "message_id": intake.message_id})
    return webhooks.answer(200, {"status": intake.outcome.value, "message_id": intake.message_id})

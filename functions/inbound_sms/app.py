"""Inbound SMS: a patient's text to one of our lines, signed by the carrier; answered with TwiML at once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from twilio.twiml.messaging_response import MessagingResponse

from switchboard.core.errors import NotFound
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, deployment_settings, store_settings
from switchboard.edge import webhooks
from switchboard.flows.patient_texts import receive_text

_ = deployment_settings(), store_settings(), carrier_settings()
TWIML = "text/xml"


def store_text(request: webhooks.CarrierRequest) -> dict[str, Any]:
    try:
        received = receive_text(request.params, status_callback=request.webhooks.status_url)
    except NotFound:
        logger.warning("text to a number no line has")
        return webhooks.answer(404, str(MessagingResponse()), content_type=TWIML)
    metrics.add_metric(name="TextReceived" if received.stored else "TextRepeated", unit=MetricUnit.Count, value=1)
    # Never a TwiML <Message>: the carrier answers keywords itself (README, Keywords).
    return webhooks.answer(200, str(MessagingResponse()), content_type=TWIML)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhooks.from_carrier(raw, store_text)

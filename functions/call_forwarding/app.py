"""Call forwarding: a voice call to a texting line, answered with TwiML from the line's rules."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from twilio.twiml.voice_response import VoiceResponse

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, deployment_settings, store_settings
from switchboard.edge import webhooks
from switchboard.flows.calls import answer_call
from switchboard.rules.call_routing import Dial

_ = deployment_settings(), store_settings(), carrier_settings()
TWIML = "text/xml"


def twiml(route: Any) -> str:
    response = VoiceResponse()
    if isinstance(route, Dial):
        dial = response.dial(caller_id=route.caller_id, timeout=route.timeout_seconds)
        for number in route.numbers:
            dial.number(number)
    else:
        response.say(route.text, voice=route.voice, language=route.language)
        response.hangup()
    return str(response)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhooks.from_carrier(raw, route_call)


def route_call(request: webhooks.CarrierRequest) -> dict[str, Any]:
    route = answer_call(request.params)
    metrics.add_metric(name="CallDialed" if isinstance(route, Dial) else "CallSpoken", unit=MetricUnit.Count, value=1)
    return webhooks.answer(200, twiml(route), content_type=TWIML)

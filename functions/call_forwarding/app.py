"""Call forwarding: a voice call to a texting line, answered with TwiML from the line's rules; the same URL takes
the carrier's requests once a <Dial> ends (`?group=…&position=…`), once a voicemail ends (`?recorded=1`) and when
its recording is ready (`?recording=1`), all signed alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from twilio.twiml.voice_response import VoiceResponse

from switchboard.core.errors import InvalidInput
from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import carrier_settings, deployment_settings, store_settings
from switchboard.edge import webhooks
from switchboard.flows.calls import answer_call, hop_of, receive_voicemail
from switchboard.rules.call_routing import Dial, HangUp, Route, Say, Voicemail

_ = deployment_settings(), store_settings(), carrier_settings()
TWIML = "text/xml"
_FLAGS = ("recording", "recorded")
_METRICS = {Dial: "CallDialed", Say: "CallSpoken", Voicemail: "CallToVoicemail", HangUp: "CallEnded"}


def twiml(route: Route, voice_url: str) -> str:
    response = VoiceResponse()
    if isinstance(route, Dial):
        action = f"{voice_url}?{urlencode({'group': route.hop.group, 'position': route.hop.position})}"
        dial = response.dial(caller_id=route.caller_id, timeout=route.timeout_seconds, action=action, method="POST")
        for number in route.numbers:
            dial.number(number)
    elif isinstance(route, Voicemail):
        response.say(route.greeting.text, voice=route.greeting.voice, language=route.greeting.language)
        response.record(max_length=route.max_seconds, play_beep=True, action=f"{voice_url}?recorded=1", method="POST",
                        recording_status_callback=f"{voice_url}?recording=1",
                        recording_status_callback_method="POST")
        response.hangup()  # reached when the caller says nothing
    elif isinstance(route, Say):
        response.say(route.text, voice=route.voice, language=route.language)
        response.hangup()
    else:
        response.hangup()
    return str(response)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(raw: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return webhooks.from_carrier(raw, route_call)


def route_call(request: webhooks.CarrierRequest) -> dict[str, Any]:
    query = {name: webhooks.single(request.event.query, name) or "" for name in request.event.query}
    for flag in _FLAGS:
        if flag in query and query[flag] != "1":
            raise InvalidInput("is not 1", field=flag)
    if "recording" in query:
        stored = receive_voicemail(request.params)
        metrics.add_metric(name="VoicemailStored" if stored else "VoicemailCallbackIgnored", unit=MetricUnit.Count,
                           value=1)
        return webhooks.answer(200, str(VoiceResponse()), content_type=TWIML)
    route: Route = HangUp() if "recorded" in query else answer_call(request.params, hop_of(query))
    metrics.add_metric(name=_METRICS[type(route)], unit=MetricUnit.Count, value=1)
    return webhooks.answer(200, twiml(route, request.webhooks.voice_url), content_type=TWIML)

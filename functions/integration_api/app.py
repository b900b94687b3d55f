"""Integration API: clinics' systems (EMR triggers, recall lists) send texts and run campaigns with a practice key."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import logger, metrics, tracer
from switchboard.core.settings import deployment_settings, store_settings
from switchboard.data import campaigns as campaign_store
from switchboard.data.integrations import practice_for_key
from switchboard.edge import webhooks
from switchboard.edge.http_errors import register_error_handlers
from switchboard.flows import campaigns, sends
from switchboard.rules.campaigns import Campaign, NewCampaign
from switchboard.rules.sends import SendRequest, SendResult

DEPLOYMENT, _ = deployment_settings(), store_settings()
app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)
ApiKey = Annotated[str | None, Header(alias="X-Api-Key", description="The practice's integration key")]


def _callback() -> str:
    return webhooks.carrier_webhooks(webhooks.ProxyEvent(app.current_event.raw_event)).status_url


@app.post("/v1/messages", summary="Send one text (queued, or scheduled past quiet hours); the same "
          "idempotency key never sends twice", responses={202: {"description": "Accepted"}})
def send_message(request: Annotated[SendRequest, Body()], x_api_key: ApiKey = None) -> tuple[SendResult, int]:
    practice_id = practice_for_key(x_api_key)
    return sends.send(practice_id, request, sender_id="integration", status_callback=_callback()), 202


@app.post("/v1/campaigns", summary="Start a campaign to verified patients", responses={201: {"description": "Created"}})
def start_campaign(draft: Annotated[NewCampaign, Body()], x_api_key: ApiKey = None) -> tuple[Campaign, int]:
    practice_id = practice_for_key(x_api_key)
    return campaigns.start_campaign(practice_id, draft, status_callback=_callback(), actor="integration"), 201


@app.get("/v1/campaigns/<campaign_id>", summary="A campaign's progress and counts")
def read_campaign(campaign_id: Annotated[str, Path(max_length=40)], x_api_key: ApiKey = None) -> Campaign:
    return campaign_store.to_campaign(campaign_store.load(practice_for_key(x_api_key), campaign_id))


@app.post("/v1/campaigns/<campaign_id>/cancel", summary="Cancel a campaign: nothing not yet sent goes out")
def cancel_campaign(campaign_id: Annotated[str, Path(max_length=40)], x_api_key: ApiKey = None) -> Campaign:
    practice_id = practice_for_key(x_api_key)
    campaign_store.cancel(practice_id, campaign_id, actor="integration")
    return campaign_store.to_campaign(campaign_store.load(practice_id, campaign_id))


@app.get("/v1/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=app.get_openapi_json_schema(title="Switchboard integration API", version="1"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

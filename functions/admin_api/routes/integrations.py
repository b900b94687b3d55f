"""Integration keys and campaigns, managed from the console (a campaign started here runs as one a clinic's
system starts)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.data import campaigns as campaign_store
from switchboard.data import integrations as store
from switchboard.flows import campaigns
from switchboard.rules.access import require_manager, require_member
from switchboard.rules.campaigns import Campaign, NewCampaign
from switchboard.rules.integrations import ApiKey, ApiKeyWithSecret, NewApiKey, mint_key

from .identity import carrier_webhooks, current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
ItemId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/api/practices/<practice_id>/api-keys", summary="Make an integration key; the answer shows it once",
             responses={201: {"description": "Created"}})
def add_api_key(practice_id: PracticeId, draft: Annotated[NewApiKey, Body()]) -> tuple[ApiKeyWithSecret, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    key = mint_key()
    made = store.add_api_key(practice_id, draft, key, actor=caller.email)
    return ApiKeyWithSecret(**made.model_dump(), key=key), 201


@router.get("/api/practices/<practice_id>/api-keys", summary="A practice's integration keys (never the keys)")
def list_api_keys(practice_id: PracticeId) -> list[ApiKey]:
    require_manager(current_caller(router), practice_id)
    return store.list_api_keys(practice_id)


@router.post("/api/practices/<practice_id>/api-keys/<key_id>/revoke", summary="Revoke an integration key")
def revoke_api_key(practice_id: PracticeId, key_id: ItemId) -> ApiKey:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.revoke_api_key(practice_id, key_id, actor=caller.email)


@router.get("/api/practices/<practice_id>/campaigns", summary="A practice's campaigns and their progress")
def list_campaigns(practice_id: PracticeId) -> list[Campaign]:
    require_member(current_caller(router), practice_id)
    return campaign_store.list_campaigns(practice_id)


@router.post("/api/practices/<practice_id>/campaigns", summary="Start a campaign to verified patients",
             responses={201: {"description": "Created"}})
def start_campaign(practice_id: PracticeId, draft: Annotated[NewCampaign, Body()]) -> tuple[Campaign, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return campaigns.start_campaign(practice_id, draft, status_callback=carrier_webhooks(router).status_url,
                                    actor=caller.email), 201


@router.post("/api/practices/<practice_id>/campaigns/<campaign_id>/cancel", summary="Cancel a running campaign")
def cancel_campaign(practice_id: PracticeId, campaign_id: ItemId) -> Campaign:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    campaign_store.cancel(practice_id, campaign_id, actor=caller.email)
    return campaign_store.to_campaign(campaign_store.load(practice_id, campaign_id))

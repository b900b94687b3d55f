"""The signed-in user and the API's own public address, from the current request."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from switchboard.data.users import caller_for
from switchboard.edge import webhooks
from switchboard.rules.access import Caller, identity_from_claims
from switchboard.rules.addresses import CarrierWebhooks


def current_caller(router: Router) -> Caller:
    authorizer = router.current_event.request_context.authorizer
    return caller_for(identity_from_claims(authorizer.claims if authorizer else None))


def public_base_url(router: Router) -> str:
    """The API's base URL as the outside world calls it, for the webhook URLs we hand out."""
    event = router.current_event
    return webhooks.public_base_url(event.headers, event.request_context.stage)


def carrier_webhooks(router: Router) -> CarrierWebhooks:
    event = router.current_event
    return webhooks.carrier_webhooks(event.headers, event.request_context.stage)

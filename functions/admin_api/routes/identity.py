"""The signed-in user and the API's own public address, from the current request."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from switchboard.data.users import caller_for
from switchboard.edge import webhooks
from switchboard.rules.access import Caller, identity_from_claims, session_from_claims
from switchboard.rules.addresses import CarrierWebhooks


def current_caller(router: Router) -> Caller:
    authorizer = router.current_event.request_context.authorizer
    return caller_for(identity_from_claims(authorizer.claims if authorizer else None))


def current_session(router: Router) -> str:
    """The caller's sign-in session (the same for every token it refreshes)."""
    authorizer = router.current_event.request_context.authorizer
    return session_from_claims(authorizer.claims if authorizer else None)


def public_base_url(router: Router) -> str:
    """The API's base URL as the outside world calls it, for the webhook URLs we hand out."""
    return webhooks.public_base_url(webhooks.ProxyEvent(router.current_event.raw_event))


def carrier_webhooks(router: Router) -> CarrierWebhooks:
    return webhooks.carrier_webhooks(webhooks.ProxyEvent(router.current_event.raw_event))

"""The signed-in user, from the authorizer's claims on the current request."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from switchboard.access import Caller, caller_from_claims


def current_caller(app: APIGatewayRestResolver) -> Caller:
    authorizer = app.current_event.request_context.authorizer
    return caller_from_claims(authorizer.claims if authorizer else None)

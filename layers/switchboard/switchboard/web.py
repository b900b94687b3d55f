"""The HTTP edge shared by the webhook functions: reading parameters, checking the carrier's signature,
and answering. Built on Powertools' event data class; routing stays in each function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from switchboard import api_errors
from switchboard.carrier.client import credentials
from switchboard.carrier.signatures import is_signed_by_carrier, webhook_url
from switchboard.errors import DomainError, Forbidden, InvalidInput, TooLarge, UnsupportedMediaType
from switchboard.settings import deployment_settings

MAX_BODY_BYTES = 16 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def answer(status: int, body: Any = None, *, content_type: str = JSON) -> dict[str, Any]:
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": text or ""}


def error_answer(error: DomainError) -> dict[str, Any]:
    return answer(api_errors.status_for(error, webhook=True), api_errors.error_body(error))


def _header(event: APIGatewayProxyEvent, name: str) -> str:
    return next((v for k, v in (event.headers or {}).items() if k.lower() == name), "") or ""


def _body_text(event: APIGatewayProxyEvent) -> str:
    raw = event.body or ""
    if len(raw) > MAX_BODY_BYTES * 2:
        raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes", field="body")
    try:
        data = (event.decoded_body if event.is_base64_encoded else raw) or ""
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid UTF-8", field="body") from None
    if len(data.encode()) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes", field="body")
    return data


def parameters(event: APIGatewayProxyEvent) -> dict[str, list[str]]:
    """Query string plus a form or JSON body, each name with all the values it was given."""
    found: dict[str, list[str]] = {k: list(v) for k, v in (event.multi_value_query_string_parameters or {}).items()}
    text = _body_text(event)
    if not text.strip():
        return found
    media = _header(event, "content-type").split(";")[0].strip().lower()
    if media == FORM:
        for name, values in parse_qs(text, keep_blank_values=True, strict_parsing=False).items():
            found.setdefault(name, []).extend(values)
    elif media == JSON:
        try:
            document = json.loads(text)
        except ValueError:
            raise InvalidInput("the body is not valid JSON", field="body") from None
        if not isinstance(document, dict):
            raise InvalidInput("the JSON body must be an object", field="body")
        for name, value in document.items():
            found.setdefault(str(name), []).append(value if isinstance(value, str) else json.dumps(value))
    else:
        raise UnsupportedMediaType(f"send {FORM} or {JSON}", field="Content-Type")
    return found


def single(params: dict[str, list[str]], name: str) -> str | None:
    """The one value of a parameter; different values given twice are refused."""
    values = set(params.get(name, []))
    if len(values) > 1:
        raise InvalidInput("was given more than once with different values", field=name)
    return next(iter(values), None)


def carrier_parameters(event: APIGatewayProxyEvent, *, auth_token: str, public_base_url: str | None) -> dict[str, str]:
    """The form parameters of a carrier webhook, once its signature checks out against the URL it called."""
    if _header(event, "content-type").split(";")[0].strip().lower() != FORM:
        raise Forbidden("not signed by the carrier")
    params = parse_qs(_body_text(event), keep_blank_values=True)
    url = webhook_url(host=_header(event, "host"), path=event.request_context.path,
                      multi_value_query=event.multi_value_query_string_parameters,
                      public_base_url=public_base_url, stage=event.request_context.stage)
    if not is_signed_by_carrier(url, params, _header(event, "x-twilio-signature") or None, auth_token):
        raise Forbidden("not signed by the carrier")
    return {name: values[-1] for name, values in params.items()}


@dataclass(frozen=True)
class CarrierRequest:
    """A carrier webhook whose signature checked out."""

    event: APIGatewayProxyEvent
    params: dict[str, str]
    base_url: str


def from_carrier(raw: dict[str, Any], respond: Callable[[CarrierRequest], dict[str, Any]]) -> dict[str, Any]:
    """Verify a carrier webhook and hand it on; unsigned or forged ones get a 403, bad input a 4xx."""
    event = APIGatewayProxyEvent(raw)
    configured = deployment_settings().public_base_url
    try:
        params = carrier_parameters(event, auth_token=credentials().auth_token, public_base_url=configured)
        return respond(CarrierRequest(event, params, public_base_url(event, configured)))
    except DomainError as error:
        return error_answer(error)


def public_base_url(event: APIGatewayProxyEvent, configured: str | None) -> str:
    """The API's base URL as callers reach it (stage included)."""
    if configured:
        return configured.rstrip("/")
    return f"https://{_header(event, 'host')}/{event.request_context.stage}"

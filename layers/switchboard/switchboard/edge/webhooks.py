"""The HTTP edge shared by the webhook functions: reading parameters, checking the carrier's signature,
and answering. Routing stays in each function.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from switchboard.carrier.client import credentials
from switchboard.carrier.signatures import is_signed_by_carrier, webhook_url
from switchboard.core.errors import DomainError, Forbidden, InvalidInput, TooLarge, UnsupportedMediaType
from switchboard.core.settings import deployment_settings
from switchboard.edge import http_errors
from switchboard.rules.addresses import CarrierWebhooks

MAX_BODY_BYTES = 16 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class ProxyEvent:
    """The parts of an API Gateway (REST) proxy event a webhook reads.

    Not Powertools' event data class: its package imports all forty event classes at once (~25 ms),
    most of a webhook's cold-start allowance over a bare handler.
    """

    raw: Mapping[str, Any]

    @property
    def headers(self) -> Mapping[str, str]:
        return self.raw.get("headers") or {}

    @property
    def query(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in (self.raw.get("multiValueQueryStringParameters") or {}).items()}

    @property
    def path_parameters(self) -> Mapping[str, str]:
        return self.raw.get("pathParameters") or {}

    @property
    def path(self) -> str:
        """The path as the caller requested it (`requestContext.path`): with the stage on the execute-api
        host, with the base path on a custom domain mapped under one, bare at a custom domain's root."""
        return str((self.raw.get("requestContext") or {}).get("path") or self.raw.get("path") or "")

    @property
    def stage(self) -> str:
        return str((self.raw.get("requestContext") or {}).get("stage") or "")

    @property
    def root_path(self) -> str:
        """What the requested path holds in front of the API's own routes: `/Prod`, `/switchboard` or ``.

        Counted from the matched resource (`/twilio/sms`, `/api/{proxy+}`), not read from `path` (which on a
        custom domain carries the base path, and not the stage) nor from the stage's name.
        """
        segments = [s for s in self.path.split("/") if s]
        depth = _route_depth(self.raw.get("resource") or (self.raw.get("requestContext") or {}).get("resourcePath"),
                             self.path_parameters)
        if depth is None or depth > len(segments):
            stage = self.stage.strip("/")
            return f"/{stage}" if stage and segments[:1] == [stage] else ""
        return "".join(f"/{s}" for s in segments[: len(segments) - depth])

    @property
    def api_path(self) -> str:
        """The request's path inside the API (`/twilio/sms`), the same on every address it is served at."""
        return self.path[len(self.root_path) :] or "/"


def _route_depth(resource: str | None, path_parameters: Mapping[str, str]) -> int | None:
    """How many path segments a request to `resource` has; a greedy `{name+}` counts its value's."""
    if not resource:
        return None
    depth = 0
    for part in (p for p in resource.split("/") if p):
        if part.startswith("{") and part.endswith("+}"):
            value = path_parameters.get(part[1:-2])
            if value is None:
                return None
            depth += len([s for s in value.split("/") if s])
        else:
            depth += 1
    return depth


def answer(status: int, body: Any = None, *, content_type: str = JSON) -> dict[str, Any]:
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": text or ""}


def error_answer(error: DomainError) -> dict[str, Any]:
    return answer(http_errors.status_for(error, webhook=True), http_errors.error_body(error))


def header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "") or ""


def _body_text(event: ProxyEvent) -> str:
    raw = event.raw.get("body") or ""
    if len(raw) > MAX_BODY_BYTES * 2:
        raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes", field="body")
    try:
        data = base64.b64decode(raw).decode() if event.raw.get("isBase64Encoded") else raw
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("the body is not valid UTF-8", field="body") from None
    if len(data.encode()) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is over {MAX_BODY_BYTES} bytes", field="body")
    return data


def parameters(event: ProxyEvent) -> dict[str, list[str]]:
    """Query string plus a form or JSON body, each name with all the values it was given."""
    found = event.query
    text = _body_text(event)
    if not text.strip():
        return found
    media = header(event.headers, "content-type").split(";")[0].strip().lower()
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


def carrier_parameters(event: ProxyEvent, *, auth_token: str, public_base_url: str | None) -> dict[str, str]:
    """The form parameters of a carrier webhook, once its signature checks out against the URL it called."""
    if header(event.headers, "content-type").split(";")[0].strip().lower() != FORM:
        raise Forbidden("not signed by the carrier")
    params = parse_qs(_body_text(event), keep_blank_values=True)
    if not is_signed_by_carrier(requested_url(event, public_base_url), params,
                                header(event.headers, "x-twilio-signature") or None, auth_token):
        raise Forbidden("not signed by the carrier")
    return {name: values[-1] for name, values in params.items()}


def api_base_url(event: ProxyEvent, configured: str | None) -> str:
    """The address of the API's root as callers are told it: the configured public address (`PUBLIC_BASE_URL`)
    or, without one, the host this request reached and the root path it came in under (the stage on the
    execute-api host, a custom domain's base path)."""
    if configured:
        return configured.rstrip("/")
    return f"https://{header(event.headers, 'host')}{event.root_path}"


def requested_url(event: ProxyEvent, configured: str | None) -> str:
    """The URL a carrier webhook was sent to, as the carrier signed it: the URL we handed out for that route."""
    return webhook_url(api_base_url=api_base_url(event, configured), api_path=event.api_path,
                       multi_value_query=event.query or None)


@dataclass(frozen=True)
class CarrierRequest:
    """A carrier webhook whose signature checked out."""

    event: ProxyEvent
    params: dict[str, str]
    webhooks: CarrierWebhooks


def from_carrier(raw: dict[str, Any], respond: Callable[[CarrierRequest], dict[str, Any]]) -> dict[str, Any]:
    """Verify a carrier webhook and hand it on; unsigned or forged ones get a 403, bad input a 4xx."""
    event = ProxyEvent(raw)
    configured = deployment_settings().public_base_url
    try:
        params = carrier_parameters(event, auth_token=credentials().auth_token, public_base_url=configured)
        return respond(CarrierRequest(event, params, carrier_webhooks(event)))
    except DomainError as error:
        return error_answer(error)


def public_base_url(event: ProxyEvent) -> str:
    """The API's base URL as callers reach it (see `api_base_url`), for the URLs we hand out."""
    return api_base_url(event, deployment_settings().public_base_url)


def carrier_webhooks(event: ProxyEvent) -> CarrierWebhooks:
    """The URLs the carrier is given, under the API's public base URL."""
    return webhooks_under(public_base_url(event))


def webhooks_under(base_url: str) -> CarrierWebhooks:
    base = base_url.rstrip("/")
    return CarrierWebhooks(f"{base}/twilio/sms", f"{base}/twilio/voice", f"{base}/twilio/status")

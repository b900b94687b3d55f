"""Twilio webhook signatures: check them, compute them, and rebuild the URL Twilio signed.

Cheap to import (no twilio.rest, no requests): webhook handlers load it at cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

Params = Mapping[str, str | list[str]]


class _MultiParams(dict[str, list[str]]):
    """What RequestValidator needs to sign repeated parameters: a mapping with `getlist`."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def _multi(params: Params) -> _MultiParams:
    return _MultiParams({name: [value] if isinstance(value, str) else list(value) for name, value in params.items()})


def sign(url: str, params: Params, auth_token: str) -> str:
    """The `X-Twilio-Signature` Twilio would send for a form POST of `params` to `url`."""
    return str(RequestValidator(auth_token).compute_signature(url, _multi(params)))


def is_signed_by_carrier(url: str, params: Params, signature: str | None, auth_token: str) -> bool:
    """True when `signature` is the account's signature of a form-encoded webhook to `url`.

    `url` is the full URL as Twilio requested it (see `webhook_url`); `params` the POST parameters
    (repeated names as lists). Ports are tried with and without, as Twilio signs either way.
    """
    if not signature or not auth_token:
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, _multi(params), signature))
    except ValueError:  # a malformed URL (bad port) is not a signed one
        return False


def webhook_url(*, api_base_url: str, api_path: str, multi_value_query: Mapping[str, list[str]] | None) -> str:
    """The URL Twilio requested, as it signed it: the API's public base URL, the route's path inside the API
    (`/twilio/sms`), and the query string rebuilt from `multiValueQueryStringParameters`, names in the order
    given and each name's values in order, form-encoded (`urlencode`).

    `api_base_url` is the address Twilio is given for the API's root (see `edge.webhooks.api_base_url`), so the
    URL checked is the one handed out: `{api_base_url}/twilio/sms` on every kind of address.
    """
    url = api_base_url.rstrip("/") + "/" + api_path.lstrip("/")
    pairs = [(name, value) for name, values in (multi_value_query or {}).items() for value in values]
    return f"{url}?{urlencode(pairs)}" if pairs else url

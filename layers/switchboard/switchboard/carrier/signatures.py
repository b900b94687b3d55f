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



def webhook_url(
    *,
    host: str,
    path: str,
    multi_value_query: Mapping[str, list[str]] | None,
    public_base_url: str | None,
    stage: str | None = None,
) -> str:
    """Rebuild the URL Twilio requested, from an API Gateway (REST, v1) proxy event.

    - `host` is the `Host` header, `path` is `requestContext.path`: on the default execute-api
      host that path starts with the stage (`/Prod/twilio/sms`), on a custom domain it is the
      path as requested. Without `public_base_url` the URL is `https://{host}{path}`.
    - With `public_base_url` (the address Twilio is given for the stage root, e.g.
      `https://sms.clinic.example`, `https://abc.execute-api.us-east-1.amazonaws.com/Prod` or the
      local gateway's `http://127.0.0.1:3000/local`) it replaces scheme, host and stage: the URL is
      `{public_base_url}{path without its stage}`. The stage is `stage` when given (removed only if
      `path` starts with it), otherwise the first segment of `path`.
    - The query string is rebuilt from `multiValueQueryStringParameters`, names in the order given
      and each name's values in order, form-encoded (`urlencode`).
    """
    if public_base_url:
        if stage is not None:
            prefix = f"/{stage.strip('/')}"
            rest = path[len(prefix) :] if path == prefix or path.startswith(f"{prefix}/") else path
        else:
            rest = "/" + path.lstrip("/").partition("/")[2]
        url = public_base_url.rstrip("/") + (rest if rest.startswith("/") else f"/{rest}")
    else:
        url = f"https://{host}{path}"
    pairs = [(name, value) for name, values in (multi_value_query or {}).items() for value in values]
    return f"{url}?{urlencode(pairs)}" if pairs else url

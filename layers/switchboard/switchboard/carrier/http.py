"""The HTTP clients the Twilio SDK talks through: a quiet one for Twilio, a rewriting one for the sandbox.

Importing this module loads requests and the SDK's HTTP layer; only `client.py` does, when a
`Carrier` is first built.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

DEFAULT_TIMEOUT = 10.0
"""Seconds for connect and for each read: a hung carrier surfaces as CarrierUnavailable(uncertain=True)."""


_PHONE_NUMBER = re.compile(r"(\+|%2B)(\d{4})\d{2,}(\d{4})")


class _MaskPhoneNumbers(logging.Filter):
    """urllib3 logs each request line at DEBUG; ours carry phone numbers (Lookup paths, list filters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = _PHONE_NUMBER.sub(r"\1\2•••\3", record.getMessage()), None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_MaskPhoneNumbers())


class CarrierHttpClient(TwilioHttpClient):
    """The SDK's client with a timeout and without its request logging.

    The SDK logs every URL and query string at INFO; ours carry phone numbers (Lookup paths, list
    filters), so nothing is logged here.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        pass

    def log_response(self, status_code: int, response: Any) -> None:
        pass


def sandbox_url(api_url: str, url: str) -> str:
    """`https://<host>.twilio.com/<path>?<query>` → `<api_url>/<host>.twilio.com/<path>?<query>`, and the same
    for the carrier's media storage hosts (`*.twiliocdn.com`).

    The sandbox reads the first path segment to tell the API (api, numbers, lookups, media) apart.
    Any other URL is returned unchanged.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not any(host == domain or host.endswith(f".{domain}")
                                          for domain in ("twilio.com", "twiliocdn.com")):
        return url
    query = f"?{parts.query}" if parts.query else ""
    return f"{api_url.rstrip('/')}/{host}{parts.path}{query}"


class SandboxHttpClient(CarrierHttpClient):
    """Sends what the SDK addresses to `https://*.twilio.com` to the local carrier sandbox instead."""

    def __init__(self, api_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.api_url = api_url.rstrip("/")
        if self.session is not None:
            self.session.trust_env = False  # the sandbox is local: never through an HTTP(S)_PROXY

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            sandbox_url(self.api_url, url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

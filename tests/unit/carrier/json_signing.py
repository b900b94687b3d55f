"""Twilio's signature for JSON webhooks (`bodySHA256` in the URL): a test's model of what Twilio sends."""

from __future__ import annotations

from hashlib import sha256
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from switchboard.carrier.signatures import sign


def sign_json(url: str, body: str | bytes, auth_token: str) -> tuple[str, str]:
    """(URL with `bodySHA256` added, signature) for a JSON POST, as Twilio does it."""
    text = body.decode() if isinstance(body, bytes) else body
    separator = "&" if urlsplit(url).query else "?"
    signed_url = f"{url}{separator}{urlencode({'bodySHA256': sha256(text.encode()).hexdigest()})}"
    return signed_url, sign(signed_url, {}, auth_token)


def is_signed_json(url: str, body: str | bytes, signature: str | None, auth_token: str) -> bool:
    """True for a JSON webhook: `url` carries `bodySHA256` of `body`, and the signature covers the URL."""
    if not signature or not auth_token or "bodySHA256" not in parse_qs(urlsplit(url).query):
        return False
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        return bool(RequestValidator(auth_token).validate(url, text, signature))
    except ValueError:
        return False

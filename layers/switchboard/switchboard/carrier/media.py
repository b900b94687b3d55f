"""Pictures and files patients text: read from the carrier with the account's credentials, following its
redirects to its own storage hosts only, and deleted from the carrier once kept.

A media URL comes in a webhook; the webhook is signed, but the fetch still trusts nothing but the carrier's
hosts over HTTPS: no other host, no port, no address that is private, loopback or link-local (a server-side
request forged through a redirect would otherwise reach the function's own network). The account's
credentials go to `api.twilio.com` only, never to the storage host a redirect names.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from switchboard.carrier.errors import CarrierRefused, CarrierUnavailable

MAX_BYTES = 5 * 1024 * 1024
"""Twilio takes at most 5 MB of media in one message; a larger item is not the carrier's."""
MAX_REDIRECTS = 3
API_HOST = "api.twilio.com"
_STORAGE_HOSTS = re.compile(r"^([a-z0-9-]+\.)*twiliocdn\.com$")
_MEDIA_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Messages/(?P<message>[MS]M[0-9a-f]{32})"
                         r"/Media/(?P<media>ME[0-9a-f]{32})$")

class MediaRefused(CarrierRefused):
    """This item cannot be kept: not the carrier's, gone from it, too large, or of a type not kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(None, reason)


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Where a message's media item is at the carrier."""

    message_sid: str
    media_sid: str


@dataclass(frozen=True, slots=True)
class Media:
    content_type: str
    data: bytes = b""



def media_ref(url: str, account_sid: str) -> MediaRef:
    """The media item a webhook's `MediaUrl{n}` names; MediaRefused for any URL that is not this account's
    media on the carrier's API host."""
    parts = urlsplit(url)
    found = _MEDIA_PATH.match(parts.path)
    if parts.scheme != "https" or parts.hostname != API_HOST or parts.port not in (None, 443) or found is None \
            or parts.query or parts.username or found["account"] != account_sid:
        raise MediaRefused("not a media address of the carrier account")
    return MediaRef(found["message"], found["media"])


def _public_host(host: str) -> None:
    """Refuse a host that resolves to an address other than the public internet's."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    except OSError:
        raise CarrierUnavailable("the carrier's media host did not resolve") from None
    for address in addresses:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            raise MediaRefused("the carrier's media host resolves to a private address")


def _allowed(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.port not in (None, 443) or parts.username or parts.password:
        raise MediaRefused("the carrier's media must be read over HTTPS from its own hosts")
    if host != API_HOST and not _STORAGE_HOSTS.match(host):
        raise MediaRefused("the carrier redirected its media to a host that is not its own")
    return host


class MediaCalls:
    """Part of `Carrier`: an inbound message's media, read and deleted."""

    _client: Any
    _call: Callable[[str, Callable[[], Any]], Any]
    account_sid: str
    _auth: tuple[str, str]
    _api_url: str | None
    _timeout: float

    def fetch_media(self, url: str, *, max_bytes: int = MAX_BYTES) -> Media:
        """The item at a webhook's `MediaUrl{n}` and the type the carrier gives it (parameters dropped, lower
        case). MediaRefused when it is not the carrier's to give, gone, or over `max_bytes`; CarrierUnavailable
        when the carrier should be asked again later."""
        import requests

        from switchboard.carrier.http import sandbox_url

        media_ref(url, self.account_sid)
        with requests.Session() as session:
            session.trust_env = False  # never through an HTTP(S)_PROXY the environment names
            for _ in range(MAX_REDIRECTS + 1):
                host = _allowed(url)
                if self._api_url is None:
                    _public_host(host)
                target = sandbox_url(self._api_url, url) if self._api_url else url
                try:
                    answer = session.get(target, auth=self._auth if host == API_HOST else None, stream=True,
                                         allow_redirects=False, timeout=self._timeout)
                except requests.RequestException:
                    raise CarrierUnavailable("the carrier's media could not be read") from None
                with answer:
                    if answer.is_redirect and answer.headers.get("Location"):
                        url = urljoin(url, answer.headers["Location"])
                        continue
                    return self._read(answer, max_bytes)
        raise MediaRefused("the carrier redirected its media too many times")

    @staticmethod
    def _read(answer: Any, max_bytes: int) -> Media:
        import requests

        if answer.status_code in (404, 410):
            raise MediaRefused("the carrier no longer has this media")
        if answer.status_code == 429 or answer.status_code >= 500:
            raise CarrierUnavailable("the carrier's media host is in trouble", status=answer.status_code)
        if answer.status_code != 200:
            raise MediaRefused(f"the carrier refused to give its media (HTTP {answer.status_code})")
        content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
        declared = answer.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise MediaRefused(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        data = bytearray()
        try:
            for chunk in answer.iter_content(64 * 1024):
                data += chunk
                if len(data) > max_bytes:
                    raise MediaRefused(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        except requests.RequestException:
            raise CarrierUnavailable("the carrier's media could not be read") from None
        return Media(content_type, bytes(data))

    def delete_media(self, ref: MediaRef) -> None:
        """Remove a kept item from the carrier; an item already gone is deleted."""
        try:
            self._call("DELETE", lambda: self._client.messages(ref.message_sid).media(ref.media_sid).delete())
        except CarrierRefused as refused:
            if refused.status != 404:
                raise

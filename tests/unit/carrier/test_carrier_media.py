"""Reading a patient's media from the carrier: only the account's media on the carrier's API host, redirects
only to the carrier's storage hosts over HTTPS and never to a private address, credentials only to the API
host, and only a file of a kept size; and which files are kept: a kept type whose first bytes match it."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from switchboard.carrier import Carrier, CarrierUnavailable, Credentials
from switchboard.carrier.media import MediaRefused, media_ref
from switchboard.rules.media import why_not_kept

ACCOUNT = "AC" + "a" * 32
URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'b' * 32}/Media/ME{'c' * 32}"
STORED = "https://mms.twiliocdn.com/" + ACCOUNT + "/d41d8cd98f00b204e9800998ecf8427e"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100


class Answer:
    def __init__(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.status_code, self.headers, self.body = status, headers or {}, body

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "Location" in self.headers

    def iter_content(self, size: int) -> Iterator[bytes]:
        for start in range(0, len(self.body), size):
            yield self.body[start:start + size]

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The internet as the function would see it: answers by URL, addresses by host; what was asked, and with
    which credentials."""
    world: dict[str, Any] = {"answers": {}, "hosts": {}, "asked": []}

    def get(self: requests.Session, url: str, **kwargs: Any) -> Answer:
        world["asked"].append((url, kwargs.get("auth")))
        answer = world["answers"].get(url)
        if answer is None:
            raise requests.ConnectionError("no route")
        return answer

    def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        address = world["hosts"].get(host, "54.172.60.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443))]

    monkeypatch.setattr(requests.Session, "get", get)
    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return world


@pytest.fixture
def account() -> Carrier:
    return Carrier(Credentials(ACCOUNT, "token"))


def test_the_carriers_redirect_is_followed_with_credentials_only_to_its_api(web, account) -> None:
    web["answers"][URL] = Answer(307, {"Location": STORED})
    web["answers"][STORED] = Answer(200, {"Content-Type": "image/jpeg", "Content-Length": str(len(JPEG))}, JPEG)
    media = account.fetch_media(URL)
    assert (media.content_type, media.data) == ("image/jpeg", JPEG)
    assert web["asked"] == [(URL, (ACCOUNT, "token")), (STORED, None)]


@pytest.mark.parametrize("location", [
    "https://evil.example.com/steal", "http://mms.twiliocdn.com/x", "https://mms.twiliocdn.com:8443/x",
    "https://169.254.169.254/latest/meta-data/", "https://twiliocdn.com.evil.example/x",
])
def test_a_redirect_off_the_carriers_hosts_is_never_followed(web, account, location) -> None:
    web["answers"][URL] = Answer(302, {"Location": location})
    with pytest.raises(MediaRefused):
        account.fetch_media(URL)
    assert [url for url, _ in web["asked"]] == [URL]


def test_a_carrier_host_that_resolves_to_a_private_address_is_not_read(web, account) -> None:
    web["answers"][URL] = Answer(307, {"Location": STORED})
    web["hosts"]["mms.twiliocdn.com"] = "10.0.0.8"
    with pytest.raises(MediaRefused, match="private address"):
        account.fetch_media(URL)
    assert [url for url, _ in web["asked"]] == [URL]


@pytest.mark.parametrize("url", [
    URL.replace("api.twilio.com", "api.twilio.com.evil.example"), URL.replace("https:", "http:"),
    URL.replace(ACCOUNT, "AC" + "f" * 32), URL + "?redirect=https://evil.example", "https://example.com/x.jpg",
])
def test_only_this_accounts_media_on_the_carriers_api_is_asked_for(web, account, url) -> None:
    with pytest.raises(MediaRefused):
        account.fetch_media(url)
    assert web["asked"] == []


def test_endless_redirects_end(web, account) -> None:
    web["answers"][URL] = Answer(307, {"Location": URL})
    with pytest.raises(MediaRefused, match="too many"):
        account.fetch_media(URL)


def test_a_file_too_large_is_refused_whatever_its_length_header_says(web, account) -> None:
    web["answers"][URL] = Answer(200, {"Content-Type": "image/jpeg"}, JPEG + b"\0" * 2048)
    with pytest.raises(MediaRefused, match="larger than"):
        account.fetch_media(URL, max_bytes=1024)
    web["answers"][URL] = Answer(200, {"Content-Type": "image/jpeg", "Content-Length": str(10 * 1024 * 1024)}, JPEG)
    with pytest.raises(MediaRefused, match="larger than"):
        account.fetch_media(URL)


def test_the_carriers_type_is_given_without_its_parameters(web, account) -> None:
    web["answers"][URL] = Answer(200, {"Content-Type": "Image/JPEG; charset=binary"}, JPEG)
    assert account.fetch_media(URL).content_type == "image/jpeg"


def test_gone_is_final_and_trouble_is_retried(web, account) -> None:
    web["answers"][URL] = Answer(404)
    with pytest.raises(MediaRefused, match="no longer has"):
        account.fetch_media(URL)
    web["answers"][URL] = Answer(503)
    with pytest.raises(CarrierUnavailable):
        account.fetch_media(URL)
    del web["answers"][URL]
    with pytest.raises(CarrierUnavailable):
        account.fetch_media(URL)


def test_what_is_kept_and_shown() -> None:
    assert why_not_kept("image/jpeg", JPEG) is None
    assert "not the image/png" in (why_not_kept("image/png", b"<html><script>alert(1)</script>") or "")
    assert "text/html is not" in (why_not_kept("text/html", b"<html>") or "")
    assert why_not_kept("application/pdf", b"%PDF-1.7") is None
    assert why_not_kept("image/webp", b"RIFF\0\0\0\0WEBPVP8 ") is None
    assert why_not_kept("image/webp", b"RIFF\0\0\0\0AVI LIST") is not None
    assert why_not_kept("application/x-msdownload") is not None
    assert media_ref(URL, ACCOUNT).media_sid == "ME" + "c" * 32


def test_a_patients_picture_is_read_through_the_carrier_and_deleted_there(
        carrier_sandbox, sandbox_carrier, line_number, webhooks) -> None:
    picture = JPEG + b"picture"
    answer = requests.post(f"{carrier_sandbox.url}/sandbox/inbound/sms", timeout=10, json={
        "from": "+14155550123", "to": line_number, "body": "",
        "media": [{"content_type": "image/jpeg", "data": base64.b64encode(picture).decode()}]}).json()
    [request] = webhooks.received
    url = request.params["MediaUrl0"]
    media = sandbox_carrier.fetch_media(url)
    assert (media.content_type, media.data) == ("image/jpeg", picture)
    sandbox_carrier.delete_media(media_ref(url, sandbox_carrier.account_sid))
    sandbox_carrier.delete_media(media_ref(url, sandbox_carrier.account_sid))  # a second delete finds it gone
    assert [m["deleted"] for m in carrier_sandbox.media(answer["message_sid"])] == [True]
    with pytest.raises(MediaRefused, match="no longer has"):
        sandbox_carrier.fetch_media(url)

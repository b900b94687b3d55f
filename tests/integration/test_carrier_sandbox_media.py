"""MMS media in the carrier sandbox, driven over HTTP and by the real twilio client as Twilio would be."""

from __future__ import annotations

import base64
import logging
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from local.carrier_sandbox import CarrierSandbox
from local.carrier_sandbox.recorder import Received, WebhookRecorder
from switchboard.carrier import SandboxHttpClient

pytestmark = pytest.mark.integration

PATIENT = "+14155552671"
WAIT_SECONDS = 60  # for a status callback: generous for a busy machine, free when it comes on time
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
VCARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Front desk\r\nEND:VCARD\r\n"


class MediaHost:
    """Serves fixed files (path → content type, bytes; anything else 404) and keeps the paths asked for."""

    def __init__(self, files: dict[str, tuple[str, bytes]]) -> None:
        self.requested: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requested.append(self.path)
                content_type, body = files.get(urlsplit(self.path).path, ("text/plain", b"not found"))
                self.send_response(200 if urlsplit(self.path).path in files else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CarrierSandbox]:
    with CarrierSandbox(Path(tmp_path_factory.mktemp("carrier")), message_delays=(0.01, 0.01, 0.02)) as running:
        yield running


@pytest.fixture(scope="module")
def webhooks() -> Iterator[WebhookRecorder]:
    recorder = WebhookRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def client(sandbox: CarrierSandbox) -> Client:
    return Client(sandbox.account_sid, sandbox.auth_token, http_client=SandboxHttpClient(sandbox.url))


@pytest.fixture(scope="module")
def line(client: Client, webhooks: WebhookRecorder) -> str:
    """A number of the account in a Messaging Service with a registered campaign (else carriers block it)."""
    number = client.available_phone_numbers("US").local.list(area_code=415, sms_enabled=True, limit=1)[0].phone_number
    bought = client.incoming_phone_numbers.create(phone_number=number, sms_url=f"{webhooks.url}/twilio/sms")
    service = client.messaging.v1.services.create(friendly_name="Test clinic", use_inbound_webhook_on_number=True)
    client.messaging.v1.services(service.sid).phone_numbers.create(phone_number_sid=bought.sid)
    return str(number)


@pytest.fixture
def media_host() -> Iterator[MediaHost]:
    host = MediaHost({
        "/x-ray.png": ("image/png", PNG),
        "/card.vcf": ("text/vcard; charset=utf-8", VCARD),
        "/page.html": ("text/html", b"<html></html>"),
    })
    yield host
    host.stop()


def auth(sandbox: CarrierSandbox) -> tuple[str, str]:
    return sandbox.account_sid, sandbox.auth_token


def local(sandbox: CarrierSandbox, url: str) -> str:
    """`https://<host>/<path>` as SandboxHttpClient addresses it: `<sandbox url>/<host>/<path>`."""
    parts = urlsplit(url)
    return f"{sandbox.url}/{parts.hostname}{parts.path}"


def text_in(
    sandbox: CarrierSandbox, webhooks: WebhookRecorder, line: str, media: list[dict[str, str]]
) -> tuple[dict[str, Any], Received]:
    """The simulator's MMS from the patient to `line`: its answer and the webhook it posted (before answering)."""
    answer = requests.post(f"{sandbox.url}/sandbox/inbound/sms", timeout=WAIT_SECONDS,
                           json={"from": PATIENT, "to": line, "body": "Here is my card", "media": media})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    return document, next(r for r in webhooks.received if r.params.get("MessageSid") == document["message_sid"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def final_callback(webhooks: WebhookRecorder, sid: str) -> Received:
    def final(got: list[Received]) -> list[Received]:
        return [r for r in got if r.params.get("MessageSid") == sid
                and r.params.get("MessageStatus") in ("delivered", "undelivered", "failed")]

    return final(webhooks.wait_for(lambda got: bool(final(got)), timeout=WAIT_SECONDS))[0]


def test_an_inbound_mms_posts_twilios_media_parameters(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder
) -> None:
    media = [{"content_type": "image/png", "data": b64(PNG)}, {"content_type": "text/vcard", "data": b64(VCARD)}]

    answer, request = text_in(sandbox, webhooks, line, media)

    sid, params = answer["message_sid"], request.params
    stored = sandbox.media(sid)
    assert re.fullmatch(r"MM[0-9a-f]{32}", sid)
    assert RequestValidator(sandbox.auth_token).validate(request.url, params, request.headers["X-Twilio-Signature"])
    assert params["NumMedia"] == "2" and client.messages(sid).fetch().num_media == "2"
    assert [re.fullmatch(r"ME[0-9a-f]{32}", m["sid"]) is not None for m in stored] == [True, True]
    assert [(params[f"MediaUrl{i}"], params[f"MediaContentType{i}"]) for i in range(2)] == [
        (f"https://api.twilio.com/2010-04-01/Accounts/{sandbox.account_sid}/Messages/{sid}/Media/{m['sid']}",
         m["content_type"]) for m in stored]
    assert [(m["content_type"], base64.b64decode(m["data"]), m["size"]) for m in stored] == [
        ("image/png", PNG, len(PNG)), ("text/vcard", VCARD, len(VCARD))]


def test_a_media_url_needs_basic_auth_and_redirects_to_storage_with_the_same_bytes(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder
) -> None:
    answer, request = text_in(sandbox, webhooks, line, [{"content_type": "image/png", "data": b64(PNG)}])
    sid, media_url = answer["message_sid"], request.params["MediaUrl0"]
    media_sid = media_url.rsplit("/", 1)[1]

    anonymous = requests.get(local(sandbox, media_url), allow_redirects=False, timeout=WAIT_SECONDS)
    wrong = requests.get(local(sandbox, media_url), auth=(sandbox.account_sid, "0" * 32), timeout=WAIT_SECONDS)
    redirect = requests.get(local(sandbox, media_url), auth=auth(sandbox), allow_redirects=False, timeout=WAIT_SECONDS)
    location = redirect.headers["Location"]
    stored = requests.get(local(sandbox, location), allow_redirects=False, timeout=WAIT_SECONDS)

    assert (anonymous.status_code, anonymous.json()["code"], wrong.status_code) == (401, 20003, 401)
    assert redirect.status_code == 307
    assert re.fullmatch(rf"https://media\.twiliocdn\.com/{sandbox.account_sid}/[0-9a-f]{{64}}", location)
    assert (stored.status_code, stored.headers["Content-Type"], stored.content) == (200, "image/png", PNG)
    assert stored.headers["Content-Length"] == str(len(PNG))
    resource = client.messages(sid).media(media_sid).fetch()
    assert (resource.sid, resource.parent_sid, resource.account_sid, resource.content_type) == (
        media_sid, sid, sandbox.account_sid, "image/png")
    assert resource.uri == f"/2010-04-01/Accounts/{sandbox.account_sid}/Messages/{sid}/Media/{media_sid}.json"
    assert [m.sid for m in client.messages(sid).media.list()] == [media_sid]


def test_deleting_media_through_the_client_removes_it_everywhere(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder
) -> None:
    answer, request = text_in(sandbox, webhooks, line, [{"content_type": "image/jpeg", "data": b64(PNG)}])
    sid, media_url = answer["message_sid"], request.params["MediaUrl0"]
    media_sid = media_url.rsplit("/", 1)[1]
    location = requests.get(local(sandbox, media_url), auth=auth(sandbox), allow_redirects=False,
                            timeout=WAIT_SECONDS).headers["Location"]

    assert client.messages(sid).media(media_sid).delete() is True

    with pytest.raises(TwilioRestException) as fetched:
        client.messages(sid).media(media_sid).fetch()
    assert fetched.value.status == 404
    with pytest.raises(TwilioRestException) as deleted_again:
        client.messages(sid).media(media_sid).delete()
    assert deleted_again.value.status == 404
    redirect = requests.get(local(sandbox, media_url), auth=auth(sandbox), allow_redirects=False, timeout=WAIT_SECONDS)
    assert redirect.status_code == 404
    assert requests.get(local(sandbox, location), timeout=WAIT_SECONDS).status_code == 404
    assert client.messages(sid).media.list() == []
    [kept] = sandbox.media(sid)
    assert (kept["sid"], kept["deleted"], kept["data"], kept["size"]) == (media_sid, True, None, len(PNG))
    inspected = requests.get(f"{sandbox.url}/sandbox/messages/{sid}/media", timeout=WAIT_SECONDS).json()
    assert inspected == {"media": sandbox.media(sid)}


@pytest.mark.parametrize("media", [
    [{"content_type": "image/png", "data": b64(PNG)}] * 11,
    [{"content_type": "image/png", "data": "not base64!"}],
    [{"data": b64(PNG)}],
])
def test_the_simulator_refuses_media_twilio_would_not_deliver(
    sandbox: CarrierSandbox, line: str, media: list[dict[str, str]]
) -> None:
    before = len(sandbox.messages())

    answer = requests.post(f"{sandbox.url}/sandbox/inbound/sms", timeout=WAIT_SECONDS,
                           json={"from": PATIENT, "to": line, "body": "hi", "media": media})

    assert answer.status_code == 400 and answer.json()["error"]
    assert len(sandbox.messages()) == before


def test_an_outbound_mms_fetches_its_media_and_stores_what_the_phone_gets(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder, media_host: MediaHost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="carrier_sandbox")
    urls = [f"{media_host.url}/x-ray.png?X-Amz-Signature=s3cr3t", f"{media_host.url}/card.vcf"]

    message = client.messages.create(to=PATIENT, from_=line, media_url=urls, status_callback=f"{webhooks.url}/s")
    final = final_callback(webhooks, message.sid)

    assert re.fullmatch(r"MM[0-9a-f]{32}", message.sid) and final.params["MessageStatus"] == "delivered"
    assert media_host.requested == ["/x-ray.png?X-Amz-Signature=s3cr3t", "/card.vcf"]
    stored = sandbox.media(message.sid)
    assert [(m["content_type"], base64.b64decode(m["data"]), m["size"]) for m in stored] == [
        ("image/png", PNG, len(PNG)), ("text/vcard", VCARD, len(VCARD))]
    assert client.messages(message.sid).fetch().num_media == "2"
    [recorded] = [m for m in sandbox.messages() if m["sid"] == message.sid]
    assert recorded["media"] == [{k: m[k] for k in ("sid", "content_type", "size", "deleted")} for m in stored]
    assert "s3cr3t" not in caplog.text and "x-ray" not in caplog.text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("where", ["unreachable", "missing"])
def test_a_media_url_that_cannot_be_fetched_fails_the_message_with_11200(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder, media_host: MediaHost, where: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}/x.png" if where == "unreachable" else f"{media_host.url}/gone.png"

    message = client.messages.create(to=PATIENT, from_=line, body="Your results", media_url=[url],
                                     status_callback=f"{webhooks.url}/s")
    final = final_callback(webhooks, message.sid)

    assert (final.params["MessageStatus"], final.params["ErrorCode"]) == ("failed", "11200")
    fetched = client.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code, fetched.num_media) == ("failed", 11200, "0")
    assert sandbox.media(message.sid) == []


def test_a_content_type_twilio_cannot_send_fails_the_message_with_12300(
    sandbox: CarrierSandbox, client: Client, line: str, webhooks: WebhookRecorder, media_host: MediaHost
) -> None:
    message = client.messages.create(to=PATIENT, from_=line, media_url=[f"{media_host.url}/page.html"],
                                     status_callback=f"{webhooks.url}/s")
    final = final_callback(webhooks, message.sid)

    assert (final.params["MessageStatus"], final.params["ErrorCode"]) == ("failed", "12300")
    assert client.messages(message.sid).fetch().error_message == "Invalid Content-Type"
    assert sandbox.media(message.sid) == []


def test_a_send_needs_a_body_or_http_media_and_at_most_ten(client: Client, line: str, media_host: MediaHost) -> None:
    def refused(**send: Any) -> int | None:
        with pytest.raises(TwilioRestException) as error:
            client.messages.create(to=PATIENT, from_=line, **send)
        return error.value.code

    assert refused() == 21602
    assert refused(media_url=[f"{media_host.url}/x-ray.png"] * 11) == 21623
    assert refused(media_url=["file:///etc/passwd"]) == 21620

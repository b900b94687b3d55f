"""Pictures out: staff attach a picture on a line whose number sends MMS and reply with it; the carrier is
given a link it can fetch the picture from; what cannot be sent is refused naming the field."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest
import requests

from switchboard.carrier.client import Carrier
from tests.claims import claims_of
from tests.unit.inbox.test_inbox_api import PHONE, staff  # noqa: F401

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 8


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0")) + chunk(
        b"IEND", b"")


@pytest.fixture
def thread(text_in, setup) -> str:
    text_in("Can you send me the map?")
    return f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PHONE}"


@pytest.fixture
def sent(monkeypatch) -> list[dict[str, Any]]:
    """What the carrier was asked to send (the sandbox cannot reach the unit tier's S3 to fetch a picture)."""
    asked: list[dict[str, Any]] = []
    real = Carrier.send_message

    def send(self, **kwargs):
        asked.append(kwargs)
        return real(self, **{**kwargs, "media_urls": None})

    monkeypatch.setattr(Carrier, "send_message", send)
    return asked


def attach(admin_api, thread, data: bytes, content_type: str = "image/jpeg", **kwargs):
    return admin_api("POST", f"{thread}/attachments",
                     {"content_type": content_type, "data": base64.b64encode(data).decode()}, **kwargs)


def test_a_reply_with_a_picture_gives_the_carrier_a_link_to_it(admin_api, thread, queues, sent, staff):  # noqa: F811
    attached = attach(admin_api, thread, JPEG, claims=staff["permitted"])
    assert attached.status == 201, attached.body
    assert (attached.body["content_type"], attached.body["size"]) == ("image/jpeg", len(JPEG))
    reply = admin_api("POST", f"{thread}/messages", {"body": "Here is the map",
                                                     "attachment_ids": [attached.body["attachment_id"]]},
                      claims=staff["permitted"])
    assert reply.status == 202, reply.body
    queues.deliver()
    (asked,) = sent
    assert asked["body"] == "Here is the map"
    (link,) = asked["media_urls"]
    assert "X-Amz-Expires=3600" in link and PHONE.lstrip("+") not in link
    fetched = requests.get(link, timeout=10)
    assert (fetched.status_code, fetched.content) == (200, JPEG)
    mine = admin_api("GET", thread).body["messages"][-1]
    assert mine["sender"] == "staff" and [m["inline"] for m in mine["media"]] == [True]


def test_a_picture_alone_is_a_reply_and_the_list_says_so(admin_api, thread, queues, sent, setup):
    attached = attach(admin_api, thread, png(), "image/png").body
    assert admin_api("POST", f"{thread}/messages", {"attachment_ids": [attached["attachment_id"]]}).status == 202
    queues.deliver()
    assert sent[0]["body"] == "" and len(sent[0]["media_urls"]) == 1
    (entry,) = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"]
    assert entry["last_message"]["body"] == "Picture"


@pytest.mark.parametrize(("content_type", "data", "field", "why"), [
    ("application/pdf", b"%PDF-1.7", "content_type", "JPEG, PNG or GIF"),
    ("image/jpeg", b"<html><script>", "data", "not the image/jpeg"),
    ("image/jpeg", JPEG + b"\0" * 3_500_000, "data", "larger than 3.5 MB"),
])
def test_what_cannot_be_sent_is_refused_naming_the_field(admin_api, thread, content_type, data, field, why):
    answer = attach(admin_api, thread, data, content_type)
    assert answer.status == 422, answer.body
    assert answer.body["errors"][0]["field"] == field and why in answer.body["errors"][0]["reason"]


def test_a_picture_that_is_not_base64_or_a_reply_of_nothing_is_refused(admin_api, thread):
    answer = admin_api("POST", f"{thread}/attachments", {"content_type": "image/png", "data": "not base64!"})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "data"
    answer = admin_api("POST", f"{thread}/messages", {"body": "  "})
    assert answer.status == 422 and "attach a picture" in str(answer.body)


def test_a_line_whose_number_sends_no_pictures_refuses_them_and_the_carrier_is_asked_once(
        admin_api, thread, setup, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(Carrier, "sends_pictures", lambda self, sid: asked.append(sid) or False)
    for _ in range(2):
        answer = attach(admin_api, thread, JPEG)
        assert answer.status == 409 and answer.body["errors"][0]["field"] == "attachment"
    assert len(asked) == 1
    line = admin_api("GET", f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}").body
    assert line["sends_pictures"] is False


def test_a_picture_attached_on_another_line_or_practice_is_not_sent(admin_api, thread, setup, text_in, queues,
                                                                     sent):
    other = admin_api("POST", "/api/practices", {"name": "Oak", "timezone": "America/Chicago"}).body["practice_id"]
    number = admin_api("GET", f"/api/practices/{other}/available-numbers?area_code=415").body[0]["phone_number"]
    oak_line = admin_api("POST", f"/api/practices/{other}/lines/purchase",
                         {"display_name": "Oak desk", "number": number}).body
    text_in("Hi Oak", to=oak_line["number"])
    oak_thread = f"/api/practices/{other}/lines/{oak_line['line_id']}/conversations/{PHONE}"
    theirs = attach(admin_api, oak_thread, JPEG).body["attachment_id"]
    answer = admin_api("POST", f"{thread}/messages", {"body": "Here", "attachment_ids": [theirs]})
    assert answer.status == 422 and answer.body["errors"][0]["field"] == "attachment_ids"
    sam = admin_api("POST", f"/api/practices/{other}/users",
                    {"email": "sam@oakclinic.com", "name": "Sam", "role": "manager", "line_ids": []}).body
    assert attach(admin_api, thread, JPEG, claims=claims_of(sam, "manager")).status == 404
    queues.deliver()
    assert sent == []

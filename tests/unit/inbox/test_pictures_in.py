"""Pictures in: a patient's MMS media is copied from the carrier into the media bucket, deleted at the carrier,
and shown to staff through short-lived links (pictures inline, other files as downloads); a file that cannot
be kept says why; a job run twice, or after the carrier failed, keeps each file once."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from switchboard.carrier import CarrierUnavailable
from switchboard.carrier.client import Carrier

PATIENT = "+14155550147"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n" + b"0" * 300


@pytest.fixture
def mms_in(carrier_account, text_in, setup, queues):
    """A patient's MMS: the carrier stores its files, its signed webhook reaches us, the stream hands it off."""

    def send(items: list[tuple[str, bytes]], body: str = "") -> dict[str, str]:
        media = carrier_account.receive_mms(to=setup.line["number"], from_=PATIENT, body=body, items=items)
        assert text_in(body, phone=PATIENT, sid=media["MessageSid"], extra=media).status == 200
        queues.hand_off()
        return media

    return send


def keep(queues) -> dict[str, Any]:
    return queues.deliver("inbound_media", "MEDIA_QUEUE_URL")


def thread(admin_api, setup) -> dict[str, Any]:
    path = f"/api/practices/{setup.practice_id}/lines/{setup.line['line_id']}/conversations/{PATIENT}"
    answer = admin_api("GET", path)
    assert answer.status == 200, answer.body
    return answer.body


def objects() -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=os.environ["MEDIA_BUCKET"]).get("Contents") or []
    return [entry["Key"] for entry in listed]


def test_a_picture_is_kept_shown_inline_through_a_short_link_and_deleted_at_the_carrier(
        mms_in, queues, admin_api, setup, carrier_account):
    media = mms_in([("image/jpeg", JPEG)])
    assert keep(queues) == {"batchItemFailures": []}
    (message,) = thread(admin_api, setup)["messages"]
    (picture,) = message["media"]
    assert (picture["state"], picture["content_type"], picture["inline"], picture["size"]) == (
        "kept", "image/jpeg", True, len(JPEG))
    link = urlsplit(picture["url"])
    query = parse_qs(link.query)
    assert query["X-Amz-Expires"] == ["300"] and query["response-content-disposition"] == ["inline"]
    assert PATIENT not in picture["url"] and PATIENT.lstrip("+") not in picture["url"]
    opened = requests.get(picture["url"], timeout=10)
    assert (opened.status_code, opened.content, opened.headers["Content-Type"]) == (200, JPEG, "image/jpeg")
    assert [m["deleted"] for m in carrier_account.media(media["MessageSid"])] == [True]
    (entry,) = admin_api("GET", f"/api/practices/{setup.practice_id}/inbox").body["conversations"]
    assert entry["last_message"]["body"] == "Picture"


def test_other_files_are_downloads_and_a_file_not_kept_says_why(mms_in, queues, admin_api, setup, carrier_account):
    media = mms_in([("application/pdf", PDF), ("text/html", b"<html><script>alert(1)</script>"),
                    ("image/png", b"<svg onload=alert(1)>")], body="My forms")
    keep(queues)
    (message,) = thread(admin_api, setup)["messages"]
    assert message["body"] == "My forms"
    pdf, page, fake = message["media"]
    assert (pdf["state"], pdf["inline"]) == ("kept", False)
    assert parse_qs(urlsplit(pdf["url"]).query)["response-content-disposition"] == ['attachment; filename="file-1.pdf"']
    assert (page["state"], page["url"]) == ("refused", None) and "text/html is not" in page["reason"]
    assert fake["state"] == "refused" and "not the image/png" in fake["reason"]
    assert len(objects()) == 1
    # The carrier keeps media until told to: what was not kept is deleted there too.
    assert [m["deleted"] for m in carrier_account.media(media["MessageSid"])] == [True, True, True]


def test_a_job_run_twice_keeps_each_file_once_and_asks_the_carrier_nothing_more(
        mms_in, queues, admin_api, setup, carrier_account, monkeypatch):
    media = mms_in([("image/jpeg", JPEG)])
    (waiting,) = queues.messages("MEDIA_QUEUE_URL")
    for _ in range(2):
        boto3.client("sqs").send_message(QueueUrl=os.environ["MEDIA_QUEUE_URL"], MessageBody=waiting["Body"])
    keep(queues)
    fetched: list[str] = []
    real_fetch = Carrier.fetch_media
    monkeypatch.setattr(Carrier, "fetch_media", lambda self, url, **kw: fetched.append(url) or real_fetch(self, url))
    boto3.client("sqs").send_message(QueueUrl=os.environ["MEDIA_QUEUE_URL"], MessageBody=waiting["Body"])
    keep(queues)
    assert fetched == [] and len(objects()) == 1
    assert [m["deleted"] for m in carrier_account.media(media["MessageSid"])] == [True]


def test_a_carrier_outage_is_retried_and_what_was_kept_stays_kept(
        mms_in, queues, admin_api, setup, carrier_account, monkeypatch):
    media = mms_in([("image/jpeg", JPEG), ("image/jpeg", JPEG[:-1])])
    real_fetch = Carrier.fetch_media
    calls: list[str] = []

    def once_down(self, url, **kw):
        calls.append(url)
        if len(calls) == 2:
            raise CarrierUnavailable("the carrier's media host is in trouble", status=503)
        return real_fetch(self, url, **kw)

    monkeypatch.setattr(Carrier, "fetch_media", once_down)
    assert len(keep(queues)["batchItemFailures"]) == 1
    first, second = thread(admin_api, setup)["messages"][0]["media"]
    assert (first["state"], second["state"]) == ("kept", "waiting")
    assert keep(queues) == {"batchItemFailures": []}
    assert [m["state"] for m in thread(admin_api, setup)["messages"][0]["media"]] == ["kept", "kept"]
    assert len(calls) == 3 and len(objects()) == 2
    assert [m["deleted"] for m in carrier_account.media(media["MessageSid"])] == [True, True]


def test_a_media_address_not_the_carriers_is_never_fetched(text_in, setup, queues, admin_api, carrier_account):
    evil = {"NumMedia": "1", "MediaUrl0": "http://169.254.169.254/latest/meta-data/iam",
            "MediaContentType0": "image/jpeg"}
    assert text_in("", phone=PATIENT, extra=evil).status == 200
    queues.hand_off()
    assert keep(queues) == {"batchItemFailures": []}
    (item,) = thread(admin_api, setup)["messages"][0]["media"]
    assert item["state"] == "refused" and item["url"] is None and "169.254" not in str(item)

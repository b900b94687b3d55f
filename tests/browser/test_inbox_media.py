"""A patient's picture shows inline in the thread (loaded from the media bucket through a short-lived link the
page's Content-Security-Policy allows), a file of another kind is offered as a download, and staff answer with
a picture of their own."""

from __future__ import annotations

import base64
import struct
import urllib.parse
import zlib
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AdminApi, Console, sandbox_call, unique, unused_mobile
from tests.clock import wait_until

pytestmark = pytest.mark.browser


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real picture the browser decodes: one colour, `width` x `height`."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_patients_picture_is_shown_inline_and_a_pdf_is_a_download(
    console: Console, open_practice: dict[str, Any], admin_api: AdminApi
) -> None:
    practice_id = open_practice["practice_id"]
    line = admin_api.buy_line(practice_id, unique("Pictures"))
    patient = unused_mobile(console.stack)
    media = [{"content_type": "image/png", "data": base64.b64encode(png(48, 32, (200, 40, 40))).decode()},
             {"content_type": "application/pdf", "data": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()}]
    sandbox_call(console.stack, "POST", "/sandbox/inbound/sms",
                 {"from": patient, "to": line["number"], "body": "Here is my insurance card", "media": media})
    page = console.page
    console.sign_in(practice_id=practice_id)
    console.goto(f"inbox/{line['line_id']}/{urllib.parse.quote(patient)}")

    files = page.get_by_role("list", name="Pictures and files")
    picture = files.get_by_role("img", name="Picture 1 the patient sent")
    # The files are copied from the carrier moments after the text: the thread's poll shows them once kept.
    expect(picture).to_be_visible(timeout=60000)
    assert wait_until(lambda: picture.evaluate("image => image.complete && image.naturalWidth") == 48, within=15,
                      every=0.2), "the picture never loaded (blocked, or not the picture sent)"
    download = files.get_by_role("link", name="Download file 2 (application/pdf")
    expect(download).to_be_visible()
    assert "response-content-disposition=attachment" in (download.get_attribute("href") or "")
    console.screenshot("inbox-picture-inline")

    # A reply with a picture: attached as it is chosen, sent as an MMS the carrier fetches from the bucket.
    reply = page.get_by_role("form", name="Reply")
    reply.get_by_label("Attach a picture").set_input_files(
        files=[{"name": "map.png", "mimeType": "image/png", "buffer": png(24, 24, (40, 90, 200))}])
    expect(reply.get_by_text("Picture attached: map.png")).to_be_visible()
    reply.get_by_role("combobox", name="Reply").fill("Here is how to find us")
    reply.get_by_role("button", name="Send", exact=True).click()
    expect(reply.get_by_text("Picture attached: map.png")).to_be_hidden()

    def delivered_with_picture() -> bool:
        found = sandbox_call(console.stack, "GET", f"/sandbox/messages?to={urllib.parse.quote(patient)}")["messages"]
        return any(m.get("media") and m.get("status") == "delivered" for m in found)

    assert wait_until(delivered_with_picture, within=60, every=0.2), "the picture never reached the patient"
    expect(page.get_by_role("img", name="Picture 1 sent to the patient")).to_be_visible(timeout=15000)
    console.screenshot("inbox-picture-reply")

"""Malformed webhooks (oversize, wrong content type, broken encodings, repeated parameters) get a 4xx and
leave nothing behind: no contact, no conversation, no message, no count, no text."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from tests.reliability.conftest import new_phone

pytestmark = pytest.mark.integration

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def clinic(reliability_stack):
    return reliability_stack.new_clinic()


def intake_cases(caller: str) -> dict[str, tuple[str, bytes | None, dict[str, str], str]]:
    """name -> (query string, body, headers, the field the answer names: '' for any, `a|b` for either)."""
    digits = caller[2:]
    form = {"Content-Type": FORM}
    return {
        "oversize form body": ("", f"CALLER_ID_NUMBER={digits}&pad={'x' * 20_000}".encode(), form, "body"),
        "oversize JSON body": ("", json.dumps({"CALLER_ID_NUMBER": digits, "pad": "x" * 20_000}).encode(),
                               {"Content-Type": "application/json"}, "body"),
        "body past the gateway's 10 MB": ("", b"CALLER_ID_NUMBER=" + b"4" * (10 * 1024 * 1024 + 10), form, ""),
        "XML": ("", f"<caller>{digits}</caller>".encode(), {"Content-Type": "text/xml"}, "Content-Type"),
        "plain text": ("", digits.encode(), {"Content-Type": "text/plain"}, "Content-Type"),
        "multipart": ("", f'--b\r\nContent-Disposition: form-data; name="CALLER_ID_NUMBER"\r\n\r\n{digits}\r\n--b--'
                      .encode(), {"Content-Type": "multipart/form-data; boundary=b"}, "Content-Type"),
        "binary": ("", bytes(range(256)), {"Content-Type": "application/octet-stream"}, "Content-Type|body"),
        "form body that is not UTF-8": ("", b"CALLER_ID_NUMBER=" + digits.encode() + b"\xff\xfe", form, "body"),
        "latin-1 form body": ("", f"CALLER_ID_NUMBER={digits}&name=Jos\xe9".encode("latin-1"),
                              {"Content-Type": f"{FORM}; charset=latin-1"}, "body"),
        "percent-encoded bytes that are not UTF-8": ("", b"CALLER_ID_NUMBER=%FF%FE%FD", form, "CALLER_ID_NUMBER"),
        "JSON that is not UTF-8": ("", b'{"CALLER_ID_NUMBER": "' + digits.encode() + b'\xc3\x28"}',
                                   {"Content-Type": "application/json"}, "body"),
        "broken JSON": ("", b'{"CALLER_ID_NUMBER": ', {"Content-Type": "application/json"}, "body"),
        "JSON array": ("", json.dumps([digits]).encode(), {"Content-Type": "application/json"}, "body"),
        "null bytes in the number": ("", f"CALLER_ID_NUMBER={digits}%00".encode(), form, "CALLER_ID_NUMBER"),
        "number repeated with two values": (f"CALLER_ID_NUMBER={digits}&CALLER_ID_NUMBER=4155550100", None, {},
                                            "CALLER_ID_NUMBER"),
        "number in the query and another in the body": (f"CALLER_ID_NUMBER={digits}",
                                                        b"CALLER_ID_NUMBER=4155550100", form, "CALLER_ID_NUMBER"),
        "number missing": ("OTHER=1", None, {}, "CALLER_ID_NUMBER"),
    }


def test_malformed_intake_webhooks_are_4xx_naming_the_field_and_store_nothing(stack, clinic):
    caller = new_phone()
    wrong = {}
    for name, (query, body, headers, field) in intake_cases(caller).items():
        method = "POST" if body is not None else "GET"
        url = clinic.webhook_url + (f"?{query}" if query else "")
        reply = stack.http(method, url, body=body, headers=headers)
        fields = [e.get("field") for e in (reply.body or {}).get("errors", [])] if isinstance(reply.body, dict) else []
        if not 400 <= reply.status < 500 or (field and not set(field.split("|")) & set(fields)):
            wrong[name] = (reply.status, str(reply.body)[:200])
        elif caller in reply.raw.decode(errors="replace") or caller[2:] in reply.raw.decode(errors="replace"):
            wrong[name] = (reply.status, "the answer quotes the caller's number")
    assert not wrong, wrong
    stack.wait_idle()
    assert stack.thread(clinic, caller).status == 404
    assert stack.api("GET", f"/api/practices/{clinic.practice_id}/inbox").body["conversations"] == []
    workflow = stack.api("GET", f"/api/practices/{clinic.practice_id}/workflows/{clinic.workflow['workflow_id']}")
    assert workflow.body["counts"]["received"] == 0
    assert stack.sent_from(clinic.line["number"]) == []


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/voice", "/twilio/status"])
def test_malformed_twilio_webhooks_are_4xx_and_store_nothing(stack, clinic, path):
    patient = new_phone()
    params = urllib.parse.urlencode({"From": patient, "To": clinic.line["number"], "Body": "hello there",
                                     "MessageSid": "SM" + "1" * 32, "CallSid": "CA" + "1" * 32,
                                     "MessageStatus": "delivered"})
    cases = {
        "oversize": (params + "&pad=" + "x" * 40_000).encode(),
        "JSON": json.dumps({"From": patient, "To": clinic.line["number"], "Body": "hello there"}).encode(),
        "not UTF-8": params.encode() + b"&Body=\xff\xfe",
        "repeated parameters": (params + f"&To={clinic.line['number']}&To=%2B14155550100").encode(),
        "empty": b"",
    }
    types = {"JSON": "application/json"}
    wrong = {}
    for name, body in cases.items():
        reply = stack.http("POST", f"{stack.api_url}{path}", body=body,
                           headers={"Content-Type": types.get(name, FORM), "X-Twilio-Signature": "bm90IHNpZ25lZA=="})
        if not 400 <= reply.status < 500:
            wrong[name] = (reply.status, str(reply.body)[:200])
    assert not wrong, wrong
    assert stack.thread(clinic, patient).status == 404

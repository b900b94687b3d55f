"""Only requests signed by our carrier account, for the very URL they were sent to, get past a Twilio webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
import uuid

import pytest

from switchboard.carrier import sign
from tests.reliability.conftest import eventually, new_phone

pytestmark = pytest.mark.integration

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def clinic(reliability_stack):
    return reliability_stack.new_clinic()


def webhook_params(kind: str, clinic, patient: str, sid: str | None = None, account: str = "AC" + "0" * 32):
    line = clinic.line["number"]
    if kind == "sms":
        return {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": account, "From": patient, "To": line,
                "Body": f"Reschedule please {uuid.uuid4().hex[:6]}", "NumMedia": "0", "SmsStatus": "received",
                "ApiVersion": "2010-04-01"}
    if kind == "voice":
        return {"CallSid": f"CA{uuid.uuid4().hex}", "AccountSid": account, "From": patient, "To": line,
                "Caller": patient, "Called": line, "CallStatus": "ringing", "Direction": "inbound",
                "ApiVersion": "2010-04-01"}
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered", "SmsStatus": "delivered",
            "AccountSid": account, "From": line, "To": patient, "ApiVersion": "2010-04-01"}


def post(stack, path: str, params: dict[str, str], signature: str | None, query: str = ""):
    headers = dict(FORM)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return stack.http("POST", f"{stack.api_url}{path}{query}", body=urllib.parse.urlencode(params).encode(),
                      headers=headers)


def forged_signatures(stack, path: str, params: dict[str, str]) -> dict[str, str | None]:
    token, url = stack.auth_token, f"{stack.api_url}{path}"
    other_path = "/twilio/voice" if path != "/twilio/voice" else "/twilio/sms"
    tampered = {**params, "From": new_phone()}
    return {
        "missing": None,
        "empty": "",
        "random": base64.b64encode(hashlib.sha1(uuid.uuid4().bytes).digest()).decode(),
        "signed for another webhook": sign(f"{stack.api_url}{other_path}", params, token),
        "signed for another host": sign(url.replace("127.0.0.1", "evil.example"), params, token),
        "signed for https": sign(url.replace("http://", "https://"), params, token),
        "signed with a query string not sent": sign(f"{url}?attempt=1", params, token),
        "signed by another account": sign(url, params, uuid.uuid4().hex),
        "signed before the parameters changed": sign(url, tampered, token),
        "sha256 instead of sha1": base64.b64encode(hmac.new(token.encode(), url.encode(), "sha256").digest()).decode(),
    }


@pytest.fixture
def sent_message(stack, clinic):
    """A text the carrier took and reported `sent`, whose delivery report is held back."""
    delays = stack.sandbox("GET", "/sandbox/config")["message_delays"]
    stack.sandbox("POST", "/sandbox/config", {"message_delays": [0.05, 0.05, 3600]})
    try:
        caller = new_phone()
        assert stack.call_webhook(clinic, caller).status == 202
        assert eventually(lambda: stack.thread(clinic, caller).body["messages"][-1]["status"] == "sent")
        sid = next(m["sid"] for m in stack.sent_from(clinic.line["number"]) if m["to"] == caller)
        yield caller, sid
    finally:
        stack.sandbox("POST", "/sandbox/config", {"message_delays": delays})


@pytest.mark.parametrize("kind", ["sms", "voice", "status"])
def test_forged_stale_and_missing_signatures_are_403_and_change_nothing(stack, clinic, kind, request):
    account = stack.sandbox("GET", "/sandbox/account")["account_sid"]
    patient, sid = new_phone(), None
    if kind == "status":
        patient, sid = request.getfixturevalue("sent_message")
    path = f"/twilio/{kind}"
    params = webhook_params(kind, clinic, patient, sid, account)
    answers = {name: post(stack, path, params, signature)
               for name, signature in forged_signatures(stack, path, params).items()}
    wrong = {name: (reply.status, reply.body) for name, reply in answers.items() if reply.status != 403}
    assert not wrong, wrong
    assert all("Response" not in str(reply.body) for reply in answers.values())  # no TwiML for strangers
    if kind == "sms":
        assert stack.thread(clinic, patient).status == 404  # no conversation was opened
    if kind == "status":
        assert stack.thread(clinic, patient).body["messages"][-1]["status"] == "sent"

    genuine = post(stack, path, params, sign(f"{stack.api_url}{path}", params, stack.auth_token))
    assert genuine.status == 200, genuine.body
    if kind == "sms":
        assert stack.thread(clinic, patient).status == 200
    if kind == "voice":
        assert "<Response>" in str(genuine.body)
    if kind == "status":
        assert stack.thread(clinic, patient).body["messages"][-1]["status"] == "delivered"


def test_a_signature_over_the_url_with_its_query_string_verifies_only_with_that_query(stack, clinic):
    path, patient = "/twilio/sms", new_phone()
    params = webhook_params("sms", clinic, patient, account=stack.sandbox("GET", "/sandbox/account")["account_sid"])
    url = f"{stack.api_url}{path}?source=carrier&b=2"
    signature = sign(url, params, stack.auth_token)
    assert post(stack, path, params, signature, query="?source=carrier").status == 403
    assert post(stack, path, params, signature, query="?b=2&source=carrier").status == 403
    assert post(stack, path, params, signature, query="?source=carrier&b=2").status == 200

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from switchboard.carrier import sign
from tests.unit.conftest import webhook_event

TEMPLATE = "Thanks for calling {practice_name}! Text us back here at {line_number}."


@dataclass
class Setup:
    practice_id: str
    line: dict[str, Any]
    workflow: dict[str, Any]

    @property
    def path(self) -> str:
        return urlsplit(self.workflow["webhook_url"]).path.removeprefix("/local")

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]


@pytest.fixture
def setup(admin_api, carrier_account) -> Setup:
    practice_id = admin_api("POST", "/api/practices", {"name": "Maple Clinic", "timezone": "America/Chicago"}).body[
        "practice_id"]
    number = admin_api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415").body[0]["phone_number"]
    line = admin_api("POST", f"/api/practices/{practice_id}/lines/purchase",
                     {"display_name": "Front desk", "number": number}).body
    workflow = admin_api("POST", f"/api/practices/{practice_id}/workflows",
                         {"name": "Jive hold", "kind": "call_to_text", "vendor": "jive", "line_id": line["line_id"],
                          "template": TEMPLATE}).body
    return Setup(practice_id, line, workflow)


@pytest.fixture
def intake(call_api, setup):
    """Fire the workflow's webhook like a phone system: GET with a query string unless told otherwise."""

    def fire(number: str | None = "4155552671", *, path: str | None = None, method: str = "GET",
             body: str | None = None, content_type: str | None = None, query: dict | None = None):
        target = path or setup.path
        if query is None and method == "GET" and number is not None:
            query = {"CALLER_ID_NUMBER": [number]}
        vendor, token = target.split("/")[2:4]
        event = webhook_event(method, target, query=query, body=body, content_type=content_type,
                              path_parameters={"vendor": vendor, "token": token})
        return call_api("webhook_intake", event)

    return fire


@pytest.fixture
def status_callback(call_api, carrier_account):
    """Post a status callback signed like the carrier's."""

    def post(sid: str, status: str, error_code: int | None = None, *, signature: str | None = None):
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": carrier_account.account_sid, "ApiVersion": "2010-04-01"}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        url = f"{os.environ.get('PUBLIC_BASE_URL', 'https://api.test/local').rstrip('/')}/twilio/status"
        signed = signature if signature is not None else sign(url, params, carrier_account.auth_token)
        event = webhook_event("POST", "/twilio/status", body=urlencode(params),
                              content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": signed}, resource="/twilio/status")
        return call_api("status_callback", event)

    return post

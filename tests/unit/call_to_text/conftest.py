from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest

from switchboard.carrier import sign
from tests.unit.conftest import webhook_event


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

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from switchboard.carrier import sign
from tests.unit.conftest import webhook_event

_sids = itertools.count(1)
CHICAGO = ZoneInfo("America/Chicago")


def chicago(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).astimezone(UTC)


@pytest.fixture
def text_in(call_api, carrier_account, setup):
    """A patient texts one of our lines: a webhook signed like the carrier's."""

    def send(body: str, *, phone: str = "+14155552671", to: str | None = None, sid: str | None = None,
             signature: str | None = None, query: dict | None = None):
        params = {"MessageSid": sid or f"SM{next(_sids):032d}", "AccountSid": carrier_account.account_sid,
                  "From": phone, "To": to or setup.line["number"], "Body": body, "NumMedia": "0",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        url = "https://api.test/local/twilio/sms"
        if query:
            url += "?" + urlencode([(k, v) for k, vs in query.items() for v in vs])
        signed = sign(url, params, carrier_account.auth_token) if signature is None else signature
        event = webhook_event("POST", "/twilio/sms", body=urlencode(params), query=query,
                              content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": signed}, resource="/twilio/sms")
        return call_api("inbound_sms", event)

    return send


@pytest.fixture
def after_hours(queues):
    """Run the after-hours consumer over what inbound_sms queued, then send what it queued."""

    def run():
        result = queues.deliver("after_hours", "INBOUND_EVENTS_QUEUE_URL")
        queues.deliver()
        return result

    return run

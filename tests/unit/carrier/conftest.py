"""A fresh carrier sandbox per test, and the real Twilio client (through the carrier module) pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local.carrier_sandbox import CarrierSandbox
from local.carrier_sandbox.recorder import WebhookRecorder
from switchboard.carrier import Carrier, Credentials
from tests.unit.carrier.clinic_address import CLINIC_ADDRESS

FAST = (0.01, 0.01, 0.02)


@pytest.fixture
def carrier_sandbox(tmp_path: Path) -> Iterator[CarrierSandbox]:
    sandbox = CarrierSandbox(tmp_path / "carrier", message_delays=FAST, order_step_seconds=60)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox_carrier(carrier_sandbox: CarrierSandbox) -> Carrier:
    """The module's Carrier over the real twilio client; a short timeout so hangs cost little."""
    account = Credentials(carrier_sandbox.account_sid, carrier_sandbox.auth_token)
    return Carrier(account, api_url=carrier_sandbox.url, timeout=0.5)


@pytest.fixture
def address_sid(sandbox_carrier: Carrier) -> str:
    """The clinic's business address, saved as the account's Address (hosted orders name it)."""
    return sandbox_carrier.save_address(CLINIC_ADDRESS)


@pytest.fixture
def webhooks() -> Iterator[WebhookRecorder]:
    recorder = WebhookRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture
def line_number(sandbox_carrier: Carrier, webhooks: WebhookRecorder) -> str:
    """A number the account owns, with its webhooks pointing at the recorder, in a Messaging Service whose A2P
    10DLC campaign is registered (the sandbox's new services start registered)."""
    number = sandbox_carrier.search_numbers(area_code="415", limit=1)[0].phone_number
    sid = sandbox_carrier.buy_number(
        phone_number=number,
        sms_url=f"{webhooks.url}/twilio/sms",
        voice_url=f"{webhooks.url}/twilio/voice",
    )
    sandbox_carrier.add_to_sender_pool(sandbox_carrier.create_messaging_service(friendly_name="Test clinic"), sid)
    return number

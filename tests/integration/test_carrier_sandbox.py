"""The standalone carrier sandbox, driven by the real twilio client; its webhooks are checked like Twilio's."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from local.carrier_sandbox.recorder import Received, WebhookRecorder
from switchboard.carrier import SandboxHttpClient

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PATIENT = "+14155552671"
WAIT_SECONDS = 60  # for the sandbox to start, answer, post its webhooks or stop: generous for a busy machine


@dataclass
class RunningSandbox:
    url: str
    account_sid: str
    auth_token: str
    data_dir: Path
    process: subprocess.Popen[str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """`python -m local.carrier_sandbox` as the local stack runs it."""
    data_dir, port = tmp_path_factory.mktemp("carrier"), free_port()
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "switchboard")])}
    command = [sys.executable, "-m", "local.carrier_sandbox", "--data-dir", str(data_dir), "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--message-delays", "0.02,0.02,0.05"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            account = requests.get(f"{url}/sandbox/account", timeout=5).json()
            break
        except (requests.ConnectionError, requests.Timeout):
            assert process.poll() is None and time.monotonic() < deadline, "the carrier sandbox did not start"
            time.sleep(0.05)
    running = RunningSandbox(url, account["account_sid"], account["auth_token"], data_dir, process)
    yield running
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def webhooks() -> Iterator[WebhookRecorder]:
    recorder = WebhookRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture
def client(sandbox: RunningSandbox) -> Client:
    return Client(sandbox.account_sid, sandbox.auth_token, http_client=SandboxHttpClient(sandbox.url))


def signed_by(token: str, request: Received) -> bool:
    return bool(RequestValidator(token).validate(request.url, request.params, request.headers["X-Twilio-Signature"]))


def buy(client: Client, webhooks: WebhookRecorder) -> str:
    number = client.available_phone_numbers("US").local.list(area_code=415, sms_enabled=True, limit=1)[0].phone_number
    bought = client.incoming_phone_numbers.create(
        phone_number=number, sms_url=f"{webhooks.url}/twilio/sms", voice_url=f"{webhooks.url}/twilio/voice"
    )
    # In a Messaging Service whose A2P 10DLC campaign is registered (new services start so in the sandbox), as
    # every line's number is: US carriers block a local number's texts otherwise (30034).
    service = client.messaging.v1.services.create(friendly_name="Test clinic", use_inbound_webhook_on_number=True)
    client.messaging.v1.services(service.sid).phone_numbers.create(phone_number_sid=bought.sid)
    return str(number)


def test_a_sent_text_reports_signed_statuses_until_delivered(
    sandbox: RunningSandbox, client: Client, webhooks: WebhookRecorder
) -> None:
    line = buy(client, webhooks)

    message = client.messages.create(
        to=PATIENT, from_=line, body="Your appointment is at 3pm", status_callback=f"{webhooks.url}/twilio/status?t=1"
    )
    calls = webhooks.wait_for(lambda got: any(r.params.get("MessageStatus") == "delivered" for r in got),
                              timeout=WAIT_SECONDS)

    assert message.status == "queued" and message.sid.startswith("SM")
    assert [c.params["MessageStatus"] for c in calls] == ["sending", "sent", "delivered"]
    for call in calls:
        assert signed_by(sandbox.auth_token, call), call.params
        assert not signed_by("0" * 32, call)
        assert (call.params["MessageSid"], call.params["To"], call.params["From"]) == (message.sid, PATIENT, line)
    assert client.messages(message.sid).fetch().status == "delivered"


def test_a_local_number_outside_a_registered_campaign_is_blocked_with_30034(
    sandbox: RunningSandbox, client: Client, webhooks: WebhookRecorder
) -> None:
    number = client.available_phone_numbers("US").local.list(area_code=312, sms_enabled=True, limit=1)[0].phone_number
    client.incoming_phone_numbers.create(phone_number=number, sms_url=f"{webhooks.url}/twilio/sms")
    message = client.messages.create(to=PATIENT, from_=number, body="Reminder",
                                     status_callback=f"{webhooks.url}/twilio/status?t=unregistered")
    calls = webhooks.wait_for(lambda got: any(r.params.get("MessageSid") == message.sid
                                              and r.params.get("MessageStatus") == "failed" for r in got),
                              timeout=WAIT_SECONDS)
    failed = next(c for c in calls if c.params.get("MessageSid") == message.sid)
    assert failed.params["ErrorCode"] == "30034"


def test_a_patients_text_reaches_our_webhook_signed(
    sandbox: RunningSandbox, client: Client, webhooks: WebhookRecorder
) -> None:
    line = buy(client, webhooks)

    answer = requests.post(
        f"{sandbox.url}/sandbox/inbound/sms", json={"from": PATIENT, "to": line, "body": "Running late"},
        timeout=WAIT_SECONDS).json()

    [request] = webhooks.received
    assert answer["status"] == 200 and request.url == f"{webhooks.url}/twilio/sms"
    assert signed_by(sandbox.auth_token, request)
    assert (request.params["Body"], request.params["SmsStatus"]) == ("Running late", "received")


def test_the_sandbox_stops_cleanly_and_keeps_what_it_saw(sandbox: RunningSandbox) -> None:
    sandbox.process.send_signal(signal.SIGTERM)

    assert sandbox.process.wait(timeout=WAIT_SECONDS) == 0
    state = json.loads((sandbox.data_dir / "carrier.json").read_text())
    assert state["account_sid"] == sandbox.account_sid
    assert [m["direction"] for m in state["state"]["messages"].values()].count("outbound-api") >= 1


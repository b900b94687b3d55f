"""The Carrier class over the real twilio client, against the carrier sandbox started in-process."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from local.carrier_sandbox import CarrierSandbox
from local.carrier_sandbox.recorder import WebhookRecorder
from switchboard.carrier import (
    Carrier,
    CarrierNotConfigured,
    CarrierRefused,
    CarrierUnavailable,
    Credentials,
    Outcome,
    carrier,
    credentials,
)
from switchboard.carrier.http import sandbox_url
from switchboard.core.settings import carrier_settings
from tests.clock import wait_until
from tests.unit.carrier.clinic_address import CLINIC_ADDRESS

PATIENT = "+14155552671"


def send(carrier: Carrier, line: str, to: str = PATIENT, body: str = "Your table is ready") -> str:
    return carrier.send_message(to=to, from_=line, body=body, status_callback="http://127.0.0.1:9/status").sid


def test_a_sent_message_is_queued_then_delivered(sandbox_carrier: Carrier, line_number: str) -> None:
    sent = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="Hello from the clinic", status_callback="http://127.0.0.1:9/s"
    )

    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert (sent.status, sent.num_segments) == ("queued", 1)
    message = wait_until(lambda: (m := sandbox_carrier.fetch_message(sent.sid)).status == "delivered" and m)
    assert message and (message.to, message.from_, message.error_code) == (PATIENT, line_number, None)


def test_a_long_unicode_text_counts_unicode_segments(sandbox_carrier: Carrier, line_number: str) -> None:
    sent = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="Café 😀 " * 12, status_callback="http://127.0.0.1:9/s"
    )

    assert sent.num_segments == 2


def test_find_messages_finds_what_was_sent_to_that_patient_since_then(
    sandbox_carrier: Carrier, line_number: str
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    first, second = send(sandbox_carrier, line_number), send(sandbox_carrier, line_number)
    send(sandbox_carrier, line_number, to="+14155552672")

    found = sandbox_carrier.find_messages(to=PATIENT, from_=line_number, sent_after=before)

    assert [m.sid for m in found] == [second, first]
    assert found[0].body == "Your table is ready" and "Your table" not in repr(found[0])
    assert (
        sandbox_carrier.find_messages(to=PATIENT, from_=line_number, sent_after=datetime.now(UTC) + timedelta(1)) == []
    )


def test_a_landline_is_not_textable(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    carrier_sandbox.register_landline("+13125550123")

    for landline in ("+14155550193", "+13125550123"):
        with pytest.raises(CarrierRefused) as refused:
            send(sandbox_carrier, line_number, to=landline)
        assert (refused.value.code, refused.value.outcome) == (21614, Outcome.NOT_TEXTABLE)
        assert refused.value.reason == "not a mobile number"


def test_an_invalid_number_is_refused(sandbox_carrier: Carrier, line_number: str) -> None:
    with pytest.raises(CarrierRefused) as refused:
        send(sandbox_carrier, line_number, to="+1415555")

    assert refused.value.outcome is Outcome.INVALID_NUMBER
    assert "415555" not in str(refused.value)


def test_a_patient_who_texted_stop_is_opted_out(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    _text(carrier_sandbox, PATIENT, line_number, "Stop.")

    with pytest.raises(CarrierRefused) as refused:
        send(sandbox_carrier, line_number)

    assert (refused.value.code, refused.value.outcome, refused.value.reason) == (
        21610,
        Outcome.OPTED_OUT,
        "recipient opted out",
    )
    _text(carrier_sandbox, PATIENT, line_number, "start")
    assert send(sandbox_carrier, line_number).startswith("SM")


def _text(sandbox: CarrierSandbox, from_: str, to: str, body: str) -> None:
    import requests

    answer = requests.post(
        f"{sandbox.url}/sandbox/inbound/sms", json={"from": from_, "to": to, "body": body}, timeout=5
    )
    assert answer.status_code == 200, answer.text


def test_a_number_the_account_does_not_own_cannot_send(sandbox_carrier: Carrier) -> None:
    with pytest.raises(CarrierRefused) as refused:
        send(sandbox_carrier, "+14155550100")

    assert (refused.value.code, refused.value.outcome) == (21606, Outcome.REFUSED)


def test_number_search_offers_the_same_plausible_numbers_until_one_is_bought(sandbox_carrier: Carrier) -> None:
    found = sandbox_carrier.search_numbers(area_code="212", limit=5)

    assert len(found) == 5 and len({n.phone_number for n in found}) == 5
    assert all(n.phone_number.startswith("+1212") and len(n.phone_number) == 12 for n in found)
    assert (found[0].locality, found[0].region) == ("New York", "NY")
    assert sandbox_carrier.search_numbers(area_code="212", limit=5) == found

    sandbox_carrier.buy_number(
        phone_number=found[0].phone_number, sms_url="http://x/s", voice_url=""
    )

    assert found[0] not in sandbox_carrier.search_numbers(area_code="212", limit=5)


def test_number_search_honours_contains(sandbox_carrier: Carrier) -> None:
    found = sandbox_carrier.search_numbers(area_code="415", contains="2671", limit=3)

    assert found and all("2671" in n.phone_number for n in found)


def test_number_search_wants_a_three_digit_area_code(sandbox_carrier: Carrier) -> None:
    with pytest.raises(ValueError):
        sandbox_carrier.search_numbers(area_code="41")


def test_a_bought_number_carries_our_webhooks_until_released(
    sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox
) -> None:
    number = sandbox_carrier.search_numbers(area_code="617", limit=1)[0].phone_number
    sid = sandbox_carrier.buy_number(phone_number=number, sms_url="https://api/sms", voice_url="https://api/voice")

    bought = {n["sid"]: n for n in _numbers(carrier_sandbox)}[sid]
    assert (bought["sms_url"], bought["voice_url"], bought["status_callback"]) == (
        "https://api/sms", "https://api/voice", "")
    sandbox_carrier.update_number(sid, sms_url="https://api/sms2", voice_url="https://api/voice2")

    owned = {n["sid"]: n for n in _numbers(carrier_sandbox)}
    assert sid.startswith("PN") and owned[sid]["phone_number"] == number
    assert (owned[sid]["sms_url"], owned[sid]["voice_url"]) == ("https://api/sms2", "https://api/voice2")

    with pytest.raises(CarrierRefused) as taken:
        sandbox_carrier.buy_number(phone_number=number, sms_url="", voice_url="")
    assert taken.value.code == 21422

    sandbox_carrier.release_number(sid)
    sandbox_carrier.release_number(sid)  # already gone counts as released
    assert sid not in {n["sid"] for n in _numbers(carrier_sandbox)}


def _numbers(sandbox: CarrierSandbox) -> list[dict[str, str]]:
    import requests

    return list(requests.get(f"{sandbox.url}/sandbox/numbers", timeout=5).json()["numbers"])


def _order(carrier: Carrier, number: str = "+14155550142") -> str:
    return carrier.order_hosted_number(
        phone_number=number,
        address_sid=carrier.save_address(CLINIC_ADDRESS),
        contact_email="director@clinic.example",
        contact_phone="+14155550150",
        friendly_name="Clinic - Front desk",
        sms_url="https://api/sms",
        status_callback_url="https://api/orders",
    ).sid


def test_a_hosted_order_moves_through_its_states_and_brings_the_number(
    sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox
) -> None:
    sid = _order(sandbox_carrier)

    seen = [sandbox_carrier.fetch_hosted_order(sid).status]
    for _ in range(5):
        carrier_sandbox.advance_clock(60)
        seen.append(sandbox_carrier.fetch_hosted_order(sid).status)

    assert sid.startswith("HR")
    assert seen == ["received", "pending-verification", "verified", "pending-loa", "carrier-processing", "completed"]
    order = sandbox_carrier.fetch_hosted_order(sid)
    hosted = {n["sid"]: n for n in _numbers(carrier_sandbox)}[order.incoming_phone_number_sid or ""]
    assert (hosted["phone_number"], hosted["sms_url"], hosted["origin"]) == (
        "+14155550142",
        "https://api/sms",
        "hosted",
    )


def test_a_hosted_order_can_be_failed_with_a_reason(sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox) -> None:
    sid = _order(sandbox_carrier)

    carrier_sandbox.fail_order(sid, "The signer is not authorized")

    order = sandbox_carrier.fetch_hosted_order(sid)
    assert (order.status, order.failure_reason, order.incoming_phone_number_sid) == (
        "failed",
        "The signer is not authorized",
        None,
    )


def test_a_hosted_order_can_be_completed_at_once(sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox) -> None:
    sid = _order(sandbox_carrier)

    carrier_sandbox.complete_order(sid)

    assert sandbox_carrier.fetch_hosted_order(sid).status == "completed"


def test_line_type_tells_mobiles_from_landlines(sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox) -> None:
    carrier_sandbox.register_landline("+12065550123")

    assert sandbox_carrier.line_type(PATIENT) == "mobile"
    assert sandbox_carrier.line_type("+14155550190") == "landline"
    assert sandbox_carrier.line_type("+12065550123") == "landline"
    with pytest.raises(CarrierRefused) as refused:
        sandbox_carrier.line_type("+1415")
    assert refused.value.outcome is Outcome.INVALID_NUMBER


def test_a_server_error_is_unavailable_and_the_next_send_goes_through(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    carrier_sandbox.add_faults({"status": 500})

    with pytest.raises(CarrierUnavailable) as unavailable:
        send(sandbox_carrier, line_number)
    sid = send(sandbox_carrier, line_number)

    assert (unavailable.value.status, unavailable.value.uncertain) == (500, True)
    assert [m["sid"] for m in carrier_sandbox.messages(to=PATIENT)] == [sid]


def test_rate_limiting_is_unavailable_and_certain(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    carrier_sandbox.add_faults({"status": 429})

    with pytest.raises(CarrierUnavailable) as unavailable:
        send(sandbox_carrier, line_number)

    assert (unavailable.value.status, unavailable.value.uncertain) == (429, False)
    assert carrier_sandbox.messages(to=PATIENT) == []


def test_an_injected_error_code_is_refused(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    carrier_sandbox.add_faults({"code": 21635})

    with pytest.raises(CarrierRefused) as refused:
        send(sandbox_carrier, line_number)

    assert (refused.value.code, refused.value.outcome) == (21635, Outcome.NOT_TEXTABLE)


def test_a_send_accepted_before_a_server_error_is_found_before_any_resend(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    carrier_sandbox.add_faults({"accept_then_fail": True})

    with pytest.raises(CarrierUnavailable) as unavailable:
        send(sandbox_carrier, line_number)

    assert unavailable.value.uncertain
    found = sandbox_carrier.find_messages(to=PATIENT, from_=line_number, sent_after=before)
    assert [m.sid for m in found] == [m["sid"] for m in carrier_sandbox.messages(to=PATIENT)]
    assert wait_until(lambda: sandbox_carrier.fetch_message(found[0].sid).status == "delivered")


def test_a_hung_carrier_times_out_as_uncertain_and_the_send_is_found(
    sandbox_carrier: Carrier, line_number: str, carrier_sandbox: CarrierSandbox
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    carrier_sandbox.add_faults({"hang": 2})

    started = time.monotonic()
    with pytest.raises(CarrierUnavailable) as unavailable:
        send(sandbox_carrier, line_number)

    assert time.monotonic() - started < 1.5
    assert (unavailable.value.reason, unavailable.value.uncertain) == ("carrier did not answer in time", True)
    assert len(sandbox_carrier.find_messages(to=PATIENT, from_=line_number, sent_after=before)) == 1


def test_an_unreachable_carrier_is_unavailable_and_certain() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = Carrier(Credentials("AC" + "0" * 32, "token"), api_url=f"http://127.0.0.1:{port}", timeout=0.5)

    with pytest.raises(CarrierUnavailable) as unavailable:
        nowhere.send_message(to=PATIENT, from_="+14155550100", body="hi", status_callback="http://x/")

    assert (unavailable.value.reason, unavailable.value.uncertain) == ("could not connect to the carrier", False)


def test_wrong_credentials_are_refused(carrier_sandbox: CarrierSandbox) -> None:
    stranger = Carrier(Credentials(carrier_sandbox.account_sid, "wrong"), api_url=carrier_sandbox.url)

    with pytest.raises(CarrierRefused) as refused:
        stranger.fetch_message("SM" + "0" * 32)

    assert (refused.value.code, refused.value.status, refused.value.reason) == (
        20003,
        401,
        "carrier rejected our credentials",
    )


def test_the_sdk_logs_no_phone_number(
    sandbox_carrier: Carrier, line_number: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        send(sandbox_carrier, line_number, body="Private note")
        sandbox_carrier.line_type(PATIENT)
        sandbox_carrier.find_messages(to=PATIENT, from_=line_number, sent_after=datetime.now(UTC))

    carrier_lines = [r.getMessage() for r in caplog.records if not r.name.startswith("carrier_sandbox")]
    assert not [line for line in carrier_lines if "4155552671" in line or "Private note" in line]


def test_twilio_urls_are_rewritten_to_the_sandbox_and_others_left_alone() -> None:
    base = "http://127.0.0.1:8765/"

    assert (
        sandbox_url(base, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B1")
        == "http://127.0.0.1:8765/api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B1"
    )
    assert (
        sandbox_url(base, "https://numbers.twilio.com/v2/HostedNumber/Orders/HR1")
        == "http://127.0.0.1:8765/numbers.twilio.com/v2/HostedNumber/Orders/HR1"
    )
    assert sandbox_url(base, "https://example.com/x") == "https://example.com/x"
    assert sandbox_url(base, "https://twilio.com.evil.example/x") == "https://twilio.com.evil.example/x"


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, carrier_sandbox: CarrierSandbox) -> Iterator[str]:
    monkeypatch.setenv("TWILIO_SECRET_NAME", "switchboard/twilio-test")
    monkeypatch.setenv("CARRIER_API_URL", carrier_sandbox.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    carrier_settings.cache_clear()
    parameters.clear_caches()
    with mock_aws():
        yield "switchboard/twilio-test"
    carrier_settings.cache_clear()
    parameters.clear_caches()


def test_the_carrier_is_built_from_the_secret_and_points_at_the_sandbox(
    secret_env: str, carrier_sandbox: CarrierSandbox, webhooks: WebhookRecorder
) -> None:
    secret = {"account_sid": carrier_sandbox.account_sid, "auth_token": carrier_sandbox.auth_token}
    boto3.client("secretsmanager").create_secret(Name=secret_env, SecretString=json.dumps(secret))

    assert credentials() == Credentials(carrier_sandbox.account_sid, carrier_sandbox.auth_token)
    assert carrier() is carrier()
    assert carrier().search_numbers(area_code="303", limit=1)
    assert "auth_token" not in repr(credentials()) and carrier_sandbox.auth_token not in repr(credentials())


def test_a_secret_without_the_token_is_a_configuration_error(secret_env: str) -> None:
    boto3.client("secretsmanager").create_secret(Name=secret_env, SecretString=json.dumps({"account_sid": "AC1"}))

    with pytest.raises(CarrierNotConfigured, match="auth_token"):
        credentials()


def test_an_address_is_created_then_updated_in_place(sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox) -> None:
    sid = sandbox_carrier.save_address(CLINIC_ADDRESS)
    moved = replace(CLINIC_ADDRESS, street="1 N State St", street_secondary=None, postal_code="60602")

    assert sandbox_carrier.save_address(moved, address_sid=sid) == sid
    [kept] = carrier_sandbox.addresses()
    assert sid.startswith("AD") and kept["sid"] == sid
    assert (kept["customer_name"], kept["street"], kept["street_secondary"], kept["city"], kept["region"],
            kept["postal_code"], kept["iso_country"]) == (
        "Maple Family Clinic LLC", "1 N State St", "", "Chicago", "IL", "60602", "US")


def test_an_address_deleted_at_the_carrier_is_made_anew(sandbox_carrier: Carrier,
                                                        carrier_sandbox: CarrierSandbox) -> None:
    sid = sandbox_carrier.save_address(CLINIC_ADDRESS, address_sid="AD" + "0" * 32)

    assert [a["sid"] for a in carrier_sandbox.addresses()] == [sid]


def test_an_address_the_carrier_cannot_validate_is_refused_with_its_code(sandbox_carrier: Carrier) -> None:
    with pytest.raises(CarrierRefused) as refused:
        sandbox_carrier.save_address(replace(CLINIC_ADDRESS, postal_code="00000"))

    assert refused.value.code == 21628


def test_a_hosted_order_names_the_address_and_is_refused_without_a_known_one(
    sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox
) -> None:
    sid = _order(sandbox_carrier)
    [address] = carrier_sandbox.addresses()
    [order] = carrier_sandbox.hosted_orders()
    assert (order["sid"], order["address_sid"]) == (sid, address["sid"])

    with pytest.raises(CarrierRefused) as refused:
        sandbox_carrier.order_hosted_number(
            phone_number="+14155550143", contact_email="director@clinic.example", contact_phone="+14155550150",
            friendly_name="Clinic", sms_url="https://api/sms", status_callback_url="https://api/orders",
            address_sid="AD" + "0" * 32)
    assert refused.value.code == 22109


def test_the_letter_of_authorization_is_signing_at_pending_loa_then_signed(
    sandbox_carrier: Carrier, carrier_sandbox: CarrierSandbox
) -> None:
    sid = _order(sandbox_carrier)
    document = sandbox_carrier.fetch_hosted_order(sid).signing_document_sid
    assert document and document.startswith("PX")
    assert sandbox_carrier.loa_status(document) == "opened"

    carrier_sandbox.advance_clock(3 * 60)
    assert sandbox_carrier.fetch_hosted_order(sid).status == "pending-loa"
    assert sandbox_carrier.loa_status(document) == "signing"

    carrier_sandbox.sign_loa(sid)
    assert sandbox_carrier.loa_status(document) == "signed"

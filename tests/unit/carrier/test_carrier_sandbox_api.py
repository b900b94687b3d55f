"""The carrier sandbox behaves like Twilio: shapes, signed webhooks, opt-outs, paging, faults, restarts."""

from __future__ import annotations

import base64
import re
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from local.carrier_sandbox import CarrierSandbox
from local.carrier_sandbox.phones import segments
from local.carrier_sandbox.recorder import Received, WebhookRecorder
from switchboard.carrier import Carrier, Credentials, SandboxHttpClient
from tests.clock import PATIENCE, wait_until

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped

PATIENT = "+14155552671"


def api(sandbox: CarrierSandbox, path: str) -> str:
    return f"{sandbox.url}/api.twilio.com/2010-04-01/Accounts/{sandbox.account_sid}/{path}"


def auth(sandbox: CarrierSandbox) -> tuple[str, str]:
    return (sandbox.account_sid, sandbox.auth_token)


def control(sandbox: CarrierSandbox, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{sandbox.url}/sandbox/{path}", json=body, timeout=5)
    assert answer.status_code < 300, answer.text
    return answer.json()


def signed(request: Received, token: str) -> bool:
    return bool(RequestValidator(token).validate(request.url, request.params, request.headers["X-Twilio-Signature"]))


def test_wrong_credentials_get_twilios_401(carrier_sandbox: CarrierSandbox) -> None:
    answer = requests.get(api(carrier_sandbox, "Messages.json"), auth=(carrier_sandbox.account_sid, "nope"), timeout=5)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_a_created_message_has_twilios_shape(carrier_sandbox: CarrierSandbox, line_number: str) -> None:
    answer = requests.post(
        api(carrier_sandbox, "Messages.json"),
        data={"To": PATIENT, "From": line_number, "Body": "x" * 161, "StatusCallback": "http://127.0.0.1:9/s"},
        auth=auth(carrier_sandbox),
        timeout=5,
    )

    message = answer.json()
    assert answer.status_code == 201
    assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
    assert (message["status"], message["direction"], message["num_segments"]) == ("queued", "outbound-api", "2")
    assert (message["to"], message["from"], message["error_code"], message["date_sent"]) == (
        PATIENT,
        line_number,
        None,
        None,
    )
    assert parsedate_to_datetime(message["date_created"]).utcoffset() is not None
    assert message["uri"] == f"/2010-04-01/Accounts/{carrier_sandbox.account_sid}/Messages/{message['sid']}.json"
    assert not [key for key in message if key.startswith("_")]


def test_a_missing_message_is_twilios_404(carrier_sandbox: CarrierSandbox) -> None:
    answer = requests.get(api(carrier_sandbox, f"Messages/SM{'0' * 32}.json"), auth=auth(carrier_sandbox), timeout=5)

    assert (answer.status_code, answer.json()["code"]) == (404, 20404)


@pytest.mark.parametrize(
    ("body", "count"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("€" * 80, 1), ("€" * 81, 2), ("é" * 160, 1)],
)
def test_gsm_texts_split_at_160_then_153(body: str, count: int) -> None:
    assert segments(body) == count


@pytest.mark.parametrize(
    ("body", "count"), [("ł" * 70, 1), ("ł" * 71, 2), ("ł" * 134, 2), ("😀" * 35, 1), ("😀" * 36, 2)]
)
def test_unicode_texts_split_at_70_then_67(body: str, count: int) -> None:
    assert segments(body) == count


def test_status_callbacks_are_signed_and_walk_to_delivered(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, line_number: str, webhooks: WebhookRecorder
) -> None:
    sid = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="hi", status_callback=f"{webhooks.url}/twilio/status?m=42"
    ).sid

    calls = webhooks.wait_for(lambda got: any(r.params.get("MessageStatus") == "delivered" for r in got),
                              timeout=PATIENCE)

    assert [c.params["MessageStatus"] for c in calls] == ["sending", "sent", "delivered"]
    assert all(signed(c, carrier_sandbox.auth_token) for c in calls)
    last = calls[-1].params
    assert {k: last[k] for k in ("MessageSid", "SmsSid", "SmsStatus", "AccountSid", "From", "To", "ApiVersion")} == {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "AccountSid": carrier_sandbox.account_sid,
        "From": line_number,
        "To": PATIENT,
        "ApiVersion": "2010-04-01",
    }
    assert re.fullmatch(r"\d{10}", last["RawDlrDoneDate"]) and "ErrorCode" not in last
    assert calls[-1].url.endswith("/twilio/status?m=42")


def test_an_undelivered_text_reports_its_error_code(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, line_number: str, webhooks: WebhookRecorder
) -> None:
    carrier_sandbox.add_faults({"final_status": "undelivered", "error_code": 30007})
    sid = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="hi", status_callback=f"{webhooks.url}/s"
    ).sid

    calls = webhooks.wait_for(lambda got: any(r.params.get("MessageStatus") == "undelivered" for r in got),
                              timeout=PATIENCE)

    assert (calls[-1].params["ErrorCode"], "RawDlrDoneDate" in calls[-1].params) == ("30007", True)
    assert sandbox_carrier.fetch_message(sid).error_code == 30007


def test_faults_for_some_recipients_pass_sends_to_others_by(
    carrier_sandbox: CarrierSandbox, line_number: str
) -> None:
    other = "+14155550177"
    control(carrier_sandbox, "POST", "faults", {"faults": [{"status": 503}], "to": [PATIENT]})

    def send(to: str) -> int:
        return requests.post(api(carrier_sandbox, "Messages.json"), auth=auth(carrier_sandbox), timeout=5,
                             data={"To": to, "From": line_number, "Body": "hi"}).status_code

    assert send(other) == 201  # not one of the fault's recipients: the fault waits
    assert control(carrier_sandbox, "GET", "faults")["faults"] == [{"status": 503}]
    assert send(PATIENT) == 503
    assert send(PATIENT) == 201
    control(carrier_sandbox, "POST", "faults", {"rate": 1, "status": 500, "to": [PATIENT]})
    assert (send(other), send(PATIENT)) == (201, 500)


def test_an_unreachable_callback_url_does_not_stop_delivery(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, line_number: str
) -> None:
    sid = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="hi", status_callback="http://127.0.0.1:9/nobody"
    ).sid

    wait_until(lambda: sandbox_carrier.fetch_message(sid).status == "delivered")

    assert sandbox_carrier.fetch_message(sid).status == "delivered"


def test_the_sdk_pages_through_message_lists(carrier_sandbox: CarrierSandbox, line_number: str) -> None:
    client = Client(
        carrier_sandbox.account_sid, carrier_sandbox.auth_token, http_client=SandboxHttpClient(carrier_sandbox.url)
    )
    sids = [client.messages.create(to=PATIENT, from_=line_number, body=f"n{i}").sid for i in range(5)]

    page = requests.get(
        api(carrier_sandbox, "Messages.json"),
        params={"To": PATIENT, "PageSize": "2"},
        auth=auth(carrier_sandbox),
        timeout=5,
    ).json()
    listed = client.messages.list(to=PATIENT, from_=line_number, page_size=2)

    assert [m.sid for m in listed] == sids[::-1]
    assert (page["page"], page["page_size"], page["start"], page["end"], page["previous_page_uri"]) == (
        0,
        2,
        0,
        1,
        None,
    )
    assert "Page=1" in page["next_page_uri"] and page["first_page_uri"].startswith("/2010-04-01/Accounts/")


def test_date_sent_filters_match_sent_messages(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, line_number: str
) -> None:
    sid = sandbox_carrier.send_message(
        to=PATIENT, from_=line_number, body="hi", status_callback="http://127.0.0.1:9/"
    ).sid

    def date_sent() -> str | None:
        message = requests.get(api(carrier_sandbox, f"Messages/{sid}.json"), auth=auth(carrier_sandbox), timeout=5)
        return message.json()["date_sent"]

    sent_on = parsedate_to_datetime(wait_until(date_sent)).date()  # the day it was sent, in UTC

    def listed(**filters: str) -> list[str]:
        answer = requests.get(
            api(carrier_sandbox, "Messages.json"), params=filters, auth=auth(carrier_sandbox), timeout=5
        )
        return [m["sid"] for m in answer.json()["messages"]]

    assert listed(**{"DateSent>": "2000-01-01T00:00:00Z"}) == [sid]
    assert listed(**{"DateSent>": "2999-01-01T00:00:00Z"}) == []
    assert listed(**{"DateSent<": "2999-01-01"}) == [sid]
    assert listed(DateSent=sent_on.isoformat()) == [sid]


def test_an_inbound_text_is_a_signed_webhook_with_every_twilio_parameter(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    answer = control(
        carrier_sandbox,
        "POST",
        "inbound/sms",
        {"from": PATIENT, "to": line_number, "body": "Is the clinic open?",
         "media": [{"content_type": "image/jpeg", "data": base64.b64encode(b"\xff\xd8\xff\xe0").decode()}]},
    )

    [request] = webhooks.received
    assert (answer["status"], answer["body"], answer["url"]) == (200, webhooks.answer, f"{webhooks.url}/twilio/sms")
    assert signed(request, carrier_sandbox.auth_token)
    params = request.params
    assert {k: params[k] for k in ("From", "To", "Body", "NumMedia", "NumSegments", "SmsStatus", "ApiVersion")} == {
        "From": PATIENT,
        "To": line_number,
        "Body": "Is the clinic open?",
        "NumMedia": "1",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    assert params["MessageSid"] == params["SmsSid"] == params["SmsMessageSid"] == answer["message_sid"]
    assert params["AccountSid"] == carrier_sandbox.account_sid and params["MediaContentType0"] == "image/jpeg"
    assert params["MediaUrl0"].startswith(f"https://api.twilio.com/2010-04-01/Accounts/{carrier_sandbox.account_sid}"
                                          f"/Messages/{params['MessageSid']}/Media/ME")
    assert {"FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "ToState", "ToZip", "ToCountry"} <= set(params)
    assert params["FromCity"] == "San Francisco"


def test_messages_in_our_twiml_answer_are_sent_back_to_the_patient(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    webhooks.answer = "<Response><Message>We are closed until 8am.</Message></Response>"

    answer = control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "hello"})

    [reply] = control(carrier_sandbox, "GET", f"messages?to=%2B{PATIENT[1:]}&direction=outbound-reply")["messages"]
    assert answer["replies"] == [reply["sid"]]
    assert (reply["from"], reply["body"]) == (line_number, "We are closed until 8am.")


def test_stop_blocks_the_pair_and_start_unblocks_it(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, line_number: str, webhooks: WebhookRecorder
) -> None:
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": " unsubscribe! "})

    assert control(carrier_sandbox, "GET", "opt-outs")["opt_outs"] == [{"sender": line_number, "recipient": PATIENT}]
    assert len(webhooks.received) == 1  # the webhook still comes to us
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "STOP please"})
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "Yes"})
    assert control(carrier_sandbox, "GET", "opt-outs")["opt_outs"] == []


def test_an_inbound_call_is_a_signed_voice_webhook(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    webhooks.answer = "<Response><Dial><Number>+14155550111</Number></Dial></Response>"

    answer = control(carrier_sandbox, "POST", "inbound/call", {"from": PATIENT, "to": line_number})

    [request] = webhooks.received
    assert answer["body"] == webhooks.answer and answer["call_sid"].startswith("CA")
    assert request.url == f"{webhooks.url}/twilio/voice" and signed(request, carrier_sandbox.auth_token)
    assert {k: request.params[k] for k in ("Caller", "Called", "CallStatus", "Direction", "CallSid")} == {
        "Caller": PATIENT,
        "Called": line_number,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "CallSid": answer["call_sid"],
    }


def test_a_text_to_a_number_we_do_not_own_is_refused_by_the_simulator(carrier_sandbox: CarrierSandbox) -> None:
    answer = requests.post(
        f"{carrier_sandbox.url}/sandbox/inbound/sms",
        json={"from": PATIENT, "to": "+14155550100", "body": "x"},
        timeout=5,
    )

    assert answer.status_code == 404


def test_a_webhook_that_does_not_answer_is_reported_not_raised(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier
) -> None:
    number = sandbox_carrier.search_numbers(area_code="305", limit=1)[0].phone_number
    sandbox_carrier.buy_number(phone_number=number, sms_url="http://127.0.0.1:9/sms", voice_url="")

    answer = requests.post(
        f"{carrier_sandbox.url}/sandbox/inbound/sms", json={"from": PATIENT, "to": number, "body": "x"}, timeout=5
    )

    assert answer.status_code == 502 and answer.json()["status"] is None and answer.json()["error"]


def test_a_restarted_sandbox_keeps_its_account_and_everything_in_it(tmp_path: Path) -> None:
    first = CarrierSandbox(tmp_path, message_delays=(0.01,)).start()
    carrier = Carrier(Credentials(first.account_sid, first.auth_token), api_url=first.url)
    number = carrier.search_numbers(area_code="404", limit=1)[0].phone_number
    carrier.buy_number(phone_number=number, sms_url="http://x/sms", voice_url="")
    sid = carrier.send_message(to=PATIENT, from_=number, body="kept", status_callback="").sid
    first.register_landline("+14045550123")
    first.stop()

    second = CarrierSandbox(tmp_path).start()
    try:
        again = Carrier(Credentials(second.account_sid, second.auth_token), api_url=second.url)
        assert (second.account_sid, second.auth_token) == (first.account_sid, first.auth_token)
        assert again.fetch_message(sid).to == PATIENT
        assert again.line_type("+14045550123") == "landline"
        assert number not in [n.phone_number for n in again.search_numbers(area_code="404", limit=20)]
    finally:
        second.stop()


def test_a_fault_rate_fails_the_same_share_of_sends_for_a_seed(tmp_path: Path) -> None:
    def outcomes(directory: Path) -> list[int]:
        with CarrierSandbox(directory, strict_from=False) as sandbox:
            control(sandbox, "POST", "faults", {"rate": 0.3, "seed": 7, "status": 503})
            return [
                requests.post(
                    api(sandbox, "Messages.json"),
                    data={"To": PATIENT, "From": "+15005550006", "Body": "x"},
                    auth=auth(sandbox),
                    timeout=5,
                ).status_code
                for _ in range(40)
            ]

    first, second = outcomes(tmp_path / "a"), outcomes(tmp_path / "b")

    assert first == second
    assert 4 <= first.count(503) <= 20 and set(first) == {201, 503}


def test_faults_apply_in_order_and_then_stop(carrier_sandbox: CarrierSandbox) -> None:
    control(carrier_sandbox, "POST", "config", {"strict_from": False})
    control(carrier_sandbox, "POST", "faults", {"faults": [{"status": 500, "count": 2}, {"code": 20429}]})

    codes = [
        requests.post(
            api(carrier_sandbox, "Messages.json"),
            data={"To": PATIENT, "From": "+14155550100", "Body": "x"},
            auth=auth(carrier_sandbox),
            timeout=5,
        ).status_code
        for _ in range(4)
    ]

    assert codes == [500, 500, 429, 201]
    assert control(carrier_sandbox, "GET", "faults") == {"faults": [], "rate": None, "to": None}


def test_reset_forgets_the_traffic_but_keeps_the_account(carrier_sandbox: CarrierSandbox, line_number: str) -> None:
    control(carrier_sandbox, "POST", "landlines", {"phone_numbers": ["+14155550100"]})
    account = control(carrier_sandbox, "GET", "account")

    control(carrier_sandbox, "POST", "reset")

    assert control(carrier_sandbox, "GET", "numbers") == {"numbers": []}
    assert control(carrier_sandbox, "GET", "landlines") == {"landlines": []}
    assert control(carrier_sandbox, "GET", "account") == account


def test_orders_follow_the_clock_and_the_control_endpoints(
    carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier, address_sid: str
) -> None:
    def order(number: str) -> str:
        return sandbox_carrier.order_hosted_number(
            phone_number=number,
            address_sid=address_sid,
            contact_email="d@clinic.example",
            contact_phone="+14155550150",
            friendly_name="Clinic",
            sms_url="https://api/sms",
            status_callback_url="https://api/orders",
        ).sid

    slow, done, failed = order("+14155550161"), order("+14155550162"), order("+14155550163")
    control(carrier_sandbox, "POST", "clock", {"advance": 150})
    control(carrier_sandbox, "POST", f"orders/{done}/complete")
    control(carrier_sandbox, "POST", f"orders/{failed}/fail", {"failure_reason": "LOA rejected"})

    assert sandbox_carrier.fetch_hosted_order(slow).status == "verified"
    assert sandbox_carrier.fetch_hosted_order(done).status == "completed"
    assert (
        sandbox_carrier.fetch_hosted_order(failed).status,
        sandbox_carrier.fetch_hosted_order(failed).failure_reason,
    ) == (
        "failed",
        "LOA rejected",
    )
    assert {o["sid"] for o in control(carrier_sandbox, "GET", "orders")["orders"]} == {slow, done, failed}


def _to_patient(sandbox: CarrierSandbox) -> list[str]:
    return [m["body"] for m in control(sandbox, "GET", f"messages?to=%2B{PATIENT[1:]}")["messages"]]


def test_twilio_answers_help_once_and_confirms_stop_once_with_its_default_texts(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "help"})
    assert _to_patient(carrier_sandbox) == ["Reply STOP to unsubscribe. Msg&Data Rates May Apply."]
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "STOP"})
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "stop!"})
    confirmations = [b for b in _to_patient(carrier_sandbox) if b.startswith("You have successfully been unsub")]
    assert len(confirmations) == 1
    assert all("OptOutType" not in r.params for r in webhooks.received)
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "yes"})
    assert _to_patient(carrier_sandbox)[-1].startswith("You have successfully been re-subscribed")
    assert control(carrier_sandbox, "GET", "opt-outs")["opt_outs"] == []


def test_yes_from_a_patient_who_never_opted_out_gets_no_carrier_answer(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "Yes"})
    assert _to_patient(carrier_sandbox) == []
    assert len(webhooks.received) == 1


def test_advanced_opt_out_answers_with_the_services_texts_and_adds_opt_out_type(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    control(carrier_sandbox, "POST", f"advanced-opt-out/%2B{line_number[1:]}",
            {"help": "Maple Clinic: call 312-555-0100. Reply STOP to opt out.", "stop": "Maple Clinic: you are out."})
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "INFO"})
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "STOP"})
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "STOP"})
    assert _to_patient(carrier_sandbox) == ["Maple Clinic: call 312-555-0100. Reply STOP to opt out.",
                                            "Maple Clinic: you are out."]
    assert [r.params.get("OptOutType") for r in webhooks.received] == ["HELP", "STOP", "STOP"]


def test_a_send_to_a_pair_that_texted_stop_fails_with_21610_at_create(
    carrier_sandbox: CarrierSandbox, line_number: str, webhooks: WebhookRecorder
) -> None:
    control(carrier_sandbox, "POST", "inbound/sms", {"from": PATIENT, "to": line_number, "body": "STOP"})
    client = Client(
        carrier_sandbox.account_sid, carrier_sandbox.auth_token, http_client=SandboxHttpClient(carrier_sandbox.url)
    )
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=PATIENT, from_=line_number, body="Your appointment is tomorrow")
    assert refused.value.code == 21610


def test_a_hosted_order_without_an_address_is_refused_like_twilio(carrier_sandbox: CarrierSandbox) -> None:
    answer = requests.post(f"{carrier_sandbox.url}/numbers.twilio.com/v2/HostedNumber/Orders",
                           auth=(carrier_sandbox.account_sid, carrier_sandbox.auth_token), timeout=5,
                           data={"PhoneNumber": "+14155550164", "ContactPhoneNumber": "+14155550150",
                                 "Email": "d@clinic.example", "SmsCapability": "true"})
    assert (answer.status_code, answer.json()["code"]) == (400, 20001)
    assert control(carrier_sandbox, "GET", "orders") == {"orders": []}


def test_the_sign_loa_control_signs_an_orders_letter(carrier_sandbox: CarrierSandbox, sandbox_carrier: Carrier,
                                                     address_sid: str) -> None:
    order = sandbox_carrier.order_hosted_number(
        phone_number="+14155550165", address_sid=address_sid, contact_email="d@clinic.example",
        contact_phone="+14155550150", friendly_name="Clinic", sms_url="https://api/sms",
        status_callback_url="https://api/orders")
    assert control(carrier_sandbox, "POST", f"orders/{order.sid}/sign-loa")["sid"] == order.sid
    document = requests.get(
        f"{carrier_sandbox.url}/numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/{order.signing_document_sid}",
        auth=(carrier_sandbox.account_sid, carrier_sandbox.auth_token), timeout=5).json()
    assert (document["status"], document["address_sid"], document["email"]) == ("signed", address_sid,
                                                                                 "d@clinic.example")
    assert [a["sid"] for a in control(carrier_sandbox, "GET", "addresses")["addresses"]] == [address_sid]

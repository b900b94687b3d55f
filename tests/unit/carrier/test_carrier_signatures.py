"""Webhook signatures: the URL Twilio signed is rebuilt from the API Gateway event, and checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from switchboard.carrier import is_signed_by_carrier, sign, webhook_url
from switchboard.core.errors import Forbidden
from switchboard.edge.webhooks import ProxyEvent, api_base_url, carrier_parameters, requested_url, webhooks_under
from tests.unit.carrier.json_signing import is_signed_json, sign_json

TOKEN = "12345678901234567890123456789012"
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/twilio/sms"
PARAMS = {"From": "+14155552671", "To": "+14155550100", "Body": "Hello there", "MessageSid": "SM" + "a" * 32}
ROOT = Path(__file__).resolve().parents[3]


# The three kinds of public address API Gateway serves one REST API at: the execute-api host (the stage leads
# the path), a custom domain mapped at its root, and a custom domain mapped under a base path (the path then
# carries the base path, never the stage). Each: the host, what a request's path starts with, the API's root.
ADDRESSES = {
    "execute-api": ("abc123.execute-api.us-east-1.amazonaws.com", "/Prod",
                    "https://abc123.execute-api.us-east-1.amazonaws.com/Prod"),
    "custom domain": ("sms.clinic.example", "", "https://sms.clinic.example"),
    "custom domain with a base path": ("api.clinic.example", "/switchboard", "https://api.clinic.example/switchboard"),
}


def proxy_event(host: str, root: str, resource: str, path: str, *, proxy: str | None = None,
                query: dict[str, list[str]] | None = None, body: str = "", signature: str | None = None) -> ProxyEvent:
    headers = {"Host": host, "Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return ProxyEvent({
        "resource": resource, "path": path, "httpMethod": "POST", "headers": headers, "body": body,
        "pathParameters": {"proxy": proxy} if proxy else None, "multiValueQueryStringParameters": query,
        "requestContext": {"resourcePath": resource, "path": f"{root}{path}", "stage": "Prod"},
    })


@pytest.mark.parametrize("kind", ADDRESSES)
@pytest.mark.parametrize("configured", [False, True], ids=["from the request", "PUBLIC_BASE_URL"])
def test_the_urls_handed_to_the_carrier_are_the_urls_its_signatures_are_checked_against(kind: str,
                                                                                         configured: bool) -> None:
    host, root, base = ADDRESSES[kind]
    public = base if configured else None
    admin_request = proxy_event(host, root, "/api/{proxy+}", "/api/practices/P1/lines/purchase",
                                proxy="practices/P1/lines/purchase")

    handed_out = webhooks_under(api_base_url(admin_request, public))

    assert handed_out.sms_url == f"{base}/twilio/sms"
    assert (handed_out.voice_url, handed_out.status_url) == (f"{base}/twilio/voice", f"{base}/twilio/status")
    body = urlencode(PARAMS)
    for url, resource in [(handed_out.sms_url, "/twilio/sms"), (handed_out.status_url, "/twilio/status")]:
        query = {"line": ["L1"], "tag": ["b", "a"]}
        signed_url = f"{url}?line=L1&tag=b&tag=a"
        twilio_signed = RequestValidator(TOKEN).compute_signature(signed_url, PARAMS)
        webhook = proxy_event(host, root, resource, resource, query=query, body=body, signature=twilio_signed)

        assert requested_url(webhook, public) == signed_url
        assert carrier_parameters(webhook, auth_token=TOKEN, public_base_url=public)["Body"] == "Hello there"


def test_a_public_base_url_is_the_address_handed_out_whatever_host_a_request_reached() -> None:
    request = proxy_event("127.0.0.1:3000", "/local", "/api/{proxy+}", "/api/practices", proxy="practices")

    assert webhooks_under(api_base_url(request, "https://sms.clinic.example/")).sms_url == (
        "https://sms.clinic.example/twilio/sms")


def test_a_signature_for_another_address_is_refused() -> None:
    host, root, base = ADDRESSES["custom domain with a base path"]
    stage_url = f"https://{host}/Prod/twilio/sms"  # the stage where the base path belongs
    webhook = proxy_event(host, root, "/twilio/sms", "/twilio/sms", body=urlencode(PARAMS),
                          signature=RequestValidator(TOKEN).compute_signature(stage_url, PARAMS))

    with pytest.raises(Forbidden):
        carrier_parameters(webhook, auth_token=TOKEN, public_base_url=None)


def test_the_query_string_is_rebuilt_in_order_with_repeated_names() -> None:
    url = webhook_url(api_base_url="https://api.example/Prod", api_path="/twilio/status",
                      multi_value_query={"line": ["L1"], "tag": ["b", "a"], "note": ["x y&z"]})

    assert url == "https://api.example/Prod/twilio/status?line=L1&tag=b&tag=a&note=x+y%26z"


def test_a_signature_made_like_twilios_is_accepted() -> None:
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)

    assert is_signed_by_carrier(URL, PARAMS, signature, TOKEN)
    assert sign(URL, PARAMS, TOKEN) == signature


def test_a_forged_or_tampered_or_missing_signature_is_refused() -> None:
    signature = sign(URL, PARAMS, TOKEN)

    assert not is_signed_by_carrier(URL, PARAMS, sign(URL, PARAMS, "another-token"), TOKEN)
    assert not is_signed_by_carrier(URL, PARAMS | {"Body": "Hello therE"}, signature, TOKEN)
    assert not is_signed_by_carrier(URL + "?x=1", PARAMS, signature, TOKEN)
    assert not is_signed_by_carrier(URL, PARAMS, None, TOKEN)
    assert not is_signed_by_carrier(URL, PARAMS, "", TOKEN)
    assert not is_signed_by_carrier(URL, PARAMS, signature, "")


def test_the_query_string_is_part_of_what_is_signed() -> None:
    url = webhook_url(api_base_url="https://api.example/Prod", api_path="/twilio/status",
                      multi_value_query={"m": ["MSG1"]})
    signature = RequestValidator(TOKEN).compute_signature("https://api.example/Prod/twilio/status?m=MSG1", PARAMS)

    assert is_signed_by_carrier(url, PARAMS, signature, TOKEN)


def test_a_url_signed_with_the_default_port_is_accepted_without_it() -> None:
    signature = sign("https://api.example:443/Prod/twilio/sms", PARAMS, TOKEN)

    assert is_signed_by_carrier("https://api.example/Prod/twilio/sms", PARAMS, signature, TOKEN)


def test_repeated_parameters_are_signed_in_value_order() -> None:
    params: dict[str, str | list[str]] = {"MediaUrl": ["https://b", "https://a"], "To": "+14155550100"}
    by_hand = RequestValidator(TOKEN).compute_signature(URL + "MediaUrlhttps://aMediaUrlhttps://bTo+14155550100", {})

    assert sign(URL, params, TOKEN) == by_hand
    assert is_signed_by_carrier(URL, params, by_hand, TOKEN)


def test_a_json_webhook_is_checked_by_its_body_hash() -> None:
    body = json.dumps({"event": "delivered", "sid": "SM1"})
    signed_url, signature = sign_json("https://api.example/Prod/hooks?v=1", body, TOKEN)

    assert "bodySHA256=" in signed_url and signed_url.startswith("https://api.example/Prod/hooks?v=1&")
    assert is_signed_json(signed_url, body, signature, TOKEN)
    assert is_signed_json(signed_url, body.encode(), signature, TOKEN)
    assert RequestValidator(TOKEN).validate(signed_url, body, signature)
    assert not is_signed_json(signed_url, body.replace("delivered", "failed"), signature, TOKEN)
    unhashed = "https://api.example/Prod/hooks?v=1"
    assert not is_signed_json(unhashed, body, sign(unhashed, {}, TOKEN), TOKEN)
    assert not is_signed_json(signed_url, body, None, TOKEN)


def test_importing_signatures_does_not_load_the_rest_client_or_requests() -> None:
    code = (
        "import sys, switchboard.carrier.signatures, switchboard.carrier.errors, switchboard.carrier\n"
        "heavy = [m for m in sys.modules if m.startswith(('twilio.rest', 'twilio.http', 'requests'))]\n"
        "print(heavy)"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT / "layers" / "switchboard")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)

    assert result.stdout.strip() == "[]"

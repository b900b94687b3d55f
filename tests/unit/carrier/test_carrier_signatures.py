"""Webhook signatures: the URL Twilio signed is rebuilt from the API Gateway event, and checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from twilio.request_validator import RequestValidator

from switchboard.carrier import is_signed_by_carrier, sign, webhook_url
from tests.unit.carrier.json_signing import is_signed_json, sign_json

TOKEN = "12345678901234567890123456789012"
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/Prod/twilio/sms"
PARAMS = {"From": "+14155552671", "To": "+14155550100", "Body": "Hello there", "MessageSid": "SM" + "a" * 32}
ROOT = Path(__file__).resolve().parents[3]


def test_rebuilds_the_execute_api_url_with_the_stage_in_the_path() -> None:
    url = webhook_url(
        host="abc123.execute-api.us-east-1.amazonaws.com",
        path="/Prod/twilio/sms",
        multi_value_query=None,
        public_base_url=None,
    )

    assert url == URL


def test_a_public_base_url_replaces_scheme_host_and_stage() -> None:
    url = webhook_url(
        host="127.0.0.1:3000",
        path="/local/twilio/sms",
        multi_value_query=None,
        public_base_url="https://sms.clinic.example/",
    )

    assert url == "https://sms.clinic.example/twilio/sms"


def test_a_named_stage_is_removed_only_when_the_path_starts_with_it() -> None:
    def rebuild(path: str) -> str:
        return webhook_url(host="h", path=path, multi_value_query=None, public_base_url="http://gw:3000", stage="local")

    assert rebuild("/local/twilio/sms") == "http://gw:3000/twilio/sms"
    assert rebuild("/twilio/sms") == "http://gw:3000/twilio/sms"
    assert rebuild("/localities/x") == "http://gw:3000/localities/x"


def test_the_query_string_is_rebuilt_in_order_with_repeated_names() -> None:
    url = webhook_url(
        host="api.example",
        path="/Prod/twilio/status",
        multi_value_query={"line": ["L1"], "tag": ["b", "a"], "note": ["x y&z"]},
        public_base_url=None,
    )

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
    url = webhook_url(
        host="api.example", path="/Prod/twilio/status", multi_value_query={"m": ["MSG1"]}, public_base_url=None
    )
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

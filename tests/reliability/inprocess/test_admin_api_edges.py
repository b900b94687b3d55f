"""What the fuzzer found once: requests no route takes, and bodies that are not text, are 4xx, not 500."""

from __future__ import annotations

import base64
import json

import pytest

from tests.claims import ADMIN
from tests.unit.conftest import load_function, rest_event


def call(event, lambda_context):
    result = load_function("admin_api").lambda_handler(event, lambda_context)
    return result["statusCode"], json.loads(result.get("body") or "null")


@pytest.mark.parametrize("path", ["/api/nowhere", "/api/practices/x/lines/y/z/q"])
def test_a_path_no_route_takes_is_404(path, lambda_context):
    status, body = call(rest_event("GET", path, claims=ADMIN), lambda_context)
    assert status == 404, body


@pytest.mark.parametrize("path", ["/api/practices", "/api/segments"])
def test_a_body_that_is_not_utf8_is_400_naming_the_body(path, lambda_context):
    event = rest_event("POST", path, claims=ADMIN)
    event["body"], event["isBase64Encoded"] = base64.b64encode(b"\xa2s\x04\xaf{").decode(), True
    status, body = call(event, lambda_context)
    assert status == 400, body
    assert body["errors"][0]["field"] == "body"

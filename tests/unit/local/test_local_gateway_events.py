"""The local gateway's routing and API Gateway (REST v1) event shaping, without starting a server."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local.gateway import (
    Gateway,
    HttpRequest,
    MalformedProxyResponse,
    RouteTable,
    http_response,
    proxy_event,
    split_stage,
)
from local.template import Route

ADMIN = Route("AdminApiFunction", "/api/{proxy+}", "ANY", True)
WEBHOOK = Route("WebhookIntakeFunction", "/webhook/{vendor}/{token}", "ANY", False)
STATUS = Route("StatusCallbackFunction", "/twilio/status", "POST", False)
HEALTH = Route("AdminApiFunction", "/api/health", "GET", False)


def request(method: str, target: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpRequest:
    return HttpRequest(method, target, [("Host", "127.0.0.1:3000"), *(headers or [])], body)


def test_path_parameters_are_named_after_the_template_path() -> None:
    route, params = RouteTable([ADMIN, WEBHOOK]).find("POST", "/webhook/ringcentral/tok%2Ben") or (None, None)

    assert route == WEBHOOK
    assert params == {"vendor": "ringcentral", "token": "tok+en"}


def test_greedy_proxy_takes_the_rest_of_the_path_but_not_an_empty_one() -> None:
    table = RouteTable([ADMIN])

    assert table.find("GET", "/api/practices/p1/lines") == (ADMIN, {"proxy": "practices/p1/lines"})
    assert table.find("GET", "/api") is None
    assert table.find("GET", "/api/") is None


def test_a_literal_resource_wins_over_a_greedy_one_and_its_methods_are_its_own() -> None:
    table = RouteTable([ADMIN, HEALTH, STATUS])

    assert table.find("GET", "/api/health") == (HEALTH, {})
    assert table.find("DELETE", "/api/health") is None  # the resource matched; it has no DELETE
    assert table.find("GET", "/twilio/status") is None
    assert table.find("POST", "/twilio/status") == (STATUS, {})


def test_stage_prefix_is_optional() -> None:
    assert split_stage("/local/api/practices", "local") == "/api/practices"
    assert split_stage("/api/practices", "local") == "/api/practices"
    assert split_stage("/local", "local") == "/"
    assert split_stage("/localhost/x", "local") == "/localhost/x"


def test_event_has_the_rest_v1_shape_with_the_stage_in_the_context_path() -> None:
    event = proxy_event(
        request("GET", "/local/api/practices?limit=5", headers=[("User-Agent", "curl/8")]),
        ADMIN,
        {"proxy": "practices"},
        "local",
        request_id="r-1",
    )

    assert event["resource"] == "/api/{proxy+}"
    assert event["path"] == "/api/practices"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"proxy": "practices"}
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["path"] == "/local/api/practices"
    assert context["resourcePath"] == "/api/{proxy+}"
    assert context["httpMethod"] == "GET"
    assert context["requestId"] == "r-1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "curl/8"
    assert context["domainName"] == "127.0.0.1:3000"
    assert "authorizer" not in context


def test_root_requests_get_the_same_event_as_stage_requests() -> None:
    at_root = proxy_event(request("GET", "/api/practices"), ADMIN, {"proxy": "practices"}, "local")
    under_stage = proxy_event(request("GET", "/local/api/practices"), ADMIN, {"proxy": "practices"}, "local")

    assert at_root["path"] == under_stage["path"] == "/api/practices"
    assert at_root["requestContext"]["path"] == under_stage["requestContext"]["path"] == "/local/api/practices"


def test_repeated_query_parameters_and_headers_keep_every_value() -> None:
    event = proxy_event(
        request("GET", "/api/x?tag=a&tag=b&empty=&q=hello%20world", headers=[("Accept", "a/b"), ("Accept", "c/d")]),
        ADMIN,
        {"proxy": "x"},
        "local",
    )

    assert event["queryStringParameters"] == {"tag": "b", "empty": "", "q": "hello world"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""], "q": ["hello world"]}
    assert event["headers"]["Accept"] == "c/d"
    assert event["multiValueHeaders"]["Accept"] == ["a/b", "c/d"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Forwarded-Port"] == "3000"


def test_no_query_string_gives_nulls_like_api_gateway() -> None:
    event = proxy_event(request("GET", "/api/x"), ADMIN, {"proxy": "x"}, "local")

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_text_bodies_arrive_as_text() -> None:
    form = b"From=%2B14155550100&Body=Hi"
    event = proxy_event(
        request("POST", "/twilio/status", form, [("Content-Type", "application/x-www-form-urlencoded")]),
        STATUS,
        {},
        "local",
    )

    assert event["body"] == form.decode()
    assert event["isBase64Encoded"] is False
    assert event["pathParameters"] is None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("image/png", b"\x89PNG\r\n\x1a\n"), ("application/octet-stream", b"abc"), ("text/plain", b"\xff\xfe")],
)
def test_binary_bodies_arrive_base64_encoded(content_type: str, body: bytes) -> None:
    event = proxy_event(
        request("PUT", "/api/logo", body, [("Content-Type", content_type)]), ADMIN, {"proxy": "logo"}, "local"
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_claims_go_under_the_authorizer() -> None:
    event = proxy_event(request("GET", "/api/x"), ADMIN, {"proxy": "x"}, "local", claims={"sub": "u1"})

    assert event["requestContext"]["authorizer"] == {"claims": {"sub": "u1"}}


def test_proxy_response_becomes_http_with_merged_headers_and_a_json_default() -> None:
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "Set-Cookie": "ignored"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"ok": true}',
        }
    )

    assert response.status == 201
    assert ("X-One", "1") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("Content-Type", "application/json") in response.headers
    assert json.loads(response.body) == {"ok": True}


def test_base64_proxy_responses_are_decoded() -> None:
    response = http_response(
        {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": "iVBORw==", "isBase64Encoded": True}
    )

    assert response.body == base64.b64decode("iVBORw==")


@pytest.mark.parametrize("result", [None, "hello", {"body": "x"}, {"statusCode": 200, "body": {"a": 1}}])
def test_malformed_proxy_responses_are_refused(result: Any) -> None:
    with pytest.raises(MalformedProxyResponse):
        http_response(result)


def _gateway(invoke: Any) -> Gateway:
    return Gateway(
        [ADMIN, STATUS],
        invoke,
        "local",
        verify_token=lambda header: {"sub": "u1", "cognito:groups": ["admin"]} if header == "Bearer good" else None,
        shape_claims=lambda claims: {k: ",".join(v) if isinstance(v, list) else v for k, v in claims.items()},
    )


def test_gateway_answers_like_api_gateway_for_unknown_routes_and_missing_tokens() -> None:
    gateway = _gateway(lambda *_: {"statusCode": 200, "body": "{}"})

    unknown = gateway.handle(request("GET", "/nowhere"))
    no_token = gateway.handle(request("GET", "/local/api/practices"))
    bad_token = gateway.handle(request("GET", "/api/practices", headers=[("Authorization", "Bearer bad")]))

    assert (unknown.status, json.loads(unknown.body)) == (403, {"message": "Missing Authentication Token"})
    assert (no_token.status, json.loads(no_token.body)) == (401, {"message": "Unauthorized"})
    assert bad_token.status == 401


def test_gateway_passes_string_claims_and_turns_handler_errors_into_502() -> None:
    seen: list[dict[str, Any]] = []

    def invoke(function_id: str, event: dict[str, Any], request_id: str) -> Any:
        seen.append(event)
        if event["path"] == "/twilio/status":
            raise RuntimeError("boom")
        return {"statusCode": 200, "body": "{}"}

    gateway = _gateway(invoke)
    ok = gateway.handle(request("GET", "/api/practices", headers=[("Authorization", "Bearer good")]))
    failed = gateway.handle(request("POST", "/twilio/status", b"x=1"))

    assert ok.status == 200
    assert seen[0]["requestContext"]["authorizer"]["claims"] == {"sub": "u1", "cognito:groups": "admin"}
    assert (failed.status, json.loads(failed.body)) == (502, {"message": "Internal server error"})


def test_local_endpoints_are_matched_before_the_api() -> None:
    gateway = _gateway(lambda *_: {"statusCode": 200, "body": "{}"})
    gateway.add_local_endpoint(
        "POST",
        r"/local/schedules/(?P<function_id>[^/]+)/run",
        lambda req, query, path: http_response({"statusCode": 200, "body": json.dumps(path)}),
    )

    response = gateway.handle(request("POST", "/local/schedules/StatusPollerFunction/run"))

    assert json.loads(response.body) == {"function_id": "StatusPollerFunction"}

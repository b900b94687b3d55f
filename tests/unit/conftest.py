"""Unit tier: logic without I/O, and handlers against moto in-process."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws

from tests.claims import ADMIN


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    with mock_aws():
        from switchboard.data.models import create_table

        create_table()
        yield


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def load_function(name: str) -> ModuleType:
    return importlib.import_module(f"functions.{name}.app")


@dataclass
class ApiAnswer:
    status: int
    body: Any
    headers: dict[str, str]


def rest_event(method: str, path: str, body: Any = None, *, claims: dict[str, str] | None = None,
               raw_body: str | None = None) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.test"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Host": ["api.test"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "stageVariables": None,
        "body": text,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/api/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": claims} if claims else None,
        },
    }


@pytest.fixture
def admin_api(lambda_context: FakeLambdaContext) -> Callable[..., ApiAnswer]:
    """Call the admin API handler as API Gateway would; signed in as an admin unless told otherwise."""
    handler = load_function("admin_api").lambda_handler

    def call(method: str, path: str, body: Any = None, *, claims: dict[str, str] | None = ADMIN,
             raw_body: str | None = None) -> ApiAnswer:
        result = handler(rest_event(method, path, body, claims=claims, raw_body=raw_body), lambda_context)
        text = result.get("body") or "null"
        return ApiAnswer(result["statusCode"], json.loads(text), result.get("headers") or {})

    return call

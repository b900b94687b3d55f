"""Resolving the template's environment locally, the Lambda context, auth claims, SQS and schedule events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from local.auth import PoolAuthorizer, api_gateway_claims
from local.queues import failed_message_ids, sqs_event
from local.runtime import (
    LambdaRuntime,
    LocalLambdaContext,
    LocalTemplateError,
    LocalValues,
    QueueEndpoint,
    Resolver,
    local_parameters,
)
from local.scheduler import Scheduler, scheduled_event
from local.template import Schedule, load_template
from tests.clock import wait_until

ROOT = Path(__file__).resolve().parents[3]
QUEUE = QueueEndpoint(
    "OutboundQueue",
    "OutboundQueue",
    "http://127.0.0.1:5000/123456789012/OutboundQueue",
    "arn:aws:sqs:us-east-1:123456789012:OutboundQueue",
)


def _template(functions: dict[str, Any]) -> dict[str, Any]:
    return {
        "Parameters": {"Environment": {"Type": "String"}, "SecretName": {"Type": "String", "Default": "sw/twilio"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Environment"}, "prod"]}},
        "Globals": {"Function": {"Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "switchboard"}}}},
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table"},
            "OutboundQueue": {"Type": "AWS::SQS::Queue"},
            **{
                name: {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {
                        "CodeUri": f"functions/{name.lower()}/",
                        "Handler": "app.lambda_handler",
                        "Environment": {"Variables": variables},
                    },
                }
                for name, variables in functions.items()
            },
        },
    }


def _values(template: dict[str, Any]) -> LocalValues:
    return LocalValues(
        parameters=local_parameters(template, {"Environment": "local"}),
        queues={"OutboundQueue": QUEUE},
        tables={"Table": "switchboard-local"},
    )


def test_intrinsics_resolve_to_local_values() -> None:
    template = _template({})
    resolver = Resolver(template, _values(template))

    assert resolver.resolve({"Ref": "Table"}) == "switchboard-local"
    assert resolver.resolve({"Ref": "OutboundQueue"}) == QUEUE.url
    assert resolver.resolve({"Fn::GetAtt": ["OutboundQueue", "Arn"]}) == QUEUE.arn
    assert resolver.resolve({"Fn::GetAtt": ["OutboundQueue", "QueueName"]}) == "OutboundQueue"
    assert resolver.resolve({"Ref": "SecretName"}) == "sw/twilio"
    assert resolver.resolve({"Fn::Sub": "switchboard-${Environment}-${AWS::Region}"}) == "switchboard-local-us-east-1"
    assert resolver.resolve({"Fn::Sub": ["${Q}/x", {"Q": {"Ref": "OutboundQueue"}}]}) == QUEUE.url + "/x"
    assert resolver.resolve({"Fn::If": ["IsProd", "yes", "no"]}) == "no"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Environment"}]]}) == "a-local"


def test_unknown_references_fail_loudly() -> None:
    template = _template({})
    resolver = Resolver(template, _values(template))

    with pytest.raises(LocalTemplateError, match="Nowhere"):
        resolver.resolve({"Ref": "Nowhere"})
    with pytest.raises(LocalTemplateError, match="Table.StreamArn"):
        resolver.resolve({"Fn::GetAtt": ["Table", "StreamArn"]})


def test_functions_share_one_environment_but_not_conflicting_values() -> None:
    agreeing = _template({"A": {"TABLE_NAME": {"Ref": "Table"}}, "B": {"TABLE_NAME": {"Ref": "Table"}}})
    shared = LambdaRuntime(agreeing, _values(agreeing), ROOT).shared_environment()
    assert shared["TABLE_NAME"] == "switchboard-local"

    clashing = _template({"A": {"MODE": "one"}, "B": {"MODE": "two"}})
    with pytest.raises(LocalTemplateError, match="MODE"):
        LambdaRuntime(clashing, _values(clashing), ROOT).shared_environment()


def test_service_name_may_differ_per_function() -> None:
    template = _template({"A": {"POWERTOOLS_SERVICE_NAME": "a"}, "B": {"POWERTOOLS_SERVICE_NAME": "b"}})
    runtime = LambdaRuntime(template, _values(template), ROOT)

    assert runtime.shared_environment()["POWERTOOLS_SERVICE_NAME"] == "switchboard"
    assert runtime.function("A").environment["POWERTOOLS_SERVICE_NAME"] == "a"


def test_the_real_template_resolves_and_functions_are_found_by_folder_or_id() -> None:
    template = load_template(ROOT / "template.yaml")
    runtime = LambdaRuntime(template, _real_queues(template), ROOT)

    environment = runtime.shared_environment()

    assert environment["ENVIRONMENT"] == "local"
    assert runtime.function("admin_api") is runtime.function("AdminApiFunction")
    assert runtime.function("admin_api").module_name == "functions.admin_api.app"
    assert runtime.function("admin_api").lambda_environment()["USER_POOL_ID"] == "us-east-1_local"


def _real_queues(template: dict[str, Any]) -> LocalValues:
    names = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::SQS::Queue"]
    return LocalValues(
        parameters=local_parameters(template, {"Environment": "local"}),
        queues={n: QueueEndpoint(n, n, f"http://q/{n}", f"arn:aws:sqs:us-east-1:123456789012:{n}") for n in names},
        tables={"Table": "switchboard-local"},
        physical_ids={"UserPool": "us-east-1_local"},  # made in moto when the stack starts
    )


def test_context_counts_down_from_the_function_timeout() -> None:
    template = _template({"A": {}})
    function = LambdaRuntime(template, _values(template), ROOT).function("A")

    context = LocalLambdaContext(
        function.name, 512, function.arn, "req-1", "/aws/lambda/x", "stream", timeout_seconds=3
    )

    assert function.name == "switchboard-local-A"
    assert function.arn.endswith(":function:switchboard-local-A")
    assert 2900 < context.get_remaining_time_in_millis() <= 3000


ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"


def _pool_keys() -> tuple[Any, Any]:
    """A signing key and its JWKS, as a user pool publishes them."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, lambda: {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}


def _id_token(key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "s-1", "email": "front@clinic.test", "email_verified": True, "token_use": "id", "iss": ISSUER,
            "aud": "client-1", "iat": now, "exp": now + 3600, "cognito:groups": ["staff", "manager"], **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})


def test_the_pools_id_tokens_pass_with_cognito_shaped_claims() -> None:
    key, jwks = _pool_keys()
    authorizer = PoolAuthorizer(jwks, ISSUER, ["client-1", "client-2"])
    token = _id_token(key)

    verified = authorizer.verify(f"Bearer {token}") or {}
    claims = api_gateway_claims(verified)

    assert claims["sub"] == "s-1"
    assert claims["cognito:groups"] == "staff,manager"
    assert claims["email_verified"] == "true"
    assert claims["exp"].endswith(time.strftime("%Y", time.gmtime(verified["exp"]))) and " UTC " in claims["exp"]
    assert authorizer.verify(token) is not None  # without "Bearer" too
    assert authorizer.verify(_id_token(key, aud="client-2")) is not None


def test_expired_foreign_and_access_tokens_are_refused() -> None:
    key, jwks = _pool_keys()
    other_key, _ = _pool_keys()
    authorizer = PoolAuthorizer(jwks, ISSUER, ["client-1"])

    assert authorizer.verify(_id_token(key, exp=int(time.time()) - 60)) is None
    assert authorizer.verify(_id_token(other_key)) is None  # signed by a key the pool does not publish
    assert authorizer.verify(_id_token(key, iss=ISSUER + "x")) is None
    assert authorizer.verify(_id_token(key, aud="another-app")) is None
    assert authorizer.verify(_id_token(key, token_use="access")) is None
    shared_secret = "a-shared-secret-of-at-least-32-bytes"
    assert authorizer.verify(jwt.encode({"sub": "s-1", "token_use": "id"}, shared_secret, algorithm="HS256")) is None
    assert authorizer.verify(None) is None


def test_sqs_event_has_lambdas_record_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "x", "Other": "no"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "sms"}},
    }

    (record,) = sqs_event([message], QUEUE.arn)["Records"]

    assert record["messageId"] == "m1" and record["receiptHandle"] == "rh" and record["body"] == "{}"
    assert record["attributes"] == {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "x"}
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "sms",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        QUEUE.arn,
        "us-east-1",
    )


@pytest.mark.parametrize(
    ("result", "report", "failed"),
    [
        (None, True, set()),
        ({"batchItemFailures": []}, True, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, True, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, False, set()),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, True, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, True, {"a", "b"}),
        ("not json", True, {"a", "b"}),
    ],
)
def test_batch_item_failures_follow_lambdas_rules(result: Any, report: bool, failed: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"], report) == failed


def test_scheduled_event_looks_like_eventbridge() -> None:
    event = scheduled_event(Schedule("StatusPollerFunction", "rate(5 minutes)", True))

    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].startswith("arn:aws:events:us-east-1:123456789012:rule/")
    assert event["detail"] == {}


def test_schedules_run_at_their_rate_sped_up_by_the_scale() -> None:
    runs: list[tuple[str, str]] = []
    scheduler = Scheduler(
        [Schedule("PollerFunction", "rate(1 minute)", True), Schedule("OffFunction", "rate(1 minute)", False)],
        lambda function_id, event: runs.append((function_id, event["detail-type"])),
        scale=60 * 20,  # one minute -> 50 ms
    )
    started = time.monotonic()
    scheduler.start()
    wait_until(lambda: len(runs) >= 3)
    scheduler.stop()
    elapsed = time.monotonic() - started

    assert 3 <= len(runs) <= elapsed / 0.05 + 1  # never faster than one run per (scaled) minute
    assert set(runs) == {("PollerFunction", "Scheduled Event")}


def test_run_now_runs_disabled_and_cron_schedules_too() -> None:
    scheduler = Scheduler(
        [Schedule("OffFunction", "rate(1 minute)", False), Schedule("CronFunction", "cron(0 9 * * ? *)", True)],
        lambda function_id, event: function_id,
    )

    assert scheduler.run_now("OffFunction") == "OffFunction"
    assert scheduler.run_now("CronFunction") == "CronFunction"
    assert [s.function_id for s, _ in scheduler.timed()] == []
    with pytest.raises(KeyError):
        scheduler.run_now("Nobody")

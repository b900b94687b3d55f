"""Unit tier: logic without I/O, and handlers against moto in-process."""

from __future__ import annotations

import copy
import functools
import importlib
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
import pytest
from moto import mock_aws

from switchboard.carrier import sign
from tests.claims import ADMIN
from tests.clock import ClinicClock, ClinicWeek, coming_week, mend_sleep_under_libfaketime

mend_sleep_under_libfaketime()  # the year-ahead run (`faketime`) must be able to sleep


def _import_mock_signing_key_once() -> None:
    """moto's user pools all sign with one fixed key, which each new pool imports again (0.1 s of RSA work):
    every test makes a pool, so the imported key is shared."""
    from types import SimpleNamespace

    from moto.cognitoidp import models

    key = models.jwk.RSAKey.import_key(models.load_resource("cognitoidp/resources/jwks-private.json"))
    models.jwk = SimpleNamespace(RSAKey=SimpleNamespace(import_key=lambda _: key))  # type: ignore[assignment]


_import_mock_signing_key_once()


def _share_one_botocore_loader() -> None:
    """Every new botocore session parses the service models and endpoints again (a tenth of a second a client
    on a slow machine). moto starts a new default session for each test and Powertools one for each provider it
    makes, so the tier's sessions share one loader: what it read once stays read."""
    import botocore.loaders
    import botocore.session

    loader = botocore.loaders.create_loader()

    def register_data_loader(session: botocore.session.Session) -> None:
        session._components.lazy_register_component("data_loader", lambda: loader)

    botocore.session.Session._register_data_loader = register_data_loader  # type: ignore[method-assign]


_share_one_botocore_loader()


def _roll_transactions_back_item_by_item() -> None:
    """moto copies each table a transaction writes (its whole stream included) to roll the transaction back, a
    cost that grows with every test's writes: the items the transaction names are kept instead, and put back,
    with the stream as it was, when it is cancelled."""
    from types import SimpleNamespace

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend, Table, dynamo_type

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)  # rolled back below

    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        kept = []
        for entry in transact_items:
            op = next(iter(entry.values()), {})
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or {name: op.get("Item", {}).get(name)
                                    for name in (table.hash_key_attr, table.range_key_attr) if name}
            if not all(key.values()):
                continue
            hash_value = dynamo_type.DynamoType(key[table.hash_key_attr])
            range_value = dynamo_type.DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            before = table.get_item(hash_value, range_value)
            kept.append((table, hash_value, range_value, copy.deepcopy(before) if before else None))
        streams = {id(table): (table.stream_shard, len(table.stream_shard.items))
                   for table, *_ in kept if table.stream_shard is not None}
        try:
            transact(backend, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(kept):
                home = table.items[hash_value] if range_value is not None else table.items
                slot = range_value if range_value is not None else hash_value
                if before is None:
                    home.pop(slot, None)
                else:
                    home[slot] = before
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    models.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


_roll_transactions_back_item_by_item()


def _answer_attribute_values_as_stored() -> None:
    """moto walks each DynamoDB answer through the service's shapes, attribute value by attribute value (most of a
    read of a large item); an attribute value it keeps is already in the wire's form, so it goes as it is."""
    from moto.core.serialize import BaseJSONSerializer

    walk = BaseJSONSerializer._serialize_type_structure

    def serialize_structure(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and isinstance(value, dict) and key:
            serializer._default_serialize(serialized, value, shape, key)
        else:
            walk(serializer, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


_answer_attribute_values_as_stored()


# Tests that touch no AWS skip the moto set-up below (a second or more a test on a slow machine): every test
# of these folders, and any module marked `no_aws`.
NO_AWS_FOLDERS = (Path(__file__).parent / "domain",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(folder in item.path.parents for folder in NO_AWS_FOLDERS):
            item.add_marker(pytest.mark.no_aws)


@pytest.fixture(autouse=True)
def aws(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("no_aws"):
        yield
        return
    with mock_aws():
        from switchboard.data.table import create_table

        create_table()
        sqs = _client("sqs")
        for url in (os.environ["OUTBOUND_QUEUE_URL"], os.environ["FOLLOW_UP_QUEUE_URL"],
                    os.environ["MEDIA_QUEUE_URL"]):
            sqs.create_queue(QueueName=url.rsplit("/", 1)[1])
        _client("s3").create_bucket(Bucket=os.environ["MEDIA_BUCKET"])
        _event_bus_to_queue(sqs)
        _usage_plan()
        yield


@functools.cache
def _template() -> Any:
    from local.template import load_template

    return load_template(Path(__file__).resolve().parents[2] / "template.yaml")


@functools.cache
def _client(service: str) -> Any:
    """The set-up's clients, built once per run: moto answers a client whenever a mock is active."""
    return boto3.client(service)  # type: ignore[call-overload]


def _cognito() -> Any:
    return _client("cognito-idp")


@pytest.fixture
def user_pool() -> Any:
    """The template's user pool in moto, named to the admin API as deployed (`USER_POOL_ID`)."""
    from local.user_pool import create_user_pool
    from switchboard.core.settings import login_settings

    pool = create_user_pool(_cognito(), _template())
    os.environ["USER_POOL_ID"] = pool.pool_id
    os.environ["SIGN_IN_CLIENT_ID"] = pool.sign_in_client_id
    login_settings.cache_clear()
    return pool


def _usage_plan() -> None:
    """The API's usage plan for integration keys, and the parameter naming it, as the stack deploys them."""
    plan = _client("apigateway").create_usage_plan(name="IntegrationUsagePlan")["id"]
    _client("ssm").put_parameter(Name=os.environ["USAGE_PLAN_PARAMETER"], Value=plan, Type="String")


def _event_bus_to_queue(sqs: Any) -> None:
    """The deployment's bus, with a rule sending every Switchboard event to a queue tests can read."""
    events = _client("events")
    events.create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    capture = sqs.create_queue(QueueName="published-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=os.environ["EVENT_BUS_NAME"],
                    EventPattern=json.dumps({"source": ["switchboard"]}))
    events.put_targets(Rule="all", EventBusName=os.environ["EVENT_BUS_NAME"], Targets=[{"Id": "q", "Arn": arn}])


@pytest.fixture
def week() -> ClinicWeek:
    """The clinic's coming week (Chicago): Monday to Sunday, all still ahead of now."""
    return coming_week()


@pytest.fixture
def clinic_clock() -> Iterator[ClinicClock]:
    """The clock the handlers, moto and the carrier sandbox read, moved forward by the test; real again after."""
    clock = ClinicClock()
    yield clock
    clock.stop()


@pytest.fixture
def published() -> Callable[[], list[dict[str, Any]]]:
    """Events put on the bus so far: (detail-type, detail) pairs."""

    def read() -> list[dict[str, Any]]:
        sqs = _client("sqs")
        url = sqs.get_queue_url(QueueName="published-events")["QueueUrl"]
        found = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                event = json.loads(message["Body"])
                found.append({"type": event["detail-type"], **event["detail"]})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    return read


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The carrier sandbox, in-process; the real twilio client reaches it through CARRIER_API_URL."""
    from local.carrier_sandbox import CarrierSandbox

    server = CarrierSandbox(tmp_path_factory.mktemp("carrier"))
    server.start()
    os.environ["CARRIER_API_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def carrier_account(sandbox: Any) -> Any:
    """The carrier credentials in (moto's) Secrets Manager, as deployed; a clean sandbox for the test."""
    _client("secretsmanager").create_secret(
        Name=os.environ["TWILIO_SECRET_NAME"],
        SecretString=json.dumps({"account_sid": sandbox.account_sid, "auth_token": sandbox.auth_token}),
    )
    sandbox.reset()
    return sandbox


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


def rest_event(
    method: str, path: str, body: Any = None, *, claims: dict[str, str] | None = None, raw_body: str | None = None
) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    path, _, query_string = path.partition("?")
    query = parse_qs(query_string, keep_blank_values=True) if query_string else None
    return {
        "resource": "/api/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.test"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Host": ["api.test"]},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query,
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
def admin_api(lambda_context: FakeLambdaContext, user_pool: Any) -> Callable[..., ApiAnswer]:
    """Call the admin API handler as API Gateway would; signed in as an admin unless told otherwise."""
    handler = load_function("admin_api").lambda_handler

    def call(
        method: str, path: str, body: Any = None, *, claims: dict[str, str] | None = ADMIN, raw_body: str | None = None
    ) -> ApiAnswer:
        result = handler(rest_event(method, path, body, claims=claims, raw_body=raw_body), lambda_context)
        text = result.get("body") or "null"
        return ApiAnswer(result["statusCode"], json.loads(text), result.get("headers") or {})

    return call


@dataclass
class DynamoDBTraffic:
    requests: int = 0
    items_read: int = 0
    operations: list[str] | None = None


@pytest.fixture
def dynamodb_reads() -> Callable[[], Any]:
    """Count DynamoDB requests and items read, with a botocore event hook on the table's client."""
    from contextlib import contextmanager

    from switchboard.data.table import connection

    @contextmanager
    def counting() -> Iterator[DynamoDBTraffic]:
        traffic = DynamoDBTraffic(operations=[])
        events = connection().client.meta.events

        def count(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
            traffic.requests += 1
            assert traffic.operations is not None
            traffic.operations.append(model.name)
            if "Count" in parsed:
                traffic.items_read += parsed["Count"]
            elif "Item" in parsed:
                traffic.items_read += 1
            elif "Responses" in parsed and isinstance(parsed["Responses"], dict):
                traffic.items_read += sum(len(items) for items in parsed["Responses"].values())

        events.register("after-call.dynamodb", count, unique_id="test-count")
        try:
            yield traffic
        finally:
            events.unregister("after-call.dynamodb", unique_id="test-count")

    return counting


@pytest.fixture
def status_poller(lambda_context: FakeLambdaContext) -> Callable[[], Any]:
    handler = load_function("status_poller").lambda_handler
    event = json.loads(open("events/status_poller/scheduled.json").read())
    return lambda: handler(event, lambda_context)


def webhook_event(method: str, path: str, *, query: dict[str, list[str]] | None = None, body: str | None = None,
                  content_type: str | None = None, headers: dict[str, str] | None = None,
                  resource: str = "/webhook/{vendor}/{token}", path_parameters: dict[str, str] | None = None,
                  base64: bool = False) -> dict[str, Any]:
    """A public (unauthenticated) API Gateway REST proxy event, as the local gateway builds them."""
    all_headers = {"Host": "api.test", **({"Content-Type": content_type} if content_type else {}), **(headers or {})}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": base64,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/local{path}", "stage": "local",
                           "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}},
    }


@dataclass
class Queues:
    """The moto queues, drained into their consumer the way Lambda's event source would."""

    context: FakeLambdaContext
    _streams: dict[str, Any] | None = None

    def _stream(self, function_id: str) -> Any:
        if self._streams is None:
            from local.runtime import table_names
            from local.streams import stream_sources
            from local.template import functions

            template = _template()

            def invoke(function_id: str, event: dict[str, Any]) -> Any:
                folder = Path(functions(template)[function_id].code_uri).name
                return load_function(folder).lambda_handler(event, self.context)

            sources = stream_sources(
                template, table_names(template, os.environ["TABLE_NAME"]), boto3.client("dynamodb"),
                # moto answers the stream API on its classic endpoint, not botocore's per-account one
                boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com"),
                invoke, "us-east-1", starting_position="TRIM_HORIZON")
            self._streams = {source.consumer.function_id: source for source in sources}
        return self._streams[function_id]

    def _drain(self, function_id: str) -> int:
        source, done = self._stream(function_id), 0
        while batch := source.poll_once():
            done += batch
        return done

    def hand_off(self) -> int:
        """Run the table's stream through `handoff`, as its event source would: what webhooks stored reaches
        its queue."""
        return self._drain("HandoffFunction")

    def index_search(self) -> int:
        """Run the table's stream through `search_index`: what was stored can be searched for."""
        return self._drain("SearchIndexFunction")

    def messages(self, url_variable: str = "OUTBOUND_QUEUE_URL", wait: int = 0) -> list[dict[str, Any]]:
        self.hand_off()
        sqs = _client("sqs")
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=os.environ[url_variable], MaxNumberOfMessages=10,
                                        AttributeNames=["All"], WaitTimeSeconds=wait).get("Messages", [])
            if not batch:
                return found
            found.extend(batch)

    def jobs_left(self, url_variable: str = "OUTBOUND_QUEUE_URL") -> int:
        """Jobs still in the queue: waiting, delayed, or received and not yet deleted."""
        self.hand_off()
        attributes = _client("sqs").get_queue_attributes(
            QueueUrl=os.environ[url_variable], AttributeNames=["All"])["Attributes"]
        return sum(int(attributes[name]) for name in ("ApproximateNumberOfMessages",
                                                      "ApproximateNumberOfMessagesNotVisible",
                                                      "ApproximateNumberOfMessagesDelayed"))

    def deliver(self, function: str = "outbound_messaging", url_variable: str = "OUTBOUND_QUEUE_URL",
                jobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Hand every waiting job (or the received `jobs`) to the consumer in one batch; delete what it did not
        report as failed."""
        sqs = _client("sqs")
        jobs = self.messages(url_variable) if jobs is None else jobs
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:outbound",
                    "awsRegion": "us-east-1"} for m in jobs]
        if not records:
            return {"batchItemFailures": []}
        result = load_function(function).lambda_handler({"Records": records}, self.context)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in jobs:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=os.environ[url_variable], ReceiptHandle=m["ReceiptHandle"],
                                              VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=os.environ[url_variable], ReceiptHandle=m["ReceiptHandle"])
        return dict(result)


@pytest.fixture
def queues(lambda_context: FakeLambdaContext) -> Queues:
    return Queues(lambda_context)


@pytest.fixture
def queue_outage(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """SQS refuses every job sent while `outage["down"]` holds (set at first): an outage of the queue service."""
    from botocore.exceptions import EndpointConnectionError

    from switchboard.aws import queues as job_queues

    real, outage = job_queues._sqs(), {"down": True}

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def send_message(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com")

    monkeypatch.setattr(job_queues, "_sqs", lambda: Refusing() if outage["down"] else real)
    return outage


@pytest.fixture
def call_api(lambda_context: FakeLambdaContext) -> Callable[..., ApiAnswer]:
    """Call a public API function (webhooks) with a ready event."""

    def call(function: str, event: dict[str, Any]) -> ApiAnswer:
        result = load_function(function).lambda_handler(event, lambda_context)
        text = result.get("body") or ""
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        return ApiAnswer(result["statusCode"], body, result.get("headers") or {})

    return call


TEMPLATE = "Thanks for calling {practice_name}! Text us back here at {line_number}."


@dataclass
class Setup:
    practice_id: str
    line: dict[str, Any]
    workflow: dict[str, Any]

    @property
    def path(self) -> str:
        return urlsplit(self.workflow["webhook_url"]).path.removeprefix("/local")

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]


@pytest.fixture
def setup(admin_api, carrier_account) -> Setup:
    practice_id = admin_api("POST", "/api/practices", {"name": "Maple Clinic", "timezone": "America/Chicago"}).body[
        "practice_id"]
    number = admin_api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415").body[0]["phone_number"]
    line = admin_api("POST", f"/api/practices/{practice_id}/lines/purchase",
                     {"display_name": "Front desk", "number": number}).body
    workflow = admin_api("POST", f"/api/practices/{practice_id}/workflows",
                         {"name": "Jive hold", "kind": "call_to_text", "vendor": "jive", "line_id": line["line_id"],
                          "template": TEMPLATE}).body
    return Setup(practice_id, line, workflow)


@pytest.fixture
def intake(call_api, setup):
    """Fire the workflow's webhook like a phone system: GET with a query string unless told otherwise."""

    def fire(number: str | None = "4155552671", *, path: str | None = None, method: str = "GET",
             body: str | None = None, content_type: str | None = None, query: dict | None = None):
        target = path or setup.path
        if query is None and method == "GET" and number is not None:
            query = {"CALLER_ID_NUMBER": [number]}
        vendor, token = target.split("/")[2:4]
        event = webhook_event(method, target, query=query, body=body, content_type=content_type,
                              path_parameters={"vendor": vendor, "token": token})
        return call_api("webhook_intake", event)

    return fire




_sids = itertools.count(1)


@pytest.fixture
def text_in(call_api: Callable[..., ApiAnswer], carrier_account: Any, setup: Setup) -> Callable[..., ApiAnswer]:
    """A patient texts one of our lines: a webhook signed like the carrier's."""

    def send(body: str, *, phone: str = "+14155552671", to: str | None = None, sid: str | None = None,
             signature: str | None = None, query: dict | None = None, extra: dict | None = None):
        params = {"MessageSid": sid or f"SM{next(_sids):032d}", "AccountSid": carrier_account.account_sid,
                  "From": phone, "To": to or setup.line["number"], "Body": body, "NumMedia": "0",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01", **(extra or {})}
        url = "https://api.test/local/twilio/sms"
        if query:
            url += "?" + urlencode([(k, v) for k, vs in query.items() for v in vs])
        signed = sign(url, params, carrier_account.auth_token) if signature is None else signature
        event = webhook_event("POST", "/twilio/sms", body=urlencode(params), query=query,
                              content_type="application/x-www-form-urlencoded",
                              headers={"X-Twilio-Signature": signed}, resource="/twilio/sms")
        return call_api("inbound_sms", event)

    return send


@pytest.fixture
def after_hours(queues):
    """Run the after-hours consumer over what inbound_sms queued, then send what it queued."""

    def run():
        result = queues.deliver("follow_up", "FOLLOW_UP_QUEUE_URL")
        queues.deliver()
        return result

    return run

"""2. DynamoDB requests per operation and 3. overhead over the floor, with the handlers called in-process.

Run as a child process by `python -m bench` (`python -m bench.inprocess <out.json> <work-dir>`): the
handlers read their settings from the environment at import, so they get a clean interpreter. It starts
DynamoDB Local (local.dynamodb, Java), a moto server for SQS and Secrets Manager, and the carrier sandbox
(each its own process, so they do not compete with the handlers for this interpreter), then loads the
template's functions with local.runtime (the template's environment, as the local stack does) and calls
them with API Gateway REST events built by local.gateway.proxy_event, exactly as the local gateway would.

DynamoDB requests are counted with a botocore `after-call.dynamodb` hook on the client PynamoDB uses
(`switchboard.data.models.connection().client`); DynamoDB Local's ConsumedCapacity (PynamoDB asks for
TOTAL on every request) gives the request units the cost model uses.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import (
    LAYER_DIR,
    PYTHON,
    ROOT,
    child_environment,
    free_port,
    http_json,
    median,
    python_path,
    stop_process,
    wait_until,
)
from bench.numbers import us_mobile_numbers

STAGE = "local"
OVERHEAD_CALLS = 200
OVERHEAD_WARMUP = 20
DURATION_SAMPLES = 30
POLLER_SMALL = 10
POLLER_LARGE = 10_000
PENDING_LINES = 3
TEMPLATE_TEXT = "Thanks for calling {practice_name}! Text us back here at {line_number}."
ADMIN = {"sub": "bench-admin", "email": "admin@benchfamilyclinic.com", "cognito:groups": "admin"}
STAFF_EMAIL = "sam@benchfamilyclinic.com"
STAFF = {"sub": "bench-staff", "email": STAFF_EMAIL, "cognito:groups": "staff"}
READ_OPERATIONS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


# -- local services ------------------------------------------------------------------------------


class Services:
    """DynamoDB Local, a moto server (SQS, Secrets Manager) and the carrier sandbox, on 127.0.0.1."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.dynamodb: Any = None
        self.processes: list[subprocess.Popen[bytes]] = []
        self.moto_url = ""
        self.sandbox_url = ""
        self.account: dict[str, str] = {}

    def start(self) -> None:
        from local.dynamodb import DynamoDBLocal

        self.dynamodb = DynamoDBLocal(self.work, ROOT)
        self.dynamodb.launch()
        moto_port, sandbox_port = free_port(), free_port()
        env = child_environment(PYTHONPATH=python_path(ROOT, LAYER_DIR))
        log = open(self.work / "services.log", "ab")
        self.processes.append(subprocess.Popen(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        self.processes.append(subprocess.Popen(
            [PYTHON, "-m", "local.carrier_sandbox", "--data-dir", str(self.work / "carrier"), "--port",
             str(sandbox_port), "--order-step-seconds", "1000000", "--log-level", "WARNING"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        self.moto_url = f"http://127.0.0.1:{moto_port}"
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self.dynamodb.wait_ready()
        for url in (self.moto_url + "/moto-api/", self.sandbox_url + "/sandbox/health"):
            wait_until(lambda u=url: _answers(u), 60, what=url)
        self.account = http_json("GET", self.sandbox_url + "/sandbox/account")[1]

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        if self.dynamodb is not None:
            self.dynamodb.stop()


def _answers(url: str) -> bool:
    try:
        http_json("GET", url, timeout=1)
        return True
    except OSError:
        return False


# -- counting and timing DynamoDB / SQS calls ----------------------------------------------------


@dataclass
class Call:
    service: str
    operation: str
    seconds: float
    capacity: float = 0.0
    params: dict[str, Any] | None = None


@dataclass
class Recorder:
    """botocore hooks on the handlers' own clients: every call, its time, its capacity, optionally its params."""

    calls: list[Call] = field(default_factory=list)
    capture: bool = False
    _params: dict[int, dict[str, Any]] = field(default_factory=dict)

    def attach(self, client: Any, service: str) -> None:
        events = client.meta.events
        events.register(f"provide-client-params.{service}", self._provide, unique_id=f"bench-params-{service}")
        events.register(f"before-call.{service}", self._before, unique_id=f"bench-before-{service}")
        events.register(f"after-call.{service}", self._after(service), unique_id=f"bench-after-{service}")

    def _provide(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self.capture:
            context["bench_params"] = copy.deepcopy(params)

    @staticmethod
    def _before(context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _after(self, service: str) -> Callable[..., None]:
        def after(parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            elapsed = time.perf_counter() - context.get("bench_started", time.perf_counter())
            self.calls.append(Call(service, model.name, elapsed, _capacity(parsed), context.get("bench_params")))

        return after

    @contextmanager
    def recording(self, *, capture: bool = False) -> Iterator[list[Call]]:
        self.calls, self.capture = [], capture
        try:
            yield self.calls
        finally:
            self.capture = False


def _capacity(parsed: dict[str, Any]) -> float:
    consumed = parsed.get("ConsumedCapacity")
    if isinstance(consumed, dict):
        consumed = [consumed]
    return float(sum(c.get("CapacityUnits", 0) for c in consumed or []))


def _replace_strings(value: Any, swaps: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {_replace_strings(k, swaps): _replace_strings(v, swaps) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_strings(v, swaps) for v in value]
    return value


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB bills an attribute value at (names are added by item_size)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner.lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(len(v.lstrip("-").replace(".", "")) // 2 + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    return len(json.dumps(inner))


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def written_keys(requests: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """(table, key) of every item a list of captured write requests touches."""
    found: list[tuple[str, dict[str, Any]]] = []
    for operation, params in requests:
        entries = params.get("TransactItems") if operation == "TransactWriteItems" else [{operation: params}]
        for entry in entries or []:
            for kind, body in entry.items():
                if kind in ("Put", "PutItem"):
                    found.append((body["TableName"], {"pk": body["Item"]["pk"], "sk": body["Item"]["sk"]}))
                elif kind in ("Update", "UpdateItem", "Delete", "DeleteItem"):
                    found.append((body["TableName"], body["Key"]))
    return found


def tolerant_template(template: dict[str, Any], values: Any) -> tuple[dict[str, Any], list[str]]:
    """The template with any function variable local.runtime cannot resolve replaced by a placeholder
    (e.g. a Ref to a resource SAM generates), so one such variable does not stop the whole bench."""
    from local.runtime import LocalTemplateError, Resolver

    patched = copy.deepcopy(template)
    resolver = Resolver(template, values)
    notes: list[str] = []
    blocks = [("Globals", ((patched.get("Globals") or {}).get("Function") or {}).get("Environment") or {})]
    for logical_id, resource in (patched.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            blocks.append((logical_id, (resource.get("Properties") or {}).get("Environment") or {}))
    for where, environment in blocks:
        variables = environment.get("Variables") or {}
        for name, value in list(variables.items()):
            try:
                resolver.resolve(value, f"{where}.Environment.{name}")
            except LocalTemplateError as error:
                variables[name] = f"bench-unresolved-{name.lower()}"
                notes.append(f"{error} (the bench used a placeholder)")
    return patched, notes


# -- the bench ----------------------------------------------------------------------------------


class HandlerError(RuntimeError):
    pass


class InProcess:
    def __init__(self, services: Services, work: Path) -> None:
        import boto3

        from local.gateway import RouteTable
        from local.queues import create_queues, put_secret
        from local.runtime import LambdaRuntime, LocalValues, local_parameters, table_names
        from local.stack import local_environment
        from local.template import api_routes, load_template

        self.services = services
        self.template = load_template(ROOT / "template.yaml")
        self.public_base = f"http://127.0.0.1:{free_port()}/{STAGE}"  # nothing listens: callbacks fail fast
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="us-east-1")
        self.sqs = session.client("sqs", endpoint_url=services.moto_url)
        self.queues = create_queues(self.sqs, self.template)
        values = LocalValues(
            parameters=local_parameters(self.template, {"Environment": STAGE, "PublicBaseUrl": self.public_base}),
            queues=self.queues,
            tables=table_names(self.template),
        )
        runnable, self.notes = tolerant_template(self.template, values)
        self.runtime = LambdaRuntime(runnable, values, ROOT)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "POWERTOOLS_METRICS_DISABLED"):
            os.environ.pop(name, None)
        os.environ.update({**self.runtime.shared_environment(),
                           **local_environment(services.dynamodb.endpoint_url, services.moto_url,
                                               services.sandbox_url)})
        secret_name = os.environ["TWILIO_SECRET_NAME"]
        put_secret(session.client("secretsmanager", endpoint_url=services.moto_url), secret_name,
                   {"account_sid": services.account["account_sid"], "auth_token": services.account["auth_token"]})
        self.auth_token = services.account["auth_token"]

        from switchboard.data.models import create_table

        create_table(wait=True)
        self.routes = RouteTable(api_routes(self.template))
        self.raw_dynamodb = session.client("dynamodb", endpoint_url=services.dynamodb.endpoint_url)
        self.raw_sqs = session.client("sqs", endpoint_url=services.moto_url)
        self.stream_durations: dict[str, list[float]] | None = None
        self.outboxes = self._stream_sources(session, services.dynamodb.endpoint_url)
        self.recorder = Recorder()
        self._attached = False
        self.contexts: dict[str, Any] = {}
        self.numbers = us_mobile_numbers(start=5_000)
        self.setup: dict[str, Any] = {}

    # -- plumbing --

    def _stream_sources(self, session: Any, dynamodb_url: str) -> list[Any]:
        """The table's stream consumers (the outbox), read from now on (this run's traffic only)."""
        from local.runtime import table_names
        from local.streams import stream_sources

        return stream_sources(self.template, table_names(self.template, os.environ["TABLE_NAME"]),
                              self.raw_dynamodb, session.client("dynamodbstreams", endpoint_url=dynamodb_url),
                              self._stream_invoke, "us-east-1", starting_position="LATEST")

    def _stream_invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        folder = self.runtime.function(function_id).folder
        started = time.perf_counter()
        answer = self.invoke(folder, event)
        if self.stream_durations is not None:
            self.stream_durations.setdefault(folder, []).append((time.perf_counter() - started) * 1000)
        return answer

    def hand_off(self) -> None:
        """What the webhooks stored reaches its queue through the stream (functions/handoff)."""
        for source in self.outboxes:
            while source.poll_once():
                pass

    def handler(self, folder: str) -> Callable[[Any, Any], Any]:
        from local.runtime import LocalLambdaContext

        function = self.runtime.function(folder)
        handler = function.load()
        if folder not in self.contexts:
            self.contexts[folder] = LocalLambdaContext(
                function_name=function.name, memory_limit_in_mb=function.spec.memory_size,
                invoked_function_arn=function.arn, aws_request_id="bench",
                log_group_name=f"/aws/lambda/{function.name}", log_stream_name="bench",
                timeout_seconds=function.spec.timeout)
        return handler

    def has(self, folder: str) -> bool:
        try:
            function = self.runtime.function(folder)
        except KeyError:
            return False
        module = function.spec.handler.rpartition(".")[0]
        return (function.code_dir / (module.replace(".", "/") + ".py")).is_file()

    def attach(self) -> None:
        """Hook the clients the layer uses (PynamoDB's and the SQS one), once they exist."""
        if self._attached:
            return
        from switchboard.data.models import connection

        self.recorder.attach(connection().client, "dynamodb")
        from switchboard.aws import queues

        sqs_factory = getattr(queues, "_sqs", None)
        if callable(sqs_factory):
            self.recorder.attach(sqs_factory(), "sqs")
        self._attached = True

    def event(self, method: str, path: str, *, body: str | bytes | None = None, headers: dict[str, str] | None = None,
              claims: dict[str, str] | None = None) -> dict[str, Any]:
        from local.gateway import HttpRequest, proxy_event

        route_path = urlsplit(path).path
        found = self.routes.find(method, route_path)
        if found is None:
            raise HandlerError(f"no route for {method} {route_path} in template.yaml")
        route, params = found
        raw = body.encode() if isinstance(body, str) else (body or b"")
        sent = [("Host", "bench.local"), ("User-Agent", "switchboard-bench"), *(headers or {}).items()]
        return proxy_event(HttpRequest(method, f"/{STAGE}{path}", sent, raw), route, params, STAGE, claims=claims)

    def invoke(self, folder: str, event: dict[str, Any]) -> Any:
        return self.handler(folder)(event, self.contexts[folder])

    def api(self, method: str, path: str, body: Any = None, *, claims: dict[str, str] = ADMIN,
            expect: tuple[int, ...] = (200, 201, 202)) -> Any:
        text = json.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if text else {}
        answer = self.invoke("admin_api", self.event(method, path, body=text, headers=headers, claims=claims))
        if answer["statusCode"] not in expect:
            raise HandlerError(f"{method} {path} -> {answer['statusCode']}: {answer.get('body', '')[:500]}")
        return json.loads(answer.get("body") or "null")

    def intake_event(self, phone: str) -> dict[str, Any]:
        vendor, token = self.setup["vendor"], self.setup["token"]
        return self.event("GET", f"/webhook/{vendor}/{token}?" + urlencode({"CALLER_ID_NUMBER": phone}))

    def signed_event(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        from switchboard.carrier import sign

        signature = sign(f"{self.public_base}{path}", params, self.auth_token)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return self.event("POST", path, body=urlencode(params), headers=headers)

    def sms_event(self, phone: str, body: str = "Can I come at 3 instead?", sid: str | None = None) -> dict[str, Any]:
        params = {"ToCountry": "US", "SmsMessageSid": sid or "", "NumMedia": "0", "SmsSid": sid or "",
                  "SmsStatus": "received", "Body": body, "To": self.setup["line_number"], "NumSegments": "1",
                  "MessageSid": sid or f"SM{secrets.token_hex(16)}", "AccountSid": self.services.account["account_sid"],
                  "From": phone, "ApiVersion": "2010-04-01", "FromCountry": "US"}
        params["SmsMessageSid"] = params["SmsSid"] = params["MessageSid"]
        return self.signed_event("/twilio/sms", params)

    def status_event(self, sid: str, status: str, phone: str) -> dict[str, Any]:
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.services.account["account_sid"], "From": self.setup["line_number"], "To": phone,
                  "ApiVersion": "2010-04-01"}
        return self.signed_event("/twilio/status", params)

    def queue(self, logical_id: str) -> Any:
        return self.queues[logical_id]

    def drain(self, logical_id: str) -> None:
        self.hand_off()
        url = self.queue(logical_id).url
        for _ in range(1000):
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", [])
            if not batch:
                return
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])

    def receive(self, logical_id: str, contains: str) -> dict[str, Any]:
        """The SQS event Lambda would deliver for the one waiting message mentioning `contains`."""
        from local.queues import sqs_event

        endpoint = self.queue(logical_id)
        self.hand_off()
        for _ in range(50):
            batch = self.sqs.receive_message(QueueUrl=endpoint.url, MaxNumberOfMessages=10, AttributeNames=["All"],
                                             MessageAttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])
            for message in batch:
                self.sqs.delete_message(QueueUrl=endpoint.url, ReceiptHandle=message["ReceiptHandle"])
                if contains in message["Body"]:
                    return sqs_event([message], endpoint.arn)
            if not batch:
                time.sleep(0.02)
        raise HandlerError(f"no message mentioning {contains} on {logical_id}")

    def sandbox_sid(self, phone: str) -> str:
        status, body = http_json("GET", f"{self.services.sandbox_url}/sandbox/messages?"
                                 + urlencode({"to": phone, "direction": "outbound-api"}))
        messages = body.get("messages") if isinstance(body, dict) else None
        if status != 200 or not messages:
            raise HandlerError(f"the carrier sandbox has no text to {phone[:5]}…")
        return str(messages[-1]["sid"])

    # -- setup --

    def create_practice(self) -> None:
        practice = self.api("POST", "/api/practices", {"name": "Bench Family Clinic", "timezone": "America/Chicago"})
        practice_id = practice["practice_id"]
        number = self.api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415")[0]["phone_number"]
        line = self.api("POST", f"/api/practices/{practice_id}/lines/purchase",
                        {"display_name": "Front desk", "number": number})
        workflow = self.api("POST", f"/api/practices/{practice_id}/workflows",
                            {"name": "Hold queue", "kind": "call_to_text", "vendor": "jive",
                             "line_id": line["line_id"], "template": TEMPLATE_TEXT})
        webhook_path = urlsplit(workflow["webhook_url"]).path.removeprefix(f"/{STAGE}")
        _, _, vendor, token = webhook_path.split("/")[:4]
        self.setup = {"practice_id": practice_id, "line_id": line["line_id"], "line_number": line["number"],
                      "workflow_id": workflow["workflow_id"], "vendor": vendor, "token": token}
        try:
            self.api("POST", f"/api/practices/{practice_id}/users",
                     {"email": STAFF_EMAIL, "name": "Sam", "role": "staff", "line_ids": [line["line_id"]]})
            self.setup["staff"] = True
        except HandlerError as error:
            self.setup["staff_error"] = str(error)

    # -- 2. requests per operation --

    def count(self, folder: str, event: dict[str, Any]) -> dict[str, Any]:
        self.attach()
        with self.recorder.recording() as calls:
            answer = self.invoke(folder, event)
        dynamo = [c for c in calls if c.service == "dynamodb"]
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        return {"requests": len(dynamo), "operations": [c.operation for c in dynamo],
                "read_units": sum(c.capacity for c in dynamo if c.operation in READ_OPERATIONS),
                "write_units": sum(c.capacity for c in dynamo if c.operation not in READ_OPERATIONS),
                "sqs_requests": len([c for c in calls if c.service == "sqs"]), "status": status,
                "batch_failures": len(failures) if failures is not None else None,
                "answer": str(answer.get("body") or answer if isinstance(answer, dict) else answer)[:300]}

    def counts(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        phone = next(self.numbers)
        self.handler("webhook_intake")
        self.drain("OutboundQueue")
        self.invoke("webhook_intake", self.intake_event(next(self.numbers)))  # cold: clients built, not counted
        self.drain("OutboundQueue")
        found["intake"] = self.count("webhook_intake", self.intake_event(phone))
        found["intake_duplicate"] = self.count("webhook_intake", self.intake_event(phone))
        job = self.receive("OutboundQueue", phone)
        self.drain("OutboundQueue")
        found["outbound_send"] = self.count("outbound_messaging", job)
        sid = self.sandbox_sid(phone)
        found["status_sent"] = self.count("status_callback", self.status_event(sid, "sent", phone))
        found["status_delivered"] = self.count("status_callback", self.status_event(sid, "delivered", phone))
        if self.has("inbound_sms"):
            self.drain("FollowUpQueue")
            found["inbound_sms"] = self.count("inbound_sms", self.sms_event(phone))
            if self.has("follow_up"):
                event = self.receive("FollowUpQueue", phone)
                found["follow_up"] = self.count("follow_up", event)
                self.drain("OutboundQueue")
        inbox = f"/api/practices/{self.setup['practice_id']}/inbox"
        found["inbox_admin"] = self._inbox_count(inbox, ADMIN)
        if self.setup.get("staff"):
            found["inbox_staff"] = self._inbox_count(inbox, STAFF)
        return found

    def _inbox_count(self, path: str, claims: dict[str, str]) -> dict[str, Any]:
        """The page as a warm container serves it; the first page for that user is counted too (the caller's
        user record is read once, then remembered for `CALLER_TTL_SECONDS`)."""
        self.handler("admin_api")
        first = self.count("admin_api", self.event("GET", path, claims=claims))
        counted = self.count("admin_api", self.event("GET", path, claims=claims))
        counted["first_requests"] = first["requests"]
        if counted["status"] == 404:
            counted["absent"] = True
        return counted

    # -- 3. overhead over the floor --

    def overhead(self, folder: str, make_event: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
        """Median handler time vs the same DynamoDB requests made raw with boto3, alternating, same run."""
        self.attach()
        for _ in range(OVERHEAD_WARMUP):
            self.invoke(folder, make_event(next(self.numbers), f"SM{secrets.token_hex(16)}"))
        template_phone, template_sid = next(self.numbers), f"SM{secrets.token_hex(16)}"
        with self.recorder.recording(capture=True) as captured:
            self.invoke(folder, make_event(template_phone, template_sid))
        requests = [(c.operation, c.params) for c in captured if c.service == "dynamodb" and c.params is not None]
        sizes: list[dict[str, Any]] = []
        for table, key in written_keys(requests):
            stored = self.raw_dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if stored:
                kind = stored.get("kind", {}).get("S", "?")
                sizes.append({"kind": kind, "bytes": item_size(stored), "attributes": len(stored)})
        sqs_requests = [(c.operation, c.params) for c in captured if c.service == "sqs" and c.params is not None]
        snake = {"GetItem": "get_item", "PutItem": "put_item", "UpdateItem": "update_item", "Query": "query",
                 "TransactWriteItems": "transact_write_items", "TransactGetItems": "transact_get_items",
                 "DeleteItem": "delete_item", "BatchGetItem": "batch_get_item", "BatchWriteItem": "batch_write_item"}

        def raw_floor(phone: str, sid: str, with_sqs: bool) -> tuple[float, float]:
            swaps = {template_phone: phone, template_sid: sid}
            prepared = [(snake[op], _replace_strings(params, swaps)) for op, params in requests]
            queued = [_replace_strings(params, swaps) for _, params in sqs_requests] if with_sqs else []
            started = time.perf_counter()
            for method, params in prepared:
                try:
                    getattr(self.raw_dynamodb, method)(**params)
                except self.raw_dynamodb.exceptions.TransactionCanceledException:
                    pass
            dynamo_done = time.perf_counter()
            for params in queued:
                self.raw_sqs.send_message(**params)
            return dynamo_done - started, time.perf_counter() - started

        for _ in range(5):
            raw_floor(next(self.numbers), f"SM{secrets.token_hex(16)}", True)
        handler_ms: list[float] = []
        floor_ms: list[float] = []
        floor_sqs_ms: list[float] = []
        in_dynamo_ms: list[float] = []
        in_sqs_ms: list[float] = []
        statuses: dict[str, int] = {}
        for _ in range(OVERHEAD_CALLS):
            event = make_event(next(self.numbers), f"SM{secrets.token_hex(16)}")
            with self.recorder.recording() as calls:
                started = time.perf_counter()
                answer = self.invoke(folder, event)
                handler_ms.append((time.perf_counter() - started) * 1000)
            key = str(answer.get("statusCode"))
            statuses[key] = statuses.get(key, 0) + 1
            in_dynamo_ms.append(sum(c.seconds for c in calls if c.service == "dynamodb") * 1000)
            in_sqs_ms.append(sum(c.seconds for c in calls if c.service == "sqs") * 1000)
            dynamo_only, with_sqs = raw_floor(next(self.numbers), f"SM{secrets.token_hex(16)}", True)
            floor_ms.append(dynamo_only * 1000)
            floor_sqs_ms.append(with_sqs * 1000)
        return {
            "calls": OVERHEAD_CALLS, "handler_ms": median(handler_ms), "floor_ms": median(floor_ms),
            "floor_with_sqs_ms": median(floor_sqs_ms), "in_dynamodb_ms": median(in_dynamo_ms),
            "in_sqs_ms": median(in_sqs_ms), "statuses": statuses,
            "floor_requests": [op for op, _ in requests], "floor_sqs_requests": [op for op, _ in sqs_requests],
            "handler_p90_ms": sorted(handler_ms)[int(0.9 * len(handler_ms))],
            "floor_p90_ms": sorted(floor_ms)[int(0.9 * len(floor_ms))],
            "item_sizes": sizes,
            "sqs_body_bytes": [len(str(params.get("MessageBody", "")).encode()) for _, params in sqs_requests],
        }

    # -- durations of the rest of a conversation (for the cost model) --

    def durations(self) -> dict[str, Any]:
        """Warm duration of each step of a call-to-text conversation, median over DURATION_SAMPLES."""
        steps: dict[str, list[float]] = {"outbound_messaging": [], "status_callback": [], "follow_up": []}
        outcomes: dict[str, dict[str, int]] = {name: {} for name in steps}

        def timed(name: str, folder: str, event: dict[str, Any]) -> Any:
            started = time.perf_counter()
            answer = self.invoke(folder, event)
            steps[name].append((time.perf_counter() - started) * 1000)
            key = str(answer.get("statusCode", "ok" if not answer.get("batchItemFailures") else "failed"))
            outcomes[name][key] = outcomes[name].get(key, 0) + 1
            return answer

        self.drain("OutboundQueue")
        self.drain("FollowUpQueue")
        self.stream_durations = {}
        for _ in range(DURATION_SAMPLES):
            phone = next(self.numbers)
            self.invoke("webhook_intake", self.intake_event(phone))
            timed("outbound_messaging", "outbound_messaging", self.receive("OutboundQueue", phone))
            sid = self.sandbox_sid(phone)
            timed("status_callback", "status_callback", self.status_event(sid, "sent", phone))
            timed("status_callback", "status_callback", self.status_event(sid, "delivered", phone))
            if self.has("inbound_sms") and self.has("follow_up"):
                self.invoke("inbound_sms", self.sms_event(phone))
                timed("follow_up", "follow_up", self.receive("FollowUpQueue", phone))
                self.drain("OutboundQueue")
        found = {name: {"median_ms": median(values), "samples": len(values), "outcomes": outcomes[name]}
                 for name, values in steps.items() if values}
        for folder, values in self.stream_durations.items():  # one record per invocation, as at low volume
            found[folder] = {"median_ms": median(values), "samples": len(values), "outcomes": {}}
        self.stream_durations = None
        return found

    # -- the poller: requests independent of how many lines are enabled --

    def poller(self) -> dict[str, Any]:
        from switchboard.data.lines import line_key
        from switchboard.data.models import LineItem
        from switchboard.data.practices import practice_key

        practice_id = self.setup["practice_id"]
        today = datetime.now(UTC).date().isoformat()
        landlines = us_mobile_numbers(start=90_000)
        for _ in range(PENDING_LINES):
            self.api("POST", f"/api/practices/{practice_id}/lines",
                     {"display_name": "Main landline", "number": next(landlines),
                      "authorization": {"signer_name": "Dana Reyes", "signer_title": "Practice Director",
                                        "signer_email": "dana@benchfamilyclinic.com", "signed_on": today}})

        def write_lines(indexes: range) -> None:
            numbers = us_mobile_numbers(start=200_000 + indexes.start)
            with LineItem.batch_write() as batch:
                for index in indexes:
                    line_id = f"BENCH{index:08d}"
                    owner = f"bench-{index // 100:04d}"
                    batch.save(LineItem(practice_key(owner), line_key(line_id), practice_id=owner, line_id=line_id,
                                        display_name=f"Line {index}", number=next(numbers), source="purchased",
                                        status="enabled", status_changed_at=datetime.now(UTC),
                                        carrier_sid=f"PN{index:032d}", settings={}, gsi1pk="LINES", gsi1sk=line_id))

        def enabled_lines(count: int, offset: int) -> None:
            """Lines shaped as data.lines.add_line writes them (enabled: no pending attributes)."""
            write_lines(range(offset, offset + count))

        self.handler("status_poller")
        event = json.loads((ROOT / "events" / "status_poller" / "scheduled.json").read_text())
        enabled_lines(POLLER_SMALL - 1, 0)  # plus the line bought in setup
        small = self.count("status_poller", event)
        started = time.perf_counter()
        enabled_lines(POLLER_LARGE - POLLER_SMALL, POLLER_SMALL)
        write_seconds = time.perf_counter() - started
        large = self.count("status_poller", event)
        return {"small": small, "large": large, "small_lines": POLLER_SMALL, "large_lines": POLLER_LARGE,
                "pending": PENDING_LINES, "bulk_write_seconds": write_seconds}


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    work = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    results: dict[str, Any] = {"errors": {}}
    services = Services(work)
    started = time.perf_counter()

    def step(name: str, action: Callable[[], Any]) -> None:
        began = time.perf_counter()
        try:
            results[name] = action()
        except Exception:
            results["errors"][name] = traceback.format_exc()[-4000:]
        results.setdefault("seconds", {})[name] = time.perf_counter() - began

    try:
        services.start()
        results["dynamodb_engine"] = services.dynamodb.engine
        bench = InProcess(services, work)
        results["notes"] = bench.notes
        step("setup", lambda: (bench.create_practice(), bench.setup)[1])
        if "setup" not in results["errors"]:
            step("counts", bench.counts)
            step("overhead_intake", lambda: bench.overhead(
                "webhook_intake", lambda phone, sid: bench.intake_event(phone)))
            if bench.has("inbound_sms"):
                step("overhead_inbound_sms", lambda: bench.overhead(
                    "inbound_sms", lambda phone, sid: bench.sms_event(phone, sid=sid)))
            step("durations", bench.durations)
            step("poller", bench.poller)
    except Exception:
        results["errors"]["services"] = traceback.format_exc()[-4000:]
    finally:
        services.stop()
        results["total_seconds"] = time.perf_counter() - started
        out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

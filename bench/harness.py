"""The in-process bench's plumbing: local services, handlers called in-process, their AWS calls recorded.

`Services` starts DynamoDB Local (local.dynamodb, Java), a moto server for SQS and Secrets Manager, and the
carrier sandbox, each its own process so they do not compete with the handlers for this interpreter.
`Harness` assembles the local runtime on them (local.assembly, as the local stack does) and calls the handlers
with API Gateway REST events built by local.gateway.proxy_event, exactly as the local gateway would; the
table's stream reaches its consumers only when `hand_off` (or `drain`, `receive`) says so.

`Recorder` counts and times requests with botocore hooks on the clients the layer itself uses (PynamoDB's,
`switchboard.data.table.connection().client`, and the SQS one); DynamoDB Local's ConsumedCapacity (PynamoDB
asks for TOTAL on every request) gives the request units the cost model uses.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import (
    LAYER_DIR,
    PYTHON,
    ROOT,
    answers,
    child_environment,
    free_port,
    http_json,
    python_path,
    stop_process,
    wait_until,
)
from bench.numbers import us_mobile_numbers
from local.assembly import STAGE, CarrierAccount, Endpoints, assemble
from local.template import load_template

TEMPLATE_TEXT = "Thanks for calling {practice_name}! Text us back here at {line_number}."
ADMIN = {"sub": "bench-admin", "email": "admin@benchfamilyclinic.com", "email_verified": "true",
         "cognito:groups": "admin"}
STAFF_EMAIL = "sam@benchfamilyclinic.com"


class Services:
    """DynamoDB Local, a moto server (SQS, Secrets Manager...) and the carrier sandbox, on 127.0.0.1."""

    def __init__(self, work: Path, *, in_memory: bool = False) -> None:
        from local.dynamodb import DynamoDBLocal

        self.work = work
        self.dynamodb = DynamoDBLocal(work, ROOT, in_memory=in_memory)
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> Endpoints:
        self.dynamodb.launch()
        moto_port, sandbox_port = free_port(), free_port()
        env = child_environment(PYTHONPATH=python_path(ROOT, LAYER_DIR))
        log = open(self.work / "services.log", "ab")
        for command in (["moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                        ["local.carrier_sandbox", "--data-dir", str(self.work / "carrier"), "--port", str(sandbox_port),
                         "--order-step-seconds", "1000000", "--log-level", "WARNING"]):
            self.processes.append(subprocess.Popen([PYTHON, "-m", *command], cwd=ROOT, env=env,
                                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))
        moto_url, sandbox_url = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{sandbox_port}"
        self.dynamodb.wait_ready()
        for url in (moto_url + "/moto-api/", sandbox_url + "/sandbox/health"):
            wait_until(partial(answers, url), 60, what=url)
        return Endpoints(self.dynamodb.endpoint_url, moto_url, CarrierAccount.at(sandbox_url))

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)
        self.dynamodb.stop()


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

    def attach(self, client: Any, service: str) -> None:
        events = client.meta.events
        events.register(f"provide-client-params.{service}", self._provide, unique_id=f"bench-params-{service}")
        events.register(f"before-call.{service}", self._before, unique_id=f"bench-before-{service}")
        events.register(f"after-call.{service}", partial(self._after, service), unique_id=f"bench-after-{service}")

    def _provide(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self.capture:
            context["bench_params"] = copy.deepcopy(params)

    @staticmethod
    def _before(context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _after(self, service: str, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        elapsed = time.perf_counter() - context.get("bench_started", time.perf_counter())
        self.calls.append(Call(service, model.name, elapsed, _capacity(parsed), context.get("bench_params")))

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


class HandlerError(RuntimeError):
    pass


class Harness:
    """The template's handlers, called in-process on the local services, with a practice, line and workflow."""

    def __init__(self, endpoints: Endpoints) -> None:
        from local.gateway import RouteTable
        from local.template import api_routes

        self.public_base = f"http://127.0.0.1:{free_port()}/{STAGE}"  # nothing listens: callbacks fail fast
        os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)  # the handlers publish metrics, as in Lambda
        self.local = assemble(load_template(ROOT / "template.yaml"), endpoints, self.public_base, placeholders=True)
        self.notes = [f"{reason} (the bench used a placeholder)" for reason in self.local.lambdas.unresolved.values()]
        self.carrier = self.local.carrier_credentials
        self.sandbox_url = self.local.environment["CARRIER_API_URL"]
        self.routes = RouteTable(api_routes(self.local.template))
        self.dynamodb = self.local.client("dynamodb")
        self.sqs = self.local.client("sqs")
        self.stream_ms: dict[str, list[float]] = {}
        self.outboxes = self.local.stream_sources(self._stream_invoke)
        self.recorder = Recorder()
        self._attached = False
        self.contexts: dict[str, Any] = {}
        self.numbers = us_mobile_numbers(start=5_000)
        self.setup: dict[str, Any] = {}

    def _stream_invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        folder = self.local.lambdas.function(function_id).folder
        started = time.perf_counter()
        answer = self.invoke(folder, event)
        self.stream_ms.setdefault(folder, []).append((time.perf_counter() - started) * 1000)
        return answer

    def hand_off(self) -> None:
        """What the webhooks stored reaches its queue through the stream (functions/handoff)."""
        for source in self.outboxes:
            while source.poll_once():
                pass

    def handler(self, folder: str) -> Callable[[Any, Any], Any]:
        """The handler, imported; like a warm container, each function keeps one context."""
        function = self.local.lambdas.function(folder)
        handler = function.load()
        if folder not in self.contexts:
            self.contexts[folder] = function.context("bench")
        return handler

    def has(self, folder: str) -> bool:
        try:
            return self.local.lambdas.function(folder).handler_file.is_file()
        except KeyError:
            return False

    def attach(self) -> None:
        """Hook the clients the layer uses (PynamoDB's and the SQS one), once they exist."""
        if self._attached:
            return
        from switchboard.aws import queues
        from switchboard.data.table import connection

        self.recorder.attach(connection().client, "dynamodb")
        sqs_factory = getattr(queues, "_sqs", None)
        if callable(sqs_factory):
            self.recorder.attach(sqs_factory(), "sqs")
        self._attached = True

    def invoke(self, folder: str, event: dict[str, Any]) -> Any:
        return self.handler(folder)(event, self.contexts[folder])

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

        signature = sign(f"{self.public_base}{path}", params, self.carrier["auth_token"])
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return self.event("POST", path, body=urlencode(params), headers=headers)

    def sms_event(self, phone: str, body: str = "Can I come at 3 instead?", sid: str | None = None) -> dict[str, Any]:
        sid = sid or f"SM{secrets.token_hex(16)}"
        params = {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received",
                  "Body": body, "To": self.setup["line_number"], "NumSegments": "1", "MessageSid": sid,
                  "AccountSid": self.carrier["account_sid"], "From": phone, "ApiVersion": "2010-04-01",
                  "FromCountry": "US"}
        return self.signed_event("/twilio/sms", params)

    def status_event(self, sid: str, status: str, phone: str) -> dict[str, Any]:
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.carrier["account_sid"], "From": self.setup["line_number"], "To": phone,
                  "ApiVersion": "2010-04-01"}
        return self.signed_event("/twilio/status", params)

    def drain(self, logical_id: str) -> None:
        """Drop whatever waits on the queue (after the stream's hand-off)."""
        self.hand_off()
        url = self.local.queues[logical_id].url
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

        endpoint = self.local.queues[logical_id]
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
        status, body = http_json("GET", f"{self.sandbox_url}/sandbox/messages?"
                                 + urlencode({"to": phone, "direction": "outbound-api"}))
        messages = body.get("messages") if isinstance(body, dict) else None
        if status != 200 or not messages:
            raise HandlerError(f"the carrier sandbox has no text to {phone[:5]}…")
        return str(messages[-1]["sid"])

    def create_practice(self) -> dict[str, Any]:
        """A practice with a bought line, a call-to-text workflow and, if the API allows, a staff member."""
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
            staff = self.api("POST", f"/api/practices/{practice_id}/users",
                             {"email": STAFF_EMAIL, "name": "Sam", "role": "staff", "line_ids": [line["line_id"]]})
            self.setup["staff"] = {"sub": staff["user_id"], "email": STAFF_EMAIL, "email_verified": "true",
                                   "cognito:groups": "staff"}
        except HandlerError as error:
            self.setup["staff_error"] = str(error)
        return self.setup

"""Reliability tier: faults, crashes, duplicates and races, bad input, tenancy, patient data, operations.

Fast versions run in `make test`; long ones are marked `soak` (`make soak`). Tests under `stack/` share one
local stack (`reliability_stack`, session) started with RETRY_BASE_SECONDS=0 and a 2 s queue visibility
timeout, so retries and dead letters happen in seconds; each test opens its own practice and uses callers
no other test uses, so they do not see each other's data. Tests under `inprocess/` run the handlers against
moto like the unit tier.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from switchboard.core.phones import parse_us_number
from tests.clock import wait_until
from tests.integration.conftest import (
    IDLE_TIMEOUT_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
    ROOT,
    RunningStack,
    project_pythonpath,
    start_local_stack,
)

TEMPLATE = "Thanks for calling {practice_name}! Text us back here at {line_number}."
STACK_ENVIRONMENT = {"RETRY_BASE_SECONDS": "0", "LOCAL_QUEUE_VISIBILITY_TIMEOUT": "2"}

_numbers = itertools.count()
_numbers_lock = threading.Lock()


def new_phone() -> str:
    """A valid US mobile number no other test in this session uses (+1 628 2xx xxxx)."""
    with _numbers_lock:
        n = next(_numbers)
    return parse_us_number(f"+1628{2_000_000 + n:07d}")


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """`check()` once it is truthy, or its last falsy answer after `timeout` seconds (generous: a busy machine)."""
    return wait_until(check, within=timeout, every=interval)


@dataclass
class Reply:
    status: int
    body: Any
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Clinic:
    practice_id: str
    name: str
    line: dict[str, Any]
    workflow: dict[str, Any]

    @property
    def webhook_url(self) -> str:
        return str(self.workflow["webhook_url"])


class ReliabilityStack:
    """The running stack, with what these tests do to it: the admin API, the sandbox, the queues."""

    def __init__(self, running: RunningStack) -> None:
        self.running = running
        self._tokens: dict[tuple[str, tuple[str, ...]], str] = {}

    @property
    def data_dir(self) -> Path:
        return self.running.data_dir

    @property
    def gateway_url(self) -> str:
        return self.running.gateway_url

    @property
    def api_url(self) -> str:
        return self.running.api_url

    @property
    def info(self) -> dict[str, Any]:
        return self.running.info

    def token(self, email: str = "dev@clinic.test", groups: tuple[str, ...] = ("admin",)) -> str:
        key = (email, groups)
        if key not in self._tokens:
            self._tokens[key] = self.running.token(email, groups)
        return self._tokens[key]

    def http(self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = REQUEST_TIMEOUT_SECONDS) -> Reply:
        request = urllib.request.Request(url, body, headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                raw, status, answer_headers = answer.read(), answer.status, dict(answer.headers)
        except urllib.error.HTTPError as error:
            raw, status, answer_headers = error.read(), error.code, dict(error.headers)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Reply(status, parsed, raw, answer_headers)

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = "admin") -> Reply:
        """The admin API under the stage (`path` starts with /api); `token=None` sends none."""
        headers = {}
        if token == "admin":
            token = self.token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self.http(method, f"{self.api_url}{path}", body=data, headers=headers)

    def sandbox(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        reply = self.http(method, f"{self.info['carrier_sandbox_url']}{path}", body=data,
                          headers={"Content-Type": "application/json"})
        assert reply.status < 300, (path, reply.status, reply.body)
        return reply.body

    @property
    def auth_token(self) -> str:
        return str(self.sandbox("GET", "/sandbox/account")["auth_token"])

    def sent_from(self, number: str) -> list[dict[str, Any]]:
        """Texts the carrier sandbox took from one of our numbers, oldest first."""
        found = self.sandbox("GET", f"/sandbox/messages?from={urllib.parse.quote(number)}")["messages"]
        return [m for m in found if str(m.get("direction", "")).startswith("outbound")]

    def set_faults(self, faults: list[dict[str, Any]], *, to: Iterable[str]) -> None:
        """The carrier's next answers to sends to `to` (this test's recipients: what other tests still send
        passes them by)."""
        self.sandbox("DELETE", "/sandbox/faults")
        if faults:
            self.sandbox("POST", "/sandbox/faults", {"faults": faults, "to": sorted(set(to))})

    def clear_faults(self) -> None:
        self.sandbox("DELETE", "/sandbox/faults")

    def local_faults(self, plan: dict[str, Any] | None) -> dict[str, Any]:
        """Set what the stack itself injects (local/faults.py), or with None read it; the plan and counts."""
        data = json.dumps(plan).encode() if plan is not None else None
        reply = self.http("POST" if plan is not None else "GET", f"{self.gateway_url}/local/faults", body=data,
                          headers={"Content-Type": "application/json"})
        assert reply.status == 200, reply.body
        return dict(reply.body)

    def clear_local_faults(self) -> None:
        reply = self.http("DELETE", f"{self.gateway_url}/local/faults")
        assert reply.status == 200, reply.body

    def wait_idle(self, timeout: float = IDLE_TIMEOUT_SECONDS) -> bool:
        return self.running.wait_idle(timeout)

    def run_schedule(self, function_id: str) -> dict[str, Any]:
        """Run a function's schedule now and wait until it has finished (see `RunningStack.run_schedule`)."""
        return self.running.run_schedule(function_id)

    def sqs(self) -> Any:
        import boto3

        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="us-east-1")
        return session.client("sqs", endpoint_url=self.info["aws_endpoint"])

    def queue_depth(self, logical_id: str) -> int:
        """Messages in a queue, visible or in flight."""
        attributes = self.sqs().get_queue_attributes(
            QueueUrl=self.info["queues"][logical_id],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def redrive(self, queue: str = "OutboundQueue") -> subprocess.CompletedProcess[str]:
        """`python -m local.redrive` against this stack, as `make redrive QUEUE=...` runs it."""
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(str(ROOT / p) for p in project_pythonpath())}
        return subprocess.run([sys.executable, "-m", "local.redrive", "--queue", queue, "--data-dir",
                               str(self.data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)

    def new_clinic(self, name: str | None = None, *, template: str = TEMPLATE) -> Clinic:
        name = name or f"Clinic {uuid.uuid4().hex[:8]}"
        practice = self.api("POST", "/api/practices", {"name": name, "timezone": "America/Chicago"})
        assert practice.status == 201, practice.body
        practice_id = practice.body["practice_id"]
        offered = self.api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415")
        assert offered.status == 200 and offered.body, offered.body
        line = self.api("POST", f"/api/practices/{practice_id}/lines/purchase",
                        {"display_name": "Front desk", "number": offered.body[0]["phone_number"]})
        assert line.status == 201, line.body
        workflow = self.api("POST", f"/api/practices/{practice_id}/workflows",
                            {"name": "Hold queue", "kind": "call_to_text", "vendor": "jive",
                             "line_id": line.body["line_id"], "template": template})
        assert workflow.status == 201, workflow.body
        return Clinic(practice_id, name, line.body, workflow.body)

    def call_webhook(self, clinic: Clinic, caller: str) -> Reply:
        query = urllib.parse.urlencode({"CALLER_ID_NUMBER": caller})
        return self.http("GET", f"{clinic.webhook_url}?{query}")

    def thread(self, clinic: Clinic, phone: str) -> Reply:
        return self.api("GET", f"/api/practices/{clinic.practice_id}/lines/{clinic.line['line_id']}"
                               f"/conversations/{urllib.parse.quote(phone)}")


@pytest.fixture(scope="session")
def reliability_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReliabilityStack]:
    running = start_local_stack(tmp_path_factory.mktemp("reliability-stack"), extra_env=STACK_ENVIRONMENT)
    try:
        yield ReliabilityStack(running)
    finally:
        running.stop()


@pytest.fixture
def stack(reliability_stack: ReliabilityStack) -> Iterator[ReliabilityStack]:
    """The shared stack, with the carrier's and the stack's own faults cleared after each test."""
    reliability_stack.clear_faults()
    reliability_stack.clear_local_faults()
    yield reliability_stack
    reliability_stack.clear_faults()
    reliability_stack.clear_local_faults()

"""The local stack itself: gateway -> handlers -> DynamoDB Local, the authorizer, persistence, queues, shutdown."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from local import stack as local_stack_module
from local.gateway import Gateway, HttpRequest
from local.queues import EventSources, MotoServer, aws_client, create_queues
from local.scheduler import Scheduler
from local.template import Schedule, load_template, queues
from local.user_pool import password_sign_in
from local.workers import is_running
from tests.integration.conftest import TEST_PASSWORD

if TYPE_CHECKING:
    from conftest import RunningStack

    StartStack = Callable[..., RunningStack]

pytestmark = pytest.mark.integration

PRACTICE = {"name": "Main Street Dental", "timezone": "America/New_York"}


def test_a_practice_written_through_the_gateway_is_read_back_from_dynamodb_local(local_stack: RunningStack) -> None:
    token = local_stack.token()

    created = local_stack.request("POST", "/local/api/practices", token=token, json_body=PRACTICE)
    practice_id = created.json()["practice_id"]
    read = local_stack.request("GET", f"/api/practices/{practice_id}", token=token)

    assert created.status == 201, created.body
    assert read.status == 200
    assert read.json()["name"] == PRACTICE["name"]
    assert read.headers["Content-Type"].startswith("application/json")
    assert local_stack.info["dynamodb_engine"] == "dynamodb-local"


def test_authenticated_routes_need_a_token_the_user_pool_signed(local_stack: RunningStack) -> None:
    header, payload, signature = local_stack.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    altered = base64.urlsafe_b64encode(json.dumps({**claims, "cognito:groups": ["admin"],
                                                   "sub": "someone-else"}).encode()).decode().rstrip("=")

    for token in (None, "not-a-jwt", f"{header}.{altered}.{signature}"):
        answer = local_stack.request("GET", "/api/practices", token=token)
        assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})
    assert local_stack.request("GET", "/api/practices", headers={"Authorization": local_stack.token()}).status == 200


def test_unknown_routes_get_missing_authentication_token(local_stack: RunningStack) -> None:
    for path in ("/nowhere", "/local/nowhere", "/api"):
        answer = local_stack.request("GET", path)
        assert (answer.status, answer.json()) == (403, {"message": "Missing Authentication Token"})


def test_bodies_over_ten_megabytes_are_refused(local_stack: RunningStack) -> None:
    answer = local_stack.request("POST", "/api/practices", body=b"x" * (10 * 1024 * 1024 + 1))

    assert answer.status == 413


def test_local_endpoints_answer(local_stack: RunningStack) -> None:
    assert local_stack.request("GET", "/local/health").json()["status"] == "ok"
    assert local_stack.start_schedule("NoSuchFunction").status == 404
    assert local_stack.wait_idle() is True


def test_a_schedule_run_answers_at_once_and_is_then_read_back_until_it_finishes(local_stack: RunningStack) -> None:
    started = local_stack.start_schedule("StatusPollerFunction")
    run = started.json()
    location = started.headers["Location"]

    assert started.status == 202
    assert location == f"/local/schedules/StatusPollerFunction/runs/{run['run_id']}"
    assert (run["function"], run["status"] in ("running", "succeeded")) == ("StatusPollerFunction", True)
    deadline = time.monotonic() + 180
    while run["status"] == "running" and time.monotonic() < deadline:
        run = local_stack.request("GET", f"{location}?wait=10").json()
    assert run["status"] == "succeeded", run
    assert isinstance(run["result"], dict) and run["error"] is None
    assert run["finished_at"] >= run["started_at"] and run["duration_ms"] >= 0
    assert local_stack.request("GET", f"{location}?wait=soon").status == 400
    assert local_stack.request("GET", "/local/schedules/StatusPollerFunction/runs/nope").status == 404
    assert local_stack.request("GET", f"/local/schedules/SendSchedulerFunction/runs/{run['run_id']}").status == 404
    assert local_stack.run_schedule("StatusPollerFunction")["status"] == "succeeded"


class Handler:
    """A scheduled function that waits until released, then returns or raises what it was given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.outcome: Any = {"done": 1}

    def __call__(self, function_id: str, event: dict[str, Any]) -> Any:
        assert self.release.wait(30), "never released"
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def schedule_api() -> Iterator[tuple[Callable[[str, str], Any], Handler]]:
    handler = Handler()
    scheduler = Scheduler([Schedule("ReportFunction", "cron(0 9 * * ? *)", True)], handler)
    gateway = Gateway([], lambda *_: None, "local", lambda _: None, lambda _: {})
    local_stack_module.add_schedule_endpoints(gateway, scheduler)

    def call(method: str, path: str) -> Any:
        answer = gateway.handle(HttpRequest(method, path))
        return answer.status, json.loads(answer.body), dict(answer.headers)

    yield call, handler
    handler.release.set()
    scheduler.stop()


def test_a_slow_scheduled_run_is_answered_at_once_and_its_result_read_when_it_ends(schedule_api: Any) -> None:
    call, handler = schedule_api

    status, run, headers = call("POST", "/local/schedules/ReportFunction/run")
    assert (status, run["status"], run["result"], run["finished_at"]) == (202, "running", None, None)
    location = headers["Location"]
    assert call("GET", f"{location}?wait=0.1")[1]["status"] == "running"
    handler.release.set()
    status, done, _ = call("GET", f"{location}?wait=10")

    assert (status, done["status"], done["result"], done["error"]) == (200, "succeeded", {"done": 1}, None)
    assert done["run_id"] == run["run_id"] and done["duration_ms"] >= 0
    assert call("POST", "/local/schedules/Nobody/run")[0] == 404


def test_a_failed_scheduled_run_reports_the_error_as_lambda_would(schedule_api: Any) -> None:
    call, handler = schedule_api
    handler.outcome = RuntimeError("the table is gone")
    handler.release.set()

    _, run, headers = call("POST", "/local/schedules/ReportFunction/run")
    status, done, _ = call("GET", f"{headers['Location']}?wait=10")

    assert (status, done["status"], done["result"]) == (200, "failed", None)
    assert done["error"] == {"errorType": "RuntimeError", "errorMessage": "the table is gone"}


def test_a_long_wait_for_a_run_is_cut_short_so_no_request_hangs(
    schedule_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    call, _ = schedule_api
    monkeypatch.setattr(local_stack_module, "MAX_RUN_WAIT_SECONDS", 0.2)
    _, run, headers = call("POST", "/local/schedules/ReportFunction/run")

    started = time.monotonic()
    status, still, _ = call("GET", f"{headers['Location']}?wait=3600")

    assert (status, still["status"]) == (200, "running")
    assert time.monotonic() - started < 5


def process_ids_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (orphans left after a stop)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().split(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def test_data_persists_across_a_restart_and_ctrl_c_leaves_no_java(tmp_path: Path, start_stack: StartStack) -> None:
    data_dir = tmp_path / "data"
    first = start_stack(data_dir)
    try:
        token = first.token()
        practice_id = first.request("POST", "/api/practices", token=token, json_body=PRACTICE).json()["practice_id"]
        staff = first.request("POST", f"/api/practices/{practice_id}/users", token=token, json_body={
            "email": "kept@maple-clinic.com", "name": "Kept", "role": "staff", "line_ids": []}).json()
        first.token("kept@maple-clinic.com", ("staff",))  # they sign in once and choose their password
    finally:
        assert first.stop() == 0
    assert process_ids_mentioning(str(data_dir / "dynamodb")) == []

    second = start_stack(data_dir)
    try:
        read = second.request("GET", f"/api/practices/{practice_id}", token=token)  # the pool persists: its tokens too
        password = second.info["dev_admin"]["password_file"]
        cognito = aws_client("cognito-idp", second.info["aws_endpoint"])
        pool = second.info["user_pool"]
        again = password_sign_in(cognito, pool["pool_id"], pool["sign_in_client_id"], "kept@maple-clinic.com",
                                 TEST_PASSWORD)  # the password they chose, not a new one
        me = second.request("GET", "/api/me", token=again["IdToken"])
    finally:
        assert second.stop() == 0

    assert read.status == 200
    assert read.json()["name"] == PRACTICE["name"]
    assert Path(password).is_file()
    assert me.status == 200 and me.json()["user_id"] == staff["user_id"]


def test_ctrl_c_stops_everything_and_removes_the_ready_file(tmp_path: Path, start_stack: StartStack) -> None:
    stack = start_stack(tmp_path, as_background_job=True)
    java_pid = stack.info["dynamodb_pid"]
    ports = stack.info["ports"]

    assert stack.stop() == 0

    assert not Path(f"/proc/{java_pid}").exists()
    assert process_ids_mentioning(str(tmp_path / "dynamodb")) == []
    assert not (tmp_path / "ready.json").exists()
    assert "stopped DynamoDB" in stack.logs()
    assert ports["gateway"] and ports["dynamodb"]


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children...)."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(proc.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def test_sigterm_stops_the_stack_and_every_function_instance(tmp_path: Path, start_stack: StartStack) -> None:
    stack = start_stack(tmp_path)
    token = stack.token()
    assert stack.request("POST", "/api/practices", token=token, json_body=PRACTICE).status == 201
    assert stack.request("GET", "/console/").status == 200
    started = descendants(stack.process.pid)
    instances = {pid for pid in started if b"local.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()}

    stack.process.terminate()
    stack.process.wait(60)

    assert stack.process.returncode == 0
    assert len(instances) >= 3  # the zygote, the admin API's instance and the console's
    deadline = time.monotonic() + 30
    while left := sorted(pid for pid in started if is_running(pid)):
        assert time.monotonic() < deadline, f"still running after the stack stopped: {left}"
        time.sleep(0.1)
    assert "stopped function instances" in stack.logs()


# The event-source loop, with a handler defined here and a queue that retries fast.

TEMPLATE = {
    "Resources": {
        "WorkQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 60,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["WorkDLQ", "Arn"]}, "maxReceiveCount": 3},
            },
        },
        "WorkDLQ": {"Type": "AWS::SQS::Queue"},
        "Worker": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "functions/worker/",
                "Handler": "app.lambda_handler",
                "Events": {
                    "Work": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["WorkQueue", "Arn"]},
                            "BatchSize": 10,
                            # A long poll answers with the first message of a batch sent a moment before the rest:
                            # the window gathers them into one batch, as it does for Lambda.
                            "MaximumBatchingWindowInSeconds": 1,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            },
        },
    }
}


class Worker:
    """Fails every record whose body is "poison"; raises for "explode"; records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (body, ApproximateReceiveCount)
        self.lock = threading.Lock()

    def __call__(self, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.seen += [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in event["Records"]]
        if any(r["body"] == "explode" for r in event["Records"]):
            raise RuntimeError("the whole batch fails")
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
        }

    def receives(self, body: str) -> list[str]:
        with self.lock:
            return [count for seen_body, count in self.seen if seen_body == body]


@pytest.fixture
def work_queue() -> Iterator[tuple[Any, dict[str, Any], EventSources, Worker]]:
    moto = MotoServer()
    moto.start()
    sqs = aws_client("sqs", moto.endpoint_url)
    endpoints = create_queues(sqs, TEMPLATE, visibility_timeout=1)
    worker = Worker()
    sources = EventSources.from_template(TEMPLATE, moto.endpoint_url, endpoints, worker)
    sources.start()
    try:
        yield sqs, endpoints, sources, worker
    finally:
        sources.stop()
        for endpoint in endpoints.values():
            sqs.delete_queue(QueueUrl=endpoint.url)
        moto.stop()


def _bodies(sqs: Any, url: str) -> list[str]:
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def _wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_reported_failure_is_retried_then_moved_to_the_dead_letter_queue(work_queue: Any) -> None:
    sqs, endpoints, sources, worker = work_queue
    queue, dlq = endpoints["WorkQueue"], endpoints["WorkDLQ"]

    sqs.send_message(QueueUrl=queue.url, MessageBody="poison")
    sqs.send_message(QueueUrl=queue.url, MessageBody="fine")
    _wait_for(lambda: len(worker.receives("poison")) == 3)
    _wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "1"
        )
    )

    assert worker.receives("poison") == ["1", "2", "3"]  # maxReceiveCount receives, then the DLQ
    assert worker.receives("fine") == ["1"]  # deleted after its batch: never redelivered
    assert _bodies(sqs, dlq.url) == ["poison"]
    assert sources.wait_idle(60)


def test_a_handler_that_raises_fails_the_whole_batch(work_queue: Any) -> None:
    sqs, endpoints, sources, worker = work_queue
    queue = endpoints["WorkQueue"]

    sqs.send_message_batch(
        QueueUrl=queue.url,
        Entries=[{"Id": "1", "MessageBody": "explode"}, {"Id": "2", "MessageBody": "bystander"}],
    )
    _wait_for(lambda: len(worker.receives("explode")) >= 2)

    assert len(worker.receives("bystander")) >= 2  # not deleted: it came back with the failed batch


def test_the_template_queues_are_created_with_their_redrive_policy(local_stack: RunningStack) -> None:
    sqs = aws_client("sqs", local_stack.info["aws_endpoint"])
    outbound = local_stack.info["queues"]["OutboundQueue"]

    attributes = sqs.get_queue_attributes(QueueUrl=outbound, AttributeNames=["All"])["Attributes"]

    policy = json.loads(attributes["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(":OutboundDeadLetterQueue")
    assert policy["maxReceiveCount"] == 5
    assert set(local_stack.info["queues"]) == set(queues(load_template(Path(__file__).parents[2] / "template.yaml")))


def test_without_java_dynamodb_falls_back_to_moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from local import dynamodb

    monkeypatch.setattr(dynamodb.shutil, "which", lambda name: None)
    database = dynamodb.DynamoDBLocal(tmp_path, Path(__file__).parents[2])
    database.start()
    try:
        tables = aws_client("dynamodb", database.endpoint_url).list_tables()["TableNames"]
    finally:
        database.stop()

    assert database.engine == "moto"
    assert isinstance(tables, list)


def test_a_queue_keeps_up_to_its_maximum_concurrency_of_batches_in_flight() -> None:
    template = json.loads(json.dumps(TEMPLATE))
    properties = template["Resources"]["Worker"]["Properties"]["Events"]["Work"]["Properties"]
    properties.update({"BatchSize": 1, "ScalingConfig": {"MaximumConcurrency": 3}})
    in_flight, most, done = [0], [0], []
    lock = threading.Lock()

    def slow(function_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.5)
        with lock:
            in_flight[0] -= 1
            done.extend(record["body"] for record in event["Records"])
        return {"batchItemFailures": []}

    moto = MotoServer()
    moto.start()
    sqs = aws_client("sqs", moto.endpoint_url)
    endpoints = create_queues(sqs, template, visibility_timeout=30)
    sources = EventSources.from_template(template, moto.endpoint_url, endpoints, slow, concurrency=lambda _: 4)
    sources.start()
    try:
        sqs.send_message_batch(QueueUrl=endpoints["WorkQueue"].url,
                               Entries=[{"Id": str(i), "MessageBody": f"job {i}"} for i in range(9)])
        _wait_for(lambda: len(done) == 9)
        assert sources.wait_idle(60)
    finally:
        sources.stop()
        moto.stop()

    assert sources.mappings[0].pollers == 3  # MaximumConcurrency, under the function's 4
    assert most[0] == 3
    assert sorted(done) == sorted(f"job {i}" for i in range(9))

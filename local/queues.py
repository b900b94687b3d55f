"""SQS and Secrets Manager for the local stack (a moto server), and Lambda's SQS event-source loop.

Queues are those of template.yaml (named by logical id, `.fifo` added for FIFO queues) with their
visibility timeout, retention and redrive policy; the carrier secret is created beside them. They live in
moto's memory: messages in flight are lost when the stack stops (DynamoDB is what persists).

`EventSourceMapping` polls one queue for one function the way Lambda's poller does: long-poll up to
`BatchSize` messages, one SQS event (`Records`) per batch, then delete what succeeded: every record when
the handler returns (minus the `batchItemFailures` it reports, if the event source has
`ReportBatchItemFailures`), none when it raises. Failed records reappear after the visibility timeout
and, once received `maxReceiveCount` times, moto moves them to the dead-letter queue on the next receive
(as SQS does). `LOCAL_QUEUE_VISIBILITY_TIMEOUT` (seconds) shortens every queue's visibility timeout to
try retries without waiting a minute each.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local.faults import FAULTS
from local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, QueueEndpoint
from local.template import Queue, QueueConsumer, Template, queues

log = logging.getLogger("local.queues")

_LAMBDA_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "AWSTraceHeader",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
)


class MotoServer:
    """A moto server in this process on 127.0.0.1 (all services on one port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint_url = ""

    def start(self) -> None:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str) -> Any:
        return aws_client(service, self.endpoint_url)


_SESSIONS: dict[str, boto3.session.Session] = {}
_SESSIONS_LOCK = threading.Lock()


def aws_client(service: str, endpoint_url: str, region: str = LOCAL_REGION) -> Any:
    """A boto3 client for a local endpoint, with the stack's fake credentials. One session per region, so each
    service's model is read once; the lock because boto3 sessions are not safe to create clients from in parallel."""
    with _SESSIONS_LOCK:
        session = _SESSIONS.get(region)
        if session is None:
            session = _SESSIONS[region] = boto3.session.Session(
                aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
        return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def queue_name(template: Template, queue: Queue) -> str:
    properties = ((template.get("Resources") or {}).get(queue.logical_id) or {}).get("Properties") or {}
    fifo = properties.get("FifoQueue") is True
    return queue.logical_id + (".fifo" if fifo else "")


def create_queues(
    sqs: Any,
    template: Template,
    visibility_timeout: int | None = None,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT_ID,
) -> dict[str, QueueEndpoint]:
    """Create the template's queues (dead-letter targets first) and return where each one is."""
    specs = queues(template)
    endpoints: dict[str, QueueEndpoint] = {}
    for queue in specs.values():
        name = queue_name(template, queue)
        attributes = {
            "VisibilityTimeout": str(visibility_timeout or queue.visibility_timeout),
            "MessageRetentionPeriod": str(queue.message_retention_period),
        }
        if name.endswith(".fifo"):
            attributes["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        endpoints[queue.logical_id] = QueueEndpoint(
            queue.logical_id, name, url, f"arn:aws:sqs:{region}:{account_id}:{name}"
        )
    for queue in specs.values():  # redrive once every target exists (SQS checks it)
        if queue.dead_letter_queue is None:
            continue
        if queue.dead_letter_queue not in endpoints:
            raise ValueError(f"{queue.logical_id}: dead-letter target {queue.dead_letter_queue} is not a queue")
        policy = {
            "deadLetterTargetArn": endpoints[queue.dead_letter_queue].arn,
            "maxReceiveCount": int(queue.max_receive_count or 10),
        }
        sqs.set_queue_attributes(
            QueueUrl=endpoints[queue.logical_id].url, Attributes={"RedrivePolicy": json.dumps(policy)}
        )
    return endpoints


def put_secret(secrets: Any, name: str, value: Mapping[str, Any]) -> None:
    """Create (or overwrite) a JSON secret."""
    try:
        secrets.create_secret(Name=name, SecretString=json.dumps(value))
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=name, SecretString=json.dumps(value))


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str = LOCAL_REGION) -> dict[str, Any]:
    """The event Lambda's SQS poller sends for a batch of received messages."""
    records = []
    for message in messages:
        attributes = message.get("Attributes") or {}
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {k: attributes[k] for k in _LAMBDA_RECORD_ATTRIBUTES if k in attributes},
                "messageAttributes": {
                    name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody"),
                **(
                    {"md5OfMessageAttributes": message["MD5OfMessageAttributes"]}
                    if message.get("MD5OfMessageAttributes")
                    else {}
                ),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return shaped


def failed_message_ids(result: Any, message_ids: list[str], report_failures: bool) -> set[str]:
    """Which records of a batch failed, by Lambda's rules for a handler that returned `result`.

    Without ReportBatchItemFailures a return is success. With it: no/empty `batchItemFailures` is success;
    a malformed response or an identifier missing, empty or not in the batch fails the whole batch.
    """
    if not report_failures or not result:
        return set()
    if not isinstance(result, dict):
        return set(message_ids)
    failures = result.get("batchItemFailures")
    if not failures:
        return set()
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class PolledEventSource:
    """An event source polled on threads of its own, as Lambda's pollers do; `EventSources` drains and waits on it.

    `pollers` threads poll at once (a queue's concurrent batches); each keeps its own record of when it last
    polled empty and whether it is handing a batch over, so `idle_since` holds only once every poller has
    found nothing after a moment and none is busy. Subclasses give `name`, `_next_batch` (the records to hand
    over now; `[]` when there are none, None to skip this poll without counting it as empty) and `_process`;
    `serial` sources (streams: records in order) hand one batch at a time whatever `pollers` says.
    """

    kind = "source"
    idle_pause = 0.0  # seconds between polls that found nothing (SQS long-polls instead)
    serial = False

    def __init__(self, wait_seconds: int = 0, pollers: int = 1) -> None:
        self.wait_seconds = wait_seconds
        self.pollers = max(1, pollers)
        self._lock = threading.Lock()
        self._counts_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = [False] * self.pollers
        self._last_empty_poll_started = [0.0] * self.pollers
        self.last_batch_finished = 0.0
        self.records_handed = 0
        self.batches = 0

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def processing(self) -> bool:
        return any(self._busy)

    def _next_batch(self, wait_seconds: int) -> list[dict[str, Any]] | None:
        raise NotImplementedError

    def _process(self, batch: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._run, args=(poller,), name=f"{self.kind}:{self.name}:{poller}",
                                          daemon=True) for poller in range(self.pollers)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, poller: int) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once(self.wait_seconds, poller) == 0 and self.idle_pause:
                    self._stop.wait(self.idle_pause)
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("%s: polling failed; retrying in 1 s", self.name)
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0, poller: int = 0) -> int:
        """Hand one batch to the function; returns how many records it held."""
        if self.serial:
            with self._lock:
                return self._poll(wait_seconds, poller)
        return self._poll(wait_seconds, poller)

    def _poll(self, wait_seconds: int, poller: int) -> int:
        started = time.monotonic()
        batch = self._next_batch(wait_seconds)
        if not batch:
            if batch is not None:
                self._last_empty_poll_started[poller] = started
            return 0
        self._busy[poller] = True
        try:
            self._process(batch)
        finally:
            self.last_batch_finished = time.monotonic()
            self._busy[poller] = False
            with self._counts_lock:
                self.records_handed += len(batch)
                self.batches += 1
        return len(batch)

    def idle_since(self, mark: float) -> bool:
        """Whether every poller has polled empty since `mark` and none is busy."""
        return not self.processing and all(started >= mark for started in self._last_empty_poll_started)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "pollers": self.pollers, "batches": self.batches,
                "records": self.records_handed, "busy_pollers": sum(self._busy)}


class EventSourceMapping(PolledEventSource):
    """One SQS event source of one function: up to `pollers` batches in flight (its MaximumConcurrency)."""

    kind = "sqs"

    def __init__(
        self,
        sqs_endpoint: str,
        queue: QueueEndpoint,
        consumer: QueueConsumer,
        invoke: Callable[[dict[str, Any]], Any],
        region: str = LOCAL_REGION,
        wait_seconds: int = 1,
        pollers: int = 1,
    ) -> None:
        super().__init__(wait_seconds, pollers)
        self.queue = queue
        self.consumer = consumer
        self.invoke = invoke
        self.region = region
        self._sqs = aws_client("sqs", sqs_endpoint, region)

    @property
    def name(self) -> str:
        return f"{self.queue.name} -> {self.consumer.function_id}"

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        return list(self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=max(1, min(count, 10)),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []))

    def _next_batch(self, wait_seconds: int) -> list[dict[str, Any]]:
        """Up to BatchSize messages: what one receive brings, or, with MaximumBatchingWindowInSeconds, what
        arrives within the window after the first (as Lambda gathers a batch)."""
        wanted = max(1, int(self.consumer.batch_size))
        messages = self._receive(wanted, wait_seconds)
        window = self.consumer.maximum_batching_window_seconds
        if messages and window:
            until = time.monotonic() + window
            while len(messages) < wanted and not self._stop.is_set():
                left = until - time.monotonic()
                if left <= 0:
                    break
                more = self._receive(wanted - len(messages), min(20, max(0, int(left))))
                if not more and left < 1:
                    self._stop.wait(min(left, 0.1))
                messages += more
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        ids = [message["MessageId"] for message in messages]
        handed_at = time.time()
        try:
            result = self.invoke(sqs_event(messages, self.queue.arn, self.region))
            if FAULTS.strikes("queue_redelivery"):
                log.info("%s: %d message(s) delivered again (fault injected)", self.name, len(ids))
                result = self.invoke(sqs_event(messages, self.queue.arn, self.region))
        except Exception as error:
            log.error("%s: the invocation failed (%s); %d message(s) return after the visibility timeout",
                      self.name, error, len(ids))
            TRACE.record_sqs(self.name, messages, handed_at, ok=False)
            return
        failed = failed_message_ids(result, ids, self.consumer.report_batch_item_failures)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        TRACE.record_sqs(self.name, done, handed_at, ok=True)
        log.info("%s: %d message(s), %d failed", self.name, len(ids), len(failed))


class EventSources:
    """Every SQS event source of the template, started and stopped together."""

    def __init__(self, mappings: list[PolledEventSource]) -> None:
        self.mappings = mappings

    @classmethod
    def from_template(
        cls,
        template: Template,
        sqs_endpoint: str,
        endpoints: Mapping[str, QueueEndpoint],
        invoke: Callable[[str, dict[str, Any]], Any],
        region: str = LOCAL_REGION,
        *,
        concurrency: Callable[[str], int] | None = None,
    ) -> EventSources:
        """`concurrency` gives a function's concurrency (one batch at a time when absent); a queue's pollers are
        that, or its ScalingConfig.MaximumConcurrency if lower."""
        mappings = []
        for queue in queues(template).values():
            for consumer in queue.consumers:
                if not consumer.enabled:
                    log.info("%s: event source from %s is disabled", consumer.function_id, queue.logical_id)
                    continue
                mappings.append(
                    EventSourceMapping(
                        sqs_endpoint,
                        endpoints[queue.logical_id],
                        consumer,
                        partial(invoke, consumer.function_id),
                        region,
                        pollers=_pollers(consumer, concurrency),
                    )
                )
        return cls(mappings)

    def start(self) -> None:
        for mapping in self.mappings:
            mapping.start()

    def stop(self) -> None:
        for mapping in self.mappings:
            mapping.stop()
        for mapping in self.mappings:
            mapping.join()

    def drain(self, max_batches: int = 1000) -> int:
        """Process, in this thread, whatever is visible now until every queue answers empty (loops stopped)."""
        processed = 0
        for _ in range(max_batches):
            batch = sum(mapping.poll_once(0) for mapping in self.mappings)
            processed += batch
            if batch == 0:
                break
        return processed

    def describe(self) -> list[dict[str, Any]]:
        return [mapping.describe() for mapping in self.mappings]

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until every running loop has polled its queue empty with no batch finishing since.

        Messages waiting out a visibility timeout (failures to be retried) do not count as work.
        """
        deadline = time.monotonic() + timeout
        mark = time.monotonic()
        while time.monotonic() < deadline:
            if any(mapping.last_batch_finished >= mark for mapping in self.mappings):
                mark = time.monotonic()
            elif all(mapping.idle_since(mark) for mapping in self.mappings):
                return True
            time.sleep(0.05)
        return False


def _pollers(consumer: QueueConsumer, concurrency: Callable[[str], int] | None) -> int:
    if concurrency is None:
        return 1
    limit = concurrency(consumer.function_id)
    return max(1, min(limit, consumer.maximum_concurrency or limit))


class Trace:
    """When each record was handed to its function, kept only when `LOCAL_TRACE_EVENT_SOURCES=1` (the load
    bench reads it at `/local/event-sources?trace=1` to time each hop of a text's way)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.enabled = os.environ.get("LOCAL_TRACE_EVENT_SOURCES") == "1"
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def _add(self, entries: list[dict[str, Any]]) -> None:
        with self._lock:
            self._entries.extend(entries[: max(0, self.LIMIT - len(self._entries))])

    def record_sqs(self, source: str, messages: list[dict[str, Any]], handed_at: float, *, ok: bool) -> None:
        if not self.enabled:
            return
        done_at = time.time()
        self._add([{"source": source, "ok": ok, "handed_at": handed_at, "done_at": done_at,
                    "sent_at": int((m.get("Attributes") or {}).get("SentTimestamp", 0)) / 1000,
                    "body": m.get("Body")} for m in messages])

    def record_stream(self, source: str, records: list[dict[str, Any]], handed_at: float, *, ok: bool) -> None:
        if not self.enabled:
            return
        done_at = time.time()
        self._add([{"source": source, "ok": ok, "handed_at": handed_at, "done_at": done_at,
                    "created_at": _epoch((r.get("dynamodb") or {}).get("ApproximateCreationDateTime")),
                    "keys": (r.get("dynamodb") or {}).get("Keys")} for r in records])

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._entries]


TRACE = Trace()


def _epoch(moment: Any) -> float | None:
    if hasattr(moment, "timestamp"):
        return float(moment.timestamp())
    return float(moment) if isinstance(moment, int | float) else None

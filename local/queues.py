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


def aws_client(service: str, endpoint_url: str, region: str = LOCAL_REGION) -> Any:
    """A boto3 client for a local endpoint, with the stack's fake credentials (a session per client)."""
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
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
    """An event source polled on its own thread, as Lambda's pollers do; `EventSources` drains and waits on it.

    Subclasses give `name`, `_next_batch` (the records to hand over now; `[]` when there are none, None
    to skip this poll without counting it as empty) and `_process`.
    """

    kind = "source"
    idle_pause = 0.0  # seconds between polls that found nothing (SQS long-polls instead)

    def __init__(self, wait_seconds: int = 0) -> None:
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.processing = False
        self.last_empty_poll_started = 0.0
        self.last_batch_finished = 0.0

    @property
    def name(self) -> str:
        raise NotImplementedError

    def _next_batch(self, wait_seconds: int) -> list[dict[str, Any]] | None:
        raise NotImplementedError

    def _process(self, batch: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}:{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 15) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once(self.wait_seconds) == 0 and self.idle_pause:
                    self._stop.wait(self.idle_pause)
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("%s: polling failed; retrying in 1 s", self.name)
                self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Hand one batch to the function; returns how many records it held."""
        with self._lock:
            started = time.monotonic()
            batch = self._next_batch(wait_seconds)
            if not batch:
                if batch is not None:
                    self.last_empty_poll_started = started
                return 0
            self.processing = True
            try:
                self._process(batch)
            finally:
                self.last_batch_finished = time.monotonic()
                self.processing = False
            return len(batch)


class EventSourceMapping(PolledEventSource):
    """One SQS event source of one function."""

    kind = "sqs"

    def __init__(
        self,
        sqs_endpoint: str,
        queue: QueueEndpoint,
        consumer: QueueConsumer,
        invoke: Callable[[dict[str, Any]], Any],
        region: str = LOCAL_REGION,
        wait_seconds: int = 1,
    ) -> None:
        super().__init__(wait_seconds)
        self.queue = queue
        self.consumer = consumer
        self.invoke = invoke
        self.region = region
        self._sqs = aws_client("sqs", sqs_endpoint, region)

    @property
    def name(self) -> str:
        return f"{self.queue.name} -> {self.consumer.function_id}"

    def _next_batch(self, wait_seconds: int) -> list[dict[str, Any]]:
        return list(self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=max(1, min(int(self.consumer.batch_size), 10)),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []))

    def _process(self, messages: list[dict[str, Any]]) -> None:
        ids = [message["MessageId"] for message in messages]
        try:
            result = self.invoke(sqs_event(messages, self.queue.arn, self.region))
            if FAULTS.strikes("queue_redelivery"):
                log.info("%s: %d message(s) delivered again (fault injected)", self.name, len(ids))
                result = self.invoke(sqs_event(messages, self.queue.arn, self.region))
        except Exception:
            log.exception(
                "%s: the handler raised; %d message(s) return after the visibility timeout", self.name, len(ids)
            )
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
        log.info("%s: %d message(s), %d failed", self.name, len(ids), len(failed))


class EventSources:
    """Every SQS event source of the template, started and stopped together."""

    def __init__(self, mappings: list[EventSourceMapping]) -> None:
        self.mappings = mappings

    @classmethod
    def from_template(
        cls,
        template: Template,
        sqs_endpoint: str,
        endpoints: Mapping[str, QueueEndpoint],
        invoke: Callable[[str, dict[str, Any]], Any],
        region: str = LOCAL_REGION,
    ) -> EventSources:
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

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until every running loop has polled its queue empty with no batch finishing since.

        Messages waiting out a visibility timeout (failures to be retried) do not count as work.
        """
        deadline = time.monotonic() + timeout
        mark = time.monotonic()
        while time.monotonic() < deadline:
            if any(mapping.last_batch_finished >= mark for mapping in self.mappings):
                mark = time.monotonic()
            elif all(not m.processing and m.last_empty_poll_started >= mark for m in self.mappings):
                return True
            time.sleep(0.05)
        return False

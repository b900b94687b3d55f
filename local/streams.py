"""DynamoDB stream event sources with Lambda's semantics, polled against DynamoDB Local (or moto).

Each consumer reads every shard of the table's stream from where it starts (`LATEST` when the
source starts, like a new event source mapping; a shard that appears later from its beginning),
keeps the records its filter patterns match (Lambda's event filtering: lists of values, nested
objects, `exists`), and hands them to the function in order, at most `BatchSize` at a time. A batch
item failure (`ReportBatchItemFailures`) or a crash retries from the first failed record; after
`MaximumRetryAttempts` retries (-1: until it succeeds, with a growing pause) the records are
described on the on-failure queue and skipped. Not emulated: bisecting a failed batch and
`MaximumRecordAgeInSeconds`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from local.faults import FAULTS
from local.queues import TRACE, PolledEventSource
from local.template import StreamConsumer, Template, table_streams

log = logging.getLogger("local.streams")


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    """Lambda's event filter pattern against a record (the subset a template here may use)."""
    for key, wanted in pattern.items():
        present = isinstance(value, Mapping) and key in value
        actual = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(wanted, Mapping):
            # A path that is absent matches only leaves that ask for absence (`{"exists": false}`).
            if not matches(wanted, actual if present else None):
                return False
            continue
        if not isinstance(wanted, list):
            raise ValueError(f"filter pattern values must be lists or objects, not {wanted!r}")
        if not any(_matches_one(option, present, actual) for option in wanted):
            return False
    return True


def _matches_one(option: Any, present: bool, actual: Any) -> bool:
    if isinstance(option, Mapping):
        if set(option) == {"exists"}:
            return present == bool(option["exists"])
        raise ValueError(f"filter operator {sorted(option)} is not supported locally")
    return present and actual == option


class StreamEventSource(PolledEventSource):
    """One function reading one table's stream."""

    kind = "stream"
    idle_pause = 0.2
    serial = True  # one batch per shard at a time, in order, as Lambda reads a shard

    def __init__(self, consumer: StreamConsumer, table_name: str, dynamodb: Any, streams: Any,
                 invoke: Callable[[dict[str, Any]], Any], region: str, on_failure: Callable[[dict[str, Any]], None]
                 | None = None) -> None:
        super().__init__()
        self.consumer = consumer
        self.table_name = table_name
        self.invoke = invoke
        self.region = region
        self.on_failure = on_failure
        self._dynamodb = dynamodb
        self._streams = streams
        self._stream_arn: str | None = None
        self._iterators: dict[str, str | None] = {}
        self._read_up_to: dict[str, str] = {}
        self._from_start: set[str] = set()
        self._pending: list[dict[str, Any]] = []
        self._attempts = 0
        self._retry_at = 0.0
        self._follow_shards(self.consumer.starting_position)

    @property
    def name(self) -> str:
        return f"{self.table_name} stream -> {self.consumer.function_id}"

    def _follow_shards(self, position: str) -> None:
        if self._stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table.get("LatestStreamArn")
            if not self._stream_arn:
                raise RuntimeError(f"{self.table_name} has no stream; {self.consumer.function_id} reads one")
        shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            # A closed shard seen at start holds only the past: nothing to read from LATEST.
            if position == "LATEST" and shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber"):
                self._iterators[shard_id] = None
                continue
            if position == "TRIM_HORIZON":
                self._from_start.add(shard_id)
            self._iterators[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=position)["ShardIterator"]

    def _iterator(self, shard_id: str) -> str | None:
        # A fresh iterator after the last record read, rather than the previous answer's: moto swaps a
        # table's stream for a copy when it rolls back a transaction, and old iterators stop seeing it.
        if shard_id in self._read_up_to:
            return str(self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=self._read_up_to[shard_id])["ShardIterator"])
        if shard_id in self._from_start:
            return str(self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
        return self._iterators[shard_id]

    def _read(self) -> None:
        self._follow_shards("TRIM_HORIZON")
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            try:
                answer = self._streams.get_records(ShardIterator=self._iterator(shard_id), Limit=1000)
            except self._streams.exceptions.ExpiredIteratorException:
                # Only an iterator left unused for 15 minutes expires (a suspended machine): start again
                # after the last record read, or where the source started.
                log.warning("%s: shard iterator expired; reading on from the last record", self.name)
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="LATEST")["ShardIterator"]
                continue
            self._iterators[shard_id] = answer.get("NextShardIterator")
            for record in answer.get("Records", []):
                self._read_up_to[shard_id] = _sequence(record)
                record.setdefault("eventSourceARN", self._stream_arn)
                record.setdefault("awsRegion", self.region)
                if not self.consumer.filter_patterns or any(matches(p, record) for p in self.consumer.filter_patterns):
                    self._pending.append(record)

    def _next_batch(self, wait_seconds: int) -> list[dict[str, Any]] | None:
        if time.monotonic() < self._retry_at:
            return None  # backing off after a failure: not an empty poll
        if not self._pending:
            self._read()
        return self._pending[: max(1, self.consumer.batch_size)]

    def _process(self, batch: list[dict[str, Any]]) -> None:
        failed_at = self._first_failure(batch)
        if failed_at is None:
            del self._pending[: len(batch)]
            self._attempts = 0
            return
        if failed_at > 0:
            self._attempts = 0
        del self._pending[:failed_at]
        self._attempts += 1
        self._retry_at = time.monotonic() + min(0.1 * 2 ** self._attempts, 5.0)
        limit = self.consumer.maximum_retry_attempts
        if 0 <= limit < self._attempts:
            rest = self._pending[: len(batch) - failed_at]
            log.error("%s: %d record(s) failed %d times; sent to the on-failure destination", self.name, len(rest),
                      self._attempts)
            if self.on_failure is not None:
                self.on_failure({"requestContext": {"condition": "RetryAttemptsExhausted"},
                                 "DDBStreamBatchInfo": {"streamArn": self._stream_arn, "batchSize": len(rest),
                                                        "startSequenceNumber": _sequence(rest[0]),
                                                        "endSequenceNumber": _sequence(rest[-1])}})
            del self._pending[: len(rest)]
            self._attempts = 0

    def _first_failure(self, batch: Sequence[dict[str, Any]]) -> int | None:
        handed_at = time.time()
        failed_at = self._invoke(batch)
        TRACE.record_stream(self.name, list(batch if failed_at is None else batch[:failed_at]), handed_at, ok=True)
        return failed_at

    def _invoke(self, batch: Sequence[dict[str, Any]]) -> int | None:
        try:
            result = self.invoke({"Records": list(batch)})
            if FAULTS.strikes("stream_redelivery"):
                log.info("%s: %d record(s) delivered again (fault injected)", self.name, len(batch))
                result = self.invoke({"Records": list(batch)})
        except Exception as error:
            log.error("%s: the invocation failed (%s); the batch is retried", self.name, error)
            return 0
        if not self.consumer.report_batch_item_failures or not isinstance(result, Mapping):
            return None
        sequences = [_sequence(record) for record in batch]
        failed = [f.get("itemIdentifier") for f in result.get("batchItemFailures") or []]
        positions = [sequences.index(s) for s in failed if s in sequences]
        if len(positions) != len(failed):
            return 0  # an identifier that is no record of the batch fails the whole batch, as in Lambda
        return min(positions) if positions else None


def _sequence(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def describe_failure(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    def send(description: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(description))

    return send


def stream_sources(template: Template, tables: Mapping[str, str], dynamodb: Any, streams: Any,
                   invoke: Callable[[str, dict[str, Any]], Any], region: str, *, starting_position: str,
                   on_failure: Callable[[str], Callable[[dict[str, Any]], None] | None] = lambda queue_id: None,
                   concurrency: Callable[[str], int] | None = None) -> list[StreamEventSource]:
    """The template's enabled DynamoDB stream event sources, each read from `starting_position`;
    `invoke` takes the function's logical id, `on_failure` a destination queue's. A source hands one batch at a
    time (a table's stream here has one open shard; Lambda reads each shard in order, one batch at a time), so
    `concurrency` changes nothing for streams."""
    found = []
    for consumer in table_streams(template):
        if not consumer.enabled:
            continue
        consumer = replace(consumer, starting_position=starting_position)
        found.append(StreamEventSource(
            consumer, tables[consumer.table_id], dynamodb, streams, partial(invoke, consumer.function_id), region,
            on_failure(consumer.on_failure_queue) if consumer.on_failure_queue else None))
    return found

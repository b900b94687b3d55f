"""3. Overhead over the floor: a warm handler beside the same DynamoDB (and SQS) requests made raw with boto3.

The floor replays the exact requests the handler sent (captured with `provide-client-params`, the caller's
number and message sid swapped for fresh ones), alternating with the handler in the same loop; the items it
wrote are read back for their billed size (the cost model's storage figures).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from bench.common import median
from bench.harness import Harness

CALLS = 200
WARMUP = 20
FLOOR_WARMUP = 5
# The DynamoDB operations PynamoDB sends, by the boto3 method that sends one raw.
_METHODS = {"GetItem": "get_item", "PutItem": "put_item", "UpdateItem": "update_item", "Query": "query",
            "TransactWriteItems": "transact_write_items", "TransactGetItems": "transact_get_items",
            "DeleteItem": "delete_item", "BatchGetItem": "batch_get_item", "BatchWriteItem": "batch_write_item"}

MakeEvent = Callable[[str, str], dict[str, Any]]


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


def _fresh(bench: Harness) -> tuple[str, str]:
    """A caller's number and a message sid never used before."""
    return next(bench.numbers), f"SM{secrets.token_hex(16)}"


def overhead(bench: Harness, folder: str, make_event: MakeEvent) -> dict[str, Any]:
    """Median handler time vs the same DynamoDB requests made raw with boto3, alternating, same run."""
    bench.attach()
    for _ in range(WARMUP):
        bench.invoke(folder, make_event(*_fresh(bench)))
    template_phone, template_sid = _fresh(bench)
    with bench.recorder.recording(capture=True) as captured:
        bench.invoke(folder, make_event(template_phone, template_sid))
    requests = [(c.operation, c.params) for c in captured if c.service == "dynamodb" and c.params is not None]
    sqs_requests = [(c.operation, c.params) for c in captured if c.service == "sqs" and c.params is not None]
    sizes: list[dict[str, Any]] = []
    for table, key in written_keys(requests):
        stored = bench.dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if stored:
            sizes.append({"kind": stored.get("kind", {}).get("S", "?"), "bytes": item_size(stored),
                          "attributes": len(stored)})

    def raw_floor() -> tuple[float, float]:
        """Seconds the raw DynamoDB requests took, and with the SQS sends after them."""
        phone, sid = _fresh(bench)
        swaps = {template_phone: phone, template_sid: sid}
        prepared = [(_METHODS[op], _replace_strings(params, swaps)) for op, params in requests]
        queued = [_replace_strings(params, swaps) for _, params in sqs_requests]
        started = time.perf_counter()
        for method, params in prepared:
            try:
                getattr(bench.dynamodb, method)(**params)
            except bench.dynamodb.exceptions.TransactionCanceledException:
                pass
        dynamo_done = time.perf_counter()
        for params in queued:
            bench.sqs.send_message(**params)
        return dynamo_done - started, time.perf_counter() - started

    for _ in range(FLOOR_WARMUP):
        raw_floor()
    handler_ms: list[float] = []
    floor_ms: list[float] = []
    floor_sqs_ms: list[float] = []
    in_dynamo_ms: list[float] = []
    in_sqs_ms: list[float] = []
    statuses: dict[str, int] = {}
    for _ in range(CALLS):
        event = make_event(*_fresh(bench))
        with bench.recorder.recording() as calls:
            started = time.perf_counter()
            answer = bench.invoke(folder, event)
            handler_ms.append((time.perf_counter() - started) * 1000)
        status = str(answer.get("statusCode"))
        statuses[status] = statuses.get(status, 0) + 1
        in_dynamo_ms.append(sum(c.seconds for c in calls if c.service == "dynamodb") * 1000)
        in_sqs_ms.append(sum(c.seconds for c in calls if c.service == "sqs") * 1000)
        dynamo_only, with_sqs = raw_floor()
        floor_ms.append(dynamo_only * 1000)
        floor_sqs_ms.append(with_sqs * 1000)
    return {
        "calls": CALLS, "handler_ms": median(handler_ms), "floor_ms": median(floor_ms),
        "floor_with_sqs_ms": median(floor_sqs_ms), "in_dynamodb_ms": median(in_dynamo_ms),
        "in_sqs_ms": median(in_sqs_ms), "statuses": statuses,
        "floor_requests": [op for op, _ in requests], "floor_sqs_requests": [op for op, _ in sqs_requests],
        "handler_p90_ms": sorted(handler_ms)[int(0.9 * len(handler_ms))],
        "floor_p90_ms": sorted(floor_ms)[int(0.9 * len(floor_ms))],
        "item_sizes": sizes,
        "sqs_body_bytes": [len(str(params.get("MessageBody", "")).encode()) for _, params in sqs_requests],
    }

"""Putting work on the queues. The SQS client is built on first use, not at import."""

from __future__ import annotations

import json
import math
import os
from functools import cache
from typing import Any

from switchboard.core.settings import queue_settings, store_settings


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs", region_name=store_settings().region)


def send_outbound(job: dict[str, Any], *, delay_seconds: int = 0) -> None:
    """A message to send, or a count to record, for `outbound_messaging` (held back up to 15 minutes)."""
    _sqs().send_message(QueueUrl=queue_settings().outbound_queue_url, MessageBody=json.dumps(job),
                        DelaySeconds=max(0, min(delay_seconds, 900)))


def send_message_job(ref: Any, status_callback: str, *, delay_seconds: int = 0) -> None:
    """Ask `outbound_messaging` to send a stored message (`ref` is a data.conversations.MessageRef)."""
    send_outbound({"send": {"line_id": ref.line_id, "phone": ref.phone, "message_id": ref.message_id},
                   "status_callback": status_callback}, delay_seconds=delay_seconds)


def send_inbound_event(event: dict[str, Any]) -> None:
    """Something a patient sent, for `after_hours`."""
    _sqs().send_message(QueueUrl=queue_settings().follow_up_queue_url, MessageBody=json.dumps(event))


def retry_later(receipt_handle: str, *, attempt: int, delay_seconds: float | None = None) -> None:
    """Hold the job back before the queue hands it out again: the given delay, or base x 2^(attempt-1),
    at most 15 minutes."""
    base = float(os.environ.get("RETRY_BASE_SECONDS", "15"))
    wanted = delay_seconds if delay_seconds is not None else base * 2 ** max(attempt - 1, 0)
    delay = int(min(math.ceil(wanted), 900))
    _sqs().change_message_visibility(QueueUrl=queue_settings().outbound_queue_url, ReceiptHandle=receipt_handle,
                                     VisibilityTimeout=delay)

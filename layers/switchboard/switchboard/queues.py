"""Putting work on the queues. The SQS client is built on first use, not at import."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from switchboard.settings import queue_settings, store_settings


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs", region_name=store_settings().region)


def send_outbound(job: dict[str, Any]) -> None:
    """A message to send, or a count to record, for `outbound_messaging`."""
    _sqs().send_message(QueueUrl=queue_settings().outbound_queue_url, MessageBody=json.dumps(job))


def send_message_job(ref: Any, status_callback: str) -> None:
    """Ask `outbound_messaging` to send a stored message (`ref` is a data.conversations.MessageRef)."""
    send_outbound({"send": {"line_id": ref.line_id, "phone": ref.phone, "message_id": ref.message_id},
                   "status_callback": status_callback})


def send_inbound_event(event: dict[str, Any]) -> None:
    """Something a patient sent, for `after_hours`."""
    _sqs().send_message(QueueUrl=queue_settings().inbound_events_queue_url, MessageBody=json.dumps(event))


def retry_later(receipt_handle: str, *, attempt: int) -> None:
    """Back off before the queue hands this job out again: base x 2^(attempt-1), at most 15 minutes."""
    base = float(os.environ.get("RETRY_BASE_SECONDS", "15"))
    delay = int(min(base * 2 ** max(attempt - 1, 0), 900))
    _sqs().change_message_visibility(QueueUrl=queue_settings().outbound_queue_url, ReceiptHandle=receipt_handle,
                                     VisibilityTimeout=delay)

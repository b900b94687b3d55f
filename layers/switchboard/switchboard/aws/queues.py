"""Putting jobs on the work queues. The SQS client is built on first use, not at import."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from switchboard.core.settings import queue_settings, store_settings

from .jobs import FollowUp, Job, KeepMedia

MAX_DELAY_SECONDS = 900  # SQS holds a message back at most 15 minutes


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs", region_name=store_settings().region)


def _queue_url(job: Job) -> str:
    settings = queue_settings()
    if isinstance(job, FollowUp):
        return settings.follow_up_queue_url
    return settings.media_queue_url if isinstance(job, KeepMedia) else settings.outbound_queue_url


def send(job: Job, *, delay_seconds: int = 0) -> None:
    """Queue a job for its consumer: texts and counts for `outbound_messaging`, patients' texts for `follow_up`,
    their pictures for `inbound_media`."""
    _sqs().send_message(QueueUrl=_queue_url(job), MessageBody=job.encode(),
                        DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)))


def retry_later(receipt_handle: str, *, attempt: int, delay_seconds: float | None = None) -> None:
    """Hold an outbound job back before the queue hands it out again: the given delay, or base x 2^(attempt-1),
    at most 15 minutes."""
    base = queue_settings().retry_base_seconds
    wanted = delay_seconds if delay_seconds is not None else base * 2 ** max(attempt - 1, 0)
    delay = int(min(math.ceil(wanted), MAX_DELAY_SECONDS))
    _sqs().change_message_visibility(QueueUrl=queue_settings().outbound_queue_url, ReceiptHandle=receipt_handle,
                                     VisibilityTimeout=delay)

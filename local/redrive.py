"""Send a queue's dead letters back to it on a running local stack: `python -m local.redrive --queue OutboundQueue`.

`--queue` is the logical id of a work queue in template.yaml (`OutboundQueue`, `FollowUpQueue`); its
dead-letter queue is the one its `RedrivePolicy` names. The running stack's ready file
(`<data-dir>/stack.json`, `--data-dir` defaults to `.local`) gives the SQS endpoint and the queue URLs.
Each dead letter is sent again to the source queue (body and message attributes as they were), then
deleted from the dead-letter queue; one that cannot be sent stays where it was. Prints how many moved.

This is the local stand-in for SQS's own dead-letter redrive (`aws sqs start-message-move-task
--source-arn <DLQ ARN>`, or "Start DLQ redrive" in the console), which is what to use on AWS.
Exit codes: 0 done (even with nothing to move), 2 no running stack or no such queue.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

ROOT = Path(__file__).resolve().parent.parent
_FORWARDED_ATTRIBUTES = ("MessageGroupId", "MessageDeduplicationId")


class RedriveError(RuntimeError):
    """Something the operator must fix first (said plainly, without a traceback)."""


def stack_info(data_dir: Path) -> dict[str, Any]:
    ready_file = data_dir / "stack.json"
    if not ready_file.is_file():
        raise RedriveError(f"no local stack is running ({ready_file} does not exist); start one with `make run`")
    info: dict[str, Any] = json.loads(ready_file.read_text(encoding="utf-8"))
    return info


def sqs_client(endpoint_url: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
    return session.client("sqs", endpoint_url=endpoint_url)


def dead_letter_url(sqs: Any, source_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=source_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    policy = attributes.get("RedrivePolicy")
    if not policy:
        raise RedriveError(f"{source_url.rsplit('/', 1)[-1]} has no dead-letter queue (no RedrivePolicy)")
    target_arn = json.loads(policy)["deadLetterTargetArn"]
    url: str = sqs.get_queue_url(QueueName=target_arn.rsplit(":", 1)[-1])["QueueUrl"]
    return url


def redrive(sqs: Any, source_url: str, dlq_url: str, *, limit: int | None = None) -> int:
    """Move dead letters back to `source_url`; returns how many moved."""
    moved = 0
    fifo = source_url.endswith(".fifo")
    while limit is None or moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10 if limit is None else max(1, min(10, limit - moved)),
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            sent: dict[str, Any] = {"QueueUrl": source_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                sent["MessageAttributes"] = message["MessageAttributes"]
            if fifo:
                system = message.get("Attributes") or {}
                sent.update({name: system[name] for name in _FORWARDED_ATTRIBUTES if name in system})
            sqs.send_message(**sent)
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.redrive", description=__doc__.split("\n")[0])
    parser.add_argument("--queue", required=True, help="logical id of the work queue, e.g. OutboundQueue")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local", help="the running stack's data dir")
    parser.add_argument("--max-messages", type=int, default=None, help="move at most this many")
    args = parser.parse_args(argv)
    try:
        info = stack_info(args.data_dir.resolve())
        queues: dict[str, str] = info.get("queues") or {}
        if args.queue not in queues:
            raise RedriveError(f"no queue {args.queue!r} in the running stack; it has {', '.join(sorted(queues))}")
        sqs = sqs_client(info["aws_endpoint"])
        source_url = queues[args.queue]
        dlq_url = dead_letter_url(sqs, source_url)
        moved = redrive(sqs, source_url, dlq_url, limit=args.max_messages)
    except RedriveError as error:
        print(f"local.redrive: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"local.redrive: the stack's SQS endpoint did not answer as expected ({error}); is it running?",
              file=sys.stderr)
        return 2
    print(f"moved {moved} message(s) from {dlq_url.rsplit('/', 1)[-1]} back to {args.queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

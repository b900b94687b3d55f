"""The queues' jobs: small typed values, each with one encoding on the wire and one way back.

Plain dataclasses and json (no pydantic): the webhooks' stream consumer and the queue consumers
build and read these at cold start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.rules.addresses import MessageRef


def _ref(document: dict[str, Any]) -> MessageRef:
    return MessageRef(str(document["line_id"]), str(document["phone"]), str(document["message_id"]))


def _ref_document(ref: MessageRef) -> dict[str, str]:
    return {"line_id": ref.line_id, "phone": ref.phone, "message_id": ref.message_id}


@dataclass(frozen=True)
class SendText:
    """Send a stored message through the carrier (outbound queue). The practice, workflow and campaign let the
    consumer read everything the send needs in one request; a job without them reads the message first."""

    message: MessageRef
    practice_id: str | None = None
    workflow_id: str | None = None
    campaign_id: str | None = None

    def encode(self) -> str:
        return json.dumps({"send": _ref_document(self.message), "practice_id": self.practice_id,
                           "workflow_id": self.workflow_id, "campaign_id": self.campaign_id})

    @classmethod
    def decode(cls, document: dict[str, Any]) -> SendText:
        return cls(_ref(document["send"]), document.get("practice_id"), document.get("workflow_id"),
                   document.get("campaign_id"))


@dataclass(frozen=True)
class FollowUp:
    """A patient's stored text, to count, announce and maybe answer (follow-up queue)."""

    message: MessageRef
    practice_id: str
    body: str
    keyword: str | None
    received_at: datetime
    status_callback: str  # where the carrier reports on an answer
    carrier_reply: str | None = None  # the carrier's answer to an opt word, sent if it changed the patient's state

    def encode(self) -> str:
        return json.dumps({"message": _ref_document(self.message), "practice_id": self.practice_id,
                           "keyword": self.keyword, "body": self.body, "received_at": self.received_at.isoformat(),
                           "status_callback": self.status_callback, "carrier_reply": self.carrier_reply})

    @classmethod
    def decode(cls, document: dict[str, Any]) -> FollowUp:
        return cls(_ref(document["message"]), str(document["practice_id"]), str(document.get("body") or ""),
                   document.get("keyword"), datetime.fromisoformat(str(document["received_at"])),
                   str(document.get("status_callback") or ""), document.get("carrier_reply"))


@dataclass(frozen=True)
class KeepMedia:
    """A patient's text with pictures or files: copy them from the carrier into the stack's bucket, then delete
    them at the carrier (media queue)."""

    message: MessageRef
    practice_id: str

    def encode(self) -> str:
        return json.dumps({"media": _ref_document(self.message), "practice_id": self.practice_id})

    @classmethod
    def decode(cls, document: dict[str, Any]) -> KeepMedia:
        return cls(_ref(document["media"]), str(document["practice_id"]))


Job = SendText | FollowUp | KeepMedia


def decode(body: str) -> Job:
    """The job a queue message carries; ValueError for one no producer of ours wrote."""
    try:
        document = json.loads(body)
    except ValueError:
        raise ValueError("the queue message is not JSON") from None
    if isinstance(document, dict):
        for key, kind in (("send", SendText), ("message", FollowUp), ("media", KeepMedia)):
            if key in document:
                return kind.decode(document)
    raise ValueError("the queue message is not a job")

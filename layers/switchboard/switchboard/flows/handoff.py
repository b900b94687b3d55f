"""The table's stream as an outbox: a message a webhook stored with a `handoff` is put on its queue.

The webhook's one transaction is then the whole hand-off; the stream delivers each new item at least
once, and both queues' consumers already take a job twice without texting anyone twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import UTCDateTimeAttribute

from switchboard.aws import queues
from switchboard.data.conversations import MessageRef
from switchboard.rules.messages import Handoff


def hand_off(image: Mapping[str, Any]) -> Handoff | None:
    """Queue the job of a newly stored message (its stream image); None for items that carry no hand-off."""
    if image.get("kind") != "message" or image.get("handoff") not in set(Handoff):
        return None
    handoff = Handoff(image["handoff"])
    ref = MessageRef(str(image["line_id"]), str(image["phone"]), str(image["message_id"]))
    if handoff is Handoff.OUTBOUND:
        queues.send_message_job(ref, str(image["status_callback"]))
    else:
        received_at = UTCDateTimeAttribute().deserialize(str(image["created_at"]))
        queues.send_inbound_event({"message": {"line_id": ref.line_id, "phone": ref.phone,
                                               "message_id": ref.message_id},
                                   "practice_id": image["practice_id"], "keyword": image.get("keyword"),
                                   "body": image.get("body") or "", "received_at": received_at.isoformat(),
                                   "status_callback": image["status_callback"]})
    return handoff

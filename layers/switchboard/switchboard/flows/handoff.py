"""The table's stream as the outbox: a message stored (or released from its schedule) with a `handoff` is put on
its queue; an outbound one held back until its `send_at` when that is in the next 15 minutes; a patient's text
with pictures or files also goes on the media queue, to be kept.

The writer's one transaction is then the whole hand-off; the stream delivers each new item at least
once, and every queue's consumer already takes a job twice without texting anyone twice or keeping a file twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from switchboard.aws import queues
from switchboard.aws.jobs import FollowUp, KeepMedia
from switchboard.data.messages import from_stream, ref_of, send_job
from switchboard.rules.media import MediaState, media_of
from switchboard.rules.messages import Handoff


def hand_off(image: Mapping[str, Any]) -> Handoff | None:
    """Queue the job of a newly stored message (its stream image); None for items that carry no hand-off."""
    message = from_stream(image)
    if message is None or message.handoff not in set(Handoff):
        return None
    handoff = Handoff(message.handoff)
    if handoff in (Handoff.OUTBOUND, Handoff.RELEASED):
        wait = (message.send_at - datetime.now(UTC)).total_seconds() if message.send_at else 0
        queues.send(send_job(message), delay_seconds=math.ceil(wait))
    else:
        queues.send(FollowUp(ref_of(message), message.practice_id, message.body or "", message.keyword,
                             message.created_at, message.status_callback or "", message.carrier_reply))
        if any(item.state is MediaState.WAITING for item in media_of(message.media)):
            queues.send(KeepMedia(ref_of(message), message.practice_id))
    return handoff

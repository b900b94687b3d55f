"""Where things are: the line (of a practice) a number belongs to, a stored message, the counters an
outcome adds to. Plain values with no I/O, carried by queue jobs and passed between the rooms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineOwner:
    """Which line (of which practice) a number belongs to."""

    practice_id: str
    line_id: str


@dataclass(frozen=True)
class MessageRef:
    """A stored message: its line, the patient's phone and its id."""

    line_id: str
    phone: str
    message_id: str


@dataclass(frozen=True)
class CountsOf:
    """Whose counters an outcome adds to: a workflow's, a campaign's, or nobody's."""

    practice_id: str
    workflow_id: str | None = None
    campaign_id: str | None = None

    def __bool__(self) -> bool:
        return bool(self.workflow_id or self.campaign_id)


@dataclass(frozen=True)
class CarrierWebhooks:
    """Where the carrier calls us: a line's texts and calls, and the delivery statuses of what we send."""

    sms_url: str
    voice_url: str
    status_url: str

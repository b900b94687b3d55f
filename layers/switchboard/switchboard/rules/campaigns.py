"""Campaigns: one named text to a list of verified patients, from a location's or a line's number,
throttled to the carrier's per-number rate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from switchboard.core.fields import DomainModel
from switchboard.rules.sends import TextTemplate, Variables

DEFAULT_RATE = 1.0  # messages per second per long-code number


class CampaignStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELED = "canceled"
    FAILED = "failed"


class Recipient(DomainModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    variables: Variables = Field(default_factory=dict, max_length=40)


class NewCampaign(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    resource_id: str | None = Field(default=None, max_length=40)
    line_id: str | None = Field(default=None, max_length=40)
    template: TextTemplate
    recipients: list[Recipient] = Field(min_length=1, max_length=5000)
    rate_per_second: float = Field(default=DEFAULT_RATE, gt=0, le=30)

    @model_validator(mode="after")
    def _one_sender(self) -> NewCampaign:
        if (self.resource_id is None) == (self.line_id is None):
            raise ValueError("give either resource_id (the location's line is used) or line_id")
        ids = [r.patient_id for r in self.recipients]
        if len(set(ids)) != len(ids):
            raise ValueError("lists a patient twice")
        return self


class CampaignCounts(DomainModel):
    recipients: int
    pending: int
    queued: int
    sent: int
    delivered: int
    failed: int
    failed_by_reason: dict[str, int]
    suppressed: int
    replied: int


class Campaign(DomainModel):
    campaign_id: str
    practice_id: str
    name: str
    line_id: str
    status: CampaignStatus
    failure: str | None = Field(default=None, description="Why a failed campaign stopped")
    rate_per_second: float
    created_by: str
    created_at: datetime
    counts: CampaignCounts

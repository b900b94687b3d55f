"""Carrier registration (US A2P 10DLC): what the carrier's campaign and brand states mean for a practice.

US carriers block application-to-person texts from local numbers outside a registered campaign (Twilio
error 30034). Each practice's lines sit in one Messaging Service; the campaign registered on it (and the
brand behind the campaign) decide whether its texts get through. Pure: the poller reads the carrier and
stores what `registration_from` makes of it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, computed_field

from switchboard.core.fields import DomainModel


class RegistrationState(StrEnum):
    REGISTERED = "registered"
    IN_REVIEW = "in_review"
    FAILED = "failed"
    NOT_REGISTERED = "not_registered"


# Twilio's `campaign_status` on a Messaging Service's UsAppToPerson resource.
_CAMPAIGN_STATES = {
    "VERIFIED": RegistrationState.REGISTERED,
    "PENDING": RegistrationState.IN_REVIEW,
    "IN_PROGRESS": RegistrationState.IN_REVIEW,
    "FAILED": RegistrationState.FAILED,
    "SUSPENDED": RegistrationState.FAILED,
}
# A brand (TrustHub) the campaign rests on that is not approved holds the campaign back, whatever it says.
_BRAND_HOLDS = {"FAILED": RegistrationState.FAILED, "SUSPENDED": RegistrationState.FAILED,
                "PENDING": RegistrationState.IN_REVIEW, "IN_REVIEW": RegistrationState.IN_REVIEW}

_NEXT_STEPS = {
    RegistrationState.REGISTERED: "Nothing to do: carriers accept this practice's texts.",
    RegistrationState.IN_REVIEW: "Wait for the carriers' review (usually a few days to two weeks). Replies to "
                                 "patients and texts they asked for are still blocked by US carriers until then.",
    RegistrationState.FAILED: "Fix what the review found in Twilio's console (Messaging > Regulatory "
                              "Compliance), then resubmit the campaign; Switchboard picks the new state up "
                              "within five minutes.",
    RegistrationState.NOT_REGISTERED: "Register a brand and an A2P 10DLC campaign for this practice's Messaging "
                                      "Service in Twilio's console; Switchboard picks it up within five minutes.",
}


class Registration(DomainModel):
    """What the carrier last said about a practice's A2P 10DLC registration."""

    model_config = ConfigDict(frozen=True, extra="ignore")  # a stored one comes back with its computed fields

    state: RegistrationState = RegistrationState.NOT_REGISTERED
    campaign_status: str | None = None
    brand_status: str | None = None
    reason: str | None = None
    checked_at: datetime | None = None

    @property
    def can_send(self) -> bool:
        return self.state is RegistrationState.REGISTERED

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """One line for a card."""
        words = {RegistrationState.REGISTERED: "Registered for business texting (A2P 10DLC)",
                 RegistrationState.IN_REVIEW: "A2P 10DLC registration in review",
                 RegistrationState.FAILED: "A2P 10DLC registration failed",
                 RegistrationState.NOT_REGISTERED: "Not registered for business texting (A2P 10DLC)"}[self.state]
        return f"{words}: {self.reason}" if self.reason and self.state is RegistrationState.FAILED else words

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_step(self) -> str:
        return _NEXT_STEPS[self.state]

    def refusal(self) -> str:
        """Why a text the clinic starts is refused: the state and what to do."""
        state = {RegistrationState.IN_REVIEW: "is still in review",
                 RegistrationState.FAILED: "failed" + (f" ({self.reason})" if self.reason else ""),
                 RegistrationState.NOT_REGISTERED: "is not registered"}.get(self.state, "")
        return (f"the practice's A2P 10DLC registration {state}: US carriers block its texts (error 30034) "
                "until its campaign is registered")


def registration_from(campaign_status: str | None, brand_status: str | None, reasons: list[str],
                      at: datetime) -> Registration:
    """The practice's registration from its campaign (None: no campaign on the service) and brand states."""
    if campaign_status is None:
        return Registration(checked_at=at)
    state = _CAMPAIGN_STATES.get(campaign_status.upper(), RegistrationState.IN_REVIEW)
    held = _BRAND_HOLDS.get((brand_status or "").upper())
    if held is not None and state is not RegistrationState.FAILED:
        state = held
    reason = "; ".join(reasons)[:300] or None
    if state is RegistrationState.FAILED and reason is None:
        reason = f"the carrier says {campaign_status.lower()}"
    return Registration(state=state, campaign_status=campaign_status, brand_status=brand_status,
                        reason=reason if state is RegistrationState.FAILED else None, checked_at=at)


NOT_CHECKED = Registration()

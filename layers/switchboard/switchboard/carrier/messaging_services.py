"""The carrier's Messaging Services: one per practice, its sender pool, and the A2P 10DLC campaign on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.carrier.errors import CarrierRefused

ALREADY_IN_POOL = 21710  # the number is already in this Messaging Service's sender pool


@dataclass(frozen=True, slots=True)
class CampaignRegistration:
    """A Messaging Service's A2P 10DLC campaign as the carrier reports it (None fields: no campaign)."""

    campaign_status: str | None
    brand_status: str | None
    reasons: list[str]


class MessagingServiceCalls:
    """Part of `Carrier`: the Messaging API's calls."""

    _client: Any
    _call: Callable[[str, Callable[[], Any]], Any]

    def create_messaging_service(self, *, friendly_name: str) -> str:
        """A new Messaging Service (MG…). Inbound texts keep going to each number's own SMS URL, so bought and
        hosted lines answer the same way."""
        service = self._call("POST", lambda: self._client.messaging.v1.services.create(
            friendly_name=friendly_name[:64], use_inbound_webhook_on_number=True))
        return str(service.sid)

    def delete_messaging_service(self, service_sid: str) -> None:
        try:
            self._call("DELETE", lambda: self._client.messaging.v1.services(service_sid).delete())
        except CarrierRefused as refused:
            if refused.status != 404:
                raise

    def add_to_sender_pool(self, service_sid: str, number_sid: str) -> None:
        """Puts an incoming number (PN…) in the service's sender pool; one already there counts as added."""
        try:
            self._call("POST", lambda: self._client.messaging.v1.services(service_sid).phone_numbers.create(
                phone_number_sid=number_sid))
        except CarrierRefused as refused:
            if refused.code != ALREADY_IN_POOL:
                raise

    def campaign_registration(self, service_sid: str) -> CampaignRegistration:
        """The A2P 10DLC campaign registered on the service, and its brand's state."""
        service = self._client.messaging.v1.services(service_sid)
        campaigns = self._call("GET", lambda: service.us_app_to_person.list(limit=1))
        if not campaigns:
            return CampaignRegistration(None, None, [])
        campaign = campaigns[0]
        reasons = [str(error.get("description") or error.get("error_code") or "")
                   for error in (campaign.errors or []) if isinstance(error, dict)]
        brand_status = None
        if campaign.brand_registration_sid:
            brand = self._call("GET", lambda: self._client.messaging.v1.brand_registrations(
                campaign.brand_registration_sid).fetch())
            brand_status = str(brand.status) if brand.status else None
            reasons += [str(error.get("description") or "") for error in (brand.errors or [])
                        if isinstance(error, dict) and error.get("description")]
        return CampaignRegistration(str(campaign.campaign_status) if campaign.campaign_status else None,
                                    brand_status, [reason for reason in reasons if reason])

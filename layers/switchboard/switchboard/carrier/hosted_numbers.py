"""The carrier's hosted numbers: the business Address an order names, the order, and its letter of authorization."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.carrier.errors import CarrierRefused


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A business address as Twilio's Address resource takes it."""

    customer_name: str
    street: str
    city: str
    region: str
    postal_code: str
    iso_country: str
    street_secondary: str | None = None
    friendly_name: str | None = None


@dataclass(frozen=True, slots=True)
class HostedOrder:
    sid: str
    status: str
    failure_reason: str | None
    incoming_phone_number_sid: str | None = None
    next_step: str | None = None
    email: str | None = None
    signing_document_sid: str | None = None


def _hosted_order(instance: Any) -> HostedOrder:
    return HostedOrder(
        sid=instance.sid,
        status=instance.status,
        failure_reason=instance.failure_reason or None,
        incoming_phone_number_sid=instance.incoming_phone_number_sid or None,
        next_step=instance.next_step or None,
        email=instance.email or None,
        signing_document_sid=instance.signing_document_sid or None,
    )


class HostedNumberCalls:
    """Part of `Carrier`: Addresses and the Numbers API's hosted-number orders."""

    _client: Any
    _call: Callable[[str, Callable[[], Any]], Any]

    def order_hosted_number(
        self,
        *,
        phone_number: str,
        contact_email: str,
        contact_phone: str,
        friendly_name: str,
        sms_url: str,
        status_callback_url: str,
        address_sid: str,
        contact_title: str | None = None,
    ) -> HostedOrder:
        """Orders SMS hosting for a number that stays with its voice carrier (a clinic's landline), owned by
        the business at `address_sid` (the practice's Address)."""
        extra = {"contact_title": contact_title} if contact_title is not None else {}
        order = self._call(
            "POST",
            lambda: self._client.numbers.v2.hosted_number_orders.create(
                phone_number=phone_number,
                contact_phone_number=contact_phone,
                address_sid=address_sid,
                email=contact_email,
                friendly_name=friendly_name,
                sms_capability=True,
                sms_url=sms_url,
                sms_method="POST",
                status_callback_url=status_callback_url,
                status_callback_method="POST",
                **extra,
            ),
        )
        return _hosted_order(order)

    def cancel_hosted_order(self, sid: str) -> None:
        """Deletes the order; Twilio refuses once the order is past `received`. One already gone counts as cancelled."""
        try:
            self._call("DELETE", lambda: self._client.numbers.v2.hosted_number_orders(sid).delete())
        except CarrierRefused as refused:
            if refused.status != 404:
                raise

    def fetch_hosted_order(self, sid: str) -> HostedOrder:
        return _hosted_order(self._call("GET", lambda: self._client.numbers.v2.hosted_number_orders(sid).fetch()))

    def loa_status(self, signing_document_sid: str) -> str:
        """The order's letter of authorization (its authorization document): `opened`, `signing`, `signed`,
        `canceled` or `failed`. The order itself only names the document."""
        document = self._call(
            "GET", lambda: self._client.numbers.v2.authorization_documents(signing_document_sid).fetch())
        return str(document.status)

    def save_address(self, address: PostalAddress, *, address_sid: str | None = None) -> str:
        """Creates the business's Address, or updates the one at `address_sid`; the Address's sid (AD…).

        Twilio corrects an address it can match unless told not to; ours is kept as the clinic typed it."""
        fields: dict[str, Any] = {
            "customer_name": address.customer_name, "street": address.street, "city": address.city,
            "region": address.region, "postal_code": address.postal_code, "auto_correct_address": False,
            "street_secondary": address.street_secondary or "",  # empty clears an earlier one
        }
        if address.friendly_name:
            fields["friendly_name"] = address.friendly_name
        if address_sid:
            try:
                updated = self._call("POST", lambda: self._client.addresses(address_sid).update(**fields))
                return str(updated.sid)
            except CarrierRefused as refused:
                if refused.status != 404:
                    raise  # one deleted in Twilio's console is made anew below
        created = self._call(
            "POST", lambda: self._client.addresses.create(iso_country=address.iso_country, **fields))
        return str(created.sid)

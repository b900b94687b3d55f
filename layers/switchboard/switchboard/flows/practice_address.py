"""The practice's business address: saved as the carrier's Address first, then kept on the practice.

Carrier first, then our write, as for lines: a refused address leaves the practice as it was.
"""

from __future__ import annotations

from switchboard import carrier as carriers
from switchboard.carrier.error_codes import explain
from switchboard.core.errors import RuleRefused, Unavailable
from switchboard.data import practices as store
from switchboard.rules.practice_address import PracticeAddress, SavedAddress
from switchboard.rules.practices import Practice


def save_address(practice_id: str, address: PracticeAddress, *, actor: str) -> Practice:
    practice = store.get_practice(practice_id)
    postal = carriers.PostalAddress(
        customer_name=address.customer_name, street=address.street, street_secondary=address.street_secondary,
        city=address.city, region=address.region, postal_code=address.postal_code, iso_country=address.iso_country,
        friendly_name=practice.name[:64])
    try:
        sid = carriers.carrier().save_address(
            postal, address_sid=practice.address.address_sid if practice.address else None)
    except carriers.CarrierRefused as refused:
        explained = explain(refused.code)
        code = f" (Twilio {refused.code})" if refused.code is not None else ""
        advice = f". {explained.what_to_do}" if explained.what_to_do else ""
        raise RuleRefused(f"the carrier refused the address: {refused.reason}{code}{advice}", field="address") from None
    except carriers.CarrierError:
        raise Unavailable("the carrier did not answer; try again in a minute") from None
    return store.set_address(practice_id, SavedAddress(**address.model_dump(), address_sid=sid), actor=actor)

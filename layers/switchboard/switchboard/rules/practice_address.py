"""A practice's business address: Twilio needs one (an Address resource) on every hosted-number order."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from switchboard.core.errors import InvalidInput
from switchboard.core.fields import DomainModel

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP".split()
)
ADDRESS_FIRST = ("add the practice's business address first (Practice settings → Business address): Twilio needs "
                 "the address of the business that owns a number before it will text-enable it")


def _state(value: str) -> str:
    code = value.strip().upper()
    if code not in US_STATES:
        raise ValueError("must be a US state's two-letter code, such as IL")
    return code


AddressLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
UsState = Annotated[str, Field(max_length=20), AfterValidator(_state)]
UsZipCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{5}(-\d{4})?$")]


class PracticeAddress(DomainModel):
    """The address as the admin types it; the clinic's business address, not a patient's."""

    model_config = ConfigDict(extra="forbid")

    customer_name: AddressLine = Field(description="The business that owns the clinic's numbers")
    street: AddressLine
    street_secondary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    city: AddressLine
    region: UsState = Field(description="The US state, as its two-letter code")
    postal_code: UsZipCode = Field(description="The US ZIP code (12345 or 12345-6789)")
    iso_country: Literal["US"] = "US"


class SavedAddress(PracticeAddress):
    """The address and the Twilio Address (AD…) it was saved as."""

    address_sid: str


def address_for_orders(address: SavedAddress | None) -> str:
    """The Address sid a hosted-number order names; a practice without one is refused, saying what to do."""
    if address is None:
        raise InvalidInput(ADDRESS_FIRST, field="address")
    return address.address_sid

"""Lines: the clinic's texting numbers, their configuration and the rules for changing them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, computed_field

from switchboard.core.errors import InvalidInput, RuleRefused
from switchboard.core.fields import DomainModel, EmailAddress, UsPhoneNumber
from switchboard.core.phones import format_national, parse_us_number
from switchboard.rules.forwarding import CallStatus, Forwarding, call_status
from switchboard.rules.hosted_orders import HostedOrderState
from switchboard.rules.hours import TimezoneName, WeeklyHours
from switchboard.rules.line_status import LineStatus
from switchboard.rules.texts import AfterHoursReply, ReplyText

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class LineSource(StrEnum):
    PURCHASED = "purchased"
    HOSTED = "hosted"


class LineConfiguration(DomainModel):
    """What an admin sets on a line; unset hours, timezone and texts fall back to the practice's."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimezoneName | None = None
    location: ShortText | None = Field(default=None, description="The id of one of the practice's locations")
    hours: WeeklyHours | None = None
    after_hours: AfterHoursReply | None = None
    help_text: ReplyText | None = None


class LineChanges(LineConfiguration):
    display_name: DisplayName | None = None
    version: int | None = Field(default=None, ge=1)

    def applied_to(self, line: Line) -> dict[str, Any]:
        given = self.model_dump(mode="json", exclude_unset=True, exclude={"version"})
        if "display_name" in given and given["display_name"] is None:
            raise InvalidInput("may not be empty", field="display_name")
        return given


# Titles that may sign a Letter of Authorization: director level or above.
_SIGNING_WORDS = frozenset(
    {"director", "president", "vp", "chief", "ceo", "cfo", "coo", "cmo", "cio", "cto", "owner", "founder",
     "partner", "principal", "head", "executive", "administrator", "officer", "chair", "chairman", "chairwoman"}
)
_NOT_SIGNING_WORDS = frozenset({"assistant", "associate", "deputy", "coordinator", "intern", "trainee"})


def may_sign_authorization(title: str) -> bool:
    words = {w for w in "".join(c if c.isalnum() else " " for c in title.casefold()).split()}
    if words & _NOT_SIGNING_WORDS and "vice" not in words:
        return False
    return bool(words & _SIGNING_WORDS) or {"vice", "president"} <= words


class LetterOfAuthorization(DomainModel):
    """Who at the clinic authorised text-enabling a number it already owns."""

    model_config = ConfigDict(extra="forbid")

    signer_name: ShortText
    signer_title: ShortText
    signer_email: EmailAddress
    signed_on: date

    def check(self, today: date) -> None:
        if not may_sign_authorization(self.signer_title):
            raise InvalidInput(
                "must be director level or above (e.g. Practice Director, Owner, CEO); "
                "staff-level titles cannot authorize a number", field="authorization.signer_title")
        if self.signed_on > today:
            raise InvalidInput("cannot be in the future", field="authorization.signed_on")


class OrderContact(DomainModel):
    """The admin Twilio calls and emails about the order (the LOA goes to this email)."""

    model_config = ConfigDict(extra="forbid")

    phone: UsPhoneNumber
    email: EmailAddress


class NewHostedLine(DomainModel):
    """Text-enable a landline the clinic already owns."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName
    number: UsPhoneNumber
    authorization: LetterOfAuthorization
    contact: OrderContact

    def check_contact(self) -> None:
        # Twilio's verification call rings the landline itself; the contact must be someone reachable apart from it.
        if self.contact.phone == self.number:
            raise InvalidInput("must be the admin's own phone, not the landline being text-enabled",
                               field="contact.phone")


class NewPurchasedLine(DomainModel):
    """Buy a number picked from a search."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName
    number: UsPhoneNumber


class Line(LineConfiguration):
    line_id: str
    practice_id: str
    display_name: str
    number: str
    source: LineSource
    status: LineStatus
    status_reason: str | None = None
    status_changed_at: datetime | None = None
    primary: bool = False
    authorization: LetterOfAuthorization | None = None
    hosted_order: HostedOrderState | None = None
    order_contact: OrderContact | None = None
    forwarding: Forwarding | None = None
    routing_summary: str | None = None
    location_name: str | None = None
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def number_display(self) -> str:
        return format_national(self.number)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def calls(self) -> CallStatus:
        return call_status(self.forwarding)

    @property
    def can_text(self) -> bool:
        return self.status is LineStatus.ENABLED


def check_can_link_resource(line: Line) -> None:
    if line.status is not LineStatus.ENABLED:
        raise RuleRefused(
            f"the line is {line.status.value}: texts from it would fail; link the resource to an enabled line",
            field="line_id")


def check_status_change(line: Line, wanted: LineStatus) -> None:
    allowed = {LineStatus.ENABLED: LineStatus.DISABLED, LineStatus.DISABLED: LineStatus.ENABLED}
    if allowed.get(line.status) is not wanted:
        raise RuleRefused(f"a {line.status.value} line cannot be {wanted.value}", field="status")


def check_can_make_primary(line: Line) -> None:
    if line.status in (LineStatus.RELEASED, LineStatus.FAILED):
        raise RuleRefused(f"a {line.status.value} line cannot be the primary line")


def check_can_cancel_order(line: Line) -> None:
    if line.source is not LineSource.HOSTED or line.status is not LineStatus.PENDING:
        raise RuleRefused("only a hosted line whose carrier order is pending can be cancelled", field="status")


def check_can_retry_order(line: Line) -> None:
    if line.source is not LineSource.HOSTED or line.status is not LineStatus.FAILED:
        raise RuleRefused("only a hosted line whose carrier order failed can be ordered again", field="status")
    if line.authorization is None:
        raise RuleRefused("the line has no letter of authorization to order with", field="authorization")
    if line.order_contact is None:
        raise RuleRefused("the line has no contact for the carrier to call and email; text-enable the number "
                          "again with one", field="contact")


def check_can_release(line: Line, confirmation: str, dependants: list[str]) -> None:
    if line.status is LineStatus.RELEASED:
        raise RuleRefused("the line is already released")
    if line.status not in (LineStatus.DISABLED, LineStatus.FAILED):
        raise RuleRefused("disable the line before releasing it", field="status")
    try:
        confirmed = parse_us_number(confirmation, field="confirm_number") == line.number
    except InvalidInput:
        confirmed = False
    if not confirmed:
        raise InvalidInput("must repeat the line's number exactly to confirm the release", field="confirm_number")
    if dependants:
        raise RuleRefused("still in use by " + ", ".join(dependants) + "; move or remove them first")

"""Lines: the clinic's texting numbers, their configuration and the rules for changing them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, computed_field

from switchboard.core.errors import InvalidInput, RuleRefused
from switchboard.core.fields import DomainModel, EmailAddress, UsPhoneNumber
from switchboard.core.phones import format_national, parse_us_number
from switchboard.rules.forwarding import CallStatus, Forwarding, call_status
from switchboard.rules.hosted_orders import HostedOrderState
from switchboard.rules.hours import Closure, TimezoneName, WeeklyHours
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
    closures: list[Closure] | None = Field(
        default=None, max_length=100,
        description="The line's own closures, beside the practice's: the line is closed when either covers the moment")
    after_hours: AfterHoursReply | None = None
    help_text: ReplyText | None = None


MAX_EMERGENCY_CLOSE = timedelta(days=14)


class EmergencyCloseRequest(DomainModel):
    """Close the line now, whatever its hours, until `reopens_at` (or until reopened early)."""

    model_config = ConfigDict(extra="forbid")

    reason: ShortText = Field(description="Why, for staff and the audit trail (patients get the after-hours reply)")
    reopens_at: AwareDatetime = Field(description="When the line reopens by itself: an ISO time with its offset")
    version: int | None = Field(default=None, ge=1)

    def check(self, now: datetime) -> None:
        if self.reopens_at <= now:
            raise InvalidInput("must be in the future", field="reopens_at")
        if self.reopens_at > now + MAX_EMERGENCY_CLOSE:
            raise InvalidInput(f"must be at most {MAX_EMERGENCY_CLOSE.days} days ahead; for longer, add a closure",
                               field="reopens_at")


class EmergencyClose(DomainModel):
    """A line closed now by an admin: the after-hours reply and call route until `reopens_at`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str
    closed_at: datetime
    reopens_at: datetime
    closed_by: str

    def is_on(self, now: datetime) -> bool:
        return self.closed_at <= now < self.reopens_at


class ClosedNow(DomainModel):
    """What the line's card says while an emergency close holds: "Closed until <until> — <reason>"."""

    reason: str
    until: datetime


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
    emergency_close: EmergencyClose | None = None
    sends_pictures: bool | None = None
    """Whether its number sends MMS, as the carrier lists it; null until first asked (attaching a picture)."""
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def closed_now(self) -> ClosedNow | None:
        """The emergency close while it holds; gone once `reopens_at` passed, with nothing to clear it."""
        close = self.emergency_close
        if close is None or not close.is_on(datetime.now(UTC)):
            return None
        return ClosedNow(reason=close.reason, until=close.reopens_at)

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


def check_can_close_now(line: Line) -> None:
    if line.status is LineStatus.RELEASED:
        raise RuleRefused("a released line takes no texts or calls to close", field="status")


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

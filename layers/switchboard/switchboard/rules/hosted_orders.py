"""A hosted-number order as Twilio runs it: what its state means for the line and what the card says."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict

from switchboard.core.fields import DomainModel
from switchboard.rules.line_status import LineStatus

_WORDS = {
    "twilio-processing": "Twilio is checking the order",
    "received": "Twilio received the order",
    "pending-verification": "Waiting for the number to be verified (Twilio calls or texts it with a code)",
    "verified": "The number is verified; the letter of authorization comes next",
    "pending-loa": "Waiting for the letter of authorization to be signed",
    "carrier-processing": "The clinic's phone company is moving texting to Twilio",
    "testing": "Twilio is testing texts to the number",
    "completed": "Texting is on",
    "failed": "The order failed",
    "action-required": "Action needed",
}


# The order's letter of authorization (Twilio's authorization document) as the card says it.
_LOA_WORDS = {
    "opened": "being prepared; Twilio emails it to {email} for signing",
    "signing": "sent to {email} — not signed yet",
    "signed": "signed",
    "canceled": "canceled; retry the order to send a new one",
    "failed": "could not be signed; retry the order to send a new one",
}
_LOA_FINAL = ("signed", "canceled", "failed")
# Twilio's codes for an order whose Address is missing or not the account's.
_ADDRESS_CODES = frozenset({22109})


class OrderOutcome(StrEnum):
    """What the poller does with the line: keep following the order, or end it."""

    WAIT = "wait"
    ENABLED = "enabled"
    FAILED = "failed"


class HostedOrderState(DomainModel):
    """The order's state as last read from Twilio, kept on the line for its card."""

    model_config = ConfigDict(extra="ignore")

    status: str
    summary: str
    next_step: str | None = None
    failure_reason: str | None = None
    loa_email: str | None = None
    loa_status: str | None = None
    loa_summary: str | None = None


def outcome(status: str) -> OrderOutcome:
    """`action-required` is not final: Twilio waits for the clinic, so the line stays pending."""
    if status == "completed":
        return OrderOutcome.ENABLED
    if status == "failed":
        return OrderOutcome.FAILED
    return OrderOutcome.WAIT


def line_status(status: str) -> LineStatus:
    return {OrderOutcome.ENABLED: LineStatus.ENABLED, OrderOutcome.FAILED: LineStatus.FAILED}.get(
        outcome(status), LineStatus.PENDING)


def loa_summary(loa_status: str | None, email: str | None) -> str | None:
    """Where the letter of authorization is ("sent to x@y — not signed yet"), or None before Twilio has one."""
    if loa_status is None:
        return None
    return _LOA_WORDS.get(loa_status, f"Twilio reports it as {loa_status}").format(email=email or "the signer")


def loa_may_change(status: str, known: str | None) -> bool:
    """Whether the poller asks about the letter again: not once it is final, nor for an order that ended."""
    return known not in _LOA_FINAL and outcome(status) is OrderOutcome.WAIT


def about_address(code: int | None) -> bool:
    return code in _ADDRESS_CODES


def order_state(status: str, *, next_step: str | None, failure_reason: str | None,
                loa_email: str | None, loa_status: str | None = None) -> HostedOrderState:
    summary = _WORDS.get(status, f"Twilio reports the order as {status}")
    if status == "action-required":
        summary = f"Action needed: {next_step}" if next_step else "Action needed: see the order in Twilio's console"
    elif status == "failed" and failure_reason:
        summary = f"The order failed: {failure_reason}"
    return HostedOrderState(status=status, summary=summary,
                            next_step=next_step if status == "action-required" else None,
                            failure_reason=failure_reason if status in ("failed", "action-required") else None,
                            loa_email=loa_email, loa_status=loa_status,
                            loa_summary=loa_summary(loa_status, loa_email))


def status_reason(state: HostedOrderState) -> str | None:
    """The line's status reason: the carrier's words while it waits or fails, none once enabled."""
    if state.status == "completed":
        return None
    if state.status == "failed":
        return state.failure_reason or "the carrier order failed"
    return state.summary

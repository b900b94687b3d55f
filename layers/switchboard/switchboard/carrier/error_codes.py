"""Twilio's error codes in clinic staff's words: one table, read by everything that explains a failure.

Each entry gives a plain reason, what staff (or the practice's administrator) can do about it when there is
something to do, and what the code means for the message and the contact (`Outcome`). Reasons and advice are
fixed text: they never carry a phone number or a message body (Twilio's own messages do, so only the code
is kept from them).

Sources: Twilio's error dictionary (twilio.com/docs/api/errors/<code>), looked up code by code, and the facts in
TWILIO.md. Confirmed there: 21211, 21214, 21408, 21421, 21422, 21601, 21602, 21604, 21606, 21608, 21610, 21611,
21612, 21614, 21617, 21621, 21628, 21635, 21654, 21705, 22109, 30001, 30002, 30003, 30004, 30006, 30007, 30009,
30010, 30011, 30012, 30013, 30014, 30017, 30019, 30021, 30022, 30024, 30031, 30032, 30034, 30036. The other
codes' wording follows Twilio's published titles as we know them but could not be checked against the dictionary
while writing this (they are listed in `UNCONFIRMED`), so their reasons stay general and their advice cautious.
A code not in the table is explained as "carrier error <code>", never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What a carrier error code means for the message and the contact."""

    OPTED_OUT = "opted_out"  # the recipient replied STOP to this sender: never retry
    NOT_TEXTABLE = "not_textable"  # landline or otherwise not a mobile: mark the contact
    INVALID_NUMBER = "invalid_number"
    SPAM_FILTERED = "spam_filtered"  # undelivered, and worth a flag
    UNDELIVERED = "undelivered"  # the handset or its network did not take it
    REFUSED = "refused"  # any other refusal


@dataclass(frozen=True)
class CarrierCode:
    reason: str
    what_to_do: str | None = None
    # None: by family, 300xx (after the carrier accepted the text) undelivered, anything else refused.
    outcome: Outcome | None = None


@dataclass(frozen=True)
class Explanation:
    """What staff are shown for one failure."""

    code: int | None
    reason: str
    what_to_do: str | None


_CHECK_NUMBER = "Check the patient's number with them, and call them if it is right."
_CALL_INSTEAD = "Call the patient instead."
_ADMIN = "Ask your Switchboard administrator to check the line's carrier set-up."
_REGISTRATION = "Ask your Switchboard administrator to finish the practice's texting registration (A2P 10DLC)."
_LATER = "Try sending it again later."
_SHORTER = "Send a shorter text, or split it in two."
_TELL_ADMIN = "If it keeps happening, tell your Switchboard administrator."

CODES: dict[int, CarrierCode] = {
    # Account and API answers (20xxx)
    20003: CarrierCode("carrier rejected our credentials", _ADMIN),
    20404: CarrierCode("not found at the carrier"),
    20429: CarrierCode("carrier is rate limiting us", _LATER),
    # Refused at send (21xxx)
    21211: CarrierCode("invalid phone number", _CHECK_NUMBER, Outcome.INVALID_NUMBER),
    21214: CarrierCode("phone number cannot be reached", _CHECK_NUMBER),
    21408: CarrierCode("texts to this country are not allowed for the account",
                       "Check the patient's number has the right country code; if it does, ask your Switchboard "
                       "administrator whether texts to that country can be allowed."),
    21421: CarrierCode("a number in the line's set-up is not valid at the carrier", _ADMIN),
    21422: CarrierCode("the phone number asked for is not available from the carrier",
                       "Ask your Switchboard administrator to choose a different number for the line."),
    21601: CarrierCode("sending number cannot send texts", _ADMIN),
    21602: CarrierCode("message has no text", "Write the text and send it again."),
    21604: CarrierCode("the recipient's number was missing", "Check the patient has a mobile number on their record."),
    21606: CarrierCode("sending number is not a texting number of our account", _ADMIN),
    21608: CarrierCode("trial account can only text verified numbers", _ADMIN),
    21610: CarrierCode("recipient opted out",
                       "The patient texted STOP; they must text START to this line before they can get texts.",
                       Outcome.OPTED_OUT),
    21611: CarrierCode("the line has too many texts waiting to go", _LATER),
    21612: CarrierCode("carrier cannot route to this number", _CALL_INSTEAD),
    21614: CarrierCode("not a mobile number", _CALL_INSTEAD, Outcome.NOT_TEXTABLE),
    21617: CarrierCode("message is too long",
                       "Send a shorter text, or split it in two; emoji and special characters take up more room."),
    21621: CarrierCode("sending number cannot send pictures", "Send the text without the attachment."),
    21635: CarrierCode("not a mobile number", _CALL_INSTEAD, Outcome.NOT_TEXTABLE),
    21628: CarrierCode("the address could not be validated",
                       "Check the street, city, state and ZIP code, and save the address again."),
    21654: CarrierCode("the text's template details were incomplete", _TELL_ADMIN),
    21703: CarrierCode("the line's messaging service has no number free to send from", _ADMIN),
    21704: CarrierCode("the line's messaging service has no numbers", _ADMIN),
    21705: CarrierCode("the line's messaging service is not valid", _ADMIN),
    # Hosted-number orders (22xxx)
    22109: CarrierCode("the carrier does not know the practice's address",
                       "Save the practice's address again in Settings, then text-enable the number."),
    # Not delivered after the carrier accepted the text (30001-30036)
    30001: CarrierCode("too many texts were waiting at the carrier", _LATER),
    30002: CarrierCode("the texting account is suspended", _ADMIN),
    30003: CarrierCode("recipient's phone is unreachable",
                       "The phone may be off or out of signal: try again later, or call the patient.",
                       Outcome.UNDELIVERED),
    30004: CarrierCode("the text was blocked from reaching the patient's number",
                       "Call the patient, and ask whether their phone or carrier blocks texts from this line."),
    30005: CarrierCode("unknown or inactive number", _CHECK_NUMBER, Outcome.UNDELIVERED),
    30006: CarrierCode("not a mobile number", _CALL_INSTEAD, Outcome.NOT_TEXTABLE),
    30007: CarrierCode("filtered as spam by the carrier",
                       "Call the patient; if it keeps happening, ask your administrator to review the wording.",
                       Outcome.SPAM_FILTERED),
    30008: CarrierCode("carrier reported an unknown error", _LATER),
    30009: CarrierCode("part of a long text was lost on the way", _LATER),
    30010: CarrierCode("the text cost more than the account allows", _ADMIN),
    30011: CarrierCode("recipient's phone cannot receive pictures", "Send the text without the attachment."),
    30012: CarrierCode("the time allowed to deliver the text was set too short", _TELL_ADMIN),
    30013: CarrierCode("the time allowed to deliver the text was set too long", _TELL_ADMIN),
    30014: CarrierCode("the recipient's number was not accepted", _CHECK_NUMBER),
    30015: CarrierCode("carrier reported a delivery problem", _LATER),
    30016: CarrierCode("carrier reported a delivery problem", _LATER),
    30017: CarrierCode("the recipient's carrier was too busy to take the text", _LATER),
    30018: CarrierCode("the recipient's carrier requires a registered sender", _ADMIN),
    30019: CarrierCode("message is too long for the recipient's carrier", _SHORTER),
    30020: CarrierCode("carrier had an internal error", _LATER),
    30021: CarrierCode("carrier had an internal error", _LATER),
    30022: CarrierCode("the line sent faster than its registration allows", _LATER),
    30023: CarrierCode("the practice reached its daily texting limit", "Try again tomorrow."),
    30024: CarrierCode("the sending number is not yet set up with the recipient's carrier", _ADMIN),
    30025: CarrierCode("carrier reported a delivery problem", _LATER),
    30026: CarrierCode("carrier reported a delivery problem", _LATER),
    30027: CarrierCode("the practice reached a carrier's daily texting limit", "Try again tomorrow."),
    30028: CarrierCode("carrier reported a delivery problem", _LATER),
    30029: CarrierCode("carrier reported a delivery problem", _LATER),
    30030: CarrierCode("carrier reported a delivery problem", _LATER),
    30031: CarrierCode("the account's sending rate is set wrongly", _ADMIN),
    30032: CarrierCode("the toll-free number is not verified for texting", _ADMIN),
    30033: CarrierCode("carrier reported a delivery problem", _LATER),
    30034: CarrierCode("the line's number is not registered for texting (A2P 10DLC)", _REGISTRATION),
    30035: CarrierCode("carrier reported a delivery problem", _LATER),
    30036: CarrierCode("the text waited too long to be sent and expired", _LATER),
}

# Codes whose meaning we could not check in Twilio's dictionary (see the module docstring).
UNCONFIRMED: frozenset[int] = frozenset({
    21703, 21704, 30005, 30008, 30015, 30016, 30018, 30020, 30023, 30025, 30026, 30027, 30028, 30029, 30030,
    30033, 30035,
})

GENERIC_REASON = "carrier refused the request"
NO_REASON = "the carrier gave no reason"
# A message's statuses (rules.messages.MessageStatus) that mean the text did not reach the patient.
NOT_DELIVERED = frozenset({"undelivered", "failed", "suppressed"})


def lookup(code: int | None) -> CarrierCode | None:
    return CODES.get(code) if code is not None else None


def explain(code: int | None) -> Explanation:
    """The reason and advice for a carrier code; an unknown code is named, not guessed at."""
    if code is None:
        return Explanation(None, GENERIC_REASON, None)
    entry = CODES.get(code)
    if entry is None:
        return Explanation(code, f"carrier error {code}", None)
    return Explanation(code, entry.reason, entry.what_to_do)


def failure(status: str, code: int | None, recorded_reason: str | None) -> Explanation | None:
    """What staff are told of a message that did not go, or None when it did (or may yet).

    A carrier code is explained from the table when read, so clearer wording reaches old messages too;
    without one, the reason recorded when it failed (our own words, never patient data) is shown as it is.
    """
    if status not in NOT_DELIVERED:
        return None
    if code is not None:
        return explain(code)
    return Explanation(None, recorded_reason or NO_REASON, None)

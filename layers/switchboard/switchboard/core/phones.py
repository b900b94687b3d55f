"""Phone numbers as people type them, validated as real US/Canada numbers and kept in E.164.

`phonenumbers` (~25 ms) is imported on first use: masking, which every log line may need, and
the webhooks that only see E.164 numbers from the carrier never pay for it.
"""

from __future__ import annotations

import re

from switchboard.core.errors import InvalidInput

_TYPED_NUMBER = re.compile(r"^[0-9+().\-\s]{1,32}$")
_REGIONS = frozenset({"US", "CA"})


class InvalidPhoneNumber(InvalidInput):
    pass


def parse_us_number(text: str, *, field: str = "number") -> str:
    """`(415) 555-2671`, `415.555.2671`, `+1 415 555 2671`, `14155552671` → `+14155552671`.

    Letters are refused rather than read as a keypad word: a caller id never has them.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidPhoneNumber("a phone number is required", field=field)
    if not _TYPED_NUMBER.match(text):
        raise InvalidPhoneNumber("may contain only digits, spaces, + ( ) . and -", field=field)
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+") and not digits.startswith("1"):
        raise InvalidPhoneNumber("must be a US or Canadian number", field=field)
    if len(digits) not in (10, 11) or (len(digits) == 11 and not digits.startswith("1")):
        raise InvalidPhoneNumber("must have 10 digits (or 11 starting with 1)", field=field)
    import phonenumbers

    try:
        parsed = phonenumbers.parse(digits[-10:], "US")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("is not a phone number", field=field) from None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(parsed) not in _REGIONS:
        raise InvalidPhoneNumber("is not a valid US or Canadian number", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_national(e164: str) -> str:
    """`+14155552671` → `(415) 555-2671`, as a line card shows it."""
    import phonenumbers

    return phonenumbers.format_number(phonenumbers.parse(e164, "US"), phonenumbers.PhoneNumberFormat.NATIONAL)


def mask(e164: str) -> str:
    """`+14155552671` → `+1415•••2671`: enough for staff to tell numbers apart, not enough to dial."""
    if len(e164) < 9:
        return "•••"
    return f"{e164[:5]}•••{e164[-4:]}"

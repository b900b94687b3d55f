"""Phone numbers and texts the way the carrier sees them: validity, test ranges, segments, keywords."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection, Iterator

_NANP = re.compile(r"^\+1([2-9]\d{2})([2-9]\d{2})(\d{4})$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Twilio's test-credential "magic" numbers, as `To`: the error Twilio answers for each.
MAGIC_TO_ERRORS: dict[str, int] = {
    "+15005550001": 21211,  # invalid number
    "+15005550002": 21612,  # cannot route
    "+15005550003": 21408,  # no permission for the region
    "+15005550004": 21610,  # blocked (opted out)
    "+15005550009": 21614,  # not a mobile number
}
MAGIC_FROM = "+15005550006"
"""Twilio's always-valid test `From`: accepted even when it is not a number of the account."""

LANDLINE_EXCHANGE, LANDLINE_LINE_PREFIX = "555", "019"
TOLL_FREE_AREA_CODES = frozenset({"800", "833", "844", "855", "866", "877", "888"})


def is_toll_free(number: str) -> bool:
    return number.startswith("+1") and number[2:5] in TOLL_FREE_AREA_CODES

AREA_CODES: dict[str, tuple[str, str, str]] = {
    "206": ("Seattle", "WA", "98101"),
    "212": ("New York", "NY", "10001"),
    "213": ("Los Angeles", "CA", "90012"),
    "303": ("Denver", "CO", "80202"),
    "305": ("Miami", "FL", "33130"),
    "312": ("Chicago", "IL", "60601"),
    "404": ("Atlanta", "GA", "30303"),
    "415": ("San Francisco", "CA", "94105"),
    "503": ("Portland", "OR", "97204"),
    "512": ("Austin", "TX", "78701"),
    "602": ("Phoenix", "AZ", "85003"),
    "617": ("Boston", "MA", "02108"),
}

_KEYPAD = {
    letter: str(digit)
    for digit, letters in enumerate(["", "", "ABC", "DEF", "GHI", "JKL", "MNO", "PQRS", "TUV", "WXYZ"])
    for letter in letters
}

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT", "CANCEL"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def is_valid(number: str) -> bool:
    """E.164; +1 numbers must also be well-formed NANP (area code and exchange not starting 0/1)."""
    if number.startswith("+1"):
        return bool(_NANP.match(number))
    return bool(_E164.match(number))


def is_landline_range(number: str) -> bool:
    """The fixed landline range: NPA-555-019X in any area code (+1 NPA 555 0190 … 0199)."""
    match = _NANP.match(number)
    return match is not None and match.group(2) == LANDLINE_EXCHANGE and match.group(3).startswith(LANDLINE_LINE_PREFIX)


def is_landline(number: str, registered: Collection[str]) -> bool:
    """A landline to the carrier: registered through the control API, in the fixed range, or Twilio's magic one."""
    return number in registered or is_landline_range(number) or number == "+15005550009"


def mask(number: str | None) -> str:
    """`+1415•••2671`: enough to tell numbers apart in a log, not enough to text them."""
    if not number:
        return "-"
    return f"{number[:5]}•••{number[-4:]}" if len(number) > 9 else "•••"


def friendly(number: str) -> str:
    match = _NANP.match(number)
    return f"({match.group(1)}) {match.group(2)}-{match.group(3)}" if match else number


def place(number: str) -> tuple[str, str, str]:
    """(city, state, zip) for a US number's area code, empty where unknown."""
    match = _NANP.match(number)
    return AREA_CODES.get(match.group(1), ("", "", "")) if match else ("", "", "")


def segments(body: str) -> int:
    """SMS segments: GSM-7 160 then 153 per part (extension characters count twice); else UCS-2 70 then 67."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in body):
        septets = sum(2 if c in _GSM_EXTENDED else 1 for c in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def keyword(body: str) -> str:
    """The message as a single keyword: trimmed, upper-case, trailing punctuation dropped."""
    return body.strip().rstrip(".!?,;:").strip().upper()


def _pattern(contains: str | None) -> str | None:
    if not contains:
        return None
    digits = "".join(_KEYPAD.get(c.upper(), c) for c in contains if c.isalnum() or c == "*")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits or None


def _plausible(national: str) -> bool:
    exchange = national[3:6]
    return exchange[0] not in "01" and exchange[1:] != "11" and exchange != LANDLINE_EXCHANGE


def candidates(area_code: str, contains: str | None = None, tries: int = 5000) -> Iterator[str]:
    """Plausible, distinct NANP numbers in `area_code`, in the same order every time.

    `contains` follows Twilio: digits, `*` for any digit, letters as on a keypad; it may fall
    anywhere in the ten-digit national number.
    """
    if not (len(area_code) == 3 and area_code.isdigit() and area_code[0] not in "01"):
        return
    pattern = _pattern(contains)
    if pattern and len(pattern) > 10:
        return
    rng = random.Random(f"{area_code}:{pattern or ''}")
    seen: set[str] = set()
    offsets = list(range(11 - len(pattern))) if pattern else [3]
    for attempt in range(tries):
        digits = list(area_code + "".join(rng.choice("0123456789") for _ in range(7)))
        if pattern:
            offset = offsets[attempt % len(offsets)]
            for i, c in enumerate(pattern):
                if c != "*":
                    digits[offset + i] = c
        national = "".join(digits)
        if national[:3] != area_code or not _plausible(national) or national in seen:
            continue
        seen.add(national)
        yield f"+1{national}"

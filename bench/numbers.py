"""Distinct, valid US mobile-looking numbers for callers and lines, the same ones on every run."""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers

# Not 415: the carrier sandbox sells 415 numbers to the bench's practice.
AREA_CODES = ("628", "510", "650", "408", "212", "312", "617", "206", "303", "512")


def _candidate(index: int) -> str:
    area = AREA_CODES[index % len(AREA_CODES)]
    rest = index // len(AREA_CODES)
    exchange = 200 + (rest // 10_000) % 800
    return f"+1{area}{exchange:03d}{rest % 10_000:04d}"


def us_mobile_numbers(start: int = 0) -> Iterator[str]:
    """E.164 numbers from position `start` on; never a 555 or N11 exchange, each valid to phonenumbers."""
    index = start
    while True:
        number = _candidate(index)
        index += 1
        exchange = number[5:8]
        if exchange == "555" or exchange[1:] == "11":
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
            yield number

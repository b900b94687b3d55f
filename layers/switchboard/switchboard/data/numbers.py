"""Which line a number belongs to: the enterprise-wide claim written with the line."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from switchboard.rules.addresses import LineOwner

from .models import NumberClaim


def line_for_number(number: str) -> LineOwner | None:
    try:
        claim = NumberClaim.get(f"NUMBER#{number}", "NUMBER")
    except DoesNotExist:
        return None
    return LineOwner(claim.practice_id, claim.line_id)

"""Intake from a phone system's webhook: one caller, one queued text, never two within the window."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.errors import NotFound
from switchboard.core.phones import parse_us_number
from switchboard.data import counts
from switchboard.data.intake import Intake, IntakeOutcome, record_call
from switchboard.data.tokens import find_token
from switchboard.rules.addresses import CountsOf
from switchboard.rules.tokens import token_environment

__all__ = ["CALLER_FIELD", "Intake", "IntakeOutcome", "take_call"]

CALLER_FIELD = "CALLER_ID_NUMBER"


def take_call(token: str, caller_number: str | None, *, environment: str, status_callback: str,
              at: datetime | None = None) -> Intake:
    """Record the call and queue its text; raises NotFound for any token that is not a live workflow here."""
    # The lookup runs for every token, so a well-formed stranger and a revoked token take the same path.
    found = find_token(token) if len(token) <= 80 else None
    if found is None or not found.enabled or token_environment(token) != environment:
        raise NotFound("not found")
    phone = parse_us_number(caller_number or "", field=CALLER_FIELD)
    intake = record_call(found, phone, at or datetime.now(UTC), status_callback=status_callback)
    # A queued text reaches outbound_messaging through the table's stream (functions/handoff).
    if intake.outcome is not IntakeOutcome.QUEUED:
        counter = "duplicates" if intake.outcome is IntakeOutcome.DUPLICATE else intake.outcome.value
        # Counted here, once per call: a count job on a queue could be delivered (and counted) twice.
        counts.add(CountsOf(found.practice_id, workflow_id=found.workflow_id), {"received": 1, counter: 1})
    return intake

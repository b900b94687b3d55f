"""Delivery status callbacks from the carrier, applied forward only."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.aws import events
from switchboard.carrier.errors import Outcome, outcome_for_code, reason_for_code
from switchboard.core.observability import logger
from switchboard.data import deliveries as store
from switchboard.rules.messages import CARRIER_STATUSES, MessageStatus


def record(params: dict[str, str]) -> bool:
    """Apply a callback; False when it was old news or about a message we do not know."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = CARRIER_STATUSES.get((params.get("MessageStatus") or params.get("SmsStatus") or "").lower())
    if not sid or status is None:
        logger.info("status callback without a known status ignored")
        return False
    code = int(params["ErrorCode"]) if params.get("ErrorCode", "").isdigit() else None
    change = store.apply_carrier_status(
        sid, status, error_code=code, reason=reason_for_code(code) if code else None,
        not_textable=code is not None and outcome_for_code(code) is Outcome.NOT_TEXTABLE, at=datetime.now(UTC),
        opted_out=code is not None and outcome_for_code(code) is Outcome.OPTED_OUT)
    if not change.message_known:
        logger.info("status callback for an unknown message ignored", extra={"sid": sid})
    if change.applied and status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED) and change.message:
        ref = change.message
        events.publish("Message Failed", {"practice_id": change.practice_id, "line_id": ref.line_id,
                                          "message_id": ref.message_id, "status": status.value, "error_code": code,
                                          "event_id": f"{ref.message_id}.{status.value}",
                                          "reason": reason_for_code(code) if code else None,
                                          "at": datetime.now(UTC)})
    return change.applied

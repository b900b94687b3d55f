"""Delivery status callbacks from the carrier, applied forward only."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.aws import events
from switchboard.carrier.errors import Outcome, outcome_for_code, reason_for_code
from switchboard.core.observability import logger
from switchboard.data import deliveries as store
from switchboard.rules.messages import CARRIER_STATUSES, MessageStatus


def record(params: dict[str, str]) -> bool:
    """Apply a callback; False when it was old news or about a message we do not know (yet: a callback that
    beats the send's record of its sid is kept, and applied when the sid is stored)."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = CARRIER_STATUSES.get((params.get("MessageStatus") or params.get("SmsStatus") or "").lower())
    if not sid or status is None:
        logger.info("status callback without a known status ignored")
        return False
    code = int(params["ErrorCode"]) if params.get("ErrorCode", "").isdigit() else None
    applied, known = _apply(sid, status, code)
    if not known:
        if store.keep_early_status(sid, status, {"error_code": code}, datetime.now(UTC)):
            return _apply(sid, status, code)[0]
        logger.info("status callback before its message's sid was stored: kept", extra={"sid": sid})
    return applied


def apply_kept(sid: str) -> bool:
    """Apply the callback kept for a sid that has just been stored (the send found one had come first)."""
    kept = store.kept_status(sid)
    if kept is None:
        return False
    status, news = kept
    logger.info("status callback kept from before the sid was stored: applied", extra={"sid": sid})
    return _apply(sid, status, news.get("error_code"))[0]


def _apply(sid: str, status: MessageStatus, code: int | None) -> tuple[bool, bool]:
    """(applied, message known)."""
    change = store.apply_carrier_status(
        sid, status, error_code=code, reason=reason_for_code(code) if code else None,
        not_textable=code is not None and outcome_for_code(code) is Outcome.NOT_TEXTABLE, at=datetime.now(UTC),
        opted_out=code is not None and outcome_for_code(code) is Outcome.OPTED_OUT)
    if change.applied and status in (MessageStatus.UNDELIVERED, MessageStatus.FAILED) and change.message:
        ref = change.message
        events.publish("Message Failed", {"practice_id": change.practice_id, "line_id": ref.line_id,
                                          "message_id": ref.message_id, "status": status.value, "error_code": code,
                                          "event_id": f"{ref.message_id}.{status.value}",
                                          "reason": reason_for_code(code) if code else None,
                                          "at": datetime.now(UTC)})
    return change.applied, change.message_known

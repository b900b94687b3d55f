"""Voice calls to a texting line: find the line, follow its links, and decide where the call goes."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.core.errors import NotFound
from switchboard.core.observability import logger
from switchboard.data import call_routing as store
from switchboard.data.call_routing import LineForCalls
from switchboard.data.numbers import line_for_number
from switchboard.rules.call_routing import (
    MAX_LINK_CHAIN,
    NOT_FOR_CALLS,
    CallRules,
    Dial,
    Say,
    route_call,
    shown_caller,
)
from switchboard.rules.line_status import LineStatus

UNKNOWN_NUMBER = "Sorry, this number is not in service. Goodbye."


def _followed(line: LineForCalls) -> LineForCalls:
    """The line whose rules apply: the line itself, or the end of its chain of links."""
    current = line
    for _ in range(MAX_LINK_CHAIN):
        linked = (current.forwarding or {}).get("linked_line_id")
        if not linked:
            return current
        target = store.linked_line(linked)
        if target is None:
            logger.warning("linked line missing; treating the call as unrouted", extra={"line_id": current.line_id})
            return current.without_forwarding()
        current = target
    return current.without_forwarding()


def answer_call(params: dict[str, str], at: datetime | None = None) -> Dial | Say:
    owner = line_for_number(params.get("To", ""))
    if owner is None:
        logger.warning("call to a number no line has")
        return Say(UNKNOWN_NUMBER)
    line = store.line_for_calls(owner.practice_id, owner.line_id)
    if line is None:
        raise NotFound("no such line")
    if line.status != LineStatus.ENABLED:
        return Say(NOT_FOR_CALLS)
    rules = _followed(line)
    return route_call(CallRules.from_stored(rules.forwarding), rules.hours, at or datetime.now(UTC),
                      caller_id=shown_caller(params.get("From", ""), line.number))

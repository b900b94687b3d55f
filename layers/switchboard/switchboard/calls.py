"""Voice calls to a texting line: find the line, follow its links, and decide where the call goes."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.data import conversations as conversation_store
from switchboard.data import lines as line_store
from switchboard.data import practices as practice_store
from switchboard.forwarding import MAX_LINK_CHAIN, NOT_FOR_CALLS, Dial, Say, route_call
from switchboard.lines import Line, LineStatus
from switchboard.observability import logger

UNKNOWN_NUMBER = "Sorry, this number is not in service. Goodbye."


def _followed(line: Line) -> Line:
    """The line whose rules apply: the line itself, or the end of its chain of links."""
    current = line
    for _ in range(MAX_LINK_CHAIN):
        if not (current.forwarding and current.forwarding.linked_line_id):
            return current
        target = line_store.find_line(current.forwarding.linked_line_id)
        if target is None:
            logger.warning("linked line missing; treating the call as unrouted", extra={"line_id": current.line_id})
            return current.model_copy(update={"forwarding": None})
        current = line_store.to_line(target)
    return current.model_copy(update={"forwarding": None})


def answer_call(params: dict[str, str], at: datetime | None = None) -> Dial | Say:
    owner = conversation_store.line_for_number(params.get("To", ""))
    if owner is None:
        logger.warning("call to a number no line has")
        return Say(UNKNOWN_NUMBER)
    line = line_store.get_line(owner.practice_id, owner.line_id)
    if line.status is not LineStatus.ENABLED:
        return Say(NOT_FOR_CALLS)
    rules = _followed(line)
    practice = practice_store.get_practice(rules.practice_id)
    return route_call(rules.forwarding, practice.opening_hours(rules), at or datetime.now(UTC),
                      caller_id=line.number)

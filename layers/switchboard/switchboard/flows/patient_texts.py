"""Texts patients send: stored once, keywords honoured, HELP answered at once. The stored text reaches
the follow-up queue (`flows.follow_up`) through the table's stream, so the carrier gets its
answer after one write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard.core.errors import NotFound
from switchboard.core.observability import logger
from switchboard.data.numbers import line_for_number
from switchboard.data.patient_texts import record_inbound
from switchboard.rules.keywords import Keyword, keyword_in, sounds_like_opt_out

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Received:
    stored: bool
    reply: str | None = None


def receive_text(params: dict[str, str], *, status_callback: str, at: datetime | None = None) -> Received:
    """Store a signed inbound text; answer HELP with the help text. NotFound when no line has the number."""
    now = at or datetime.now(UTC)
    owner = line_for_number(params.get("To", ""))
    if owner is None:
        raise NotFound("no line has this number")
    phone, body, sid = params.get("From", ""), params.get("Body", ""), params.get("MessageSid", "")
    if not _E164.match(phone) or not sid:
        logger.warning("inbound text without a sender or sid ignored")
        return Received(stored=False)
    keyword = keyword_in(body)
    ref = record_inbound(owner, phone, body=body, sid=sid, keyword=keyword.value if keyword else None,
                               flag="may want to opt out" if sounds_like_opt_out(body) else None, at=now,
                               status_callback=status_callback)
    if ref is None:
        return Received(stored=False)
    if keyword is Keyword.HELP:
        # Only HELP needs the line and practice records (and their models): loaded here, not at cold start.
        from switchboard.data import lines as line_store
        from switchboard.data import practices as practice_store

        line = line_store.get_line(owner.practice_id, owner.line_id)
        return Received(stored=True, reply=line.help_text or practice_store.get_practice(owner.practice_id).help_text)
    return Received(stored=True)

"""Texts patients send: stored once, keywords honoured, the carrier's answer to HELP and STOP shown to staff.
The stored text reaches the follow-up queue (`flows.follow_up`) through the table's stream, so the carrier gets its
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
from switchboard.rules.keywords import Keyword, carrier_answer, keyword_in, sounds_like_opt_out
from switchboard.rules.media import media_in

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Received:
    stored: bool


def receive_text(params: dict[str, str], *, status_callback: str, at: datetime | None = None) -> Received:
    """Store a signed inbound text (with the carrier's own answer to a keyword, which is never repeated: see the
    README's Keywords). NotFound when no line has the number."""
    now = at or datetime.now(UTC)
    owner = line_for_number(params.get("To", ""))
    if owner is None:
        raise NotFound("no line has this number")
    phone, body, sid = params.get("From", ""), params.get("Body", ""), params.get("MessageSid", "")
    if not _E164.match(phone) or not sid:
        logger.warning("inbound text without a sender or sid ignored")
        return Received(stored=False)
    keyword = keyword_in(body)
    answer = carrier_answer(keyword, params.get("OptOutType"))
    ref = record_inbound(owner, phone, body=body, sid=sid, media=media_in(params),
                         keyword=keyword.value if keyword else None,
                         flag="may want to opt out" if sounds_like_opt_out(body) else None, at=now,
                         status_callback=status_callback,
                         carrier_answer=answer if keyword is Keyword.HELP else None,
                         answer_if_changed=None if keyword is Keyword.HELP else answer)
    return Received(stored=ref is not None)

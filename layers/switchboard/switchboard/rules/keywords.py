"""Carrier keywords a patient can text: opt out, opt back in, ask for help.

A keyword is the whole message (case, surrounding spaces and trailing punctuation ignored): "Stop."
opts out, "stop please" does not, but is flagged for staff as a likely wish to stop.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_TRAILING = re.compile(r"[\s.!?,;:]+$")


def _normalised(body: str) -> str:
    return _TRAILING.sub("", body.strip()).strip().upper()


def keyword_in(body: str | None) -> Keyword | None:
    word = _normalised(body or "")
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def sounds_like_opt_out(body: str | None) -> bool:
    """An opt-out word inside a longer message: not a keyword, but staff should see it."""
    if keyword_in(body) is not None:
        return False
    words = set(re.findall(r"[A-Za-z]+", (body or "").upper()))
    return bool(words & OPT_OUT_WORDS)

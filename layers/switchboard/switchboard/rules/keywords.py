"""Carrier keywords a patient can text: opt out, opt back in, ask for help.

A keyword is the whole message, read the way a patient types it: Unicode-folded (NFKC, so full-width
"ＳＴＯＰ" is STOP), case, surrounding spaces, trailing punctuation and emoji ignored, and "opt out" /
"opt-out" read as OPTOUT (the FCC lists both). "Stop." opts out; "stop please" does not, but is flagged for
staff as a likely wish to stop, as are revocations in a sentence ("please don't text me anymore", "cancel my
texts", "remove me from your list": the FCC counts any reasonable means). Words a clinic's patients also use for
appointments ("cancel", "end", "quit") flag only when they are about the texts: "I need to cancel my appointment"
is not a request to stop; nor is "stop by" or "stop in".
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_OPT_OUT_PHRASE = re.compile(r"\bOPT[\s\-_]*OUT\b")


def _folded(body: str) -> str:
    return unicodedata.normalize("NFKC", body).upper()


def _is_trailing(char: str) -> bool:
    # Punctuation (P*), symbols such as emoji (S*), spaces, and the joiners and selectors emoji are built of.
    return char.isspace() or unicodedata.category(char)[0] in "PS" or char in "\u200d\ufe0e\ufe0f" or (
        unicodedata.category(char) == "Mn" and 0x1F3FB <= ord(char) <= 0x1F3FF)


def _normalised(body: str) -> str:
    word = _folded(body).strip()
    end = len(word)
    while end and _is_trailing(word[end - 1]):
        end -= 1
    return _OPT_OUT_PHRASE.sub("OPTOUT", word[:end].strip())


# Twilio answers HELP and confirms STOP itself on long codes; Switchboard never sends a second answer.
CARRIER_HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."
CARRIER_STOP_REPLY = ("You have successfully been unsubscribed. You will not receive any more messages from this "
                      "number. Reply START to resubscribe.")
CARRIER_START_REPLY = ("You have successfully been re-subscribed to messages from this number. Reply HELP for help. "
                       "Reply STOP to unsubscribe. Msg&Data Rates May Apply.")
ADVANCED_OPT_OUT_REPLY = "(the carrier answered with the Messaging Service's {kind} reply)"


def carrier_answer(keyword: Keyword | None, opt_out_type: str | None) -> str | None:
    """What the carrier answers a keyword text with: its default text, or under Advanced Opt-Out (the webhook's
    `OptOutType`) a note naming the service's configured reply. The carrier confirms START only to a patient who
    was opted out, so that answer is shown once the follow-up knows it was."""
    if keyword is None:
        return None
    kind = {Keyword.HELP: "HELP", Keyword.OPT_OUT: "STOP", Keyword.OPT_IN: "START"}[keyword]
    if opt_out_type:
        return ADVANCED_OPT_OUT_REPLY.format(kind=kind)
    return {"HELP": CARRIER_HELP_REPLY, "STOP": CARRIER_STOP_REPLY, "START": CARRIER_START_REPLY}[kind]


def keyword_in(body: str | None) -> Keyword | None:
    word = _normalised(body or "")
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


# Alone among other words these mean "no more texts"; CANCEL, END and QUIT need texts for their object.
ALWAYS_OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "REVOKE", "OPTOUT"})
TEXT_WORDS = frozenset({"TEXT", "TEXTS", "TEXTING", "MESSAGE", "MESSAGES", "MESSAGING", "SMS", "TXT", "TXTS",
                        "TEXTMESSAGES", "NOTIFICATIONS", "ALERTS", "REMINDERS"})
_TEXTS = "|".join(sorted(TEXT_WORDS))
_STOP_NOT_ABOUT_TEXTS = re.compile(r"\bSTOP (?:BY|IN|OVER)\b")
_REVOCATIONS = re.compile("|".join([
    rf"\b(?:STOP|QUIT|END|CANCEL) (?:(?:SENDING|ALL|MY|THE|THESE|THOSE|YOUR|ME|OF) )*(?:{_TEXTS})\b",
    r"\b(?:DONT|DO NOT|NEVER|NO LONGER|NOT) (?:WANT TO )?(?:TEXT|MESSAGE|CONTACT|SMS|TXT) ME\b",
    rf"\b(?:DONT|DO NOT|NO LONGER) (?:WANT|NEED) (?:ANY )?(?:MORE )?(?:OF )?(?:YOUR |THESE |THE )?(?:{_TEXTS})\b",
    rf"\bNO MORE (?:{_TEXTS})\b",
    r"\b(?:REMOVE|TAKE|DELETE|DROP) (?:ME|MY NUMBER|THIS NUMBER)\b.*\b(?:LIST|LISTS|TEXTS|MESSAGES)\b",
    r"\bOPT ME OUT\b",
]))


def _words(body: str) -> str:
    """The message as its words, apostrophes dropped ("don't" is DONT), one space between them."""
    folded = _OPT_OUT_PHRASE.sub("OPTOUT", _folded(body).replace("'", "").replace("\u2019", ""))
    return " ".join(re.findall(r"[A-Z0-9]+", folded))


def sounds_like_opt_out(body: str | None) -> bool:
    """A request to stop the texts inside a longer message: not a keyword, but staff should see it."""
    if keyword_in(body) is not None:
        return False
    words = _words(body or "")
    if _REVOCATIONS.search(words):
        return True
    return bool(set(_STOP_NOT_ABOUT_TEXTS.sub("", words).split()) & ALWAYS_OPT_OUT_WORDS)

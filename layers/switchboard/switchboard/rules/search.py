"""Inbox search, without I/O: the terms a conversation is found by, and what a typed search asks for.

A conversation is found by its phone (the whole number, its last seven or its last four digits), by the
names of the patients it may belong to (each word, or any start of it of two letters or more: "mar" finds
Maria), and by the words of the texts its patient and staff wrote (whole words; the automatic texts every
patient gets are left out, or every conversation would match "reply"). Words are read case- and
accent-blind ("José" is "jose"). A search of several words finds the conversations that have all of them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from switchboard.core.errors import InvalidInput

MAX_WORDS = 5
"""Words a search may combine; each after the first costs a key in the page's one batch read."""

MAX_TERMS_PER_TEXT = 60
"""Distinct words of one text that are indexed: a 1,600-character text has about 250."""

# Words too common to find anything by; a search made only of them searches them anyway.
_STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "have", "i", "if", "in", "is", "it",
    "me", "my", "of", "on", "or", "so", "that", "the", "this", "to", "was", "we", "you", "your",
    "el", "la", "los", "las", "de", "del", "y", "que", "en", "un", "una", "es", "por", "mi",
})
_WORD = re.compile(r"[^\W_]+")
_PHONE_TYPED = re.compile(r"^[0-9+().\-\s]+$")


def words(text: str) -> list[str]:
    """The words of `text`, folded (NFKD without accents, case-folded), in order, each once."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return list(dict.fromkeys(_WORD.findall(plain)))


def phone_terms(e164: str) -> set[str]:
    """A US or Canadian number by its ten digits, any other by all of its; and each by its last 7 and 4."""
    digits = re.sub(r"\D", "", e164)
    whole = digits[1:] if e164.startswith("+1") and len(digits) == 11 else digits
    return {f"p:{whole}", f"p:{digits[-7:]}", f"p:{digits[-4:]}"}


def name_terms(name: str) -> set[str]:
    return {f"w:{word[:end]}" for word in words(name) if len(word) >= 2 for end in range(2, len(word) + 1)}


def body_terms(body: str) -> set[str]:
    found = [word for word in words(body) if len(word) >= 2 and word not in _STOP_WORDS]
    return {f"w:{word}" for word in found[:MAX_TERMS_PER_TEXT]}


def term_key(practice_id: str, term: str) -> str:
    """A term as its index partition names it: keyed by the practice, so no key spells a patient's name or
    number (the items themselves are encrypted at rest with the table)."""
    digest = hashlib.blake2b(term.encode(), key=practice_id.encode()[:64], digest_size=16).hexdigest()
    return f"FIND#{practice_id}#{digest}"


@dataclass(frozen=True)
class Search:
    """A typed search: the term whose conversations are read (the likeliest rare one), and the others each
    of them must also have."""

    lead: str
    others: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return (self.lead, *self.others)


def _phone_search(text: str) -> Search:
    digits = re.sub(r"\D", "", text)
    if text.strip().startswith("+"):
        return Search(f"p:{digits[1:] if digits.startswith('1') and len(digits) == 11 else digits}")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) not in (4, 7, 10):
        raise InvalidInput("a phone search needs the whole number, or its last 7 or last 4 digits", field="q")
    return Search(f"p:{digits}")


def parse_search(text: str) -> Search:
    """`(415) 555-0123`, `0123`, `Maria`, `mar gar`, `tuesday appointment` → what to look up."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("type a name, a phone number or its last 4 digits, or words of a text", field="q")
    if len(text) > 200:
        raise InvalidInput("is longer than 200 characters", field="q")
    if _PHONE_TYPED.match(text) and sum(c.isdigit() for c in text) >= 4:
        return _phone_search(text)
    found = [word for word in words(text) if len(word) >= 2]
    if not found:
        raise InvalidInput("needs a word of two letters or more, or four digits of a phone number", field="q")
    meaningful = [word for word in found if word not in _STOP_WORDS] or found
    if len(meaningful) > MAX_WORDS:
        raise InvalidInput(f"combines more than {MAX_WORDS} words; search fewer", field="q")
    ranked = sorted(meaningful, key=len, reverse=True)
    return Search(f"w:{ranked[0]}", tuple(f"w:{word}" for word in ranked[1:]))

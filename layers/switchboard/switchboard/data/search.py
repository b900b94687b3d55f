"""The inbox's search index: a term's conversations in one partition of the table, written from the table's
stream; and a search's page, read in two requests whatever the practice's size.

Why an index in the table and not a search engine the stack deploys: the searches staff make (a number,
its last digits, a name's start, a text's words) are exact-term lookups that DynamoDB answers in one query
per page at any size; the items are encrypted at rest with the table's KMS key, cost nothing idle, and need
no cluster, VPC or second copy of patient data to secure. A page is one Query of the longest term's
partition (only the caller's lines, as its filter) and one BatchGetItem of those conversations together with
the other terms' items for them: a conversation is listed when it has them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.rules.search import Search, body_terms, name_terms, phone_terms, term_key

from .inbox import Page, cursor_after, encode_cursor
from .keys import conversation_key
from .models import ConversationItem, MessageItem, SearchTermItem
from .table import Item, item_from_stream

BATCH_KEYS = 100
"""Keys one BatchGetItem request reads."""

_INDEXED_SENDERS = frozenset({"patient", "staff"})


@dataclass(frozen=True)
class Found:
    """Where a conversation is found: under which terms."""

    practice_id: str
    line_id: str
    phone: str
    terms: frozenset[str]


def found_in(image: Mapping[str, Any]) -> Found | None:
    """Where a stream record's new image is found: a conversation by its phone and its possible patients'
    names; a patient's or staff's text by its words (workflows' and automatic texts are not indexed)."""
    item = item_from_stream(image)
    if isinstance(item, ConversationItem):
        terms = set(phone_terms(item.phone))
        for match in item.matches or []:
            if isinstance(match, dict) and isinstance(match.get("name"), str) \
                    and match.get("practice_id", item.practice_id) == item.practice_id:
                terms |= name_terms(match["name"])
        return Found(item.practice_id, item.line_id, item.phone, frozenset(terms))
    if isinstance(item, MessageItem) and item.sender in _INDEXED_SENDERS and item.body:
        words = body_terms(item.body)
        return Found(item.practice_id, item.line_id, item.phone, frozenset(words)) if words else None
    return None


def index(found: Iterable[Found]) -> int:
    """Write each conversation under each of its terms (idempotent: a term already written is written the
    same again), in as few batch writes as the items allow. Returns how many items were written."""
    items = {(term_key(f.practice_id, term), f"{f.line_id}#{f.phone}"): f for f in found for term in f.terms}
    with SearchTermItem.batch_write() as batch:
        for (pk, sk), f in items.items():
            batch.save(SearchTermItem(pk, sk, practice_id=f.practice_id, line_id=f.line_id, phone=f.phone))
    return len(items)


def _start(partition: str, cursor: str | None) -> dict[str, Any] | None:
    after = cursor_after(cursor, lambda key: "#" in key)
    return {"pk": {"S": partition}, "sk": {"S": after}} if after is not None else None


def search_page(practice_id: str, search: Search, line_ids: frozenset[str] | None, *, limit: int,
                cursor: str | None) -> Page:
    """One page of the conversations that have every term of `search`, on `line_ids` (None: every line),
    newest activity first within the page. A page may hold fewer than `limit` when candidates lacked a
    term; its cursor goes on from there."""
    if line_ids is not None and not line_ids:
        return Page([], None)
    limit = max(1, min(limit, BATCH_KEYS // len(search.terms)))
    partition = term_key(practice_id, search.lead)
    condition = SearchTermItem.line_id.is_in(*sorted(line_ids)) if line_ids is not None else None
    # A term's items sort by line: the key range runs from the caller's first line to their last, so a staff
    # member with one line reads only theirs, and one with several skips every line before and after them.
    lines = sorted(line_ids) if line_ids is not None else None
    key_range = SearchTermItem.sk.between(f"{lines[0]}#", f"{lines[-1]}#~") if lines else None
    query = SearchTermItem.query(partition, key_range, page_size=limit, filter_condition=condition,
                                 last_evaluated_key=_start(partition, cursor))
    # One page of the query, as DynamoDB answered it: iterating would read on until `limit` passed the filter.
    page = next(query.page_iter)
    candidates = [item for item in map(Item.from_raw_data, page.get("Items") or [])
                  if isinstance(item, SearchTermItem)]
    last = query.page_iter.last_evaluated_key
    keys: list[tuple[str, str]] = []
    for candidate in candidates:
        keys.append(conversation_key(candidate.line_id, candidate.phone))
        keys += [(term_key(practice_id, term), candidate.sk) for term in search.others]
    read = {(item.pk, item.sk): item for item in Item.batch_get(keys)} if keys else {}
    listed: list[ConversationItem] = []
    for candidate in candidates:
        conversation = read.get(conversation_key(candidate.line_id, candidate.phone))
        if isinstance(conversation, ConversationItem) and conversation.practice_id == practice_id and all(
                (term_key(practice_id, term), candidate.sk) in read for term in search.others):
            listed.append(conversation)
    listed.sort(key=lambda item: item.last_activity_at, reverse=True)
    return Page(listed, encode_cursor({"after": last["sk"]["S"]} if last else None))

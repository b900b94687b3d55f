"""6. Inbox search at 100,000 conversations: DynamoDB requests per page of each kind of search.

Run as a child process by `python -m bench` (`python -m bench.search <out.json> <work-dir>`), on its own
DynamoDB Local. One practice gets 100,000 conversations on four lines, written as the layer writes them, each
under the terms the search index writes for it (`switchboard.data.search.index`'s items, built from the same
rules: its phone; for one in five, a patient's name; the words of a patient's text); the common words are in
tens of thousands of conversations. Then the admin API's search route is called in-process, as an admin and as
staff with one line, and each page's requests are counted with botocore hooks on the layer's own client.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import median
from bench.harness import ADMIN, Harness, Services
from bench.numbers import us_mobile_numbers

CONVERSATIONS = 100_000
LINES = 4
WRITERS = 4
FIRST_NAMES = ("Maria", "James", "Aisha", "Wei", "Olivia", "Mateo", "Priya", "Noah", "Fatima", "Liam")
LAST_NAMES = ("Garcia", "Smith", "Nguyen", "Okafor", "Patel", "Kim", "Johnson", "Delgado", "Cohen", "Brown",
              "Rossi", "Tanaka", "Silva", "Murphy", "Haddad", "Novak", "Ivanova", "Mensah", "Larsen", "Dubois")
TEXTS = ("Can I move my appointment to Tuesday?", "Running late, be there soon", "Is the office open Saturday?",
         "Need a refill of my prescription", "Appointment confirmed, thanks", "What time is my appointment?",
         "Do you take my insurance?", "Can someone call me back?")
SAMPLES = 15


def _lines(bench: Harness) -> list[str]:
    practice_id = bench.setup["practice_id"]
    lines = [bench.setup["line_id"]]
    for index in range(LINES - 1):
        number = bench.api("GET", f"/api/practices/{practice_id}/available-numbers?area_code=415")[0]["phone_number"]
        lines.append(bench.api("POST", f"/api/practices/{practice_id}/lines/purchase",
                               {"display_name": f"Line {index + 2}", "number": number})["line_id"])
    return lines


def populate(bench: Harness, lines: list[str]) -> dict[str, Any]:
    """The conversations and their search terms, written with BatchWriteItem from a few threads."""
    from switchboard.data.conversations import OPEN
    from switchboard.data.keys import conversation_key
    from switchboard.data.messages import preview
    from switchboard.data.models import ConversationItem, SearchTermItem
    from switchboard.data.table import Item, connection
    from switchboard.rules.messages import Direction, MessageStatus
    from switchboard.rules.search import body_terms, name_terms, phone_terms, term_key

    practice_id = bench.setup["practice_id"]
    client = connection().client
    table = Item.Meta.table_name
    numbers = us_mobile_numbers(start=500_000)
    now = datetime.now(UTC)
    items_written = [0]
    lock = threading.Lock()

    def write(batch: list[dict[str, Any]]) -> None:
        requests = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while requests:
            answer = client.batch_write_item(RequestItems=requests)
            requests = answer.get("UnprocessedItems") or {}
        with lock:
            items_written[0] += len(batch)
            if items_written[0] // 100_000 != (items_written[0] - len(batch)) // 100_000:
                print(f"{items_written[0]:,} items written in {time.perf_counter() - started:.0f} s", file=sys.stderr,
                      flush=True)

    def items_of(index: int, phone: str) -> list[dict[str, Any]]:
        line_id = lines[index % LINES]
        at = now - timedelta(seconds=index * 7)
        text = TEXTS[index % len(TEXTS)]
        name = f"{FIRST_NAMES[index % 10]} {LAST_NAMES[(index // 10) % 20]}" if index % 5 == 0 else None
        matches = [{"practice_id": practice_id, "patient_id": f"mrn-{index}", "name": name}] if name else []
        conversation = ConversationItem(
            *conversation_key(line_id, phone), practice_id=practice_id, line_id=line_id, phone=phone, unread=1,
            last_activity_at=at, created_at=at, updated_at=at, matches=matches, verified=bool(name),
            patient_id=matches[0]["patient_id"] if matches else None,
            last_message=preview(Direction.INBOUND, text, MessageStatus.RECEIVED, at),
            gsi1pk=f"{OPEN}{line_id}", gsi1sk=f"{at.isoformat()}#{phone}",
            gsi2pk=f"{OPEN}{practice_id}", gsi2sk=f"{at.isoformat()}#{line_id}#{phone}")
        terms = phone_terms(phone) | body_terms(text) | (name_terms(name) if name else set())
        return [conversation.serialize(), *(SearchTermItem(term_key(practice_id, term), f"{line_id}#{phone}",
                                                           practice_id=practice_id, line_id=line_id,
                                                           phone=phone).serialize() for term in sorted(terms))]

    started = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        pending: list[dict[str, Any]] = []
        futures = []
        for index in range(CONVERSATIONS):
            pending += items_of(index, next(numbers))
            while len(pending) >= 25:
                futures.append(pool.submit(write, pending[:25]))
                pending = pending[25:]
            if len(futures) > 400:
                for future in futures:
                    future.result()
                futures = []
        if pending:
            futures.append(pool.submit(write, pending))
        for future in futures:
            future.result()
    return {"items": items_written[0], "seconds": time.perf_counter() - started}


def measure(bench: Harness, q: str, claims: dict[str, str]) -> dict[str, Any]:
    path = f"/api/practices/{bench.setup['practice_id']}/search?q={quote(q)}&limit=20"
    bench.handler("admin_api")
    bench.attach()
    operations: list[list[str]] = []
    route_requests: list[int] = []
    times: list[float] = []
    found = pages = 0
    cursor = None
    for _ in range(SAMPLES):
        event = bench.event("GET", path + (f"&cursor={cursor}" if cursor else ""), claims=claims)
        with bench.recorder.recording(capture=True) as calls:
            began = time.perf_counter()
            answer = bench.invoke("admin_api", event)
            times.append((time.perf_counter() - began) * 1000)
        if answer["statusCode"] != 200:
            raise RuntimeError(f"search {q!r}: {answer['statusCode']} {answer.get('body', '')[:300]}")
        body = json.loads(answer["body"])
        dynamo = [c for c in calls if c.service == "dynamodb"]
        # The search's own requests: from its Query of a term's partition on (before it: the caller's identity).
        first = next((i for i, c in enumerate(dynamo) if "FIND#" in json.dumps(c.params, default=str)), len(dynamo))
        operations.append([c.operation for c in dynamo[first:]])
        route_requests.append(len(dynamo))
        found += len(body["conversations"])
        pages += 1
        cursor = body["next_cursor"]  # pages on while there are more; then the first page again
    return {"q": q, "pages": pages, "listed": found, "max_requests": max(len(ops) for ops in operations),
            "operations": sorted({" + ".join(ops) for ops in operations}),
            "route_requests": max(route_requests), "median_ms": median(times)}


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    work = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-search-"))
    results: dict[str, Any] = {}
    services = Services(work, in_memory=True)
    try:
        bench = Harness(services.start())
        bench.create_practice()
        lines = _lines(bench)
        staff = bench.api("POST", f"/api/practices/{bench.setup['practice_id']}/users",
                          {"email": "lee@benchfamilyclinic.com", "name": "Lee", "role": "staff",
                           "line_ids": [lines[1]]})
        staff_claims = {"sub": staff["user_id"], "email": "lee@benchfamilyclinic.com", "email_verified": "true",
                        "cognito:groups": "staff"}
        results["populate"] = populate(bench, lines)
        results["conversations"] = CONVERSATIONS
        sample_phone = next(us_mobile_numbers(start=500_000 + 4_242))
        results["searches"] = [
            measure(bench, sample_phone[-4:], ADMIN) | {"what": "last 4 digits"},
            measure(bench, f"({sample_phone[2:5]}) {sample_phone[5:8]}-{sample_phone[8:]}", ADMIN)
            | {"what": "whole number as typed"},
            measure(bench, "gar", ADMIN) | {"what": "start of a name"},
            measure(bench, "maria garcia", ADMIN) | {"what": "first and last name"},
            measure(bench, "appointment", ADMIN) | {"what": "a common word"},
            measure(bench, "appointment tuesday", ADMIN) | {"what": "two words"},
            measure(bench, "appointment", staff_claims) | {"what": "a common word, staff with 1 of 4 lines"},
        ]
    except Exception:
        results["error"] = traceback.format_exc()[-4000:]
    finally:
        services.stop()
        out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

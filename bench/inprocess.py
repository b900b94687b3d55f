"""2. DynamoDB requests per operation and 3. overhead over the floor, with the handlers called in-process.

Run as a child process by `python -m bench` (`python -m bench.inprocess <out.json> <work-dir>`): the
handlers read their settings from the environment at import, so they get a clean interpreter. The plumbing
(services, the handlers, events, queues) is bench.harness; here are the figures: requests and request units
per step of a conversation, warm durations of each step (for the cost model), the status poller's requests
beside the number of lines, and the overhead over the floor (bench.overhead).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, median
from bench.harness import ADMIN, Harness, Services
from bench.numbers import us_mobile_numbers
from bench.overhead import overhead

DURATION_SAMPLES = 30
POLLER_SMALL = 10
POLLER_LARGE = 10_000
PENDING_LINES = 3
READ_OPERATIONS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def count(bench: Harness, folder: str, event: dict[str, Any]) -> dict[str, Any]:
    """The AWS requests one invocation makes, with the request units DynamoDB charged and the answer."""
    bench.attach()
    with bench.recorder.recording() as calls:
        answer = bench.invoke(folder, event)
    dynamo = [c for c in calls if c.service == "dynamodb"]
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    return {"requests": len(dynamo), "operations": [c.operation for c in dynamo],
            "read_units": sum(c.capacity for c in dynamo if c.operation in READ_OPERATIONS),
            "write_units": sum(c.capacity for c in dynamo if c.operation not in READ_OPERATIONS),
            "sqs_requests": len([c for c in calls if c.service == "sqs"]), "status": status,
            "batch_failures": len(failures) if failures is not None else None,
            "answer": str(answer.get("body") or answer if isinstance(answer, dict) else answer)[:300]}


def counts(bench: Harness) -> dict[str, Any]:
    found: dict[str, Any] = {}
    phone = next(bench.numbers)
    bench.handler("webhook_intake")
    bench.drain("OutboundQueue")
    bench.invoke("webhook_intake", bench.intake_event(next(bench.numbers)))  # cold: clients built, not counted
    bench.drain("OutboundQueue")
    found["intake"] = count(bench, "webhook_intake", bench.intake_event(phone))
    found["intake_duplicate"] = count(bench, "webhook_intake", bench.intake_event(phone))
    job = bench.receive("OutboundQueue", phone)
    bench.drain("OutboundQueue")
    found["outbound_send"] = count(bench, "outbound_messaging", job)
    sid = bench.sandbox_sid(phone)
    found["status_sent"] = count(bench, "status_callback", bench.status_event(sid, "sent", phone))
    found["status_delivered"] = count(bench, "status_callback", bench.status_event(sid, "delivered", phone))
    if bench.has("inbound_sms"):
        bench.drain("FollowUpQueue")
        found["inbound_sms"] = count(bench, "inbound_sms", bench.sms_event(phone))
        if bench.has("follow_up"):
            found["follow_up"] = count(bench, "follow_up", bench.receive("FollowUpQueue", phone))
            bench.drain("OutboundQueue")
    inbox = f"/api/practices/{bench.setup['practice_id']}/inbox"
    found["inbox_admin"] = _inbox_count(bench, inbox, ADMIN)
    if bench.setup.get("staff"):
        found["inbox_staff"] = _inbox_count(bench, inbox, bench.setup["staff"])
    return found


def _inbox_count(bench: Harness, path: str, claims: dict[str, str]) -> dict[str, Any]:
    """The page as a warm container serves it, and the first page a container serves that user (the same:
    the caller's memberships are read on every request)."""
    bench.handler("admin_api")
    first = count(bench, "admin_api", bench.event("GET", path, claims=claims))
    counted = count(bench, "admin_api", bench.event("GET", path, claims=claims))
    counted["first_requests"] = first["requests"]
    if counted["status"] == 404:
        counted["absent"] = True
    return counted


def durations(bench: Harness) -> dict[str, Any]:
    """Warm duration of each step of a call-to-text conversation, median over DURATION_SAMPLES."""
    steps: dict[str, list[float]] = {"outbound_messaging": [], "status_callback": [], "follow_up": []}
    outcomes: dict[str, dict[str, int]] = {name: {} for name in steps}

    def timed(folder: str, event: dict[str, Any]) -> None:
        started = time.perf_counter()
        answer = bench.invoke(folder, event)
        steps[folder].append((time.perf_counter() - started) * 1000)
        outcome = str(answer.get("statusCode", "ok" if not answer.get("batchItemFailures") else "failed"))
        outcomes[folder][outcome] = outcomes[folder].get(outcome, 0) + 1

    bench.drain("OutboundQueue")
    bench.drain("FollowUpQueue")
    bench.stream_ms.clear()
    for _ in range(DURATION_SAMPLES):
        phone = next(bench.numbers)
        bench.invoke("webhook_intake", bench.intake_event(phone))
        timed("outbound_messaging", bench.receive("OutboundQueue", phone))
        sid = bench.sandbox_sid(phone)
        timed("status_callback", bench.status_event(sid, "sent", phone))
        timed("status_callback", bench.status_event(sid, "delivered", phone))
        if bench.has("inbound_sms") and bench.has("follow_up"):
            bench.invoke("inbound_sms", bench.sms_event(phone))
            timed("follow_up", bench.receive("FollowUpQueue", phone))
            bench.drain("OutboundQueue")
    found = {name: {"median_ms": median(values), "samples": len(values), "outcomes": outcomes[name]}
             for name, values in steps.items() if values}
    for folder, values in bench.stream_ms.items():  # one record per invocation, as at low volume
        found[folder] = {"median_ms": median(values), "samples": len(values), "outcomes": {}}
    return found


def poller(bench: Harness) -> dict[str, Any]:
    """The status poller's requests with POLLER_SMALL and with POLLER_LARGE enabled lines (and a few pending):
    they must not grow with the lines."""
    from switchboard.data.lines import line_key
    from switchboard.data.models import LineItem
    from switchboard.data.practices import practice_key

    practice_id = bench.setup["practice_id"]
    today = datetime.now(UTC).date().isoformat()
    landlines = us_mobile_numbers(start=90_000)
    bench.api("PUT", f"/api/practices/{practice_id}/address",
              {"customer_name": "Bench Family Clinic LLC", "street": "200 W Madison St", "city": "Chicago",
               "region": "IL", "postal_code": "60606", "iso_country": "US"})
    for _ in range(PENDING_LINES):
        bench.api("POST", f"/api/practices/{practice_id}/lines",
                  {"display_name": "Main landline", "number": next(landlines),
                   "authorization": {"signer_name": "Dana Reyes", "signer_title": "Practice Director",
                                     "signer_email": "dana@benchfamilyclinic.com", "signed_on": today},
                   "contact": {"phone": "(415) 555-0199", "email": "office@benchfamilyclinic.com"}})

    def enabled_lines(count: int, offset: int) -> None:
        """Lines shaped as data.lines.add_line writes them (enabled: no pending attributes)."""
        numbers = us_mobile_numbers(start=200_000 + offset)
        with LineItem.batch_write() as batch:
            for index in range(offset, offset + count):
                line_id = f"BENCH{index:08d}"
                owner = f"bench-{index // 100:04d}"
                batch.save(LineItem(practice_key(owner), line_key(line_id), practice_id=owner, line_id=line_id,
                                    display_name=f"Line {index}", number=next(numbers), source="purchased",
                                    status="enabled", status_changed_at=datetime.now(UTC),
                                    carrier_sid=f"PN{index:032d}", settings={}, gsi1pk="LINES", gsi1sk=line_id))

    bench.handler("status_poller")
    event = json.loads((ROOT / "events" / "status_poller" / "scheduled.json").read_text())
    enabled_lines(POLLER_SMALL - 1, 0)  # plus the line bought in setup
    count(bench, "status_poller", event)  # learns each order's letter of authorization (a write per order, once)
    small = count(bench, "status_poller", event)
    started = time.perf_counter()
    enabled_lines(POLLER_LARGE - POLLER_SMALL, POLLER_SMALL)
    write_seconds = time.perf_counter() - started
    large = count(bench, "status_poller", event)
    return {"small": small, "large": large, "small_lines": POLLER_SMALL, "large_lines": POLLER_LARGE,
            "pending": PENDING_LINES, "bulk_write_seconds": write_seconds}


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    work = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-inprocess-"))
    results: dict[str, Any] = {"errors": {}}
    services = Services(work)
    started = time.perf_counter()

    def step(name: str, action: Callable[[], Any]) -> None:
        began = time.perf_counter()
        try:
            results[name] = action()
        except Exception:
            results["errors"][name] = traceback.format_exc()[-4000:]
        results.setdefault("seconds", {})[name] = time.perf_counter() - began

    try:
        endpoints = services.start()
        results["dynamodb_engine"] = services.dynamodb.engine
        bench = Harness(endpoints)
        results["notes"] = bench.notes
        step("setup", bench.create_practice)
        if "setup" not in results["errors"]:
            step("counts", lambda: counts(bench))
            step("overhead_intake", lambda: overhead(
                bench, "webhook_intake", lambda phone, sid: bench.intake_event(phone)))
            if bench.has("inbound_sms"):
                step("overhead_inbound_sms", lambda: overhead(
                    bench, "inbound_sms", lambda phone, sid: bench.sms_event(phone, sid=sid)))
            step("durations", lambda: durations(bench))
            step("poller", lambda: poller(bench))
    except Exception:
        results["errors"]["services"] = traceback.format_exc()[-4000:]
    finally:
        services.stop()
        results["total_seconds"] = time.perf_counter() - started
        out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

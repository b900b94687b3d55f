"""A flaky, then absent, carrier: every caller still gets exactly one text, and nothing is lost.

The carrier sandbox answers a share of sends with 500, 503, 429, slow answers and accept-then-fail (the
message went out, the answer said it did not); the soak run adds sends that hang past the client's 10 s
timeout (`inprocess/test_consumer_crashes.py` times a send out in half a second). A carrier outage first
sends every attempt of a few messages to the dead-letter queue; `local.redrive` puts them back once the
carrier is fine, and they go out once. Figures go to the terminal (`make soak` prints the long run's).
"""
from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import pytest

from tests.reliability.conftest import Clinic, ReliabilityStack, eventually, new_phone

pytestmark = pytest.mark.integration

MAX_RECEIVES = 5  # the outbound queue's maxReceiveCount in template.yaml
FINAL = {"delivered", "undelivered", "failed"}
OUTAGE = [{"status": 503}, {"status": 500}, {"status": 429, "code": 20429}]


@dataclass
class Figures:
    webhooks_sent: int = 0
    webhooks_accepted: int = 0
    carrier_faults_injected: int = 0
    dead_lettered: int = 0
    redriven: int = 0
    texts_at_carrier: int = 0
    texts_delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    not_final: int = 0


def flaky_carrier(rng: random.Random, attempts: int, *, timeouts: int) -> list[dict[str, Any]]:
    """What the next `attempts` sends get: mostly success, a share of each kind of trouble."""
    kinds: list[tuple[dict[str, Any], int]] = [
        ({}, 62),
        ({"status": 500}, 8),
        ({"status": 503}, 8),
        ({"status": 429, "code": 20429}, 8),
        ({"accept_then_fail": True, "status": 500}, 5),
        ({"accept_then_fail": True, "status": 503}, 4),
        ({"delay": 0.2}, 5),
    ]
    plan = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds], k=attempts)
    for slot in rng.sample(range(attempts), timeouts):
        plan[slot] = {"hang": 11}  # past the client's 10 s read timeout: an uncertain send
    return [dict(fault) for fault in plan]


def fire(stack: ReliabilityStack, clinic: Clinic, callers: list[str]) -> dict[str, str]:
    """Webhooks for every caller, eight at a time; the message id each one was given."""
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda caller: (caller, stack.call_webhook(clinic, caller)), callers))
    refused = [(caller[-4:], reply.status, reply.body) for caller, reply in replies if reply.status != 202]
    assert not refused, refused
    return {caller: reply.body["message_id"] for caller, reply in replies}


# Deadlines for a machine busy with other work; each ends as soon as its condition holds.
SETTLE_SECONDS = 180
FINAL_SECONDS = 120


def settle(stack: ReliabilityStack, timeout: float = SETTLE_SECONDS) -> None:
    """Until the outbound queue holds nothing visible or in flight and its consumer is idle."""
    assert eventually(lambda: stack.queue_depth("OutboundQueue") == 0 and stack.wait_idle(5), timeout=timeout), (
        f"the outbound queue did not drain: {stack.queue_depth('OutboundQueue')} left")


def storm(stack: ReliabilityStack, webhooks: int, *, seed: int, timeouts: int) -> Figures:
    rng = random.Random(seed)
    clinic = stack.new_clinic()
    callers = [new_phone() for _ in range(webhooks)]
    figures = Figures(webhooks_sent=webhooks)
    if stack.queue_depth("OutboundDeadLetterQueue"):  # another test's leftovers: start from an empty DLQ
        stack.redrive("OutboundQueue")
        settle(stack)
    dead_before = stack.queue_depth("OutboundDeadLetterQueue")

    # 1. The carrier is down for the first few callers: every attempt fails until the queue gives up.
    down = max(1, webhooks // 20)
    outage = [dict(OUTAGE[i % len(OUTAGE)]) for i in range(down * MAX_RECEIVES)]
    stack.set_faults(outage, to=callers[:down])
    ids = fire(stack, clinic, callers[:down])
    if not eventually(lambda: stack.queue_depth("OutboundDeadLetterQueue") - dead_before >= down,
                      timeout=SETTLE_SECONDS):
        ours = [stack.thread(clinic, caller).body for caller in callers[:down]]
        pytest.fail(f"the outage's messages did not reach the dead-letter queue: "
                    f"{stack.queue_depth('OutboundDeadLetterQueue') - dead_before} of {down} there, "
                    f"{stack.queue_depth('OutboundQueue')} in the outbound queue, "
                    f"{len(stack.sandbox('GET', '/sandbox/faults')['faults'])} of {len(outage)} faults unused; "
                    f"our messages: {[[(m['status'], m.get('carrier_sid')) for m in t['messages']] for t in ours]}"
                    f"\n{stack.running.logs()[-6000:]}")
    figures.carrier_faults_injected += len(outage)

    # 2. The carrier is back but flaky for everyone else.
    plan = flaky_carrier(rng, int((webhooks - down) * 1.6), timeouts=timeouts)
    stack.set_faults(plan, to=callers[down:])
    ids |= fire(stack, clinic, callers[down:])
    settle(stack, timeout=SETTLE_SECONDS + 12 * timeouts)
    left = len(stack.sandbox("GET", "/sandbox/faults")["faults"])
    figures.carrier_faults_injected += sum(1 for fault in plan[: len(plan) - left] if fault)
    stack.clear_faults()
    figures.webhooks_accepted = len(ids)
    figures.dead_lettered = stack.queue_depth("OutboundDeadLetterQueue") - dead_before

    # 3. Redrive what the queue gave up on.
    run = stack.redrive("OutboundQueue")
    assert run.returncode == 0, run.stderr
    figures.redriven = int(run.stdout.split()[1])
    settle(stack)
    assert stack.queue_depth("OutboundDeadLetterQueue") == 0

    # Every caller: one text at the carrier, and our message says it was delivered.
    def texts() -> list[dict[str, Any]]:
        return stack.sent_from(clinic.line["number"])

    eventually(lambda: all(m["status"] in FINAL for m in texts()) and len(texts()) >= webhooks,
               timeout=FINAL_SECONDS, interval=0.5)
    at_carrier = texts()
    per_caller = Counter(m["to"] for m in at_carrier)
    figures.texts_at_carrier = len(at_carrier)
    figures.duplicates = sum(count - 1 for count in per_caller.values() if count > 1)
    sid_for = {m["to"]: m["sid"] for m in at_carrier}

    def ours(caller: str) -> dict[str, Any] | None:
        thread = stack.thread(clinic, caller)
        return thread.body["messages"][-1] if thread.status == 200 and thread.body["messages"] else None

    def all_final() -> bool:
        return all((ours(c) or {}).get("status") in FINAL for c in callers)

    eventually(all_final, timeout=FINAL_SECONDS, interval=0.5)
    stored = {caller: ours(caller) for caller in callers}
    figures.texts_delivered = sum(1 for m in stored.values() if m and m["status"] == "delivered")
    figures.not_final = sum(1 for m in stored.values() if not m or m["status"] not in FINAL)
    figures.lost = sum(1 for c in callers if per_caller[c] == 0 or not stored[c]
                       or stored[c]["message_id"] != ids[c] or stored[c]["carrier_sid"] != sid_for.get(c))
    rows = "\n".join(f"  {name.replace('_', ' '):<24}{value:>6}" for name, value in asdict(figures).items())
    print(f"\nflaky carrier, {webhooks} call-to-text webhooks (seed {seed}):\n{rows}")
    return figures


def check(figures: Figures, webhooks: int) -> None:
    assert figures.webhooks_accepted == webhooks
    assert figures.texts_at_carrier == webhooks, figures
    assert figures.duplicates == 0, figures
    assert figures.lost == 0, figures
    assert figures.not_final == 0, figures
    assert figures.texts_delivered == webhooks, figures
    assert figures.dead_lettered >= max(1, webhooks // 20), figures
    assert figures.redriven == figures.dead_lettered, figures


def test_forty_callers_through_a_flaky_carrier_get_one_text_each_and_dead_letters_are_redriven(stack):
    check(storm(stack, 40, seed=9, timeouts=0), 40)


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_soak_five_hundred_callers_through_a_flaky_carrier(stack, record_property):
    figures = storm(stack, 500, seed=2026, timeouts=3)
    for name, value in asdict(figures).items():
        record_property(name, value)
    check(figures, 500)

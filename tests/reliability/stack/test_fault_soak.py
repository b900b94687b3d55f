"""Every sending path at once, with everything failing that may fail: each intended text goes exactly once.

One practice takes a shuffled mix of operations, eight at a time: call-to-text webhooks (some repeated),
patients texting while the practice is closed (each gets one after-hours answer), integration sends (some
retried with the same idempotency key, at the same moment or later), a campaign, then staff replies (some
sent again with the same draft, as after a lost answer). Meanwhile the carrier fails 30% of its calls
(errors, throttling, accept-then-fail), and the local stack (local/faults.py) fails a share of the SQS sends
handlers make, crashes a function right after the carrier accepted a text, and hands stream and queue batches
to their functions twice. Whatever the queue gives up on is redriven at the end.

The figures per path are printed: texts intended, at the carrier, duplicates, lost, and stuck (our message
not final). `make test` runs a small mix; `make soak` runs 500 operations.
"""

from __future__ import annotations

import json
import random
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import pytest

from tests.clock import NO_QUIET_HOURS
from tests.reliability.conftest import Clinic, ReliabilityStack, Reply, eventually, new_phone
from tests.reliability.stack.test_carrier_faults import FINAL, settle

pytestmark = pytest.mark.integration

AFTER_HOURS_TEXT = "We are closed now; we will text you back in the morning."
LOCAL_FAULTS = {"queue_send_failure": 0.2, "crash_after_carrier_accept": 0.05, "stream_redelivery": 0.2,
                "queue_redelivery": 0.2}
# The small mix accepts about sixty sends: twice the crash share makes a run without a crash vanishingly rare.
SMALL_MIX_FAULTS = {**LOCAL_FAULTS, "crash_after_carrier_accept": 0.1}
PATHS = ("intake", "after_hours", "integration", "campaign", "staff")


@dataclass
class PathFigures:
    operations: int = 0
    intended: int = 0
    at_carrier: int = 0
    duplicates: int = 0
    lost: int = 0
    stuck: int = 0


@dataclass(frozen=True)
class Mix:
    callers: int
    repeated_calls: int
    texting_patients: int
    integration_sends: int
    retried_sends: int
    campaign_recipients: int
    staff_replies: int
    resent_drafts: int

    def scaled(self, share: float) -> Mix:
        return Mix(**{name: max(1, round(value * share)) for name, value in asdict(self).items()})


# 500 operations: 200 webhooks, 100 patient texts, 129 integration sends, 1 campaign (of 100), 70 staff replies.
SOAK = Mix(callers=180, repeated_calls=20, texting_patients=100, integration_sends=100, retried_sends=29,
           campaign_recipients=100, staff_replies=50, resent_drafts=20)


def carrier_trouble(rng: random.Random, calls: int) -> list[dict[str, Any]]:
    """What the carrier's next `calls` calls get: 30% of them some trouble."""
    kinds: list[tuple[dict[str, Any], int]] = [
        ({}, 70),
        ({"status": 500}, 6),
        ({"status": 503}, 6),
        ({"status": 429, "code": 20429}, 8),
        ({"accept_then_fail": True, "status": 500}, 5),
        ({"accept_then_fail": True, "status": 503}, 5),
    ]
    return [dict(k) for k in rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds], k=calls)]


class Practice:
    """The storm's practice: its line, a call-to-text workflow, an integration key, closed all week."""

    def __init__(self, stack: ReliabilityStack) -> None:
        self.stack = stack
        self.clinic: Clinic = stack.new_clinic()
        self.id = self.clinic.practice_id
        self.line_id = self.clinic.line["line_id"]
        self.number = self.clinic.line["number"]
        patched = stack.api("PATCH", f"/api/practices/{self.id}", {
            "hours": {}, "after_hours": {"text": AFTER_HOURS_TEXT}, "quiet_hours": NO_QUIET_HOURS})
        assert patched.status == 200, patched.body
        key = stack.api("POST", f"/api/practices/{self.id}/api-keys", {"name": "EMR"})
        assert key.status == 201, key.body
        self.key = key.body["key"]

    def integration(self, method: str, path: str, body: Any = None) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        return self.stack.http(method, f"{self.stack.api_url}{path}", body=data,
                               headers={"X-Api-Key": self.key, "Content-Type": "application/json"})

    def thread(self, phone: str) -> Reply:
        return self.stack.api("GET", f"/api/practices/{self.id}/lines/{self.line_id}/conversations/"
                                     f"{urllib.parse.quote(phone)}?limit=200")


def path_of(body: str | None) -> str | None:
    if body is None or body.startswith("Thanks for calling"):  # a workflow's text is written as it is sent
        return "intake"
    if body == AFTER_HOURS_TEXT:
        return "after_hours"
    for prefix, path in (("Reminder ", "integration"), ("Flu shots ", "campaign"), ("Staff note ", "staff")):
        if body.startswith(prefix):
            return path
    return None


def identity(path: str, to: str, body: str) -> str:
    """What makes one intended text: the phone for the once-per-caller paths, else the (unique) body."""
    return to if path in ("intake", "after_hours") else body


def run_all(operations: list[Callable[[], Reply]], accepted: Callable[[Reply], bool]) -> None:
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda operation: operation(), operations))
    refused = [(reply.status, reply.body) for reply in replies if not accepted(reply)]
    assert not refused, refused[:5]


def mixed_storm(stack: ReliabilityStack, mix: Mix, *, seed: int, faults: dict[str, float] | None = None,
                final_within: float = 240) -> dict[str, PathFigures]:
    """`final_within`: how long every text may take to reach a final status once the queues have settled (under
    the test's own timeout, so a stuck text is named rather than the test killed)."""
    faults = faults or LOCAL_FAULTS
    rng = random.Random(seed)
    practice = Practice(stack)
    figures = {path: PathFigures() for path in PATHS}
    intended: dict[str, set[str]] = {path: set() for path in PATHS}

    patients = [new_phone() for _ in range(mix.campaign_recipients)]
    for n, phone in enumerate(patients):
        added = stack.api("POST", f"/api/practices/{practice.id}/patients",
                          {"patient_id": f"P{n:04d}", "name": f"Patient {n}", "phone": phone})
        assert added.status == 201, added.body
    if stack.queue_depth("OutboundDeadLetterQueue"):  # another test's leftovers: start from an empty DLQ
        stack.redrive("OutboundQueue")
        settle(stack)

    callers = [new_phone() for _ in range(mix.callers)]
    texting = [new_phone() for _ in range(mix.texting_patients)]
    send_to = [new_phone() for _ in range(mix.integration_sends)]
    stack.set_faults(carrier_trouble(rng, 6 * (mix.callers + mix.texting_patients + mix.integration_sends
                                               + mix.campaign_recipients + mix.staff_replies)),
                     to=callers + texting + send_to + patients)
    stack.local_faults({"seed": seed, **faults})
    try:
        # 1. Webhooks, patient texts, integration sends and the campaign, shuffled together.
        operations: list[Callable[[], Reply]] = []
        for caller in callers + rng.sample(callers, min(mix.repeated_calls, len(callers))):
            operations.append(lambda caller=caller: stack.call_webhook(practice.clinic, caller))
            figures["intake"].operations += 1
        intended["intake"] = set(callers)
        for n, phone in enumerate(texting):
            operations.append(lambda phone=phone, n=n: Reply(200, stack.sandbox(
                "POST", "/sandbox/inbound/sms", {"from": phone, "to": practice.number, "body": f"Hello? ({n})"})))
            figures["after_hours"].operations += 1
        intended["after_hours"] = set(texting)
        sends = [{"to": phone, "line_id": practice.line_id, "text": f"Reminder {n}: your visit is tomorrow.",
                  "idempotency_key": f"visit-{seed}-{n}"} for n, phone in enumerate(send_to)]
        for send in sends + rng.sample(sends, min(mix.retried_sends, len(sends))):
            operations.append(lambda send=send: practice.integration("POST", "/v1/messages", send))
            figures["integration"].operations += 1
        intended["integration"] = {send["text"] for send in sends}
        campaign = {"name": "Flu clinic", "line_id": practice.line_id, "rate_per_second": 25,
                    "template": "Flu shots {first}: walk in any day this week.",
                    "recipients": [{"patient_id": f"P{n:04d}", "variables": {"first": f"for P{n:04d}"}}
                                   for n in range(mix.campaign_recipients)]}
        operations.append(lambda: practice.integration("POST", "/v1/campaigns", campaign))
        figures["campaign"].operations += 1
        intended["campaign"] = {f"Flu shots for P{n:04d}: walk in any day this week."
                                for n in range(mix.campaign_recipients)}
        rng.shuffle(operations)
        run_all(operations, lambda reply: reply.status in (200, 201, 202))
        stack.run_schedule("SendSchedulerFunction")  # the campaign's texts, as the minute's run would store them

        # 2. Staff answer callers (now that their conversations exist); some press Send twice. Not the patients who
        # texted: a staff reply rightly keeps the after-hours answer from going out after it.
        to_answer = rng.sample(callers, min(mix.staff_replies, len(callers)))
        drafts = [(phone, {"body": f"Staff note {n}: we will call you shortly.", "draft_id": f"draft-{seed}-{n}"})
                  for n, phone in enumerate(to_answer)]
        replies: list[Callable[[], Reply]] = []
        for phone, draft in drafts + rng.sample(drafts, min(mix.resent_drafts, len(drafts))):
            path = (f"/api/practices/{practice.id}/lines/{practice.line_id}/conversations/"
                    f"{urllib.parse.quote(phone)}/messages")
            replies.append(lambda path=path, draft=draft: stack.api("POST", path, draft))
            figures["staff"].operations += 1
        intended["staff"] = {draft["body"] for _, draft in drafts}
        rng.shuffle(replies)
        run_all(replies, lambda reply: reply.status == 202)

        settle(stack, timeout=600)
        stack.run_schedule("SendSchedulerFunction")  # the campaign sees nothing left and finishes
        injected = stack.local_faults(None)["injected"]
    finally:
        stack.clear_local_faults()
        stack.clear_faults()

    # 3. Redrive what the queue gave up on, with the carrier and the stack well again.
    if stack.queue_depth("OutboundDeadLetterQueue"):
        run = stack.redrive("OutboundQueue")
        assert run.returncode == 0, run.stderr
        settle(stack)

    def our_messages() -> list[dict[str, Any]]:
        found = []
        for phone in set(callers) | set(texting) | {s["to"] for s in sends} | set(patients):
            thread = practice.thread(phone)
            assert thread.status == 200, (thread.status, thread.body)
            found += [m for m in thread.body["messages"] if m["direction"] == "outbound"]
        return found

    # Only once every message of ours is final and the queues are idle is the carrier's count the whole story
    # (a retry waiting out an attempt's lease could still send); then it must hold still.
    if not eventually(lambda: all(m["status"] in FINAL for m in our_messages()), timeout=final_within, interval=2):
        pending = [{"path": path_of(m["body"]), **{k: v for k, v in m.items() if k not in ("body", "to", "from")}}
                   for m in our_messages() if m["status"] not in FINAL]
        pytest.fail(f"{len(pending)} texts not final {final_within:.0f} s after the queues settled: {pending}\n"
                    f"{stack.running.logs()[-4000:]}")
    settle(stack)
    stuck = Counter(path_of(m["body"]) for m in our_messages() if m["status"] not in FINAL)

    def carrier_counts() -> dict[str, Counter[str]]:
        counted: dict[str, Counter[str]] = {path: Counter() for path in PATHS}
        for message in stack.sent_from(practice.number):
            path = path_of(message["body"])
            assert path is not None, "a text from the line that no path meant"
            counted[path][identity(path, message["to"], message["body"])] += 1
        return counted

    at_carrier = carrier_counts()
    assert stack.wait_idle(5)
    assert carrier_counts() == at_carrier, "texts still reached the carrier after everything was final"
    for path in PATHS:
        row = figures[path]
        row.intended = len(intended[path])
        row.at_carrier = sum(at_carrier[path].values())
        row.duplicates = sum(count - 1 for count in at_carrier[path].values() if count > 1) + len(
            set(at_carrier[path]) - intended[path])
        row.lost = len(intended[path] - set(at_carrier[path]))
        row.stuck = stuck[path]
    header = f"  {'path':<14}" + "".join(f"{name.replace('_', ' '):>12}" for name in asdict(PathFigures()))
    rows = "\n".join(f"  {path:<14}" + "".join(f"{value:>12}" for value in asdict(figures[path]).values())
                     for path in PATHS)
    print(f"\nevery path under faults (seed {seed}; local faults injected: {injected}):\n{header}\n{rows}")
    assert all(injected[kind] > 0 for kind in faults), f"a fault was never injected: {injected}"
    return figures


def check(figures: dict[str, PathFigures]) -> None:
    for path, row in figures.items():
        assert (row.duplicates, row.lost, row.stuck) == (0, 0, 0), (path, row)
        assert row.at_carrier == row.intended > 0, (path, row)


@pytest.mark.timeout(900)  # past its own deadlines, so a run that overstays says which texts and why
def test_every_path_under_faults_sends_each_intended_text_once(stack):
    check(mixed_storm(stack, SOAK.scaled(0.12), seed=17, faults=SMALL_MIX_FAULTS))


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_soak_five_hundred_operations_on_every_path_under_faults(stack, record_property):
    figures = mixed_storm(stack, SOAK, seed=2026, final_within=600)
    for path, row in figures.items():
        for name, value in asdict(row).items():
            record_property(f"{path}_{name}", value)
    check(figures)

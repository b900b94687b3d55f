"""4. Local load: call-to-text webhooks through the local gateway (HTTP), and every text counted at the carrier.

Each load starts its own stack (`python -m local.stack --port 0` on a temporary data dir, with
`LOCAL_TRACE_EVENT_SOURCES=1` so its event sources note when they handed each record over), creates a
practice, buys a number and creates a workflow through the admin API (as the dev admin), warms the stack with a
few webhooks from callers outside the measured ones, then fires the measured webhooks from CONCURRENCY threads,
each on its own keep-alive connection to 127.0.0.1. It then waits until the event sources are idle and every
caller has a text at the carrier sandbox, for at most the load's own duration x 2 + 60 s (what the budget
allows, and as long again), and reads the texts and the event sources' trace.

Three loads: the budget run (CALLERS distinct callers + REPEATS repeats, the functions at their local
concurrency), then SCALING_CALLERS callers with every function capped at one instance and at two
(`LOCAL_CONCURRENCY`), for the speed-up that using both cores gives.

The hops of a text, per caller, from the stack's trace: answered (the webhook's answer, bench clock) ->
stream (the table's stream handed the stored message to hand-off) -> queue (hand-off put the job on the
outbound queue: SQS `SentTimestamp`) -> send (the outbound poller handed it to outbound_messaging) ->
carrier (that invocation, which posted the text to the carrier, returned).
"""

from __future__ import annotations

import http.client
import json
import queue
import random
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import (
    LAYER_DIR,
    PYTHON,
    ROOT,
    Section,
    child_environment,
    http_json,
    percentile,
    python_path,
    wait_until,
)
from bench.numbers import us_mobile_numbers

CALLERS = 2_000
REPEATS = 500
CONCURRENCY = 20
SCALING_CALLERS = 600
SCALING_MINIMUM = 1.8  # throughput with two instances per function over one
DELIVERY_GRACE = 60.0  # every text at the carrier within the load's duration + this
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 180.0
TEMPLATE_TEXT = "Thanks for calling {practice_name}! Text us back here at {line_number}."


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    log: Path
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return str(self.info["api_url"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def start_stack(data_dir: Path, **knobs: str) -> Stack:
    ready = data_dir / "ready.json"
    log = data_dir / "stack.log"
    env = child_environment(PYTHONPATH=python_path(ROOT, LAYER_DIR, ROOT / "functions" / "admin_api"),
                            LOCAL_TRACE_EVENT_SOURCES="1", **knobs)
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [PYTHON, "-m", "local.stack", "--port", "0", "--data-dir", str(data_dir), "--ready-file", str(ready)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT)
    stack = Stack(process, data_dir, log)
    try:
        wait_until(lambda: ready.is_file() or process.poll() is not None, READY_TIMEOUT, what="the local stack")
    except TimeoutError:
        stack.stop()
        raise
    if not ready.is_file():
        text = log.read_text(errors="replace")
        causes = [line for line in text.splitlines() if re.match(r"^[\w.]+(Error|Exception): ", line)]
        cause = causes[-1] if causes else "see its log"
        raise RuntimeError(f"the local stack exited ({process.returncode}): {cause}\n{text[-3000:]}")
    stack.info = json.loads(ready.read_text())
    return stack


def _checked(answer: tuple[int, Any], what: str) -> Any:
    status, body = answer
    if status not in (200, 201, 202):
        raise RuntimeError(f"{what}: HTTP {status}: {str(body)[:500]}")
    return body


def dev_admin_token(info: dict[str, Any]) -> str:
    """The dev admin's ID token, signed in through the stack's user pool (`/local/cognito`)."""
    password = Path(info["dev_admin"]["password_file"]).read_text(encoding="utf-8").strip()
    answer = http_json("POST", info["cognito_url"], {
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": info["dev_admin"]["email"], "PASSWORD": password}},
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    return str(_checked(answer, "sign in")["AuthenticationResult"]["IdToken"])


def create_workflow(stack: Stack) -> dict[str, Any]:
    token = dev_admin_token(stack.info)
    api = stack.api
    practice = _checked(http_json("POST", f"{api}/api/practices", {"name": "Load Test Clinic",
                                                                    "timezone": "America/Chicago"}, token=token),
                        "open a practice")
    practice_id = practice["practice_id"]
    numbers = _checked(http_json("GET", f"{api}/api/practices/{practice_id}/available-numbers?area_code=415",
                                 token=token), "available numbers")
    line = _checked(http_json("POST", f"{api}/api/practices/{practice_id}/lines/purchase",
                              {"display_name": "Front desk", "number": numbers[0]["phone_number"]}, token=token),
                    "buy a line")
    workflow = _checked(http_json("POST", f"{api}/api/practices/{practice_id}/workflows",
                                  {"name": "Hold queue", "kind": "call_to_text", "vendor": "jive",
                                   "line_id": line["line_id"], "template": TEMPLATE_TEXT}, token=token),
                        "create a workflow")
    return {"practice_id": practice_id, "line_number": line["number"], "webhook_url": workflow["webhook_url"]}


@dataclass
class Shot:
    caller: str
    repeat: bool
    started: float = 0.0
    seconds: float = 0.0
    answered_at: float = 0.0  # epoch seconds, to line up with the stack's and the sandbox's clocks
    status: int = 0
    error: str = ""


def plan(callers: list[str], repeats: int, seed: int = 8) -> list[Shot]:
    """Every caller once, in order, and `repeats` of them again, each ≥ 100 requests after its first call."""
    rng = random.Random(seed)
    keyed = [(float(i), Shot(caller, False)) for i, caller in enumerate(callers)]
    for index in rng.sample(range(len(callers) - 100), repeats):
        keyed.append((rng.uniform(index + 100, len(callers) + 50), Shot(callers[index], True)))
    return [shot for _, shot in sorted(keyed, key=lambda pair: pair[0])]


def fire(webhook_url: str, shots: list[Shot], concurrency: int, deadline: float) -> float:
    """Send every shot from `concurrency` threads (keep-alive connections); returns the wall time taken."""
    url = urlsplit(webhook_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    if host not in ("127.0.0.1", "localhost"):
        raise RuntimeError(f"refusing to load {host}: the bench only talks to 127.0.0.1")
    work: queue.Queue[Shot] = queue.Queue()
    for shot in shots:
        work.put(shot)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        while time.monotonic() < deadline:
            try:
                shot = work.get_nowait()
            except queue.Empty:
                break
            target = f"{url.path}?{urlencode({'CALLER_ID_NUMBER': shot.caller})}"
            shot.started = time.perf_counter()
            try:
                connection.request("GET", target, headers={"User-Agent": "switchboard-bench"})
                response = connection.getresponse()
                response.read()
                shot.answered_at = time.time()
                shot.status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                shot.error = f"{type(error).__name__}: {error}"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            shot.seconds = time.perf_counter() - shot.started
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, name=f"load-{i}", daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic() + REQUEST_TIMEOUT))
    return time.perf_counter() - started


def texts_at_carrier(sandbox: str, line_number: str) -> list[dict[str, Any]]:
    status, body = http_json("GET", f"{sandbox}/sandbox/messages?" + urlencode({"from": line_number,
                                                                                "direction": "outbound-api"}),
                             timeout=60)
    if status != 200 or not isinstance(body, dict):
        raise RuntimeError(f"carrier sandbox messages: HTTP {status}")
    return list(body.get("messages") or [])


@dataclass
class Load:
    """One load on one stack, and what came of it."""

    label: str
    callers: list[str]
    shots: list[Shot]
    wall: float = 0.0
    startup: float = 0.0
    idle: bool = False
    drained_after: float | None = None  # from the first measured webhook until every caller had a text
    texts: list[dict[str, Any]] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    concurrency: dict[str, int] = field(default_factory=dict)
    load_started_at: float = 0.0
    log_tail: str = ""

    @property
    def answered(self) -> list[Shot]:
        return [shot for shot in self.shots if shot.status]

    @property
    def requests_per_second(self) -> float | None:
        return len(self.answered) / self.wall if self.wall else None

    @property
    def per_caller(self) -> Counter[str]:
        wanted = set(self.callers)
        return Counter(text["to"] for text in self.texts if text["to"] in wanted)


def run_load(label: str, callers: list[str], repeats: int, concurrency: int, warm_callers: list[str],
             **knobs: str) -> Load:
    load = Load(label, callers, plan(callers, repeats) if repeats else [Shot(caller, False) for caller in callers])
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        began = time.perf_counter()
        stack = start_stack(Path(scratch), **knobs)
        try:
            load.startup = time.perf_counter() - began
            load.concurrency = dict(stack.info.get("concurrency") or {})
            setup = create_workflow(stack)
            sandbox = str(stack.info["carrier_sandbox_url"])
            fire(setup["webhook_url"], [Shot(caller, False) for caller in warm_callers], concurrency,
                 time.monotonic() + 120)
            wait_idle(stack, 60)
            load.load_started_at = time.time()
            load.wall = fire(setup["webhook_url"], load.shots, concurrency, time.monotonic() + 3600)
            # The budget gives the texts the load's own duration + 60 s after its end; wait as long again.
            drain_deadline = time.monotonic() + load.wall + 2 * DELIVERY_GRACE
            wanted = set(callers)
            while True:
                left = drain_deadline - time.monotonic()
                load.idle = wait_idle(stack, max(1.0, min(20.0, left)))
                if load.idle or left <= 0:
                    load.texts = texts_at_carrier(sandbox, setup["line_number"])
                    if wanted <= {text["to"] for text in load.texts}:
                        load.drained_after = time.time() - load.load_started_at
                        break
                if left <= 0:
                    break
                if load.idle:
                    time.sleep(1.0)
            time.sleep(2.0)  # a late duplicate would show up now
            load.texts = texts_at_carrier(sandbox, setup["line_number"])
            load.trace = event_source_trace(stack)
        finally:
            stack.stop()
            load.log_tail = stack.log.read_text(errors="replace")[-3000:] if stack.log.is_file() else ""
    return load


def wait_idle(stack: Stack, seconds: float) -> bool:
    url = f"{stack.info['gateway_url']}/local/queues/wait-idle?timeout={seconds:.1f}"
    status, answer = http_json("POST", url, timeout=seconds + 30)
    return status == 200 and isinstance(answer, dict) and bool(answer.get("idle"))


def event_source_trace(stack: Stack) -> list[dict[str, Any]]:
    status, answer = http_json("GET", f"{stack.info['gateway_url']}/local/event-sources?trace=1", timeout=60)
    if status != 200 or not isinstance(answer, dict):
        return []
    return list(answer.get("trace") or [])


HOPS = ("answered → stream", "stream → queue", "queue → send", "send → carrier", "answered → carrier")


def hop_seconds(load: Load) -> tuple[dict[str, list[float]], float | None]:
    """Per caller, the seconds each hop of its text took (see the module's docstring); and when the last text
    reached the carrier, in seconds from the first measured webhook."""
    answered = {shot.caller: shot.answered_at for shot in load.shots if not shot.repeat and shot.status}
    streamed: dict[str, float] = {}
    sent: dict[str, dict[str, float]] = {}
    for entry in load.trace:
        if not entry.get("ok"):
            continue
        if "keys" in entry:
            phone = str(((entry.get("keys") or {}).get("pk") or {}).get("S", "")).rsplit("#", 1)[-1]
            streamed.setdefault(phone, float(entry["handed_at"]))
        elif "OutboundMessaging" in str(entry.get("source")):
            try:
                phone = json.loads(entry.get("body") or "{}")["send"]["phone"]
            except (ValueError, KeyError, TypeError):
                continue
            sent.setdefault(phone, entry)
    hops: dict[str, list[float]] = {hop: [] for hop in HOPS}
    last = max((float(sent[c]["done_at"]) for c in load.callers if c in sent), default=None)
    for caller, at in answered.items():
        stream, send = streamed.get(caller), sent.get(caller)
        if stream is None or send is None:
            continue
        hops["answered → stream"].append(stream - at)
        hops["stream → queue"].append(send["sent_at"] - stream)
        hops["queue → send"].append(send["handed_at"] - send["sent_at"])
        hops["send → carrier"].append(send["done_at"] - send["handed_at"])
        hops["answered → carrier"].append(send["done_at"] - at)
    return hops, (last - load.load_started_at if last is not None else None)


def run(section: Section, deadline: float) -> dict[str, Any]:
    numbers = us_mobile_numbers(start=1_000_000)
    callers = _take(numbers, CALLERS)
    warm = _take(numbers, 2 * CONCURRENCY)
    budget = run_load("budget", callers, REPEATS, CONCURRENCY, warm)
    scaling_callers = _take(numbers, SCALING_CALLERS)
    one = run_load("one instance per function", scaling_callers, 0, CONCURRENCY, warm, LOCAL_CONCURRENCY="1")
    two = run_load("two instances per function", scaling_callers, 0, CONCURRENCY, warm, LOCAL_CONCURRENCY="2")
    return report(section, budget, one, two)


def report(section: Section, budget: Load, one: Load, two: Load) -> dict[str, Any]:
    shots = budget.shots
    firsts = [s for s in shots if not s.repeat]
    repeats = len(shots) - len(firsts)
    done = budget.answered
    latencies = [s.seconds * 1000 for s in done]
    statuses = Counter(str(s.status or s.error.split(":")[0] or "not sent") for s in shots)
    unanswered = len(shots) - len(done)
    per_caller = budget.per_caller
    lost = len(set(budget.callers) - set(per_caller))
    duplicated = sum(n - 1 for n in per_caller.values() if n > 1)
    texts_sent = sum(per_caller.values())
    statuses_of = Counter(t.get("status") for t in budget.texts if t["to"] in per_caller)
    p = {q: percentile(latencies, q / 100) if latencies else None for q in (50, 95, 99)}

    section.add("webhooks unanswered (no HTTP answer within 30 s)", float(unanswered), unit="requests", limit=0,
                exact=True, note=f"answers by status: {dict(sorted(statuses.items()))}")
    section.add("webhooks answered 202 queued (first calls)", float(statuses.get("202", 0)), unit="requests",
                limit=float(len(firsts)), exact=True)
    section.add("webhooks answered 200 duplicate (repeats)", float(statuses.get("200", 0)), unit="requests",
                limit=float(repeats), exact=True)
    for q, value in p.items():
        section.add(f"intake latency p{q} (through the local gateway, concurrency {CONCURRENCY})", value, unit="ms")
    section.add("requests per second (all webhooks)", budget.requests_per_second, unit="req/s",
                note=f"{len(done):,} answered in {budget.wall:.1f} s")
    section.add("texts sent (must equal distinct callers)", float(texts_sent), unit="texts",
                limit=float(len(budget.callers)), exact=True,
                note=f"{len(per_caller):,} distinct recipients; {lost} callers without a text")
    section.add("duplicate texts", float(duplicated), unit="texts", limit=0, exact=True)
    allowed = budget.wall + DELIVERY_GRACE
    hops, last_text = hop_seconds(budget)
    delivered = last_text if budget.drained_after is not None and last_text is not None else budget.drained_after
    section.add("every text at the carrier, from the first webhook", delivered, unit="s", limit=allowed,
                note=f"budget: the load's {budget.wall:.1f} s + {DELIVERY_GRACE:.0f} s; the last outbound invocation's "
                "end, from the stack's trace",
                error="" if budget.drained_after is not None else
                f"{lost} callers still without a text {budget.wall + 2 * DELIVERY_GRACE:.0f} s after the load began")
    for hop in HOPS:
        values = hops[hop]
        if values:
            section.add(f"answer to carrier, hop {hop}: p50 / p95", percentile(values, 0.5) * 1000, unit="ms",
                        note=f"p95 {percentile(values, 0.95) * 1000:,.0f} ms; {len(values):,} texts")
    ratio = (two.requests_per_second / one.requests_per_second
             if one.requests_per_second and two.requests_per_second else None)
    section.add(f"throughput, two instances per function over one ({SCALING_CALLERS} callers each)",
                two.requests_per_second, unit="req/s", baseline=one.requests_per_second,
                baseline_label="one instance", ratio=ratio, limit=SCALING_MINIMUM, at_least=True,
                note=f"delivered in {fmt_seconds(two.drained_after)} vs {fmt_seconds(one.drained_after)}")
    section.details += [
        f"- {len(budget.callers):,} distinct callers + {repeats} repeats = {len(shots):,} webhooks (GET "
        f"`CALLER_ID_NUMBER`) at concurrency {CONCURRENCY}, after {2 * CONCURRENCY} warm-up webhooks; stack ready in "
        f"{budget.startup:.1f} s; load took {budget.wall:.1f} s; event sources idle at the end: {budget.idle}.",
        "- Function concurrency in the budget run (instances at most): "
        + ", ".join(f"{k.removesuffix('Function')} {v}" for k, v in sorted(budget.concurrency.items())) + ".",
        f"- Texts at the carrier by status: {dict(statuses_of)}.",
        "- Hops (per caller, from the stack's event-source trace): answered → stream = the webhook's answer to "
        "hand-off receiving the stored message from the table's stream; stream → queue = to the job's SQS "
        "`SentTimestamp`; queue → send = to the outbound poller handing it to outbound_messaging; send → carrier "
        "= that invocation (it posts the text to the carrier sandbox).",
        f"- Scaling loads ({SCALING_CALLERS} callers, no repeats, concurrency {CONCURRENCY}): one instance "
        f"{fmt_rate(one.requests_per_second)} in {one.wall:.1f} s, two {fmt_rate(two.requests_per_second)} in "
        f"{two.wall:.1f} s; unanswered {len(one.shots) - len(one.answered)} / {len(two.shots) - len(two.answered)}.",
    ]
    for load in (budget, one, two):
        if load.drained_after is None or len(load.shots) != len(load.answered):
            section.details.append(f"- {load.label}: stack log tail:\n```\n{load.log_tail}\n```")
    return {"latency_ms": p, "rps": budget.requests_per_second, "texts": texts_sent, "distinct": len(per_caller),
            "lost": lost, "duplicated": duplicated, "delivered_after_s": delivered,
            "statuses": dict(statuses), "unanswered": unanswered, "scaling_ratio": ratio,
            "hops_ms": {hop: [percentile(v, 0.5) * 1000, percentile(v, 0.95) * 1000] for hop, v in hops.items() if v}}


def fmt_seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "(not all)"


def fmt_rate(value: float | None) -> str:
    return f"{value:.1f} req/s" if value is not None else "-"


def _take(numbers: Any, count: int) -> list[str]:
    return [next(numbers) for _ in range(count)]

"""4. Local load: call-to-text webhooks through the local gateway (HTTP), and every text counted at the carrier.

The bench starts its own stack (`python -m local.stack --port 0` on a temporary data dir), creates a
practice, buys a number and creates a workflow through the admin API (as the dev admin, signed in through
the stack's user pool), then
fires CALLERS webhooks from CALLERS distinct callers plus REPEATS repeats (each at least 100 requests after
its caller's first call, so inside the duplicate window) from CONCURRENCY threads, each on its own
keep-alive connection to 127.0.0.1. It then polls the carrier sandbox's `GET /sandbox/messages` until
every caller has a text (bounded), waits for the queues to go idle, and counts texts per caller.
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
from email.utils import parsedate_to_datetime
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
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 120.0
DELIVERY_TIMEOUT = 300.0
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


def start_stack(data_dir: Path) -> Stack:
    ready = data_dir / "ready.json"
    log = data_dir / "stack.log"
    env = child_environment(PYTHONPATH=python_path(ROOT, LAYER_DIR, ROOT / "functions" / "admin_api"))
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


def run(section: Section, deadline: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        began = time.perf_counter()
        stack = start_stack(Path(scratch))
        try:
            startup = time.perf_counter() - began
            if stack.info.get("function_errors"):
                section.details.append(f"- functions that failed to load in the stack: {stack.info['function_errors']}")
            setup = create_workflow(stack)
            sandbox = str(stack.info["carrier_sandbox_url"])
            callers = list(_take(us_mobile_numbers(start=1_000_000), CALLERS))
            shots = plan(callers, REPEATS)
            load_started, load_started_wall = time.perf_counter(), time.time()
            wall = fire(setup["webhook_url"], shots, CONCURRENCY, deadline)
            sent_at = time.perf_counter()
            delivered_after: float | None = None
            texts: list[dict[str, Any]] = []
            idle: bool = False
            # Every intake queued its job before answering, so once the event sources are idle every text that
            # will be sent has been handed to the sandbox. Asking the stack (cheap) instead of listing the
            # sandbox's messages every second keeps the bench from slowing the stack it measures.
            poll_deadline = min(time.monotonic() + DELIVERY_TIMEOUT, deadline)
            while time.monotonic() < poll_deadline:
                wait = max(1.0, min(20.0, poll_deadline - time.monotonic()))
                idle_url = f"{stack.info['gateway_url']}/local/queues/wait-idle?timeout={wait:.0f}"
                status, answer = http_json("POST", idle_url, timeout=wait + 30)
                idle = status == 200 and isinstance(answer, dict) and bool(answer.get("idle"))
                if not idle:
                    continue
                idle_at = time.perf_counter()
                texts = texts_at_carrier(sandbox, setup["line_number"])
                if len({t["to"] for t in texts}) >= CALLERS:
                    last = last_created(texts)  # the sandbox's own clock: when the last text reached it
                    delivered_after = (last - load_started_wall) if last else idle_at - load_started
                    break
                time.sleep(2.0)
            if delivered_after is not None and time.monotonic() < deadline - 10:
                time.sleep(3.0)  # a late duplicate would show up now
            texts = texts_at_carrier(sandbox, setup["line_number"])
        finally:
            stack.stop()

    done = [s for s in shots if s.status]
    firsts = [s for s in shots if not s.repeat]
    latencies = [s.seconds * 1000 for s in done]
    statuses = Counter(str(s.status or s.error.split(":")[0] or "not sent") for s in shots)
    per_caller = Counter(t["to"] for t in texts)
    wanted = set(callers)
    lost = len(wanted - set(per_caller))
    duplicated = sum(n - 1 for n in per_caller.values() if n > 1)
    strangers = len(set(per_caller) - wanted)
    statuses_of = Counter(t.get("status") for t in texts)
    texts_sent = len(texts)
    p = {q: percentile(latencies, q / 100) if latencies else None for q in (50, 95, 99)}
    for q, value in p.items():
        section.add(f"intake latency p{q} (through the local gateway, concurrency {CONCURRENCY})", value, unit="ms")
    section.add("requests per second (all webhooks)", len(done) / wall if wall else None, unit="req/s",
                note=f"{len(done)} answered in {wall:.1f} s")
    section.add("time until every caller's text reached the carrier sandbox", delivered_after, unit="s",
                note="from the first webhook to the newest text's date_created at the sandbox (±1 s)"
                if delivered_after is not None else
                f"not all within {DELIVERY_TIMEOUT:.0f} s", error="" if delivered_after is not None else "timed out")
    section.add("texts sent (must equal distinct callers)", float(texts_sent), unit="texts", limit=float(CALLERS),
                exact=True, note=f"{len(per_caller)} distinct recipients; {lost} callers without a text; "
                f"{duplicated} duplicate texts; {strangers} to numbers that never called")
    section.add("webhooks answered 202 queued (first calls)", float(statuses.get("202", 0)), unit="requests",
                limit=float(len(firsts)), exact=True)
    section.add("webhooks answered 200 duplicate (repeats)", float(statuses.get("200", 0)), unit="requests",
                limit=float(REPEATS), exact=True)
    section.details += [
        f"- {CALLERS:,} distinct callers + {REPEATS} repeats = {len(shots):,} webhooks (GET `CALLER_ID_NUMBER`) "
        f"at concurrency {CONCURRENCY}; stack ready in {startup:.1f} s; load took {wall:.1f} s; "
        f"event sources idle at the end: {idle}.",
        f"- {wall / max(len(done), 1) * 1000:.0f} ms of wall time per webhook: with one intake instance that is "
        f"the service time; p50 latency is mostly the other {CONCURRENCY - 1} callers' turns in the queue.",
        f"- Answers: {dict(sorted(statuses.items()))}; texts at the carrier by status: {dict(statuses_of)}.",
        "- The local gateway runs one invocation at a time per function (like one warm Lambda instance), so "
        "throughput here is bounded by a single intake instance plus the outbound consumer in the same process; "
        "in AWS, Lambda would scale intake out to the concurrency.",
        f"- Waiting for delivery started {sent_at - load_started:.1f} s after the first webhook (the stack's "
        "`/local/queues/wait-idle`, then one listing of the sandbox's messages).",
    ]
    return {"latency_ms": p, "rps": len(done) / wall if wall else None, "texts": texts_sent,
            "distinct": len(per_caller), "lost": lost, "duplicated": duplicated, "delivered_after_s": delivered_after,
            "statuses": dict(statuses)}


def last_created(texts: list[dict[str, Any]]) -> float | None:
    """When the newest of `texts` was created at the sandbox (its `date_created`, whole seconds), as epoch."""
    stamps = []
    for text in texts:
        try:
            stamps.append(parsedate_to_datetime(str(text.get("date_created"))).timestamp())
        except (TypeError, ValueError):
            continue
    return max(stamps) + 1.0 if stamps else None  # +1: the stamp is truncated to the second


def _take(numbers: Any, count: int) -> list[str]:
    return [next(numbers) for _ in range(count)]

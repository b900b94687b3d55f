"""1. Cold start: import + module init of each function's app.py in a fresh interpreter, beside a bare handler.

Functions come from template.yaml. Each run is a new `python -c` process started in the function's
folder (Lambda's /var/task: on sys.path first) with the layer on PYTHONPATH (Lambda's /opt/python) and
the environment the template gives that function. The child times `import app` with perf_counter, then
reads its peak RSS (VmHWM), checks sys.modules for what webhook functions must never load, and
finally times building the table's DynamoDB client (which the baseline builds during init).
One warm-up run per target (bytecode cached, files in the page cache), then ROUNDS rounds, each
running every target once in a shuffled order, so the baseline sees the same machine as the functions.
"""

from __future__ import annotations

import json
import random
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import FAKE_CREDENTIALS, LAYER_DIR, PYTHON, ROOT, Section, child_environment, median
from bench.importtime import ImportTree, parse_importtime
from local.assembly import stage_values
from local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, LambdaRuntime, LocalFunction, LocalValues, QueueEndpoint
from local.template import Function, Template, load_template, queues

ROUNDS = 15
WEBHOOK_BUDGET = 1.15
FUNCTION_BUDGET = 1.6
NEVER_IN_WEBHOOKS = ("twilio.rest", "phonenumbers.geocoder")
STAGE = "prod"

BASELINE_APP = '''"""The bare handler cold starts are compared with: Powertools Logger and a boto3 DynamoDB client."""
import os

import boto3
from aws_lambda_powertools import Logger

logger = Logger()
dynamodb = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])


def lambda_handler(event, context):
    return {"statusCode": 200, "body": ""}
'''

CHILD = r'''
import json, sys, time
module_name, attribute, watch = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
started, cpu_started = time.perf_counter(), time.process_time()
__import__(module_name)
module = sys.modules[module_name]
handler = getattr(module, attribute)
init_ms = (time.perf_counter() - started) * 1000
init_cpu_ms = (time.process_time() - cpu_started) * 1000
# VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across fork and exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
client_ms = None
if "switchboard.data.table" in sys.modules:
    began = time.process_time()
    sys.modules["switchboard.data.table"].connection().client
    client_ms = (time.process_time() - began) * 1000
print(json.dumps({"init_ms": init_ms, "init_cpu_ms": init_cpu_ms, "peak_rss_kb": peak_kb, "client_ms": client_ms,
                  "loaded": [name for name in watch if name in sys.modules],
                  "packages": sorted({name.split(".")[0] for name in sys.modules})}))
'''


@dataclass
class Target:
    name: str
    folder: Path
    module: str
    attribute: str
    environment: dict[str, str]
    memory_mb: int
    webhook: bool = False
    runs: list[dict[str, Any]] = field(default_factory=list)
    tree: ImportTree | None = None

    def median(self, key: str) -> float | None:
        values = [run[key] for run in self.runs if run.get(key) is not None]
        return median(values) if values else None


def is_webhook_facing(function: Function) -> bool:
    """Public API events (`Auth: {Authorizer: NONE}`) on a /webhook or /twilio path."""
    for event in function.events.values():
        properties = event.get("Properties") or {}
        if event.get("Type") != "Api" or (properties.get("Auth") or {}).get("Authorizer") != "NONE":
            continue
        if str(properties.get("Path", "")).startswith(("/webhook", "/twilio")):
            return True
    return False


def deployed_values(template: Template) -> LocalValues:
    """What the template's references resolve to once deployed as `STAGE`: queue URLs as SQS gives them."""
    prefix = f"https://sqs.{LOCAL_REGION}.amazonaws.com/{LOCAL_ACCOUNT_ID}/switchboard-{STAGE}-"
    endpoints = {logical_id: QueueEndpoint.from_url(logical_id, prefix + logical_id) for logical_id in queues(template)}
    return stage_values(template, STAGE, endpoints)


def lambda_environment(function: LocalFunction) -> dict[str, str]:
    """The function's variables as deployed (Globals merged, intrinsics resolved for `prod`), with what Lambda
    itself sets in the function's process."""
    return {
        **function.lambda_environment(),
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        **FAKE_CREDENTIALS,
    }


def discover(template_path: Path = ROOT / "template.yaml") -> tuple[list[Target], list[str]]:
    template = load_template(template_path)
    lambdas = LambdaRuntime(template, deployed_values(template), ROOT, placeholders=True)
    targets: list[Target] = []
    notes = [f"{reason} (the bench used a placeholder)" for reason in lambdas.unresolved.values()]
    for function in lambdas.functions.values():
        if not function.handler_file.is_file():
            notes.append(f"{function.logical_id}: no handler file {function.handler_file.relative_to(ROOT)} yet; "
                         "skipped")
            continue
        module, _, attribute = function.spec.handler.rpartition(".")
        targets.append(Target(function.folder, function.code_dir, module, attribute, lambda_environment(function),
                              function.spec.memory_size, is_webhook_facing(function.spec)))
    return targets, notes


def baseline_target(folder: Path, like: Target | None) -> Target:
    (folder / "app.py").write_text(BASELINE_APP)
    env = dict(like.environment) if like else {"AWS_REGION": LOCAL_REGION, **FAKE_CREDENTIALS}
    env["POWERTOOLS_SERVICE_NAME"] = "baseline"
    env["AWS_LAMBDA_FUNCTION_NAME"] = "baseline"
    return Target("baseline", folder, "app", "lambda_handler", env, like.memory_mb if like else 512)


def _run(target: Target, *, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    env = child_environment(**target.environment, PYTHONPATH=str(LAYER_DIR))
    command = [PYTHON, *(["-X", "importtime"] if importtime else []), "-c", CHILD, target.module, target.attribute,
               ",".join(NEVER_IN_WEBHOOKS)]
    return subprocess.run(command, cwd=target.folder, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def measure(target: Target) -> dict[str, Any]:
    done = _run(target)
    if done.returncode != 0:
        raise RuntimeError(f"{target.name}: init failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(section: Section, deadline: float) -> dict[str, Any]:
    targets, notes = discover()
    section.details.extend(f"- {note}" for note in notes)
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as scratch:
        webhook_like = next((t for t in targets if t.webhook), targets[0] if targets else None)
        baseline = baseline_target(Path(scratch), webhook_like)
        everyone = [baseline, *targets]
        broken: dict[str, str] = {}
        for target in everyone:  # warm-up: bytecode written, files cached
            try:
                measure(target)
            except RuntimeError as error:
                broken[target.name] = str(error)
        measured = [t for t in everyone if t.name not in broken]
        shuffle = random.Random(8)
        rounds = 0
        for _ in range(ROUNDS):
            if time.monotonic() > deadline:
                break
            order = measured[:]
            shuffle.shuffle(order)
            for target in order:
                target.runs.append(measure(target))
            rounds += 1
        for target in measured:
            done = _run(target, importtime=True)
            if done.returncode == 0:
                target.tree = parse_importtime(done.stderr)

    base_ms = baseline.median("init_cpu_ms") or float("nan")
    base_wall = baseline.median("init_ms") or float("nan")
    base_rss = (baseline.median("peak_rss_kb") or 0) / 1024
    section.details.insert(0, "- Import + init is the child's CPU time (`time.process_time`, user + system) around "
                           "`import app`: other sessions share this 2-core machine, and CPU time does not count the "
                           "time spent waiting for a core. Wall time (`perf_counter`) is in each note.")
    section.add("baseline (Powertools Logger + boto3 DynamoDB client): import + init", base_ms, unit="ms CPU",
                note=f"median of {rounds}; wall {base_wall:.0f} ms; peak RSS {base_rss:.1f} MB")
    results: dict[str, Any] = {"baseline_ms": base_ms, "baseline_rss_mb": base_rss, "rounds": rounds, "functions": {}}
    for target in targets:
        if target.name in broken:
            section.add(f"{target.name}: import + init", None, error=broken[target.name].splitlines()[-1][:200])
            section.details.append(f"```\n{broken[target.name][-2000:]}\n```")
            continue
        init_ms = target.median("init_cpu_ms") or 0.0
        wall_ms = target.median("init_ms") or 0.0
        rss_mb = (target.median("peak_rss_kb") or 0) / 1024
        client_ms = target.median("client_ms")
        limit = WEBHOOK_BUDGET if target.webhook else FUNCTION_BUDGET
        kind = "webhook-facing" if target.webhook else "function"
        section.add(f"{target.name} ({kind}): import + init", init_ms, unit="ms CPU", baseline=base_ms,
                    baseline_label="baseline", ratio=init_ms / base_ms, limit=limit,
                    note=f"median of {len(target.runs)}; wall {wall_ms:.0f} ms = {wall_ms / base_wall:.2f}× "
                    f"the baseline's {base_wall:.0f} ms")
        section.add(f"{target.name}: peak RSS after init", rss_mb, unit="MB", baseline=base_rss,
                    baseline_label="baseline", ratio=rss_mb / base_rss if base_rss else None)
        if client_ms is not None:
            ready = init_ms + client_ms
            section.add(f"{target.name}: init + first table client (deferred by the layer)", ready, unit="ms CPU",
                        baseline=base_ms, ratio=ready / base_ms,
                        note=f"client built after init: {client_ms:.0f} ms (the baseline builds it during init)")
        if target.webhook:
            loaded = sorted({name for run in target.runs for name in run.get("loaded", [])})
            section.add(f"{target.name}: imports {' or '.join(NEVER_IN_WEBHOOKS)}", float(len(loaded)),
                        unit="modules", limit=0, exact=True,
                        note=", ".join(loaded) if loaded else "neither in sys.modules after init")
        results["functions"][target.name] = {
            "init_ms": init_ms, "init_wall_ms": wall_ms, "peak_rss_mb": rss_mb, "client_ms": client_ms,
            "webhook": target.webhook, "memory_mb": target.memory_mb, "ratio": init_ms / base_ms, "limit": limit,
        }

    baseline_packages = set(baseline.runs[-1]["packages"]) if baseline.runs else set()
    for target in targets:
        if target.name in broken or target.tree is None:
            continue
        init_ms = target.median("init_cpu_ms") or 0.0
        limit = WEBHOOK_BUDGET if target.webhook else FUNCTION_BUDGET
        over = init_ms / base_ms > limit
        section.details.append(breakdown(target, baseline_packages, baseline.tree, over, base_ms, limit))
    return results


def breakdown(target: Target, baseline_packages: set[str], baseline_tree: ImportTree | None, over: bool,
              base_ms: float, limit: float) -> str:
    """What the function imports that the baseline does not, and who imports it (from -X importtime)."""
    tree = target.tree
    assert tree is not None
    root = tree.find(target.module)
    lines = ["", f"#### {target.name}: import-time breakdown ({'OVER BUDGET' if over else 'within budget'})", ""]
    total = root.cumulative_ms if root else tree.total_ms
    base_root = baseline_tree.find("app") if baseline_tree else None
    base_total = base_root.cumulative_ms if base_root else None
    head = f"`python -X importtime`, one run: `import {target.module}` {total:.0f} ms cumulative"
    if base_total:
        head += f" (baseline app {base_total:.0f} ms under importtime)"
    init_ms = target.median("init_cpu_ms") or 0.0
    head += f". Budget (CPU time): {limit:g}× {base_ms:.0f} ms = {limit * base_ms:.0f} ms; measured {init_ms:.0f} ms"
    if over:
        head += f", so about {init_ms - limit * base_ms:.0f} ms must go"
    lines += [head + ".", ""]
    if root is not None:
        lines += ["Direct imports of the handler module (cumulative ms):", "",
                  "| module | cumulative ms |", "|---|---:|"]
        for child in sorted(root.children, key=lambda n: -n.cumulative_us)[:8]:
            lines.append(f"| `{child.name}` | {child.cumulative_ms:.1f} |")
        lines.append("")
    extra = tree.packages_not_in((baseline_tree.names if baseline_tree else baseline_packages) | {target.module})
    if extra:
        lines += ["Packages the baseline does not load (self time summed over the package's modules, "
                  "and the import chain that first pulls it in):", "",
                  "| package | self ms | modules | first imported via |", "|---|---:|---:|---|"]
        for package in extra[:10]:
            lines.append(f"| `{package.name}` | {package.self_ms:.1f} | {package.modules} | {package.chain} |")
        lines.append("")
    heavy_own = tree.heaviest_self(prefixes=("switchboard", target.module), limit=5)
    if heavy_own:
        lines += ["Heaviest module bodies of our own code (self ms: class and model construction at import):", "",
                  "| module | self ms |", "|---|---:|"]
        lines += [f"| `{node.name}` | {node.self_ms:.1f} |" for node in heavy_own]
        lines.append("")
    return "\n".join(lines)

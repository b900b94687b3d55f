"""`python -m bench [--only cold,inprocess,load,cost] [--out bench/RESULTS.md]`: run the benchmarks, print every
figure with its baseline, ratio and budget, and write the results (with the machine's description) as markdown."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import coldstart, cost, load
from bench.common import LAYER_DIR, PYTHON, ROOT, Figure, Section, child_environment, fmt, python_path

TOTAL_SECONDS = 540  # parts 1-3 and 5 stay under 10 minutes on a 2-core machine; the local load bounds itself
COLD_START_SHARE = 200  # seconds the cold-start rounds may use before they stop early
INPROCESS_TIMEOUT = 300
PARTS = ("cold", "inprocess", "load", "cost", "search")
SEARCH_TIMEOUT = 3600  # 100,000 conversations and their terms written to DynamoDB Local, then the searches


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "OS": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": f"{commit}{' (with uncommitted changes)' if dirty else ''}" if commit else "?",
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def table(figures: list[Figure]) -> list[str]:
    rows = ["| figure | measured | baseline (same run) | ratio | budget | status |", "|---|---:|---:|---:|---|---|"]
    for f in figures:
        measured = f"ERROR: {f.error}" if f.error and f.value is None else fmt(f.value, f.unit)
        baseline = fmt(f.baseline, f.unit) if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "-"
        name = f.name + (f" — {f.note}" if f.note else "")
        rows.append(f"| {name} | {measured} | {baseline} | {ratio} | {f.budget} | {f.status} |")
    return rows


def print_section(section: Section) -> None:
    print(f"\n== {section.title} ({section.seconds:.0f} s) ==", flush=True)
    if section.error:
        print(f"   ERROR: {_cause(section.error)}")
    for f in section.figures:
        measured = fmt(f.value, f.unit) if f.value is not None else f"ERROR {f.error}"
        extra = []
        if f.baseline is not None:
            extra.append(f"baseline {fmt(f.baseline, f.unit)}")
        if f.ratio is not None:
            extra.append(f"ratio {f.ratio:.2f}×")
        if f.limit is not None:
            extra.append(f"budget {f.budget}")
        mark = "  ** OVER BUDGET **" if f.over and f.limit is not None else ("  ERROR" if f.error else "")
        print(f"   {f.name}: {measured}" + (f"  ({', '.join(extra)})" if extra else "") + mark
              + (f"  [{f.note}]" if f.note else ""), flush=True)


def _cause(trace: str) -> str:
    """The exception line of a traceback (the first line of its message)."""
    lines = trace.strip().splitlines()
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception)\b", line):
            return line
    return lines[-1] if lines else ""


def run_part(sections: list[Section], key: str, title: str, action: Callable[[Section], Any]) -> Any:
    section = Section(key, title)
    sections.append(section)
    began = time.monotonic()
    result = None
    try:
        result = action(section)
    except Exception:
        section.error = traceback.format_exc()
    section.seconds = time.monotonic() - began
    print_section(section)
    return result


def run_child(module: str, timeout: float) -> dict[str, Any]:
    """`python -m <module> <out.json> <work-dir>` in a scratch directory, on its own services: what it wrote."""
    with tempfile.TemporaryDirectory(prefix=f"{module.replace('.', '-')}-") as scratch:
        out, log = Path(scratch) / "results.json", Path(scratch) / "child.log"
        env = child_environment(PYTHONPATH=python_path(ROOT, LAYER_DIR, ROOT / "functions" / "admin_api"))
        with open(log, "wb") as sink:
            done = subprocess.run([PYTHON, "-m", module, str(out), str(Path(scratch) / "work")], cwd=ROOT,
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=sink,
                                  timeout=timeout, check=False)
        if not out.is_file():
            raise RuntimeError(f"{module} exited {done.returncode} without results:\n"
                               f"{log.read_text(errors='replace')[-3000:]}")
        return dict(json.loads(out.read_text()))


def run_inprocess(deadline: float) -> dict[str, Any]:
    return run_child("bench.inprocess", max(60.0, min(INPROCESS_TIMEOUT, deadline - time.monotonic())))


def search_section(section: Section) -> None:
    results = run_child("bench.search", SEARCH_TIMEOUT)
    if results.get("error"):
        raise RuntimeError(results["error"])
    for found in results["searches"]:
        section.add(f"search, {found['what']} ({found['q']!r}): DynamoDB requests per page", found["max_requests"],
                    unit="requests", limit=2,
                    note=f"{found['pages']} pages, {found['listed']} listed; {'; '.join(found['operations'])}; "
                         f"the route with the caller's identity: {found['route_requests']}; "
                         f"median {found['median_ms']:.0f} ms")
    written = results["populate"]
    section.details.append(
        f"- {results['conversations']:,} conversations of one practice on 4 lines and their search terms: "
        f"{written['items']:,} items written in {written['seconds']:.0f} s; each search read up to 15 pages of 20.")


def counts_section(section: Section, results: dict[str, Any]) -> None:
    counts = results.get("counts") or {}
    engine = results.get("dynamodb_engine", "?")
    section.details.append(f"- Engine: {engine}; handlers called in-process with API Gateway REST events built by "
                           "local.gateway.proxy_event; requests counted on PynamoDB's botocore client "
                           "(`after-call.dynamodb`).")

    def add(name: str, key: str, limit: float | None, note: str = "") -> None:
        found = counts.get(key)
        if found is None:
            return
        ops = ", ".join(found["operations"]) or "none"
        status = found.get("status")
        problem = ""
        if status is not None and not 200 <= int(status) < 300:
            problem = f"handler answered {status}: {found.get('answer', '')[:150]}"
        if found.get("batch_failures"):
            problem = f"{found['batch_failures']} batch item failures"
        section.add(name, float(found["requests"]), unit="requests", limit=limit, error=problem,
                    note=f"{ops}; {found['read_units']:g} RRU, {found['write_units']:g} WRU"
                    + (f"; {found['sqs_requests']} SQS" if found.get("sqs_requests") else "") + (f"; {note}" if note
                                                                                                 else ""))

    add("call-to-text intake (new caller)", "intake", 3)
    # The refused transaction, then the repeat counted directly (a count job on a queue could count twice).
    add("duplicate intake (same caller inside the window)", "intake_duplicate", 3)
    if "inbound_sms" in counts:
        add("inbound SMS", "inbound_sms", 3)
    else:
        section.details.append("- inbound SMS: function `inbound_sms` is absent; skipped.")
    add("status callback: sent", "status_sent", 2)
    add("status callback: delivered", "status_delivered", 2)
    for key, who in (("inbox_staff", "staff member"), ("inbox_admin", "enterprise admin")):
        if counts.get(key, {}).get("absent"):
            section.details.append(f"- inbox page 1 ({who}): the endpoint answered 404; skipped.")
        else:
            first = counts.get(key, {}).get("first_requests")
            # A staff member's memberships are read on every request (one Query), then a Query per permitted
            # line (the bench's staff member has one); an admin's come from the token.
            add(f"inbox page 1 (as a {who}, warm container)", key, 2 if key == "inbox_staff" else 1,
                f"{first} on the first page a container serves this user" if first is not None else "")
    add("send a queued text (outbound_messaging, one record)", "outbound_send", 4)
    add("after-hours check of a reply (follow_up, one record)", "follow_up", 3)
    poller = results.get("poller")
    if poller:
        small, large = poller["small"], poller["large"]
        section.add(f"status poller with {poller['large_lines']:,} enabled lines (+{poller['pending']} pending)",
                    float(large["requests"]), unit="requests", baseline=float(small["requests"]),
                    baseline_label=f"{poller['small_lines']} lines",
                    ratio=large["requests"] / max(small["requests"], 1), limit=1.0, note=", ".join(large["operations"]))
        scans = sum(1 for op in small["operations"] + large["operations"] if op == "Scan")
        section.add("status poller Scan requests", float(scans), unit="requests", limit=0, exact=True)
        section.details.append(f"- Poller: {poller['large_lines'] - poller['small_lines']:,} extra lines written in "
                               f"{poller['bulk_write_seconds']:.1f} s; answers: {small.get('answer', '')[:200]}")
    section.details += [f"- {note}" for note in results.get("notes") or []]
    for name, trace in (results.get("errors") or {}).items():
        if name in ("counts", "poller", "setup", "services"):
            section.add(f"in-process step `{name}`", None, error=trace.strip().splitlines()[-1][:200])
            section.details.append(f"```\n{trace[-2500:]}\n```")


def overhead_section(section: Section, results: dict[str, Any]) -> None:
    for key, label in (("overhead_intake", "warm intake"), ("overhead_inbound_sms", "warm inbound SMS")):
        found = results.get(key)
        if found is None:
            if key in (results.get("errors") or {}):
                trace = results["errors"][key]
                section.add(f"{label}: handler vs its raw DynamoDB requests", None,
                            error=trace.strip().splitlines()[-1][:200])
                section.details.append(f"```\n{trace[-2500:]}\n```")
            elif key == "overhead_inbound_sms":
                section.details.append("- warm inbound SMS: function `inbound_sms` is absent; skipped.")
            continue
        handler, floor = found["handler_ms"], found["floor_ms"]
        rest = handler - found["in_dynamodb_ms"] - found["in_sqs_ms"]
        section.add(f"{label}: handler vs its raw DynamoDB requests", handler, unit="ms", baseline=floor,
                    baseline_label="raw boto3", ratio=handler / floor, limit=1.3,
                    note=f"median of {found['calls']}; floor = {' + '.join(found['floor_requests'])}")
        if found["floor_sqs_requests"]:
            section.add(f"{label}: handler vs raw DynamoDB + raw SQS SendMessage", handler, unit="ms",
                        baseline=found["floor_with_sqs_ms"], ratio=handler / found["floor_with_sqs_ms"],
                        note="no budget: shows what the queue send costs")
        section.details.append(
            f"- {label}: inside the handler (medians) {found['in_dynamodb_ms']:.1f} ms in DynamoDB calls, "
            f"{found['in_sqs_ms']:.1f} ms in SQS calls ({', '.join(found['floor_sqs_requests']) or 'none'}), "
            f"about {rest:.1f} ms everything else (event parsing, signature check, Powertools decorators, PynamoDB "
            f"serialisation); p90 handler {found['handler_p90_ms']:.1f} ms vs floor {found['floor_p90_ms']:.1f} ms; "
            f"answers {found['statuses']}.")
    section.details.append("- The floor replays the exact requests the handler sent (captured with "
                           "`provide-client-params`, the caller's number and message sid swapped for fresh ones) "
                           "on a default boto3 client, alternating with the handler in the same loop.")


def write_results(path: Path, info: dict[str, str], sections: list[Section], seconds: float) -> None:
    over = [f for s in sections for f in s.figures if f.over and (f.limit is not None or f.error)]
    lines = ["# Switchboard benchmark results", "",
             f"`python -m bench` on {info['date']}; the whole run took {seconds / 60:.1f} min ({seconds:.0f} s).", "",
             "| machine | |", "|---|---|", *[f"| {k} | {v} |" for k, v in info.items()], "",
             "## Over budget", "",
             "(Import-time breakdowns of each function are at the end of section 1.)", ""]
    lines += [f"- {f.name}: {fmt(f.value, f.unit)}"
              + (f" = {f.ratio:.2f}× baseline" if f.ratio is not None else "") + f" (budget {f.budget})"
              + (f" — {f.error}" if f.error else "") for f in over]
    lines += [f"- {s.title}: failed — {_cause(s.error)}" for s in sections if s.error]
    if lines[-1] == "":
        lines.append("- nothing")
    for section in sections:
        lines += ["", f"## {section.title}", "", f"_{section.seconds:.0f} s_", ""]
        if section.error:
            lines += ["```", section.error[-3000:], "```", ""]
        if section.figures:
            lines += table(section.figures) + [""]
        lines += section.details
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    wanted = {p.strip() for p in args.only.split(",") if p.strip()}
    started = time.monotonic()
    deadline = started + TOTAL_SECONDS
    info = machine()
    print("Switchboard benchmarks — " + ", ".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    sections: list[Section] = []
    cold: dict[str, Any] | None = None
    inprocess: dict[str, Any] | None = None
    if "cold" in wanted:
        cold = run_part(sections, "cold", "1. Cold start (import + init, fresh interpreter)",
                        lambda s: coldstart.run(s, started + COLD_START_SHARE))
    if "inprocess" in wanted or "cost" in wanted:
        results: dict[str, Any] = {}

        def do_inprocess(section: Section) -> dict[str, Any]:
            results.update(run_inprocess(deadline))
            counts_section(section, results)
            section.details.append("- in-process steps (s): "
                                   + ", ".join(f"{k} {v:.1f}" for k, v in (results.get("seconds") or {}).items()))
            return results

        inprocess = run_part(sections, "requests", "2. DynamoDB requests per operation", do_inprocess)
        run_part(sections, "overhead", "3. Overhead over the floor (warm, in-process, DynamoDB Local)",
                 lambda s: overhead_section(s, results))
    if "load" in wanted:
        run_part(sections, "load", "4. Local load through the local gateway", lambda s: load.run(s, deadline))
    if "cost" in wanted and inprocess and inprocess.get("counts"):
        run_part(sections, "cost", "5. Cost per 1,000 call-to-text conversations",
                 lambda s: cost.run(s, inprocess or {}, cold))
    if "search" in wanted:
        run_part(sections, "search", "6. Inbox search at 100,000 conversations", search_section)
    seconds = time.monotonic() - started
    write_results(args.out, info, sections, seconds)
    over = [f for s in sections for f in s.figures if f.over and (f.limit is not None or f.error)]
    failed = [s.title for s in sections if s.error]
    print(f"\n{len(over)} figure(s) over budget or failed, {len(failed)} part(s) failed; "
          f"results in {args.out} ({seconds:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

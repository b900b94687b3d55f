"""5. Cost model: AWS cost per 1,000 call-to-text conversations, from this run's measurements, beside the carrier's.

A conversation: the phone system's webhook (intake), the text sent through the carrier, two delivery
status callbacks (sent, delivered), and one reply from the patient (inbound SMS) with its after-hours
check. Durations are this run's warm medians (handlers in-process against DynamoDB Local and moto, so
they are this machine's, not Lambda's); request units are DynamoDB Local's ConsumedCapacity for the
same requests (it sizes items the way DynamoDB bills them); memory is each function's MemorySize.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.common import ROOT, Section
from local.template import functions, load_template

# Public list prices, us-east-1, on-demand, free tiers ignored. All in USD.
PRICES_DATE = "2025-06 (list prices as published then; not re-checked at run time — verify before quoting)"
PRICES: dict[str, tuple[float, str, str]] = {
    # key: (price, unit, source)
    "lambda_gb_second_arm64": (0.0000133334, "per GB-second (arm64, first 7.5 billion GB-s/month)",
                               "AWS Lambda pricing"),
    "lambda_request": (0.20 / 1_000_000, "per request ($0.20 per million)", "AWS Lambda pricing"),
    "api_gateway_rest_request": (3.50 / 1_000_000, "per request ($3.50 per million, REST API, first 333 million)",
                                 "Amazon API Gateway pricing"),
    "dynamodb_write_request_unit": (0.625 / 1_000_000, "per write request unit ($0.625 per million, on-demand)",
                                    "Amazon DynamoDB pricing"),
    "dynamodb_read_request_unit": (0.125 / 1_000_000, "per read request unit ($0.125 per million, on-demand)",
                                   "Amazon DynamoDB pricing"),
    "sqs_request": (0.40 / 1_000_000, "per request ($0.40 per million, standard queue, 64 KB chunks)",
                    "Amazon SQS pricing"),
    "secrets_manager_call": (0.05 / 10_000, "per API call ($0.05 per 10,000)", "AWS Secrets Manager pricing"),
    "twilio_sms_segment": (0.0083, "per SMS segment, US long code, outbound or inbound (carrier fees extra)",
                           "Twilio SMS pricing (US)"),
}
# Assumptions the model states next to its figure.
CLINIC_HOURS_PER_DAY = 10  # 1,000 conversations spread over one clinic day
SECRET_CACHE_SECONDS = 300  # switchboard.carrier.client.SECRET_MAX_AGE
FUNCTIONS_READING_SECRET = ("outbound_messaging", "status_callback", "inbound_sms")
SQS_REQUESTS_PER_MESSAGE = 3  # SendMessage, the event source's ReceiveMessage and DeleteMessage (batches of one)


@dataclass
class Step:
    label: str
    function: str
    invocations: int
    duration_ms: float | None
    api_requests: int
    read_units: float
    write_units: float
    sqs_messages: int = 0
    sms_segments: int = 0


def price(key: str) -> float:
    return PRICES[key][0]


def conversation(inprocess: dict[str, Any]) -> list[Step]:
    counts = inprocess.get("counts") or {}
    durations = inprocess.get("durations") or {}
    intake = inprocess.get("overhead_intake") or {}
    inbound = inprocess.get("overhead_inbound_sms") or {}

    def units(name: str) -> tuple[float, float]:
        found = counts.get(name) or {}
        return float(found.get("read_units") or 0), float(found.get("write_units") or 0)

    def duration(name: str) -> float | None:
        return (durations.get(name) or {}).get("median_ms")

    steps = [
        Step("intake webhook", "webhook_intake", 1, intake.get("handler_ms"), 1, *units("intake")),
        Step("handoff: the stored text onto the outbound queue", "handoff", 1, duration("handoff"), 0, 0, 0,
             sqs_messages=1),
        Step("send the text", "outbound_messaging", 1, duration("outbound_messaging"), 0, *units("outbound_send"),
             sms_segments=1),
        Step("status callback: sent", "status_callback", 1, duration("status_callback"), 1, *units("status_sent")),
        Step("status callback: delivered", "status_callback", 1, duration("status_callback"), 1,
             *units("status_delivered")),
    ]
    if "inbound_sms" in counts:
        steps.append(Step("patient's reply (inbound SMS)", "inbound_sms", 1, inbound.get("handler_ms"), 1,
                          *units("inbound_sms"), sms_segments=1))
        steps.append(Step("handoff: the reply onto the follow-up queue", "handoff", 1, duration("handoff"), 0, 0, 0,
                          sqs_messages=1))
    if "follow_up" in counts:
        steps.append(Step("after-hours check", "follow_up", 1, duration("follow_up"), 0, *units("follow_up")))
    return steps


def _init_wall(cold: dict[str, Any], function: str) -> float:
    found = cold["functions"].get(function) or {}
    return float(found.get("init_wall_ms") or found.get("init_ms") or 0)


def run(section: Section, inprocess: dict[str, Any], cold: dict[str, Any] | None) -> dict[str, Any]:
    template = load_template(ROOT / "template.yaml")
    memory = {(ROOT / f.code_uri).resolve().name: f.memory_size for f in functions(template).values()}
    steps = conversation(inprocess)
    missing = [s.label for s in steps if s.duration_ms is None]
    if missing:
        section.details.append(f"- no measured duration for: {', '.join(missing)} (counted as 0 ms)")
    per_1000 = 1000
    lines: list[tuple[str, float, str]] = []

    gb_seconds = sum(s.invocations * math.ceil(s.duration_ms or 0) / 1000 * memory.get(s.function, 128) / 1024
                     for s in steps)
    invocations = sum(s.invocations for s in steps)
    api = sum(s.api_requests for s in steps)
    reads = sum(s.read_units for s in steps)
    writes = sum(s.write_units for s in steps)
    sqs = sum(s.sqs_messages for s in steps) * SQS_REQUESTS_PER_MESSAGE
    readers = [f for f in FUNCTIONS_READING_SECRET if f in {s.function for s in steps}]
    secret_calls_per_1000 = len(readers) * CLINIC_HOURS_PER_DAY * 3600 / SECRET_CACHE_SECONDS
    segments = sum(s.sms_segments for s in steps)

    lines.append(("Lambda compute", gb_seconds * price("lambda_gb_second_arm64") * per_1000,
                  f"{gb_seconds * per_1000:.2f} GB-s (billed ms rounded up × MemorySize)"))
    lines.append(("Lambda requests", invocations * price("lambda_request") * per_1000,
                  f"{invocations * per_1000:,} invocations"))
    lines.append(("API Gateway (REST)", api * price("api_gateway_rest_request") * per_1000,
                  f"{api * per_1000:,} requests"))
    lines.append(("DynamoDB writes", writes * price("dynamodb_write_request_unit") * per_1000,
                  f"{writes * per_1000:,.0f} WRU (transactions count 2 per KB, GSIs included)"))
    lines.append(("DynamoDB reads", reads * price("dynamodb_read_request_unit") * per_1000,
                  f"{reads * per_1000:,.0f} RRU"))
    lines.append(("SQS", sqs * price("sqs_request") * per_1000,
                  f"{sqs * per_1000:,} requests ({SQS_REQUESTS_PER_MESSAGE} per message)"))
    lines.append(("Secrets Manager", secret_calls_per_1000 * price("secrets_manager_call"),
                  f"{secret_calls_per_1000:.0f} GetSecretValue ({len(readers)} functions, one warm instance each, "
                  f"a {SECRET_CACHE_SECONDS} s cache, {CLINIC_HOURS_PER_DAY} h day)"))
    aws_total = sum(cost for _, cost, _ in lines)
    carrier_total = segments * price("twilio_sms_segment") * per_1000

    cold_upper = None
    if cold and cold.get("functions"):
        init_gb_s = sum(s.invocations * math.ceil(_init_wall(cold, s.function)) / 1000
                        * memory.get(s.function, 128) / 1024 for s in steps)
        cold_upper = init_gb_s * price("lambda_gb_second_arm64") * per_1000

    section.add("AWS cost per 1,000 call-to-text conversations", aws_total, unit="USD",
                note=f"prices {PRICES_DATE.split(' ')[0]}; detail below")
    section.add("carrier (Twilio) cost per 1,000 conversations", carrier_total, unit="USD",
                note=f"{segments} segments per conversation × ${price('twilio_sms_segment')}")
    section.add("AWS share of the carrier's cost", aws_total / carrier_total * 100 if carrier_total else None,
                unit="%")
    if cold_upper is not None:
        section.add("upper bound if every invocation were a cold start (init billed)", aws_total + cold_upper,
                    unit="USD", note=f"+${cold_upper:.4f} of init GB-s, from this run's init times")

    rows = ["| step | function | MemorySize | duration (ms, warm median) | API requests | RRU | WRU | "
            "SQS messages | SMS segments |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in steps:
        rows.append(f"| {s.label} | {s.function} | {memory.get(s.function, 128)} MB | "
                    f"{(s.duration_ms or 0):.1f} | {s.api_requests} | {s.read_units:g} | {s.write_units:g} | "
                    f"{s.sqs_messages} | {s.sms_segments} |")
    cost_rows = ["| item | per 1,000 conversations (USD) | quantity |", "|---|---:|---|"]
    cost_rows += [f"| {name} | {cost:.4f} | {quantity} |" for name, cost, quantity in lines]
    cost_rows.append(f"| **AWS total** | **{aws_total:.4f}** | |")
    cost_rows.append(f"| Twilio SMS ({segments} segments/conversation) | {carrier_total:.2f} | |")
    price_rows = [f"Prices used (USD, us-east-1, {PRICES_DATE}):", "",
                  "| price | value | unit | source |", "|---|---:|---|---|"]
    price_rows += [f"| {key} | {value:.10g} | {unit} | {source} |" for key, (value, unit, source) in PRICES.items()]
    sizes = (inprocess.get("overhead_intake") or {}).get("item_sizes") or []
    size_rows = []
    if sizes:
        size_rows = ["Items an intake writes, as stored (DynamoDB's size rules):", "",
                     "| item | bytes | attributes |", "|---|---:|---:|"]
        size_rows += [f"| {s['kind']} | {s['bytes']} | {s['attributes']} |" for s in sizes]
    inbound_sizes = (inprocess.get("overhead_inbound_sms") or {}).get("item_sizes") or []
    if inbound_sizes:
        size_rows += ["", "Items an inbound SMS writes:", "", "| item | bytes | attributes |", "|---|---:|---:|"]
        size_rows += [f"| {s['kind']} | {s['bytes']} | {s['attributes']} |" for s in inbound_sizes]
    section.details += [
        "Per conversation (measured in this run):", "", *rows, "", *cost_rows, "", *price_rows, "", *size_rows, "",
        "- Not included: CloudWatch Logs ingestion of the handlers' JSON logs, X-Ray (the template sets "
        "`Tracing: Active`), the SQS event sources' empty long polls (a standing cost, not per conversation), "
        "the secret's $0.40/month, the table's storage and PITR, and carrier pass-through fees (10DLC, "
        "roughly $0.002–0.005 per message, by carrier). An after-hours answer adds one more send, two callbacks "
        "and one segment.",
        "- Durations come from handlers run in-process against DynamoDB Local and moto on this machine; in Lambda "
        "the network round trips differ, so treat the Lambda line as an estimate. The Lambda line is small "
        "either way: the carrier's per-message price dominates.",
    ]
    return {"aws_per_1000": aws_total, "carrier_per_1000": carrier_total, "lines": lines}

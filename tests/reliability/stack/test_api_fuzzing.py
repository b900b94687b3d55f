"""Schemathesis against the admin API the stack serves: never a 5xx, and validation errors name the field.

Every operation of `/api/openapi.json` gets requests that fit its schema (with real ids of a practice made for
this, and with made-up ones) and requests that do not. Bounded: a few examples per operation and a time
budget in `make test`; many more in `make soak`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.clock import PRACTICE_ADDRESS
from tests.reliability.conftest import ReliabilityStack

pytestmark = pytest.mark.integration

VALIDATION = (400, 422)


@dataclass
class Findings:
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def known_names(operation: Any) -> set[str]:
    """What a validation error may name for this operation: its parameters, its body's fields, the body."""
    spec = operation.definition.raw
    names = {p["name"] for p in spec.get("parameters", [])} | {"body", "Content-Type"}
    content = ((spec.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    schema = content.get("schema") or {}
    if "$ref" in schema:
        schema = operation.schema.raw_schema["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    names |= set(schema.get("properties", {}))
    return names


def judge(operation: Any, case: Any, response: Any, findings: Findings) -> None:
    findings.requests += 1
    status = response.status_code
    findings.statuses[status] = findings.statuses.get(status, 0) + 1
    where = f"{case.method} {operation.path}"
    if status >= 500:
        findings.problems.append(f"{where}: {status} {response.text[:200]} (path {case.path_parameters}, "
                                 f"query {case.query}, body {str(case.body)[:200]})")
        return
    if status in VALIDATION:
        try:
            errors = response.json().get("errors")
        except (ValueError, AttributeError):
            errors = None
        fields = [e.get("field") for e in errors or [] if isinstance(e, dict)]
        if not fields or not all(fields):
            findings.problems.append(f"{where}: {status} without errors[].field: {response.text[:200]}")
            return
        sent = set(case.body) if isinstance(case.body, dict) else set()  # an unknown field the client sent
        unknown = [f for f in fields if str(f).split(".")[0] not in known_names(operation) | sent]
        if unknown:
            findings.problems.append(f"{where}: {status} names {unknown}, not an input of this operation")


def try_cases(strategy: Any, examples: int, check: Any, deadline: float) -> None:
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=True)
    @given(case=strategy)
    def run(case: Any) -> None:
        if time.monotonic() < deadline:
            check(case)

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to get wrong: an operation without parameters or body has no negative case


def fuzz(stack: ReliabilityStack, *, examples: int, budget_seconds: float) -> Findings:
    token = stack.token()
    clinic = stack.new_clinic()
    # With its business address saved, a request that fits a route reaches the carrier (text-enabling needs it).
    assert stack.api("PUT", f"/api/practices/{clinic.practice_id}/address", PRACTICE_ADDRESS).status == 200
    real_ids = {"practice_id": clinic.practice_id, "line_id": clinic.line["line_id"],
                "workflow_id": clinic.workflow["workflow_id"]}
    document = stack.api("GET", "/api/openapi.json").body
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {token}"}
    findings = Findings()
    deadline = time.monotonic() + budget_seconds
    enterprise = stack.api("GET", "/api/enterprise").body
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            ids = {name: value for name, value in real_ids.items() if "{" + name + "}" in operation.path}
            variants = [(GenerationMode.POSITIVE, ids), (GenerationMode.POSITIVE, None),
                        (GenerationMode.NEGATIVE, None)]
            for mode, fixed in variants:
                if time.monotonic() > deadline:
                    break
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
                try_cases(strategy, examples, lambda case, op=operation: judge(
                    op, case, case.call(base_url=stack.api_url, headers=headers, timeout=30), findings), deadline)
    finally:
        stack.api("PUT", "/api/enterprise", enterprise)
    print(f"\nschemathesis: {findings.requests} requests, statuses {dict(sorted(findings.statuses.items()))}")
    return findings


def test_fuzzed_admin_requests_never_get_a_5xx_and_validation_errors_name_the_field(stack):
    findings = fuzz(stack, examples=3, budget_seconds=120)  # about 6 s idle: the budget is for a busy machine
    assert findings.requests >= 100
    assert not findings.problems, "\n" + "\n".join(findings.problems[:40])


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_soak_fuzzed_admin_requests(stack):
    findings = fuzz(stack, examples=40, budget_seconds=600)
    assert not findings.problems, "\n" + "\n".join(findings.problems[:80])

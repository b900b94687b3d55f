"""Function instances in worker processes: their own environment and service name, warm reuse, scale-out up to
the function's concurrency, timeouts that stop the instance, errors, and nothing left running after stop."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.runtime import FunctionTimedOut, LambdaRuntime, LocalValues
from local.workers import FunctionError, WorkerRuntime, is_running, library_imports
from tests.clock import wait_until

HANDLER = '''
import os
import sys
import threading

# What the instance had imported before its own code ran: the zygote preloads the libraries, not the code.
BEFORE_COLD_START = {name: name in sys.modules for name in ("colorsys", "helper")}

import colorsys  # noqa: E402,F401  a library only this code imports
import helper  # noqa: E402,F401  the function's own module

from aws_lambda_powertools import Logger

logger = Logger()


def lambda_handler(event, context):
    if event.get("raise"):
        raise ValueError("asked to fail")
    # A relative wait: under the year-ahead run's libfaketime, time.sleep fails in a fresh process (tests/clock.py).
    threading.Event().wait(event.get("sleep", 0))
    return {
        "service": logger.service,
        "pid": os.getpid(),
        "only_alpha": os.environ.get("ONLY_ALPHA"),
        "only_beta": os.environ.get("ONLY_BETA"),
        "modules": sorted(name for name in sys.modules if name.startswith("functions.")),
        "function_name": context.function_name,
        "before_cold_start": BEFORE_COLD_START,
    }
'''


def _function(name: str, timeout: int, variables: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function",
            "Properties": {"CodeUri": f"functions/{name}/", "Handler": "app.lambda_handler", "Timeout": timeout,
                           "Environment": {"Variables": variables}, **extra}}


TEMPLATE = {
    "Globals": {"Function": {"Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "switchboard"}}}},
    "Resources": {
        "AlphaFunction": _function("alpha", 1, {"POWERTOOLS_SERVICE_NAME": "alpha", "ONLY_ALPHA": "a"},
                                   ReservedConcurrentExecutions=2),
        "BetaFunction": _function("beta", 10, {"POWERTOOLS_SERVICE_NAME": "beta", "ONLY_BETA": "b"}),
    },
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("alpha", "beta"):
        (tmp_path / "functions" / name).mkdir(parents=True)
        (tmp_path / "functions" / name / "app.py").write_text(HANDLER)
        (tmp_path / "functions" / name / "helper.py").write_text("import json\nfrom xml.dom import minidom\n")
    (tmp_path / "template.yaml").write_text(json.dumps(TEMPLATE))
    return tmp_path


def _workers(project: Path, cap: int | None = None) -> WorkerRuntime:
    lambdas = LambdaRuntime(TEMPLATE, LocalValues(), project)
    return WorkerRuntime(lambdas, {"LOCAL_ENDPOINT": "here"}, template_path=project / "template.yaml", cap=cap)


@pytest.fixture
def workers(project: Path) -> Iterator[WorkerRuntime]:
    runtime = _workers(project)
    yield runtime
    runtime.stop()


def test_each_function_runs_with_its_own_service_name_and_variables_and_imports_only_itself(
        workers: WorkerRuntime) -> None:
    alpha = workers.invoke("AlphaFunction", {})
    beta = workers.invoke("beta", {})

    assert alpha["service"] == "alpha" and beta["service"] == "beta"
    assert (alpha["only_alpha"], alpha["only_beta"]) == ("a", None)
    assert (beta["only_alpha"], beta["only_beta"]) == (None, "b")
    assert alpha["modules"] == ["functions.alpha.app"] and beta["modules"] == ["functions.beta.app"]
    assert alpha["pid"] != beta["pid"] != os.getpid()
    assert alpha["function_name"].endswith("-AlphaFunction")


def test_the_zygote_preloads_the_libraries_the_code_imports_and_none_of_the_code_itself(
        workers: WorkerRuntime, project: Path) -> None:
    assert library_imports([project / "functions" / "alpha"]) == [
        "aws_lambda_powertools", "colorsys", "json", "os", "sys", "threading", "xml.dom"]

    alpha = workers.invoke("AlphaFunction", {})

    assert alpha["before_cold_start"] == {"colorsys": True, "helper": False}


def test_a_warm_instance_is_reused(workers: WorkerRuntime) -> None:
    first = workers.invoke("AlphaFunction", {})
    second = workers.invoke("AlphaFunction", {})

    assert first["pid"] == second["pid"]
    assert workers.pool("AlphaFunction").cold_starts == 1


def _concurrently(workers: WorkerRuntime, count: int, event: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(workers.invoke("AlphaFunction", event)))
               for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_burst_scales_out_to_the_functions_reserved_concurrency_and_no_further(workers: WorkerRuntime) -> None:
    results = _concurrently(workers, 4, {"sleep": 0.5})

    assert len(results) == 4
    assert len({result["pid"] for result in results}) == 2  # ReservedConcurrentExecutions: 2
    assert workers.concurrency("AlphaFunction") == 2 and workers.concurrency("BetaFunction") == 2


def test_a_concurrency_cap_of_one_keeps_one_instance(project: Path) -> None:
    capped = _workers(project, cap=1)
    try:
        results = _concurrently(capped, 3, {"sleep": 0.2})
    finally:
        capped.stop()

    assert len({result["pid"] for result in results}) == 1


def test_an_invocation_past_the_timeout_is_stopped_and_its_instance_replaced(workers: WorkerRuntime) -> None:
    before = workers.invoke("AlphaFunction", {})["pid"]

    with pytest.raises(FunctionTimedOut, match="Task timed out after 1.00 seconds"):
        workers.invoke("AlphaFunction", {"sleep": 30})

    assert wait_until(lambda: not is_running(before), within=30)
    after = workers.invoke("AlphaFunction", {})["pid"]
    assert after != before


def test_a_handler_that_raises_is_a_function_error_and_the_instance_stays_warm(workers: WorkerRuntime) -> None:
    before = workers.invoke("BetaFunction", {})["pid"]

    with pytest.raises(FunctionError, match="ValueError: asked to fail"):
        workers.invoke("BetaFunction", {"raise": True})

    assert workers.invoke("BetaFunction", {})["pid"] == before


def test_stop_leaves_no_instance_running(project: Path) -> None:
    runtime = _workers(project)
    pids = [runtime.invoke("AlphaFunction", {})["pid"], runtime.invoke("BetaFunction", {})["pid"]]
    zygote = runtime.zygote.process.pid

    runtime.stop()

    assert wait_until(lambda: not any(is_running(pid) for pid in [*pids, zygote]), within=30)

"""Run the product's code from many threads at the same instant against a running local stack.

The local gateway runs one call at a time per function, like one warm Lambda instance; production runs
many instances at once. This helper (a separate process with the stack's environment, as `local.invoke`
uses) releases N threads together through a barrier, so the data layer sees truly concurrent requests:

    python -m tests.reliability.stack.concurrently --data-dir DIR webhook TOKEN CALLER THREADS
    python -m tests.reliability.stack.concurrently --data-dir DIR save-line PRACTICE LINE VERSION THREADS

It prints one line per thread, `RESULT` and a JSON object: `{"status": ..., "body": ...}` (webhook) or
`{"saved": bool, "error": ..., "help_text": ...}` (save-line).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def together(threads: int, work: Callable[[int], Any]) -> list[Any]:
    barrier, results = threading.Barrier(threads), [None] * threads

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # report, do not hide: the test decides
            results[index] = {"exception": type(error).__name__, "message": str(error)[:300]}

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return results


def webhook(info: dict[str, Any], token: str, caller: str, threads: int) -> list[Any]:
    from local.invoke import runtime_for

    handler = runtime_for(info).function("webhook_intake").load()
    path = f"/webhook/jive/{token}"

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "webhook_intake", 512, str(uuid.uuid4())
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:webhook_intake"

        def get_remaining_time_in_millis(self) -> int:
            return 5000

    def call(_: int) -> dict[str, Any]:
        host = info["gateway_url"].removeprefix("http://")
        event = {
            "resource": "/webhook/{vendor}/{token}", "path": path, "httpMethod": "GET",
            "headers": {"Host": host}, "multiValueHeaders": {"Host": [host]},
            "queryStringParameters": {"CALLER_ID_NUMBER": caller},
            "multiValueQueryStringParameters": {"CALLER_ID_NUMBER": [caller]},
            "pathParameters": {"vendor": "jive", "token": token}, "stageVariables": None, "body": None,
            "isBase64Encoded": False,
            "requestContext": {"resourcePath": "/webhook/{vendor}/{token}", "httpMethod": "GET",
                               "path": f"/local{path}", "stage": "local", "requestId": str(uuid.uuid4()),
                               "identity": {"sourceIp": "127.0.0.1"}},
        }
        answer = handler(event, Context())
        return {"status": answer["statusCode"], "body": json.loads(answer["body"] or "null")}

    return together(threads, call)


def save_line(info: dict[str, Any], practice_id: str, line_id: str, version: int, threads: int) -> list[Any]:
    os.environ.update(info["environment"])  # before the layer reads its settings
    from switchboard.core.errors import DomainError
    from switchboard.flows import line_changes
    from switchboard.rules.lines import LineChanges

    def save(index: int) -> dict[str, Any]:
        help_text = f"Call suite {index} for the front desk."
        try:
            line_changes.configure_line(practice_id, line_id, LineChanges(help_text=help_text, version=version),
                                        actor=f"admin{index}@clinic.test")
        except DomainError as refused:
            return {"saved": False, "error": type(refused).__name__, "field": refused.field, "help_text": help_text}
        return {"saved": True, "error": None, "help_text": help_text}

    return together(threads, save)


def at_once(count: int, action: Callable[[int], Any]) -> list[Any]:
    """For the tests: `action(i)` from `count` threads of this process, released together."""
    return together(count, action)


def concurrently(stack: Any, *args: str) -> list[dict[str, Any]]:
    """For the tests: run this module as a separate process against `stack` and read its results."""
    from tests.integration.conftest import ROOT, project_pythonpath

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(str(ROOT / p) for p in project_pythonpath())}
    run = subprocess.run([sys.executable, "-m", "tests.reliability.stack.concurrently", "--data-dir",
                          str(stack.data_dir), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads(line[len("RESULT "):]) for line in run.stdout.splitlines() if line.startswith("RESULT ")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("what", choices=["webhook", "save-line"])
    parser.add_argument("args", nargs="+")
    options = parser.parse_args(argv)
    info = json.loads((options.data_dir / "stack.json").read_text())
    if options.what == "webhook":
        token, caller, threads = options.args
        results = webhook(info, token, caller, int(threads))
    else:
        practice_id, line_id, version, threads = options.args
        results = save_line(info, practice_id, line_id, int(version), int(threads))
    for result in results:
        print("RESULT", json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

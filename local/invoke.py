"""Run one handler on a sample event, like `sam local invoke`: `python -m local.invoke FN EVENT.json`.

FN is the function's folder under functions/ (`admin_api`) or its logical id (`AdminApiFunction`);
EVENT.json a file or `-` for stdin. The result is printed as JSON on stdout (logs go to stderr); a handler
that raises prints Lambda's `{"errorType", "errorMessage", "stackTrace"}` and exits 1.

The handler needs the local data services, so a stack must be running (`make run` in another terminal):
its ready file (`.local/stack.json`, or `--data-dir`) gives its endpoints and queues, from which this
process resolves the environment the stack's handlers run with (local.assembly.running).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from local.assembly import running
from local.dynamodb import answers
from local.runtime import LambdaRuntime
from switchboard.carrier.signatures import sign

ROOT = Path(__file__).resolve().parent.parent


class NoRunningStack(RuntimeError):
    pass


def running_stack(data_dir: Path) -> dict[str, Any]:
    """The ready file of the stack running on `data_dir`, checked to answer; NoRunningStack otherwise."""
    ready_file = data_dir / "stack.json"
    if not ready_file.is_file():
        raise NoRunningStack(
            f"no local stack is running ({ready_file} does not exist).\n"
            "Start one in another terminal with `make run`, then invoke again."
        )
    info: dict[str, Any] = json.loads(ready_file.read_text(encoding="utf-8"))
    if not answers(info["gateway_url"] + "/local/health") or not answers(info["dynamodb_endpoint"]):
        raise NoRunningStack(
            f"{ready_file} describes a stack that no longer answers (pid {info.get('pid')}).\n"
            "Start one with `make run` (delete the stale file if it was killed)."
        )
    return info


def runtime_for(info: dict[str, Any], root: Path = ROOT) -> LambdaRuntime:
    """The template's functions, resolved the way the running stack resolved them, its environment exported."""
    return running(info, root).lambdas


def signed_like_the_carrier(event: dict[str, Any], auth_token: str, public_base_url: str | None) -> dict[str, Any]:
    """A sample carrier webhook with its `X-Twilio-Signature` recomputed for this stack's account.

    Sample events cannot carry a signature that verifies here (each local carrier account has its own
    token), so, like the carrier itself, this signs the form body against the URL it is sent to.
    """
    headers = event.get("headers") or {}
    name = next((k for k in headers if k.lower() == "x-twilio-signature"), None)
    if name is None:
        return event
    # Imported here, once the stack's environment is exported: the edge loads the layer's logger and metrics,
    # which read their settings (the metrics namespace) when first imported.
    from switchboard.edge.webhooks import ProxyEvent, requested_url

    url = requested_url(ProxyEvent(event), public_base_url)
    params = parse_qs(event.get("body") or "", keep_blank_values=True)
    return {**event, "headers": {**headers, name: sign(url, params, auth_token)}}


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Logs and metrics to stderr, the result alone to stdout.

    At the descriptor, not sys.stdout: the logger's handler keeps the stream it was made with, made when
    the layer was first imported, which may be before the invoke.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__.split("\n")[0])
    parser.add_argument("function", help="folder under functions/ or logical id")
    parser.add_argument("event", help="event JSON file, or - for stdin")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local", help="the running stack's data dir")
    args = parser.parse_args(argv)

    try:
        info = running_stack(args.data_dir.resolve())
    except NoRunningStack as error:
        print(f"local.invoke: {error}", file=sys.stderr)
        return 2
    text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
    local = running(info)
    event = signed_like_the_carrier(json.loads(text), local.carrier_credentials["auth_token"],
                                    local.environment.get("PUBLIC_BASE_URL"))
    try:
        function = local.lambdas.function(args.function)
    except KeyError as error:
        print(f"local.invoke: {error.args[0]}", file=sys.stderr)
        return 2
    try:
        with logs_to_stderr():
            result = function.invoke(event)
    except Exception as error:
        print(
            json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error),
                },
                indent=2,
            )
        )
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

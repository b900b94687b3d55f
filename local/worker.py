"""Instances of the template's functions: `python -m local.worker <socket-fd> [module ...]`, started once by
local.workers.

That process (the zygote) imports the libraries the functions' code imports (boto3, PynamoDB, Powertools,
twilio, phonenumbers, ...: the stack passes their names, found by local.workers.library_imports; no function's
code and no `switchboard` module, so each instance still imports its own code as its cold start), then forks an
instance of a function each time the stack asks, handing it the two pipe ends the stack sent over the socket.
An instance is what Lambda's execution environment is for a function: its environment holds that function's
variables only (set right after the fork), it imports that function's handler alone (its cold start), then
serves invocations one at a time until its input pipe closes. Forking from one warm process keeps a dozen
cold starts at the stack's start-up from costing a dozen interpreters' worth of imports on a two-core machine.

Messages on the pipes are JSON, each preceded by its length (4 bytes, big-endian):

- parent -> worker: `init` (the handler to import and what the context reports), `invoke` (event, request
  id, the faults the parent's plan holds now), `fault` (the parent's draw for a fault the worker asked about);
- worker -> parent: `ready` or `init_error`, `fault?` (a fault occasion, drawn by the parent so one seeded
  plan covers every process and its counts stay in one place), `result` or `error`.

A fault that crashes the process (`crash_after_carrier_accept`) ends it at once, as a crashed Lambda
instance: the parent sees the pipe close, fails the invocation and starts a new instance next time.
Ctrl-C in a terminal reaches every process of the group; a worker ignores it and ends when its parent
closes the pipe (or dies), so the stack stops its instances in order.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

_LENGTH = struct.Struct(">I")
CRASH_EXIT_CODE = 70


class ChannelClosed(EOFError):
    pass


def as_lambda_json(value: Any) -> Any:
    """What Lambda's JSON makes of the values boto3 hands the event sources: a stream record's
    `ApproximateCreationDateTime` is epoch seconds, binary attributes are base64 text."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def send(fd: int, message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":"), default=as_lambda_json).encode("utf-8")
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def read_exactly(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise ChannelClosed
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def receive(fd: int) -> dict[str, Any]:
    (size,) = _LENGTH.unpack(read_exactly(fd, _LENGTH.size))
    message: dict[str, Any] = json.loads(read_exactly(fd, size))
    return message


class _Context:
    """Lambda's context object, as handlers and Powertools read it."""

    def __init__(self, init: dict[str, Any], request_id: str) -> None:
        self.function_name = init["function_name"]
        self.memory_limit_in_mb = init["memory_size"]
        self.invoked_function_arn = init["function_arn"]
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{init['function_name']}"
        self.log_stream_name = init["log_stream_name"]
        self.function_version = "$LATEST"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + init["timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _ParentFaults:
    """local.faults' FAULTS in a worker: each occasion of a fault the plan holds is drawn by the parent."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.active: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def strikes(self, kind: str) -> bool:
        if kind not in self.active:
            return False
        with self._lock:
            send(self.write_fd, {"type": "fault?", "kind": kind})
            return bool(receive(self.read_fd).get("hit"))


def _load_handler(init: dict[str, Any]) -> Any:
    for directory in [*init["layer_dirs"], init["code_dir"]]:
        if directory not in sys.path:
            sys.path.append(directory)
    spec = importlib.util.spec_from_file_location(init["module_name"], init["handler_file"])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {init['handler_file']}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[init["module_name"]] = module
    spec.loader.exec_module(module)
    return getattr(module, init["handler_attribute"])


def _record_aws_calls(init: dict[str, Any]) -> None:
    from local import aws_calls
    from local.template import load_template

    recorder = aws_calls.install("local-stack", autoflush=True)
    recorder.watch_template(load_template(Path(init["template"])))
    for name in init.get("names") or []:
        recorder.add_name(name["kind"], name["name"], name.get("logical_id"), name.get("variable"))


def serve(read_fd: int, write_fd: int) -> int:
    init = receive(read_fd)
    started = time.monotonic()
    faults = _ParentFaults(read_fd, write_fd)
    try:
        from local import aws_calls
        from local import faults as local_faults

        if os.environ.get(aws_calls.DIRECTORY_VARIABLE):
            _record_aws_calls(init)
        local_faults.FAULTS = faults  # type: ignore[assignment]  # the hooks look the name up at each occasion
        local_faults.install()
        handler = _load_handler(init)
    except BaseException as error:
        traceback.print_exc()
        send(write_fd, {"type": "init_error", "errorType": type(error).__name__, "errorMessage": str(error)})
        return 1
    send(write_fd, {"type": "ready", "init_ms": round((time.monotonic() - started) * 1000)})

    from local.faults import InvocationCrashed

    while True:
        try:
            message = receive(read_fd)
        except ChannelClosed:
            return 0
        faults.active = frozenset(message.get("faults") or ())
        try:
            result = handler(message["event"], _Context(init, message["request_id"]))
            try:
                send(write_fd, {"type": "result", "value": result})
            except (TypeError, ValueError) as error:
                send(write_fd, {"type": "error", "errorType": "Runtime.MarshalError",
                                "errorMessage": f"Unable to marshal response: {error}"})
        except InvocationCrashed as crash:
            print(f"{init['logical_id']}: {crash}", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(CRASH_EXIT_CODE)
        except Exception as error:
            traceback.print_exc()
            send(write_fd, {"type": "error", "errorType": type(error).__name__, "errorMessage": str(error)})


PRELOADED = ("boto3", "botocore.session", "pynamodb.models", "pynamodb.attributes", "aws_lambda_powertools")


def _instance(read_fd: int, write_fd: int, environment: dict[str, str]) -> int:
    os.environ.clear()
    os.environ.update(environment)
    try:
        return serve(read_fd, write_fd)
    except (ChannelClosed, BrokenPipeError):
        return 0


def zygote(control: socket.socket, preload: tuple[str, ...] = ()) -> int:
    """Fork an instance for each request on `control` (a SOCK_SEQPACKET socket: one JSON environment and the
    instance's two pipe ends per message); answer with its pid. Ends when the stack closes the socket.
    `preload` (the libraries the functions' code imports) is imported first, beside PRELOADED."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # instances are reaped as they exit
    for name in PRELOADED:
        importlib.import_module(name)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # preloading only saves time: the instance imports it, and fails there
            continue
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 22, 2)
        except OSError:
            return 0
        if not data:
            return 0
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 1
            try:
                code = _instance(fds[0], fds[1], request["environment"])
            finally:
                from local import aws_calls

                if (recorder := aws_calls.current()) is not None:
                    recorder.flush()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        control.sendall(_LENGTH.pack(pid))


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return zygote(socket.socket(fileno=int(sys.argv[1])), tuple(sys.argv[2:]))


if __name__ == "__main__":
    sys.exit(main())

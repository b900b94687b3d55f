"""Each function of the template in worker processes of its own, scaled the way Lambda scales it.

A function gets up to its concurrency of instances (`python -m local.worker`, one process each): its
`ReservedConcurrentExecutions`, else `DEFAULT_CONCURRENCY`, at most `LOCAL_CONCURRENCY` when that is set
(the bench runs with 1 and with 2). An invocation takes an idle (warm) instance, or starts a new one (cold)
while the function is under its concurrency, or waits for one to come free. Each process is given that
function's variables alone (the template's, Lambda's own about the function, and the local endpoints), so the
Powertools service name and every setting are that function's; it imports that function's handler alone.

An invocation still going at the function's `Timeout` is stopped as Lambda stops it: the process is killed
(an instance is not reused after a timeout) and `FunctionTimedOut` raised, so the gateway answers 504 and an
event source fails the batch. A handler that raises gives `FunctionError`; a process that dies
(`crash_after_carrier_accept`) gives `InstanceCrashed`. Both leave the caller to fail the invocation.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from local import aws_calls
from local.faults import FAULTS, KINDS
from local.runtime import FunctionTimedOut, LambdaRuntime, LocalFunction, layer_directories
from local.worker import ChannelClosed, receive, send

log = logging.getLogger("local.workers")

DEFAULT_CONCURRENCY = 2  # a function without ReservedConcurrentExecutions: enough to use this machine's cores
CONCURRENCY_VARIABLE = "LOCAL_CONCURRENCY"
INIT_TIMEOUT_SECONDS = 120.0  # Lambda allows 10 s; a cold start on a machine busy with other work takes longer


class FunctionError(RuntimeError):
    """The handler raised (Lambda's function error): `error_type` and the message, as Lambda reports them."""

    def __init__(self, function_id: str, error_type: str, message: str) -> None:
        super().__init__(f"{function_id}: {error_type}: {message}")
        self.error_type = error_type


class InstanceCrashed(RuntimeError):
    """The function's process died during the invocation."""


class InstanceInitFailed(RuntimeError):
    """The handler could not be imported (its cold start failed)."""


def concurrency_cap(environ: Mapping[str, str] = os.environ) -> int | None:
    value = environ.get(CONCURRENCY_VARIABLE)
    if not value:
        return None
    try:
        cap = int(value)
    except ValueError:
        raise ValueError(f"{CONCURRENCY_VARIABLE} must be a whole number of instances, not {value!r}") from None
    if cap < 1:
        raise ValueError(f"{CONCURRENCY_VARIABLE} must be 1 or more, not {cap}")
    return cap


def function_concurrency(reserved: int | None, cap: int | None) -> int:
    wanted = reserved if reserved and reserved > 0 else DEFAULT_CONCURRENCY
    return min(wanted, cap) if cap else wanted


def library_imports(code_directories: Iterable[Path]) -> list[str]:
    """The modules the Python files under `code_directories` import (`twilio.rest`, not just `twilio`), less the
    code's own: the libraries every instance would otherwise import on its cold start."""
    directories = list(code_directories)
    own = {entry.stem for directory in directories for entry in directory.iterdir()
           if entry.suffix == ".py" or (entry.is_dir() and (entry / "__init__.py").is_file())}
    found: set[str] = set()
    for directory in directories:
        for source in directory.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_bytes(), str(source))):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
    return sorted(name for name in found if name.partition(".")[0] not in own | {"__future__"})


class Zygote:
    """The process that forks function instances (local.worker's `zygote`), started once. It imports
    `preload` first (each name it cannot import is skipped), so the instances it forks start with them."""

    def __init__(self, environment: Mapping[str, str], preload: Iterable[str] = ()) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "local.worker", str(theirs.fileno()), *preload],
                                            env=dict(environment), stdin=subprocess.DEVNULL,
                                            pass_fds=(theirs.fileno(),))
        finally:
            theirs.close()
        self._lock = threading.Lock()

    def fork(self, environment: Mapping[str, str], fds: tuple[int, int]) -> int:
        """A new instance process with `environment`, given the pipe ends `fds`; its pid."""
        request = json.dumps({"environment": dict(environment)}).encode()
        with self._lock:
            socket.send_fds(self._control, [request], list(fds))
            answer = self._control.recv(4)
        if len(answer) != 4:
            raise InstanceInitFailed(f"the instance zygote (pid {self.process.pid}) has stopped "
                                     f"(exit {self.process.poll()})")
        return int.from_bytes(answer, "big")

    def stop(self, timeout: float = 10.0) -> None:
        self._control.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Instance:
    """One worker process of one function (one Lambda execution environment)."""

    def __init__(self, function: LocalFunction, zygote: Zygote, environment: Mapping[str, str],
                 init: dict[str, Any]) -> None:
        self.function = function
        self.logical_id = function.logical_id
        to_worker_read, self._to_worker = os.pipe()
        self._from_worker, from_worker_write = os.pipe()
        try:
            self._pid = zygote.fork(environment, (to_worker_read, from_worker_write))
        except BaseException:
            os.close(self._to_worker)
            os.close(self._from_worker)
            raise
        finally:
            os.close(to_worker_read)
            os.close(from_worker_write)
        self.dead = False
        self.invocations = 0
        send(self._to_worker, init)

    @property
    def pid(self) -> int:
        return self._pid

    def wait_ready(self, timeout: float = INIT_TIMEOUT_SECONDS) -> int:
        """Wait for the handler's import; the init duration in ms. InstanceInitFailed if it failed."""
        try:
            message = self._receive(time.monotonic() + timeout)
        except (ChannelClosed, TimeoutError) as problem:
            self.kill()
            raise InstanceInitFailed(f"{self.logical_id}: the instance did not start ({problem!r})") from None
        if message.get("type") != "ready":
            self.kill()
            raise InstanceInitFailed(f"{self.logical_id}: {message.get('errorType')}: {message.get('errorMessage')}")
        return int(message.get("init_ms", 0))

    def invoke(self, event: Any, request_id: str, timeout: float) -> Any:
        self.invocations += 1
        active = [kind for kind in KINDS if getattr(FAULTS.plan, kind)]
        deadline = time.monotonic() + timeout
        try:
            send(self._to_worker, {"type": "invoke", "event": event, "request_id": request_id, "faults": active})
            while True:
                message = self._receive(deadline)
                match message.get("type"):
                    case "fault?":
                        send(self._to_worker, {"type": "fault", "hit": FAULTS.strikes(str(message["kind"]))})
                    case "result":
                        return message.get("value")
                    case "error":
                        raise FunctionError(self.logical_id, str(message.get("errorType")),
                                            str(message.get("errorMessage")))
                    case other:
                        raise InstanceCrashed(f"{self.logical_id}: unexpected message {other!r} from its instance")
        except TimeoutError:
            self.kill()
            raise FunctionTimedOut(
                f"{self.logical_id}: Task timed out after {timeout:.2f} seconds (instance {self.pid} stopped)"
            ) from None
        except (ChannelClosed, BrokenPipeError, OSError) as problem:
            self.kill()
            raise InstanceCrashed(f"{self.logical_id}: its process ({self.pid}) ended during the invocation "
                                  f"({type(problem).__name__})") from None

    def _receive(self, deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([self._from_worker], [], [], left)[0]:
            raise TimeoutError
        return receive(self._from_worker)

    @property
    def alive(self) -> bool:
        return not self.dead and is_running(self.pid)

    def close(self) -> None:
        """Close its pipe: an idle worker then exits (`wait_gone`)."""
        self._close_pipes()

    def wait_gone(self, deadline: float) -> None:
        """Wait until the process has exited, killing it at `deadline`."""
        while is_running(self.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.kill()

    def kill(self) -> None:
        self.dead = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._close_pipes()

    def _close_pipes(self) -> None:
        for name in ("_to_worker", "_from_worker"):
            fd = getattr(self, name)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, -1)


def is_running(pid: int) -> bool:
    """Whether the process exists (the zygote reaps its instances as they exit, so a pid that is gone is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class FunctionInstances:
    """The instances of one function: warm ones reused, new ones started up to its concurrency."""

    def __init__(self, function: LocalFunction, concurrency: int, zygote: Zygote, environment: Mapping[str, str],
                 init: dict[str, Any]) -> None:
        self.function = function
        self.zygote = zygote
        self.concurrency = concurrency
        self.environment = dict(environment)
        self.init = init
        self._idle: list[Instance] = []
        self._all: set[Instance] = set()
        self._starting = 0
        self._condition = threading.Condition()
        self._closed = False
        self.cold_starts = 0

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        instance = self._acquire()
        try:
            result = instance.invoke(event, request_id or str(uuid.uuid4()), float(self.function.spec.timeout))
        except BaseException:
            self._release(instance)
            raise
        self._release(instance)
        return result

    def warm(self) -> None:
        """Have one instance ready (the stack's start-up)."""
        self._release(self._acquire())

    def _acquire(self) -> Instance:
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError(f"{self.function.logical_id}: the local stack is stopping")
                if self._idle:
                    return self._idle.pop()
                # One cold start at a time per function: on a machine of two cores, a burst that started every
                # instance at once would wait longer for all of them than for one after another.
                if not self._starting and len(self._all) < self.concurrency:
                    self._starting += 1
                    break
                self._condition.wait()
        try:
            instance = Instance(self.function, self.zygote, self.environment, self.init)
            init_ms = instance.wait_ready()
        except BaseException:
            with self._condition:
                self._starting -= 1
                self._condition.notify()
            raise
        log.info("%s: cold start of instance %d in %d ms", self.function.logical_id, instance.pid, init_ms)
        with self._condition:
            self._starting -= 1
            self._all.add(instance)
            self.cold_starts += 1
            self._condition.notify_all()  # a waiter may start the next instance now
        return instance

    def _release(self, instance: Instance) -> None:
        with self._condition:
            if instance.alive and not self._closed:
                self._idle.append(instance)
            else:
                self._all.discard(instance)
                if self._closed:
                    instance.kill()
            self._condition.notify()

    def pids(self) -> list[int]:
        with self._condition:
            return sorted(instance.pid for instance in self._all)

    def close(self) -> list[Instance]:
        """Take no more invocations; every instance, its pipe closed (idle ones exit; busy ones are the caller's)."""
        with self._condition:
            self._closed = True
            instances = list(self._all)
            self._idle = []
            self._condition.notify_all()
        for instance in instances:
            instance.close()
        return instances


class WorkerRuntime:
    """Every function of a `LambdaRuntime` in worker processes; `invoke(name, event)` as LambdaRuntime's."""

    def __init__(self, lambdas: LambdaRuntime, local_environment: Mapping[str, str], *,
                 template_path: Path, cap: int | None = None, base_environment: Mapping[str, str] | None = None,
                 names: Iterable[Mapping[str, Any]] = (), zygote: Zygote | None = None) -> None:
        self.lambdas = lambdas
        base = dict(os.environ if base_environment is None else base_environment)
        shared = set(lambdas.shared_environment())
        for name in shared:
            base.pop(name, None)  # another function's variable is not this one's
        layers = [str(directory) for directory in layer_directories(lambdas.template, lambdas.root)]
        code = [*map(Path, layers), *(function.code_dir for function in lambdas.functions.values())]
        self.zygote = zygote or Zygote({**base, **local_environment}, library_imports(dict.fromkeys(code)))
        self.pools: dict[str, FunctionInstances] = {}
        for logical_id, function in lambdas.functions.items():
            environment = {**base, **local_environment, **function.lambda_environment()}
            module_path, _, attribute = function.spec.handler.rpartition(".")
            init = {
                "type": "init",
                "logical_id": logical_id,
                "function_name": function.name,
                "function_arn": function.arn,
                "memory_size": function.spec.memory_size,
                "timeout": function.spec.timeout,
                "log_stream_name": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
                "module_name": function.module_name,
                "handler_file": str(function.handler_file),
                "handler_attribute": attribute,
                "code_dir": str(function.code_dir),
                "layer_dirs": layers,
                "template": str(template_path),
                "names": list(names),
            }
            self.pools[logical_id] = FunctionInstances(
                function, function_concurrency(function.spec.reserved_concurrency, cap), self.zygote, environment,
                init)

    def pool(self, name: str) -> FunctionInstances:
        return self.pools[self.lambdas.function(name).logical_id]

    def concurrency(self, name: str) -> int:
        return self.pool(name).concurrency

    def invoke(self, name: str, event: Any, request_id: str | None = None) -> Any:
        return self.pool(name).invoke(event, request_id)

    def warm_all(self) -> dict[str, BaseException]:
        """One instance of every function, started together (cold starts at start-up); the ones that failed."""
        failures: dict[str, BaseException] = {}

        def warm(logical_id: str, pool: FunctionInstances) -> None:
            try:
                pool.warm()
            except Exception as error:  # a broken function must not stop the others
                log.error("%s failed to start: %s; its invocations will fail until fixed", logical_id, error)
                failures[logical_id] = error

        threads = [threading.Thread(target=warm, args=item, name=f"warm:{item[0]}") for item in self.pools.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return failures

    def pids(self) -> dict[str, list[int]]:
        return {logical_id: pool.pids() for logical_id, pool in self.pools.items()}

    def stop(self, timeout: float = 5.0) -> None:
        """Close every instance's pipe (idle ones exit), kill what is left after `timeout`, then the zygote."""
        instances = [instance for pool in self.pools.values() for instance in pool.close()]
        deadline = time.monotonic() + timeout
        for instance in instances:
            instance.wait_gone(deadline)
        self.zygote.stop()


def recorded_names() -> list[dict[str, Any]]:
    """The names the stack's recorder holds, for each worker's own recorder (the IAM check reads them per file)."""
    recorder = aws_calls.current()
    return recorder.names() if recorder is not None else []


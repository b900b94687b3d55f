"""The whole stack on this machine: `python -m local.stack [--data-dir .local] [--port 3000] [--ready-file PATH]`.

Starts, in order: the zygote that forks the functions' instances (local.workers), DynamoDB Local (Java; data
in `<data-dir>/dynamodb`), a moto server for SQS and Secrets Manager (in memory), the carrier sandbox (data in
`<data-dir>/carrier`), then creates the table from the models, the template's queues and the carrier secret
(local.assembly), and starts the SQS and stream event sources, the schedules and the API gateway. Each
function's instances start on demand, in processes of their own (local.workers). Everything listens on
127.0.0.1. When all of it answers, it prints the URLs and writes the ready file (`<data-dir>/stack.json` unless
`--ready-file`): JSON with every URL, port and the environment the handlers run with (local.invoke reads it).
Ctrl-C or SIGTERM stops everything, every function instance and Java included. `--port 0` picks free ports (the
tests do).

Environment given to the handlers (on top of template.yaml's, resolved with `Environment=local` and
`PublicBaseUrl=<gateway>/local`): AWS_REGION / AWS_DEFAULT_REGION (us-east-1), fake AWS credentials
(`local`/`local`), DYNAMODB_ENDPOINT and AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local),
AWS_ENDPOINT_URL_SQS, _SECRETS_MANAGER, _EVENTBRIDGE, _SSM and _API_GATEWAY (moto: queues, the carrier secret,
the bus, the template's SSM parameters and usage plans), CARRIER_API_URL (the sandbox),
POWERTOOLS_TRACE_DISABLED=true, AWS_EC2_METADATA_DISABLED=true.

Sign-in is against the local user pool (moto's, made from the template's; logins kept in
`<data-dir>/auth/logins.json`): the dev admin `dev@clinic.test` signs in with the password in
`<data-dir>/auth/dev-password` (printed at start), everyone else once a practice has added them, with the
temporary password of their invitation (listed at `GET /local/invitations`, as Cognito would email it).

Local-only endpoints on the gateway: `POST /local/cognito` (the pool's sign-in API, for the console's
local sign-in: InitiateAuth, RespondToAuthChallenge, AssociateSoftwareToken, VerifySoftwareToken),
`GET /local/invitations`, `GET /local/health`, `GET|POST|DELETE /local/faults` (faults injected on purpose:
SQS sends that fail, a crash after the carrier accepts, stream and queue records delivered twice; see
local/faults.py),
`POST /local/queues/wait-idle?timeout=10` (`{"idle": true}` as soon as the SQS and stream event sources have
nothing left to do, `{"idle": false}` after `timeout` seconds), `GET /local/event-sources[?trace=1]` (each
poller's batches and records so far; with `trace=1` and `LOCAL_TRACE_EVENT_SOURCES=1`, when each record was
handed over: the load bench times a text's hops with it), and the schedules' on-demand runs, which never
hold a request open for the length of a run (a campaign of hundreds of texts can outlast an HTTP timeout):

- `POST /local/schedules/<FunctionLogicalId>/run` starts a run of the function's schedule and answers at once:
  202, `Location: /local/schedules/<FunctionLogicalId>/runs/<run_id>`, and the run (below) as it is then
  (`running`, unless it was quick); 404 if template.yaml gives the function no schedule. Runs of one
  function take turns, like invocations of one Lambda instance.
- `GET /local/schedules/<FunctionLogicalId>/runs/<run_id>[?wait=<seconds>]`: 200 and the run,
  `{"function", "run_id", "status": "running" | "succeeded" | "failed", "started_at", "finished_at",
  "duration_ms", "result": what the handler returned (once succeeded), "error": {"errorType", "errorMessage"}
  (once failed)}`; `wait` first waits that long (at most 20 s) for the run to finish. 404 for a run it does
  not know (it keeps the last 100), 400 for a `wait` that is not a number of seconds.

Knobs (environment of the stack process): `LOCAL_CONCURRENCY=<n>` caps every function at n instances (see
local.workers); `LOCAL_SCHEDULE_SCALE=60` runs schedules 60x faster;
`LOCAL_QUEUE_VISIBILITY_TIMEOUT=2` gives every queue a 2 s visibility timeout, to see retries and the
dead-letter queue without waiting minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import fcntl
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from local import aws_calls, faults
from local.assembly import STAGE, CarrierAccount, Endpoints, assemble, local_environment
from local.auth import PoolAuthorizer, api_gateway_claims, published_keys
from local.dynamodb import DynamoDBLocal, answers
from local.gateway import Gateway, GatewayServer, HttpRequest, HttpResponse, json_response
from local.queues import TRACE, EventSources, MotoServer
from local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION
from local.scheduler import ScheduledRun, Scheduler
from local.template import api_routes, load_template, schedules
from local.user_pool import LocalLogins, dev_password, dev_password_file
from local.workers import WorkerRuntime, Zygote, concurrency_cap, recorded_names

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DEV_ADMIN = "dev@clinic.test"
SIGN_IN_OPERATIONS = ("InitiateAuth", "RespondToAuthChallenge", "AssociateSoftwareToken", "VerifySoftwareToken")
_STOP_ORDER = (
    "gateway",
    "logins",
    "scheduler",
    "SQS and stream event sources",
    "function instances",
    "carrier sandbox",
    "moto (SQS, Secrets Manager)",
    "DynamoDB",
)


class StackError(RuntimeError):
    """A start-up problem with a plain explanation (printed without a traceback)."""


class StackAlreadyRunning(StackError):
    pass


class LocalStack:
    """Starts and stops every local service; `info` describes the running stack (the ready file's content)."""

    def __init__(self, data_dir: Path, port: int = 3000, root: Path = ROOT) -> None:
        self.root = root
        self.data_dir = data_dir.resolve()
        self.port = port
        self.info: dict[str, Any] = {}
        self._stops: dict[str, Callable[[], None]] = {}
        self._lock_file: IO[str] | None = None

    def start(self) -> dict[str, Any]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        template = load_template(self.root / "template.yaml")
        # The IAM coverage check's recorder (tests/template/iam.py), before any AWS client exists.
        recording = os.environ.get(aws_calls.DIRECTORY_VARIABLE)
        recorder = aws_calls.install("local-stack", autoflush=True) if recording else None
        faults.install()  # before any handler makes a client, so every client can be failed on purpose

        try:
            server = GatewayServer(port=self.port)  # bind first: handlers need the public URL
        except OSError as error:
            raise StackError(
                f"cannot listen on 127.0.0.1:{self.port} ({error.strerror}); is another stack running? "
                "Stop it, or pick another port with --port (0: any free port)"
            ) from None
        self._stops["gateway"] = server.stop
        base_url = server.url

        started = time.monotonic()
        zygote = Zygote(os.environ)  # imports the functions' libraries while the rest starts
        self._stops["function instances"] = zygote.stop
        dynamodb = DynamoDBLocal(self.data_dir, self.root, startup_timeout=120)  # a JVM on a busy machine
        self._stops["DynamoDB"] = dynamodb.stop
        dynamodb.launch()  # the JVM starts while the rest does

        # The pool checks authenticator codes (moto's one fixed TOTP secret), as Cognito checks everyone's; its
        # id and its clients' ids follow from their settings, so the pool of the last run is this run's too and
        # tokens it issued stay good across a restart, as they do across deploys.
        os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
        os.environ["MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY"] = "HASH"
        os.environ["MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY"] = "HASH"
        moto = MotoServer()
        self._stops["moto (SQS, Secrets Manager)"] = moto.stop
        moto.start()

        carrier = self._start_carrier_sandbox()
        endpoints = Endpoints(dynamodb.endpoint_url, moto.endpoint_url, carrier)

        dynamodb.wait_ready()
        visibility = os.environ.get("LOCAL_QUEUE_VISIBILITY_TIMEOUT")
        local = assemble(template, endpoints, f"{base_url}/{STAGE}", root=self.root,
                         visibility_timeout=int(visibility) if visibility else None)
        if recorder is not None:
            aws_calls.name_local_stack(recorder, template, local.values)
        runtime = WorkerRuntime(local.lambdas, local_environment(endpoints), template_path=self.root / "template.yaml",
                                cap=concurrency_cap(), names=recorded_names(), zygote=zygote)
        self._stops["function instances"] = runtime.stop

        sources = local.event_sources(runtime.invoke, runtime.concurrency)
        self._stops["SQS and stream event sources"] = sources.stop
        sources.start()

        scale = float(os.environ.get("LOCAL_SCHEDULE_SCALE") or 1)
        scheduler = Scheduler(schedules(template), runtime.invoke, scale)
        self._stops["scheduler"] = scheduler.stop
        scheduler.start()

        pool = local.user_pool
        assert pool is not None
        logins = LocalLogins(local.client("cognito-idp"), pool, self.data_dir, LOCAL_REGION, LOCAL_ACCOUNT_ID)
        restored = logins.restore()
        logins.ensure_admin(DEV_ADMIN, dev_password(self.data_dir))
        log.info("user pool %s: %d login(s) restored", pool.pool_id, restored)
        authorizer = PoolAuthorizer(published_keys(f"{moto.endpoint_url}/{pool.pool_id}/.well-known/jwks.json"),
                                    f"https://cognito-idp.{LOCAL_REGION}.amazonaws.com/{pool.pool_id}",
                                    [pool.client_id, pool.sign_in_client_id])
        gateway = Gateway(
            api_routes(template),
            runtime.invoke,
            STAGE,
            authorizer.verify,
            api_gateway_claims,
            after_request=logins.save,
        )
        self._stops["logins"] = logins.save
        self._add_local_endpoints(gateway, logins, moto.endpoint_url, scheduler, sources)
        server.gateway = gateway
        server.start()

        self.info = {
            "pid": os.getpid(),
            "data_dir": str(self.data_dir),
            "stage": STAGE,
            "gateway_url": base_url,
            "api_url": f"{base_url}/{STAGE}",
            "console_url": f"{base_url}/console/",
            "cognito_url": f"{base_url}/local/cognito",
            "dev_admin": {"email": DEV_ADMIN, "password_file": str(dev_password_file(self.data_dir))},
            "carrier_sandbox_url": carrier.url if carrier else None,
            "dynamodb_endpoint": dynamodb.endpoint_url,
            "dynamodb_engine": dynamodb.engine,
            "dynamodb_pid": dynamodb.pid,
            "aws_endpoint": moto.endpoint_url,
            "ports": {
                "gateway": server.port,
                "dynamodb": int(dynamodb.endpoint_url.rsplit(":", 1)[1]),
                "moto": int(moto.endpoint_url.rsplit(":", 1)[1]),
                "carrier_sandbox": int(carrier.url.rsplit(":", 1)[1].split("/")[0]) if carrier else None,
            },
            "queues": {logical_id: endpoint.url for logical_id, endpoint in local.queues.items()},
            "physical_ids": local.values.physical_ids,
            "user_pool": dataclasses.asdict(local.user_pool) if local.user_pool else None,
            "functions": {f.logical_id: f.folder for f in local.lambdas.functions.values()},
            "concurrency": {logical_id: pool.concurrency for logical_id, pool in runtime.pools.items()},
            "function_errors": {},  # instances start on demand: a handler that fails to import fails its invocations
            "environment": local.environment,
        }
        answering = [base_url + "/local/health", dynamodb.endpoint_url, moto.endpoint_url]
        self._wait_until_answering(answering + ([carrier.url] if carrier else []))
        log.info("ready in %.1f s", time.monotonic() - started)
        return self.info

    def stop(self) -> None:
        """Stop everything started so far: callers (gateway, scheduler, pollers) first, DynamoDB last."""
        for name in _STOP_ORDER:
            stop = self._stops.pop(name, None)
            if stop is None:
                continue
            try:
                stop()
                log.info("stopped %s", name)
            except Exception:
                log.exception("stopping %s failed", name)
        if (recorder := aws_calls.current()) is not None:
            recorder.flush()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _take_lock(self) -> None:
        lock_file = open(self.data_dir / "stack.lock", "a+")  # held (locked) for the stack's life
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.close()
            raise StackAlreadyRunning(
                f"another local stack is using {self.data_dir} (see {self.data_dir / 'stack.json'}); stop it first"
            ) from None
        self._lock_file = lock_file

    def _start_carrier_sandbox(self) -> CarrierAccount | None:
        try:
            from local.carrier_sandbox import CarrierSandbox
        except ImportError as error:
            log.warning("carrier sandbox unavailable (%s): CARRIER_API_URL is not set", error)
            return None
        carrier = CarrierSandbox(self.data_dir / "carrier", host="127.0.0.1", port=0)
        self._stops["carrier sandbox"] = carrier.stop
        carrier.start()
        return CarrierAccount(carrier.url, carrier.account_sid, carrier.auth_token)

    def _add_local_endpoints(
        self, gateway: Gateway, logins: LocalLogins, aws_endpoint: str, scheduler: Scheduler, sources: EventSources
    ) -> None:
        client_id = logins.pool.sign_in_client_id

        def cognito(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
            target = request.header("X-Amz-Target") or ""
            if target.rsplit(".", 1)[-1] not in SIGN_IN_OPERATIONS:
                return json_response(400, {"__type": "InvalidParameterException",
                                           "message": f"only the sign-in operations: {', '.join(SIGN_IN_OPERATIONS)}"})
            try:
                payload = json.loads(request.body or b"{}")
            except ValueError:
                return json_response(400, {"__type": "InvalidParameterException", "message": "the body is not JSON"})
            if target.endswith(("InitiateAuth", "RespondToAuthChallenge")):
                payload["ClientId"] = client_id  # the console knows no client id locally: the pool has one for it
            forwarded = urllib.request.Request(aws_endpoint + "/", json.dumps(payload).encode(), method="POST",
                                               headers={"Content-Type": "application/x-amz-json-1.1",
                                                        "X-Amz-Target": target})
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(forwarded, timeout=30) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
            logins.save()
            return HttpResponse(status, [("Content-Type", "application/x-amz-json-1.1")], body)

        def invitations(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
            return json_response(200, {"invitations": logins.invitations()})

        def health(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
            return json_response(200, {"status": "ok", **{k: v for k, v in self.info.items() if k != "environment"}})

        def wait_idle(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
            timeout = float((query.get("timeout") or ["10"])[-1])
            return json_response(200, {"idle": sources.wait_idle(timeout)})

        def event_sources(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
            answer: dict[str, Any] = {"sources": sources.describe(), "tracing": TRACE.enabled}
            if (query.get("trace") or ["0"])[-1] == "1":
                answer["trace"] = TRACE.entries()
            return json_response(200, answer)

        gateway.add_local_endpoint("POST", "/local/cognito", cognito)
        gateway.add_local_endpoint("GET", "/local/invitations", invitations)
        gateway.add_local_endpoint("GET", "/local/health", health)
        gateway.add_local_endpoint("POST", "/local/queues/wait-idle", wait_idle)
        gateway.add_local_endpoint("GET", "/local/event-sources", event_sources)
        add_fault_endpoints(gateway)
        add_schedule_endpoints(gateway, scheduler)

    @staticmethod
    def _wait_until_answering(urls: list[str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for url in urls:
            while not answers(url):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} does not answer")
                time.sleep(0.1)


def add_fault_endpoints(gateway: Gateway) -> None:
    """`GET|POST|DELETE /local/faults`: what local/faults.py injects (400 naming the field for a bad plan)."""

    def show(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
        return json_response(200, faults.FAULTS.report())

    def set_plan(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
        try:
            plan = faults.FaultPlan.parse(json.loads(request.body or b"{}"))
        except ValueError as error:
            return json_response(400, {"message": str(error)})
        faults.FAULTS.set(plan)
        log.warning("faults injected from now on: %s", plan)
        return json_response(200, faults.FAULTS.report())

    def clear(request: HttpRequest, query: dict[str, list[str]], _: dict[str, str]) -> HttpResponse:
        report = faults.FAULTS.report()
        faults.FAULTS.clear()
        return json_response(200, report)

    gateway.add_local_endpoint("GET", "/local/faults", show)
    gateway.add_local_endpoint("POST", "/local/faults", set_plan)
    gateway.add_local_endpoint("DELETE", "/local/faults", clear)


MAX_RUN_WAIT_SECONDS = 20.0  # a `?wait=` longer than this is cut to it: clients poll again rather than hang


def add_schedule_endpoints(gateway: Gateway, scheduler: Scheduler) -> None:
    """`POST /local/schedules/<Fn>/run` (start a run, 202) and `GET /local/schedules/<Fn>/runs/<run_id>` (see the
    module's docstring)."""

    def described(status: int, run: ScheduledRun) -> HttpResponse:
        location = f"/local/schedules/{run.function_id}/runs/{run.run_id}"
        return json_response(status, run.describe(), [("Location", location)] if status == 202 else [])

    def start(request: HttpRequest, query: dict[str, list[str]], path: dict[str, str]) -> HttpResponse:
        try:
            run = scheduler.start_run(path["function_id"])
        except KeyError:
            return json_response(404, {"message": f"{path['function_id']} has no schedule in template.yaml"})
        return described(202, run)

    def report(request: HttpRequest, query: dict[str, list[str]], path: dict[str, str]) -> HttpResponse:
        try:
            run = scheduler.find_run(path["function_id"], path["run_id"])
        except KeyError:
            return json_response(404, {"message": f"{path['function_id']} has no run {path['run_id']} "
                                                  "(unknown, or older than the runs the stack keeps)"})
        try:
            wait = float((query.get("wait") or ["0"])[-1])
        except ValueError:
            wait = float("nan")
        if not 0 <= wait < float("inf"):
            return json_response(400, {"message": "wait must be a number of seconds, 0 or more"})
        run.wait(min(wait, MAX_RUN_WAIT_SECONDS))
        return described(200, run)

    gateway.add_local_endpoint("POST", r"/local/schedules/(?P<function_id>[^/]+)/run", start)
    gateway.add_local_endpoint("GET", r"/local/schedules/(?P<function_id>[^/]+)/runs/(?P<run_id>[^/]+)", report)


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def banner(info: dict[str, Any]) -> str:
    base = info["gateway_url"]
    carrier = info["carrier_sandbox_url"] or "(not available)"
    lines = [
        f"Switchboard local stack is up (stage {info['stage']!r}, data in {info['data_dir']})",
        f"  Console          {info['console_url']}",
        f"  API              {info['api_url']}/api/...   (also served at {base}/api/...)",
        f"  Carrier sandbox  {carrier}",
        f"  DynamoDB         {info['dynamodb_endpoint']}   ({info['dynamodb_engine']})",
        f"  SQS + Secrets    {info['aws_endpoint']}   (moto, in memory)",
        f"  Sign in          {info['dev_admin']['email']}, password in {info['dev_admin']['password_file']}",
        f"  Invitations      {base}/local/invitations   (the temporary passwords Cognito would email)",
        f'                   then: curl -H "Authorization: Bearer $TOKEN" {base}/api/...',
        f"  Schedules        curl -X POST {base}/local/schedules/<FunctionLogicalId>/run   (202: the run's URL;",
        f"                   then: curl {base}/local/schedules/<FunctionLogicalId>/runs/<run_id>?wait=20)",
        "Ctrl-C stops everything.",
    ]
    if info["function_errors"]:
        lines.insert(1, f"  !! functions that failed to load: {', '.join(info['function_errors'])} (see the log)")
    return "\n".join(lines)


class _Terminated(Exception):
    pass


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".local", help="where all local data lives")
    parser.add_argument("--port", type=int, default=3000, help="the gateway's port (0: any free port)")
    parser.add_argument("--ready-file", type=Path, help="JSON written when ready (default: <data-dir>/stack.json)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)-16s %(levelname)-7s %(message)s", stream=sys.stderr
    )
    for noisy in ("werkzeug", "botocore.credentials", "pynamodb.settings"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ready_file: Path = (args.ready_file or args.data_dir / "stack.json").resolve()

    # A shell starts a background job (`make run &`) with SIGINT ignored; the stack still stops on Ctrl-C.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: what every thread is doing, on stderr
    stack = LocalStack(args.data_dir, args.port)
    code = 0
    try:
        info = stack.start()
        write_ready_file(ready_file, info)
        print(banner(info), flush=True)
        threading.Event().wait()
    except (KeyboardInterrupt, _Terminated):
        log.info("stopping the local stack")
    except StackError as error:
        log.error("%s", error)
        code = 1
    except Exception:
        log.exception("the local stack failed")
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if ready_file.is_file() and stack.info:
            ready_file.unlink()
        stack.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())

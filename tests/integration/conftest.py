"""Integration tier: the local stack for real (DynamoDB Local, moto queues, carrier sandbox), over HTTP.

`local_stack` (session) runs `python -m local.stack --port 0` on a temporary data dir and yields a
`RunningStack` with its URLs, `token(email, groups)`, `request(...)`, `run_schedule(fn)` and
`wait_idle()`. The `start_stack` fixture starts more of them (restart and shutdown tests).

Waits are for a condition, with deadlines meant for a machine busy with other work (they cost nothing when
the condition comes on time): no request is held open longer than `REQUEST_TIMEOUT_SECONDS`, so long
operations (a schedule's run, waiting for the queues to drain) are polled in short requests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 180  # DynamoDB Local's JVM and every handler's import, on a busy machine
REQUEST_TIMEOUT_SECONDS = 60  # one HTTP request to the stack
SCHEDULE_RUN_TIMEOUT_SECONDS = 180  # a schedule's run to finish (a campaign of hundreds of texts)
IDLE_TIMEOUT_SECONDS = 60  # the event sources to have nothing left to do
_POLL_SECONDS = 10.0  # how long one polling request asks the stack to wait
TEST_PASSWORD = "Correct-horse-42-battery"  # what the people tests act as choose at their first sign-in


def totp_now(secret: str) -> str:
    """The code an authenticator app shows now for `secret` (base32), as Cognito checks it (RFC 6238)."""
    import base64

    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(time.time()).decode()
# What the stack process inherits: not the unit tier's fake AWS settings from tests/conftest.py.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME", "PYTHONPATH", "VIRTUAL_ENV",
              "SWITCHBOARD_AWS_CALLS_DIR")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    data_dir: Path
    output: Path
    info: dict[str, Any] = field(default_factory=dict)
    chosen_passwords: set[str] = field(default_factory=set)  # invited people who replaced their temporary one
    authenticators: dict[str, str] = field(default_factory=dict)  # email -> the TOTP secret they set up

    @property
    def gateway_url(self) -> str:
        return str(self.info["gateway_url"])

    @property
    def api_url(self) -> str:
        """The API base with the stage, like the execute-api URL: `<gateway>/local`."""
        return str(self.info["api_url"])

    @property
    def console_url(self) -> str:
        return str(self.info["console_url"])

    @property
    def carrier_sandbox_url(self) -> str | None:
        return self.info["carrier_sandbox_url"]

    def password_for(self, email: str, *, admin: bool = False) -> str:
        """What `email` types as their password: the dev admin's own; an admin login made for the test; an
        invited person's temporary password until they chose theirs."""
        from local.queues import aws_client
        from local.user_pool import ensure_admin_login

        if email == self.info["dev_admin"]["email"]:
            return Path(self.info["dev_admin"]["password_file"]).read_text(encoding="utf-8").strip()
        if admin:
            pool = self.info["user_pool"]["pool_id"]
            ensure_admin_login(aws_client("cognito-idp", self.info["aws_endpoint"]), pool, email, TEST_PASSWORD)
            return TEST_PASSWORD
        if email not in self.chosen_passwords:
            invitations = self.request("GET", "/local/invitations").json()["invitations"]
            found = [i["temporary_password"] for i in invitations if i["email"] == email]
            if found:
                return str(found[0])
        return TEST_PASSWORD

    def chose_password(self, email: str) -> None:
        self.chosen_passwords.add(email)

    def token(self, email: str = "dev@clinic.test", groups: Iterable[str] = ("admin",)) -> str:
        """An ID token of `email`, signed in through the stack's user pool: an enterprise admin (the `admin`
        group) gets a login made for them, as an operator would; anyone else must have been added to a
        practice, and first replaces their invitation's temporary password."""
        from local.queues import aws_client
        from local.user_pool import password_sign_in

        pool = self.info["user_pool"]
        cognito = aws_client("cognito-idp", self.info["aws_endpoint"])
        admin = "admin" in groups
        password = self.password_for(email, admin=True) if admin else TEST_PASSWORD
        tokens = password_sign_in(cognito, pool["pool_id"], pool["sign_in_client_id"], email, password,
                                  choose_password=not admin)
        if not admin:
            self.chose_password(email)
        return tokens["IdToken"]

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> Answer:
        """An HTTP request to the gateway (`path` with or without the stage prefix)."""
        sent_headers = dict(headers or {})
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.gateway_url + path, body, sent_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def sandbox(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A JSON request to the carrier sandbox's own endpoints (`/sandbox/...`), as a test drives the carrier."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.carrier_sandbox_url + path, data, {"Content-Type": "application/json"},
                                         method=method)
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            return json.load(answer)

    def start_schedule(self, function_id: str) -> Answer:
        """`POST /local/schedules/<fn>/run`: 202 and the run just started (its URL in `Location`), or 404."""
        return self.request("POST", f"/local/schedules/{function_id}/run")

    def run_schedule(self, function_id: str, timeout: float = SCHEDULE_RUN_TIMEOUT_SECONDS) -> dict[str, Any]:
        """Run a function's schedule now and wait for it to finish; the finished run (`result` is what the
        handler returned). Fails the test if the run fails or is still going after `timeout` seconds."""
        started = self.start_schedule(function_id)
        assert started.status == 202, f"{function_id}: {started.status} {started.body[:500]!r}"
        run: dict[str, Any] = started.json()
        location = started.headers["Location"]
        deadline = time.monotonic() + timeout
        while run["status"] == "running":
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{function_id}'s scheduled run {run['run_id']} still running after {timeout:.0f} s:\n"
                            f"{self.logs()[-5000:]}")
            answer = self.request("GET", f"{location}?wait={min(_POLL_SECONDS, left):.1f}")
            assert answer.status == 200, f"{location}: {answer.status} {answer.body[:500]!r}"
            run = answer.json()
        if run["status"] != "succeeded":
            pytest.fail(f"{function_id}'s scheduled run failed: {run['error']}\n{self.logs()[-5000:]}")
        return run

    def wait_idle(self, timeout: float = IDLE_TIMEOUT_SECONDS) -> bool:
        """Wait until the SQS and stream event sources have nothing left to process (False if they still have
        after `timeout` seconds), asking the stack in short requests."""
        deadline = time.monotonic() + timeout
        while True:
            chunk = max(0.1, min(_POLL_SECONDS, deadline - time.monotonic()))
            answer = self.request("POST", f"/local/queues/wait-idle?timeout={chunk:.1f}",
                                  timeout=chunk + REQUEST_TIMEOUT_SECONDS)
            if answer.json()["idle"]:
                return True
            if time.monotonic() >= deadline:
                return False

    def logs(self) -> str:
        return self.output.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C the stack and wait for it to exit; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGUSR1)  # the stack writes where each of its threads is
                time.sleep(2)
                self.process.kill()
                self.process.wait()
                pytest.fail(f"the local stack ignored Ctrl-C for {timeout} s:\n{self.logs()[-12000:]}")
        return int(self.process.returncode)


def project_pythonpath() -> list[str]:
    """The import roots pytest itself uses (pyproject.toml), so the stack imports what the tests import."""
    with open(ROOT / "pyproject.toml", "rb") as config:
        entries: list[str] = tomllib.load(config)["tool"]["pytest"]["ini_options"]["pythonpath"]
    return entries


def _as_a_shells_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell does to a job started with `&`


def start_local_stack(data_dir: Path, extra_env: dict[str, str] | None = None, *,
                      as_background_job: bool = False) -> RunningStack:
    """Start `python -m local.stack --port 0` on `data_dir` and wait for its ready file (`as_background_job`:
    started the way a shell starts `make run &`, SIGINT ignored)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ready_file = data_dir / "stack.json"  # where `local.invoke` looks for a running stack
    ready_file.unlink(missing_ok=True)
    output = data_dir / "stack.out"
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / entry) for entry in project_pythonpath())
    env.update(extra_env or {})
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.stack",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                "--ready-file",
                str(ready_file),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            preexec_fn=_as_a_shells_background_job if as_background_job else None,
        )
    stack = RunningStack(process, data_dir, output)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not ready_file.is_file():
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            pytest.fail(f"the local stack did not become ready (exit {process.returncode}):\n{stack.logs()}")
        time.sleep(0.1)
    stack.info = json.loads(ready_file.read_text())
    if stack.info["function_errors"]:
        stack.stop()
        pytest.fail(f"functions failed to load: {stack.info['function_errors']}\n{stack.logs()}")
    return stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def start_stack() -> Iterator[Callable[[Path], RunningStack]]:
    """Start more stacks (`start_stack(data_dir)`); any still running at the end of the test is stopped."""
    started: list[RunningStack] = []

    def start(data_dir: Path, **options: Any) -> RunningStack:
        started.append(start_local_stack(data_dir, **options))
        return started[-1]

    yield start
    for stack in started:
        stack.stop()

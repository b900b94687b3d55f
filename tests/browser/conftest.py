"""Browser tier: the console in Debian's headless Chromium (Python Playwright), on the local stack.

Fixtures: `local_stack` (the integration tier's: a stack of its own for this tier), `browser` (one Chromium
for the session), `console` (a fresh browser context and page per test, with sign-in and screenshot
helpers; any JavaScript error or CSP violation fails the test), `admin_api` (the admin API as the dev
admin, for set-up that is not what a test is about) and `practice` (one practice for the session).
Screenshots go to tests/browser/screenshots/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.clock import WEEKDAYS
from tests.integration.conftest import (  # noqa: F401  (local_stack: the fixture)
    REQUEST_TIMEOUT_SECONDS,
    TEST_PASSWORD,
    RunningStack,
    local_stack,
    totp_now,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
# Every action's and every expect()'s wait: pages poll the stack, which answers slowly on a busy machine. A wait
# ends as soon as its condition holds, so this costs time only when a test is failing.
TIMEOUT_MS = 30_000
# Open around the clock, in spans the console's time inputs can show (they cannot show 24:00): a practice whose
# patients' texts never get an after-hours reply, whatever the day and time the tier runs.
ALWAYS_OPEN = {day: [{"opens": "00:00", "closes": "12:00"}, {"opens": "12:00", "closes": "00:00"}] for day in WEEKDAYS}
# Chromium logs every 4xx/5xx fetch as a console error; the tests provoke some on purpose.
_EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of (4\d\d|502)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -r requirements-dev.txt")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make setup does)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class AdminApi:
    stack: RunningStack
    token: str

    def __call__(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> Any:
        answer = self.stack.request(method, f"/api/{path}", token=token or self.token, json_body=body)
        assert answer.status < 300, f"{method} {path} answered {answer.status}: {answer.body[:500]!r}"
        return answer.json()

    def buy_line(self, practice_id: str, name: str) -> dict[str, Any]:
        available = self("GET", f"practices/{practice_id}/available-numbers?area_code=628")
        owned = {line["number"] for line in self("GET", f"practices/{practice_id}/lines")}
        number = next(n["phone_number"] for n in available if n["phone_number"] not in owned)
        return dict(self("POST", f"practices/{practice_id}/lines/purchase", {"display_name": name, "number": number}))


@pytest.fixture(scope="session")
def admin_api(local_stack: RunningStack) -> AdminApi:  # noqa: F811
    return AdminApi(local_stack, local_stack.token())


@pytest.fixture(scope="session")
def practice(admin_api: AdminApi) -> dict[str, Any]:
    """The session's practice, with the hours a new practice starts with (pages that edit hours expect those)."""
    return dict(admin_api("POST", "practices", {"name": "Maple Family Clinic", "timezone": "America/Los_Angeles"}))


@pytest.fixture(scope="session")
def open_practice(admin_api: AdminApi) -> dict[str, Any]:
    """A practice open around the clock, for tests that text its patients and read the threads."""
    return dict(admin_api("POST", "practices", {"name": "Maple Family Clinic", "timezone": "America/Los_Angeles",
                                                "hours": ALWAYS_OPEN}))


def sandbox_call(stack: RunningStack, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.carrier_sandbox_url}{path}", data, {"Content-Type": "application/json"},
                                     method=method)
    with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
        return json.loads(answer.read() or b"null")


@pytest.fixture(scope="session")
def simulator_reachable(local_stack: RunningStack) -> bool:  # noqa: F811
    """Whether a console page may call the carrier sandbox (it needs CORS for the gateway's origin)."""
    if not local_stack.carrier_sandbox_url:
        return False
    request = urllib.request.Request(f"{local_stack.carrier_sandbox_url}/sandbox/messages", method="OPTIONS",
                                     headers={"Origin": local_stack.gateway_url,
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            return answer.headers.get("Access-Control-Allow-Origin") in (local_stack.gateway_url, "*")
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def needs_simulator(simulator_reachable: bool) -> None:
    if not simulator_reachable:
        pytest.skip("the phone simulator needs the carrier sandbox to answer CORS for the gateway's origin "
                    "(OPTIONS and Access-Control-Allow-Origin on /sandbox/... in local/carrier_sandbox/http.py)")


@dataclass
class Console:
    """One browser context and page on the console, signed in as someone."""

    stack: RunningStack
    context: Any
    page: Any
    problems: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.stack.console_url  # <gateway>/console/

    def settled(self) -> Any:
        """Wait until the page in view has rendered (the shell marks <main> busy while a page loads)."""
        self.page.wait_for_selector("main#view:not([aria-busy]) h1")
        return self.page

    def goto(self, route: str = "") -> Any:
        self.page.goto(self.base + route)
        return self.settled()

    def sign_in(self, email: str = "dev@clinic.test", *, admin: bool = False, practice_id: str | None = None) -> None:
        """Sign in through the console's form against the stack's user pool, answering what the pool asks: an
        invited person's temporary password is replaced and their authenticator set up on first sign-in."""
        page = self.page
        page.goto(self.base + "signin")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(self.stack.password_for(email, admin=admin))
        page.get_by_role("button", name="Sign in", exact=True).click()
        main = page.get_by_role("navigation", name="Main")
        challenge = page.locator("#challenge-title")
        page.locator('nav[aria-label="Main"] a, #challenge-title').first.wait_for()
        for _ in range(3):
            if main.is_visible() or not challenge.count():
                break
            title = challenge.inner_text()
            if title == "Choose your password":
                page.get_by_label("New password").fill(TEST_PASSWORD)
                self.stack.chose_password(email)
            else:
                if title == "Set up your authenticator app":
                    self.stack.authenticators[email] = page.locator(".totp-secret").inner_text()
                page.get_by_label("Code from your authenticator app").fill(totp_now(self.stack.authenticators[email]))
            page.get_by_role("button", name="Continue").click()
            moved_on = f'nav[aria-label="Main"] a, #challenge-title:not(:text-is({json.dumps(title)}))'
            page.locator(moved_on).first.wait_for()
        main.wait_for()
        if practice_id and page.locator("#practice-select").count():
            page.select_option("#practice-select", practice_id)
            page.wait_for_function(f"sessionStorage.getItem('sb.practice') === {json.dumps(practice_id)}")

    def nav(self, name: str) -> Any:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
        return self.settled()

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def console(browser: Any, local_stack: RunningStack) -> Iterator[Console]:  # noqa: F811
    context = browser.new_context(viewport=LAPTOP, locale="en-US", timezone_id="America/Los_Angeles")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=local_stack.gateway_url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    opened = Console(local_stack, context, page)

    def on_console(message: Any) -> None:
        if message.type == "error" and not _EXPECTED_CONSOLE.search(message.text):
            opened.problems.append(f"console error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.problems.append(f"page error: {error}"))
    try:
        yield opened
    finally:
        context.close()
    assert not opened.problems, "the console logged errors:\n" + "\n".join(opened.problems)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def unused_mobile(stack: RunningStack) -> str:
    """A patient number the sandbox has never texted: +1 628 5xx xxxx (mobile, outside 555-0190…0199)."""
    while True:
        candidate = f"+1628{uuid.uuid4().int % 10**7:07d}"
        if candidate[5] in "01" or candidate[5:8] == "555":
            continue
        if not sandbox_call(stack, "GET", f"/sandbox/messages?to=%2B{candidate[1:]}")["messages"]:
            return candidate

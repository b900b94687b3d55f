"""Pytest plugin: a test fails when the logs written while it ran carry patient data.

Enable it for every run with one line in tests/conftest.py:

    pytest_plugins = ["tests.patient_data_guard"]

(or for one run: `pytest -p tests.patient_data_guard`).

What is read:
- every log record this process emits at INFO or above: a tap on each logger that has handlers of its own
  formats the record with that logger's own formatter, so the Powertools Logger's JSON (which goes to stdout
  through its own handler, with its patient-data masking) is checked exactly as written; a tap on the root
  logger reads the records of every other logger (the root logger is lowered to INFO for the session, so INFO
  records exist to be read);
- the output of every local stack a test started under the session's temporary directory (`stack.out`, as
  `tests/integration/conftest.py:start_local_stack` writes it), read after each test for what it added.

What counts as patient data:
- any North American phone number in any common writing: +14155552671, 14155552671, 4155552671,
  (415) 555-2671, 415.555.2671, 415-555-2671, +1 415 555 2671, %2B14155552671; the masked form the product
  logs (+1415•••2671) is fine;
- any message body the tests produced (bodies of MIN_BODY characters or more; shorter ones, such as "STOP"
  or "Yes", are too common to tell apart): what was stored (`new_message` where `switchboard.data` stores messages),
  what reached an in-process carrier sandbox (`Messages.new_message`), what webhooks carried
  (`switchboard.edge.webhooks._body_text`: their `Body` parameter), and what a local stack's carrier sandbox holds
  (`<data dir>/carrier/carrier.json`).

A leak fails the test in whose setup, call or teardown it was logged, with the logger and the line, the
patient data in it masked. Stack output written after the last test is checked at the end of the session.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

MIN_BODY = 8
PHONE = re.compile(
    r"(?<![\w+%])(?<!\d\.)"  # not glued to a word, a plus, an escape, or the digits after a decimal point
    r"(?:(?:\+|%2B)\s?1[\s.\-]?|1[\s.\-]?)?"
    r"(?:\([2-9]\d{2}\)|[2-9]\d{2})[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}"
    r"(?!\w)(?!\.\d)"
)
_SEEN: weakref.WeakSet[logging.LogRecord] = weakref.WeakSet()  # records a logger's own tap has read


def mask(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return f"…{digits[-4:]}" if len(digits) >= 4 else "…"


def phones_in(text: str) -> list[str]:
    return [match.group() for match in PHONE.finditer(text)]


class Guard:
    """What was logged since the last look, and the patient data to look for in it."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.bodies: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.tapped: set[str] = set()
        self.stack_outputs: dict[Path, int] = {}
        self.carrier_files: dict[Path, float] = {}
        self.scanned_dirs: set[Path] = set()
        self.late_leaks: list[str] = []

    # -- what to look for ---------------------------------------------------------------------------------

    def add_bodies(self, bodies: Iterable[Any]) -> None:
        fresh = {b.strip() for b in bodies if isinstance(b, str) and len(b.strip()) >= MIN_BODY}
        with self._lock:
            if fresh - self.bodies:
                self.bodies |= fresh
                self._pattern = None

    def _body_pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self.bodies:
                alternatives = sorted(self.bodies, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(b) for b in alternatives))
            return self._pattern

    def leaks(self, source: str, text: str) -> list[str]:
        found = []
        for line in text.splitlines():
            numbers = phones_in(line)
            pattern = self._body_pattern()
            bodies = pattern.findall(line) if pattern else []
            if numbers or bodies:
                shown = line
                for number in numbers:
                    shown = shown.replace(number, f"<phone {mask(number)}>")
                for body in bodies:
                    shown = shown.replace(body, f"<message body, {len(body)} chars>")
                found.append(f"{source}: {shown[:400]}")
        return found

    # -- where to look --------------------------------------------------------------------------------------

    def capture(self, source: str, text: str) -> None:
        with self._lock:
            self.lines.append((source, text))

    def take_lines(self) -> list[tuple[str, str]]:
        with self._lock:
            lines, self.lines = self.lines, []
        return lines

    def tap_loggers(self) -> None:
        """A tap on every logger with handlers of its own (new loggers appear as modules load)."""
        manager = logging.Logger.manager
        for name, candidate in list(manager.loggerDict.items()):
            if name in self.tapped or not isinstance(candidate, logging.Logger):
                continue
            own = [h for h in candidate.handlers if not isinstance(h, Tap)]
            if own:
                candidate.addHandler(Tap(self, name, own[0].formatter))
                self.tapped.add(name)

    def read_stack_outputs(self, base: Path | None, *, everything: bool = False) -> list[str]:
        if base is None or not base.exists():
            return []
        children = [p for p in base.iterdir() if p.is_dir()]
        for child in children:
            if everything or child not in self.scanned_dirs:
                self.scanned_dirs.add(child)
                for output in child.rglob("stack.out"):
                    self.stack_outputs.setdefault(output, 0)
        found: list[str] = []
        for output, offset in list(self.stack_outputs.items()):
            self._harvest_carrier(output.parent / "carrier" / "carrier.json")
            try:
                with open(output, "rb") as stream:
                    stream.seek(offset)
                    added = stream.read()
            except OSError:
                continue
            self.stack_outputs[output] = offset + len(added)
            if added:
                found += self.leaks(f"local stack ({output.parent.name}/stack.out)", added.decode(errors="replace"))
        return found

    def _harvest_carrier(self, state_file: Path) -> None:
        try:
            changed = state_file.stat().st_mtime
        except OSError:
            return
        if self.carrier_files.get(state_file) == changed:
            return
        self.carrier_files[state_file] = changed
        try:
            messages = json.loads(state_file.read_text()).get("state", {}).get("messages", {})
        except (OSError, ValueError):
            return
        self.add_bodies(m.get("body") for m in messages.values())


class Tap(logging.Handler):
    """Hands each record, formatted as its logger's own handler writes it, to the guard."""

    def __init__(self, guard: Guard, source: str, formatter: logging.Formatter | None, root: bool = False) -> None:
        super().__init__(logging.INFO)
        self.guard, self.source, self.root = guard, source, root
        self.own_formatter = formatter

    def emit(self, record: logging.LogRecord) -> None:
        if self.root and record in _SEEN:
            return  # its own logger's tap read it as written
        _SEEN.add(record)
        try:
            if self.own_formatter is not None:
                text = self.own_formatter.format(record)
            else:
                text = record.getMessage() + (f"\n{self.format(record)}" if record.exc_info else "")
        except Exception:  # a record that cannot be formatted is not this plugin's business
            return
        self.guard.capture(record.name if self.root else self.source, text)


GUARD = Guard()


def _wrap(owner: Any, name: str, harvest: Any) -> None:
    original = getattr(owner, name)
    if getattr(original, "_patient_data_guard", False):
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        try:
            harvest(result, *args, **kwargs)
        except Exception:  # never break the code under test
            pass
        return result

    wrapper._patient_data_guard = True  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def _webhook_bodies(text: Any, *_: Any, **__: Any) -> None:
    if not isinstance(text, str) or not text:
        return
    values = parse_qs(text, keep_blank_values=True).get("Body", [])
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        values += [v for k, v in document.items() if k in ("Body", "body") and isinstance(v, str)]
    GUARD.add_bodies(values)


def _install_harvesters() -> None:
    try:
        from switchboard.data import intake, outgoing, patient_texts
        from switchboard.edge import webhooks

        for storing in (intake, outgoing, patient_texts):
            _wrap(storing, "new_message", lambda item, *a, **k: GUARD.add_bodies([k.get("body")]))
        _wrap(webhooks, "_body_text", _webhook_bodies)
    except Exception:  # the layer is not importable in this run: numbers are still checked
        pass
    try:
        from local.carrier_sandbox.messages import Messages

        _wrap(Messages, "new_message", lambda message, *a, **k: GUARD.add_bodies([k.get("body")]))
    except Exception:
        pass


def _basetemp(config: pytest.Config) -> Path | None:
    factory = getattr(config, "_tmp_path_factory", None)
    try:
        return factory.getbasetemp() if factory is not None else None
    except Exception:
        return None


_root_tap: Tap | None = None
_root_level: int | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    global _root_tap, _root_level
    _install_harvesters()
    root = logging.getLogger()
    _root_tap = Tap(GUARD, "root", None, root=True)
    root.addHandler(_root_tap)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        _root_level = root.level
        root.setLevel(logging.INFO)
    GUARD.tap_loggers()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    GUARD.tap_loggers()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    GUARD.tap_loggers()
    found = [leak for source, text in GUARD.take_lines() for leak in GUARD.leaks(source, text)]
    if call.when == "teardown":
        found += GUARD.read_stack_outputs(_basetemp(item.config))
    if not found:
        return
    message = (f"patient data in the logs during {call.when} ({len(found)} line(s)); masked here:\n"
               + "\n".join(found[:20]))
    if report.passed:
        report.outcome = "failed"
        report.longrepr = message
    else:
        report.sections.append(("patient data in the logs", message))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    GUARD.late_leaks = [leak for source, text in GUARD.take_lines() for leak in GUARD.leaks(source, text)]
    GUARD.late_leaks += GUARD.read_stack_outputs(_basetemp(session.config), everything=True)
    root = logging.getLogger()
    if _root_tap is not None:
        root.removeHandler(_root_tap)
    if _root_level is not None:
        root.setLevel(_root_level)
    if GUARD.late_leaks and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if GUARD.late_leaks:
        terminalreporter.section("patient data in the logs after the last test", red=True)
        for leak in GUARD.late_leaks[:40]:
            terminalreporter.line(leak)

"""Pytest plugin: record every AWS call the handlers make (local/aws_calls.py), for the IAM coverage check.

Loaded for every run from tests/conftest.py (`pytest_plugins`). For the whole session it:

- sets `SWITCHBOARD_AWS_CALLS_DIR` (default `<repo>/.local/aws-calls`) in `os.environ`, so the local stacks the
  integration, reliability and browser tiers start (tests/integration/conftest.py passes it on) record too;
- installs the recorder in this process (the unit tier and the in-process reliability tests call handlers
  here) with the names the handlers get from template.yaml's variables, and writes it at the end;
- adds to what earlier sessions recorded (`make test` starts from an empty directory, so calls the code no
  longer makes do not linger);
- runs tests/template/test_iam_coverage.py last, after every tier that records, and prints its report in the
  terminal summary.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local import aws_calls
from local.template import load_template

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_TEST = ROOT / "tests" / "template" / "test_iam_coverage.py"
REPORT = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(aws_calls.DIRECTORY_VARIABLE, str(aws_calls.DEFAULT_DIRECTORY))
    recorder = aws_calls.install("pytest")
    recorder.watch_template(load_template(ROOT / "template.yaml"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    last = [item for item in items if item.path == COVERAGE_TEST]
    if last:
        items[:] = [item for item in items if item.path != COVERAGE_TEST] + last


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = aws_calls.current()
    if recorder is not None:
        recorder.flush()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    report = config.stash.get(REPORT, None)
    if report:
        terminalreporter.write_sep("=", "IAM coverage (tests/template/test_iam_coverage.py)")
        terminalreporter.write_line(report)

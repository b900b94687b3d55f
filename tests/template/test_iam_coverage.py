"""Every AWS call a function made in the test tiers is allowed by its IAM policy as CloudFormation deploys it.

The calls are the record files local/aws_calls.py wrote while the unit, integration (and reliability,
browser) tiers ran: tests/aws_calls_plugin.py records this process and passes the directory to the local
stacks. In one `make test` run this module runs last (the plugin orders it). The report (calls per function,
grants never used) is printed in the terminal summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from local import aws_calls
from tests.aws_calls_plugin import REPORT
from tests.template import iam
from tests.template.cloudformation import DEPLOY_PARAMETERS, deployed_template

pytestmark = pytest.mark.template

# Functions that make no AWS call by design, and why: the check fails if one of them ever records a call.
NO_AWS_CALLS: dict[str, str] = {}


@pytest.fixture(scope="module")
def records() -> list[iam.RecordFile]:
    recorder = aws_calls.current()
    if recorder is not None:
        recorder.flush()  # this process's own calls (the unit tier), up to now
    directory = aws_calls.directory_from_environment()
    found = [record for record in iam.load_records(Path(directory)) if record.calls or record.errors]
    if not found:
        pytest.fail(f"no recorded AWS calls in {directory}: run the unit and integration tiers first: make test does")
    return found


@pytest.fixture(scope="module")
def coverage(records: list[iam.RecordFile], request: pytest.FixtureRequest) -> iam.Coverage:
    result = iam.check(deployed_template(), records, DEPLOY_PARAMETERS)
    text = iam.report(result, records)
    request.config.stash[REPORT] = text
    print(text)
    return result


def test_every_recorded_call_could_be_checked(coverage: iam.Coverage) -> None:
    assert not coverage.problems, "\n".join(coverage.problems)


def test_every_recorded_call_is_allowed_by_its_functions_policy(coverage: iam.Coverage) -> None:
    refused = iam.refusals(coverage)
    assert not refused, "not allowed by the function's policy in the deployed template:\n" + "\n".join(refused)


def test_every_function_made_a_recorded_call_unless_it_makes_none_by_design(coverage: iam.Coverage) -> None:
    called = set(coverage.distinct_calls)
    silent = sorted(set(coverage.functions) - called - set(NO_AWS_CALLS))
    stale = sorted(folder for folder in NO_AWS_CALLS if folder in called)
    unknown = sorted(set(NO_AWS_CALLS) - set(coverage.functions))
    problems = [f"{folder}: no AWS call recorded (is it tested? if it makes none by design, add it to NO_AWS_CALLS "
                "with the reason)" for folder in silent]
    problems += [f"{folder}: in NO_AWS_CALLS but made AWS calls; take it out" for folder in stale]
    problems += [f"{folder}: in NO_AWS_CALLS but the template has no such function" for folder in unknown]
    assert not problems, "\n".join(problems)


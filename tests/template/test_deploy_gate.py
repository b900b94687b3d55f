"""The stack as CloudFormation receives it: the translated template lints clean and passes the IaC scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.template import load_template
from tests.template.cloudformation import deployed_template, language_extensions_expanded
from tests.template.test_template import FOR_EACH_TEMPLATE, REPO_ROOT, run_tool, tool

pytestmark = pytest.mark.template

SCAN_BIN = REPO_ROOT / ".venv-scan" / "bin"


def _write(template: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return path


def with_sam_skips(translated: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """A scan skip written on a SAM resource also covers what SAM generates from it (`Api` -> `ApiStage`)."""
    skipping = {logical_id: resource["Metadata"]["checkov"] for logical_id, resource in source["Resources"].items()
                if (resource.get("Metadata") or {}).get("checkov")}
    for logical_id, resource in translated["Resources"].items():
        owners = [owner for owner in skipping if logical_id.startswith(owner) and logical_id not in source["Resources"]]
        if owners:
            resource.setdefault("Metadata", {})["checkov"] = skipping[max(owners, key=len)]
    return translated


def _alarms(template: dict[str, Any]) -> dict[str, Any]:
    return {logical_id: resource for logical_id, resource in template["Resources"].items()
            if resource["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("template", ["template.yaml", "every use of Fn::ForEach the loader knows"])
def test_the_local_loader_expands_fn_foreach_as_sam_clis_language_extensions_do(template: str, tmp_path: Path) -> None:
    path = REPO_ROOT / template
    if template != "template.yaml":
        path = tmp_path / "for_each.yaml"
        path.write_text(FOR_EACH_TEMPLATE, encoding="utf-8")

    expanded, read = language_extensions_expanded(path), load_template(path)

    for section in ("Conditions", "Resources", "Outputs"):
        assert read.get(section) == expanded.get(section), f"local.template expands {section} otherwise"


def test_the_alarms_deployed_are_the_ones_the_template_readers_see() -> None:
    deployed, read = _alarms(deployed_template()), _alarms(load_template(REPO_ROOT / "template.yaml"))

    assert deployed == read
    assert {"AdminApiErrorsAlarm", "ConsoleThrottlesAlarm", "HandoffIteratorAgeAlarm"} <= set(deployed)


def test_the_translated_template_has_no_lint_findings_circular_dependencies_included(tmp_path: Path) -> None:
    translated = _write(deployed_template(), tmp_path / "deployed.json")

    result = run_tool([tool("cfn-lint"), "--format", "parseable", translated])

    assert result.returncode == 0 and not result.stdout.strip(), (
        f"cfn-lint on the translated template exited {result.returncode}:\n{result.stdout}{result.stderr}")


def test_the_iac_scan_finds_nothing_but_what_the_template_skips_with_a_reason(tmp_path: Path) -> None:
    checkov = SCAN_BIN / "checkov"
    if not checkov.exists():
        pytest.fail(f"{checkov.relative_to(REPO_ROOT)} is missing: make test installs requirements-scan.txt")
    source = load_template(REPO_ROOT / "template.yaml")
    translated = _write(with_sam_skips(deployed_template(), source), tmp_path / "deployed.json")

    result = run_tool([checkov, "--file", translated, "--framework", "cloudformation", "--output", "json",
                       "--compact", "--skip-download"], timeout=300)

    assert result.stdout.strip(), f"checkov printed nothing (exit {result.returncode}):\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    results = report["results"] if isinstance(report, dict) else {}
    failed = [f"{check['check_id']} {check['resource']}: {check['check_name']}"
              for check in results.get("failed_checks", [])]
    assert not failed, "checkov findings (fix them, or skip in template.yaml with a reason):\n" + "\n".join(failed)
    skipped = results.get("skipped_checks", [])
    unexplained = [f"{check['check_id']} {check['resource']}" for check in skipped
                   if len((check.get("check_result") or {}).get("suppress_comment") or "") < 20]
    assert not unexplained, "skips without a reason a reviewer can read:\n" + "\n".join(unexplained)
    written = {(logical_id, skip["id"]) for logical_id, resource in source["Resources"].items()
               for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])}
    used = {(check["resource"].split(".", 1)[1], check["check_id"]) for check in skipped}
    stale = sorted(f"{logical_id} {check_id}" for logical_id, check_id in written
                   if not any(u_check == check_id and u_id.startswith(logical_id) for u_id, u_check in used))
    assert not stale, "skips in template.yaml that no longer skip anything (remove them):\n" + "\n".join(stale)

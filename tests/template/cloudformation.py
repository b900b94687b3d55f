"""template.yaml as CloudFormation deploys it: translated by aws-sam-translator the way `sam deploy` does.

`deployed_template()` is the one place the tiers get it (the IAM coverage check, the lint of the translated
template); it is translated once per session and each call returns a fresh copy. What differs from a real
deploy, on purpose: CodeUri / ContentUri become `s3://switchboard-artifacts/<the path as written>` (so a
function's `Code.S3Key` is its folder, `functions/admin_api`), parameters are `DEPLOY_PARAMETERS` over their
defaults, and the managed-policy loader answers from `MANAGED_POLICY_ARNS` instead of asking IAM.

The translator is the tool environment's (.venv-tools, the one aws-sam-cli uses): aws-sam-translator 1.115.0
pins pydantic~=2.13.3, and the layer pins pydantic 2.14.3, so it cannot be installed beside the layer in .venv.
When this interpreter has that very version it translates in-process; otherwise this file runs in
.venv-tools/bin/python (`python tests/template/cloudformation.py template.yaml` prints the JSON).
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
TOOLS_PYTHON = ROOT / ".venv-tools" / "bin" / "python"
SAM_TRANSLATOR_VERSION = "1.115.0"  # aws-sam-cli 1.170.0's (requirements-tools.txt)
ARTIFACT_BUCKET = "switchboard-artifacts"
REGION = "us-east-1"
DEPLOY_PARAMETERS = {"Environment": "local"}
# What the managed-policy loader gives SAM: the AWS managed policies it may attach by name.
MANAGED_POLICY_ARNS = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "AWSLambdaSQSQueueExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
}


class FixedManagedPolicies:
    """samtranslator's ManagedPolicyLoader, without IAM."""

    def load(self) -> dict[str, str]:
        return dict(MANAGED_POLICY_ARNS)


def _artifacts_in_s3(template: dict[str, Any]) -> None:
    for resource in (template.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://{ARTIFACT_BUCKET}/{properties[key].strip('/')}"


def translate(text: str, parameters: Mapping[str, str] = DEPLOY_PARAMETERS) -> dict[str, Any]:
    """A SAM template's text translated to CloudFormation (needs samtranslator importable)."""
    os.environ["AWS_DEFAULT_REGION"] = REGION  # samtranslator takes the partition and pseudo values from it
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(text)
    _artifacts_in_s3(template)
    translated: dict[str, Any] = transform(template, dict(parameters), FixedManagedPolicies())
    return translated


def _translator_here() -> bool:
    try:
        return importlib.metadata.version("aws-sam-translator") == SAM_TRANSLATOR_VERSION
    except importlib.metadata.PackageNotFoundError:
        return False


@functools.cache
def _deployed_json() -> str:
    if _translator_here():
        return json.dumps(translate(TEMPLATE.read_text(encoding="utf-8")))
    if not TOOLS_PYTHON.exists():
        raise RuntimeError(f"{TOOLS_PYTHON.relative_to(ROOT)} is missing: create the tool venv "
                           "(python3.13 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements-tools.txt)")
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")  # and never any credentials
    result = subprocess.run([str(TOOLS_PYTHON), str(Path(__file__)), str(TEMPLATE)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"translating template.yaml failed ({result.returncode}):\n{result.stderr[-5000:]}")
    return result.stdout


def deployed_template() -> dict[str, Any]:
    """template.yaml translated as `sam deploy` would (a fresh copy on every call)."""
    loaded: dict[str, Any] = json.loads(_deployed_json())  # parsed anew: callers may change their copy
    return loaded


def main(argv: list[str]) -> int:
    found = importlib.metadata.version("aws-sam-translator")
    if found != SAM_TRANSLATOR_VERSION:
        print(f"aws-sam-translator {found} here; expected {SAM_TRANSLATOR_VERSION}", file=sys.stderr)
        return 2
    path = Path(argv[0]) if argv else TEMPLATE
    json.dump(translate(path.read_text(encoding="utf-8")), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

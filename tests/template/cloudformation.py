"""template.yaml as CloudFormation deploys it: its transforms applied in order, as after `sam deploy`.

`sam deploy` sends the template as written; CloudFormation runs `AWS::LanguageExtensions` (which expands the
`Fn::ForEach` loops) and then `AWS::Serverless-2016-10-31`. Here the loops are expanded by SAM CLI's own copy
of the language extensions (`samcli.lib.cfn_language_extensions`, what `sam build --language-extensions`
uses), then aws-sam-translator translates the result. Of that library, only the `Fn::ForEach` step runs and
its resolver resolves what the transform adds to plain CloudFormation, an intrinsic inside `Ref` (the
alarms' `Ref: !Sub "${Prefix}Function"`). Its pass that resolves every other intrinsic it can is left out: it
turns an `Fn::Sub` it cannot finish (a `${Resource}` placeholder) into a bare string, which CloudFormation
never does. Those intrinsics stay for SAM and CloudFormation to resolve, as before the template used the
transform.

`deployed_template()` is the one place the tiers get it (the IAM coverage check, the lint of the translated
template); it is translated once per session and each call returns a fresh copy. What differs from a real
deploy, on purpose: CodeUri / ContentUri become `s3://switchboard-artifacts/<the path as written>` (so a
function's `Code.S3Key` is its folder, `functions/admin_api`), parameters are `DEPLOY_PARAMETERS` over their
defaults, and the managed-policy loader answers from `MANAGED_POLICY_ARNS` instead of asking IAM.
`language_extensions_expanded()` gives a template with only its loops expanded, by that library, so the tests
can hold `local.template`'s own expansion to it.

The translator and the language extensions are the tool environment's (.venv-tools, aws-sam-cli 1.170.0's):
aws-sam-translator 1.115.0 pins pydantic~=2.13.3, and the layer pins pydantic 2.14.3, so neither can be
installed beside the layer in .venv. When this interpreter has that very version it works in-process;
otherwise this file runs in .venv-tools/bin/python (`python tests/template/cloudformation.py template.yaml`
prints the translated JSON, `... --expand-only <template>` the template with only its loops expanded).
"""

from __future__ import annotations

import copy
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
SAM_CLI_VERSION = "1.170.0"  # its samcli.lib.cfn_language_extensions expands the Fn::ForEach loops
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


def expand_language_extensions(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its `Fn::ForEach` loops expanded by SAM CLI's language extensions (needs samcli).

    A template without the `AWS::LanguageExtensions` transform is returned as it is. The transform stays in
    `Transform` (as SAM CLI leaves it); the SAM translator drops the whole `Transform` section.
    """
    from samcli.lib.cfn_language_extensions.api import create_default_intrinsic_resolver
    from samcli.lib.cfn_language_extensions.models import ResolutionMode, TemplateProcessingContext
    from samcli.lib.cfn_language_extensions.pipeline import ProcessingPipeline
    from samcli.lib.cfn_language_extensions.processors import ForEachProcessor, TemplateParsingProcessor
    from samcli.lib.cfn_language_extensions.sam_integration import check_using_language_extension

    if not check_using_language_extension(template):
        return template
    context = TemplateProcessingContext(fragment=copy.deepcopy(template), resolution_mode=ResolutionMode.PARTIAL)
    resolver = create_default_intrinsic_resolver(context)
    # Given the resolver, the loops resolve a collection written as an intrinsic (a CommaDelimitedList's Ref).
    loops = ForEachProcessor(intrinsic_resolver=resolver)
    expanded: dict[str, Any] = ProcessingPipeline([TemplateParsingProcessor(), loops]).process_template(context)

    def resolve_refs(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and isinstance(value["Ref"], dict):
                return resolver.resolve_value(value)
            return {key: resolve_refs(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve_refs(item) for item in value]
        return value

    for section in ("Conditions", "Resources", "Outputs"):
        if section in expanded:
            expanded[section] = resolve_refs(expanded[section])
    return expanded


def translate(text: str, parameters: Mapping[str, str] = DEPLOY_PARAMETERS) -> dict[str, Any]:
    """A SAM template's text translated to CloudFormation (needs samtranslator and samcli importable)."""
    os.environ["AWS_DEFAULT_REGION"] = REGION  # samtranslator takes the partition and pseudo values from it
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    template = expand_language_extensions(yaml_parse(text))
    _artifacts_in_s3(template)
    translated: dict[str, Any] = transform(template, dict(parameters), FixedManagedPolicies())
    return translated


def _translator_here() -> bool:
    try:
        return (importlib.metadata.version("aws-sam-translator") == SAM_TRANSLATOR_VERSION
                and importlib.metadata.version("aws-sam-cli") == SAM_CLI_VERSION)
    except importlib.metadata.PackageNotFoundError:
        return False


def _in_tools(*args: str) -> str:
    """This file's main() run in the tool venv, its standard output."""
    if not TOOLS_PYTHON.exists():
        raise RuntimeError(f"{TOOLS_PYTHON.relative_to(ROOT)} is missing: create the tool venv "
                           "(python3.13 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements-tools.txt)")
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")  # and never any credentials
    result = subprocess.run([str(TOOLS_PYTHON), str(Path(__file__)), *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} in {TOOLS_PYTHON.relative_to(ROOT)} failed ({result.returncode}):\n"
                           f"{result.stderr[-5000:]}")
    return result.stdout


@functools.cache
def _deployed_json() -> str:
    if _translator_here():
        return json.dumps(translate(TEMPLATE.read_text(encoding="utf-8")))
    return _in_tools(str(TEMPLATE))


def deployed_template() -> dict[str, Any]:
    """template.yaml translated as `sam deploy` would (a fresh copy on every call)."""
    loaded: dict[str, Any] = json.loads(_deployed_json())  # parsed anew: callers may change their copy
    return loaded


def language_extensions_expanded(path: Path = TEMPLATE) -> dict[str, Any]:
    """A template file with only its `Fn::ForEach` loops expanded, by SAM CLI's language extensions."""
    if _translator_here():
        from samtranslator.yaml_helper import yaml_parse

        return expand_language_extensions(yaml_parse(path.read_text(encoding="utf-8")))
    expanded: dict[str, Any] = json.loads(_in_tools("--expand-only", str(path)))
    return expanded


def main(argv: list[str]) -> int:
    for package, expected in (("aws-sam-translator", SAM_TRANSLATOR_VERSION), ("aws-sam-cli", SAM_CLI_VERSION)):
        found = importlib.metadata.version(package)
        if found != expected:
            print(f"{package} {found} here; expected {expected}", file=sys.stderr)
            return 2
    expand_only = argv[:1] == ["--expand-only"]
    argv = argv[1:] if expand_only else argv
    path = Path(argv[0]) if argv else TEMPLATE
    if expand_only:
        json.dump(language_extensions_expanded(path), sys.stdout)
    else:
        json.dump(translate(path.read_text(encoding="utf-8")), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

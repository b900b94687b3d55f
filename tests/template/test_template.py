"""template.yaml lints, validates and builds, and keeps the shape the design depends on."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from local.template import functions, load_template, queues

pytestmark = pytest.mark.template

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".venv-tools" / "bin"
# sam build keeps its cache (build.toml next to the build dir, deps/ under its working directory) here,
# apart from a developer's own .aws-sam/build, so the tier reuses downloads and never clobbers theirs.
BUILD_STATE = REPO_ROOT / ".aws-sam" / "template-test"
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # bytes, a function and all its layers together
ELF_MACHINE_AARCH64 = 183
# Actions AWS cannot scope to a resource; a SAM policy template may grant these on "*".
UNSCOPABLE_ACTIONS = {"ssm:DescribeParameters"}


# --- fixtures and helpers ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(REPO_ROOT / "template.yaml")


def tool(name: str) -> Path:
    """A binary of the tool venv; fails (never skips) when it is missing: CI must run these."""
    path = TOOLS_BIN / name
    if not path.exists():
        pytest.fail(
            f"{path.relative_to(REPO_ROOT)} is missing: create the tool venv "
            "(python3.13 -m venv .venv-tools && .venv-tools/bin/pip install -r requirements-tools.txt)"
        )
    return path


def run_tool(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path = REPO_ROOT,
    path_first: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def find_python313_dir() -> Path | None:
    """A directory holding a `python3.13` for `sam build` (which looks it up on PATH)."""
    candidates: list[Path] = []
    if sys.version_info[:2] == (3, 13):
        candidates.append(Path(sys.base_prefix) / "bin")
    on_path = shutil.which("python3.13")
    if on_path:
        candidates.append(Path(on_path).parent)
    pyenv = shutil.which("pyenv")
    if pyenv:
        found = subprocess.run([pyenv, "prefix", "3.13"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(Path(found.stdout.strip().splitlines()[0]) / "bin")
    return next((c for c in candidates if (c / "python3.13").exists()), None)


@pytest.fixture(scope="session")
def python313_dir() -> Path:
    found = find_python313_dir()
    if found is None:
        pytest.skip("sam build needs python3.13 on PATH (or via pyenv) for the python3.13 runtime; none found")
    return found


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _referenced_names(value: Any) -> set[str]:
    """Logical ids and parameters that a value refers to through Ref, GetAtt or Sub."""
    names: set[str] = set()
    for node in _walk(value):
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("Ref"), str):
            names.add(node["Ref"])
        get_att = node.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att:
            names.add(str(get_att[0]))
        sub = node.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            names.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
    return {name for name in names if not name.startswith("AWS::")}


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == resource_type}


def _defines_lambda_handler(app_py: Path) -> bool:
    tree = ast.parse(app_py.read_text(encoding="utf-8"), filename=str(app_py))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "lambda_handler":
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "lambda_handler" for t in targets):
            return True
    return False


def _sam_policy_templates() -> dict[str, Any]:
    found = sorted(
        (REPO_ROOT / ".venv-tools").glob("lib/python*/site-packages/samtranslator/policy_templates_data/*.json")
    )
    found = [path for path in found if path.name == "policy_templates.json"]
    if not found:
        pytest.fail("samtranslator's policy_templates.json not found in .venv-tools (install requirements-tools.txt)")
    templates: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))["Templates"]
    return templates


def _main_table_id(template: dict[str, Any]) -> str:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    table_ref = variables.get("TABLE_NAME")
    assert isinstance(table_ref, dict) and "Ref" in table_ref, "Globals must pass TABLE_NAME: !Ref <table>"
    return str(table_ref["Ref"])


def _key_schema(entries: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((entry["AttributeName"], entry["KeyType"]) for entry in entries)


def _index_shapes(
    indexes: list[dict[str, Any]], name_key: str, key_schema_key: str, projection_key: str
) -> dict[str, Any]:
    shapes = {}
    for index in indexes:
        projection = index[projection_key]
        shapes[index[name_key]] = {
            "keys": _key_schema(index[key_schema_key]),
            "projection": projection["ProjectionType"],
            "non_key_attributes": sorted(projection.get("NonKeyAttributes") or []),
        }
    return shapes


def _elf_machine(path: Path) -> int | None:
    header = path.read_bytes()[:20]
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little")


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


# --- the tools ------------------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    result = run_tool([tool("cfn-lint"), "--format", "parseable", "template.yaml"])

    assert result.returncode == 0 and not result.stdout.strip(), (
        f"cfn-lint exited {result.returncode}:\n{result.stdout}{result.stderr}"
    )


def test_sam_validate_lint_passes() -> None:
    result = run_tool([tool("sam"), "validate", "--lint", "--template-file", "template.yaml"])

    output = result.stdout + result.stderr
    assert result.returncode == 0, f"sam validate --lint exited {result.returncode}:\n{output}"
    assert "is a valid SAM Template" in output, output


def test_sam_build_produces_arm64_artifacts_within_lambda_limits(python313_dir: Path) -> None:
    sam = tool("sam")
    BUILD_STATE.mkdir(parents=True, exist_ok=True)
    for stale in BUILD_STATE.glob("build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    build_dir = Path(tempfile.mkdtemp(prefix="build-", dir=BUILD_STATE))
    try:
        result = run_tool(
            [
                sam,
                "build",
                "--template-file",
                REPO_ROOT / "template.yaml",
                "--build-dir",
                build_dir,
                "--cache-dir",
                BUILD_STATE / "cache",
                "--cached",
                "--parallel",
                "--language-extensions",  # SAM CLI reads Fn::ForEach only with it (off by default in 1.170)
            ],  # fmt: skip
            cwd=BUILD_STATE,
            path_first=python313_dir,
            timeout=280,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "Build Succeeded" in output, f"sam build failed:\n{output}"

        built = load_template(build_dir / "template.yaml")
        layers = {
            logical_id: build_dir / resource["Properties"]["ContentUri"]
            for logical_id, resource in _resources(built, "AWS::Serverless::LayerVersion").items()
        }
        problems = [
            f"layer {layer_id} has no python/switchboard package"
            for layer_id, path in layers.items()
            if not (path / "python" / "switchboard" / "__init__.py").exists()
        ]
        for function_id, function in functions(built).items():
            code = build_dir / function.code_uri
            if not (code / "app.py").exists():
                problems.append(f"{function_id}: built code has no app.py")
            size = _tree_size(code) + sum(_tree_size(path) for path in layers.values())
            if size > LAMBDA_UNZIPPED_LIMIT:
                problems.append(f"{function_id}: {size / 1e6:.0f} MB unzipped with its layers (limit 262 MB)")
        problems += [
            f"{so.relative_to(build_dir)} is not an arm64 (aarch64) binary"
            for so in build_dir.rglob("*.so*")
            if so.is_file() and _elf_machine(so) not in (None, ELF_MACHINE_AARCH64)
        ]
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)


# --- the shape the design depends on ------------------------------------------------------------------


def test_every_function_is_a_folder_with_an_app_defining_lambda_handler(template: dict[str, Any]) -> None:
    problems = []
    found = functions(template)
    assert found, "template.yaml declares no AWS::Serverless::Function"
    for function_id, function in found.items():
        match = re.fullmatch(r"functions/([a-z][a-z0-9_]*)/", str(function.code_uri))
        if match is None:
            problems.append(f"{function_id}: CodeUri {function.code_uri!r} is not functions/<name>/")
            continue
        if function.handler != "app.lambda_handler":
            problems.append(f"{function_id}: Handler {function.handler!r} is not app.lambda_handler")
        app_py = REPO_ROOT / function.code_uri / "app.py"
        if not app_py.exists():
            problems.append(f"{function_id}: {app_py.relative_to(REPO_ROOT)} does not exist")
        elif not _defines_lambda_handler(app_py):
            problems.append(f"{function_id}: {app_py.relative_to(REPO_ROOT)} defines no lambda_handler")
    assert not problems, "\n".join(problems)


def test_every_function_folder_is_deployed_by_the_template(template: dict[str, Any]) -> None:
    deployed = {str(function.code_uri).rstrip("/") for function in functions(template).values()}
    folders = {f"functions/{app.parent.name}" for app in (REPO_ROOT / "functions").glob("*/app.py")}

    assert folders <= deployed, f"function folders no template function deploys: {sorted(folders - deployed)}"


def test_functions_and_layer_run_python313_on_arm64(template: dict[str, Any]) -> None:
    defaults = template["Globals"]["Function"]
    assert defaults.get("Runtime") == "python3.13"
    assert defaults.get("Architectures") == ["arm64"]
    for function_id, resource in _resources(template, "AWS::Serverless::Function").items():
        properties = resource.get("Properties") or {}
        assert properties.get("Runtime", "python3.13") == "python3.13", function_id
        assert properties.get("Architectures", ["arm64"]) == ["arm64"], function_id
    for layer_id, resource in _resources(template, "AWS::Serverless::LayerVersion").items():
        properties = resource["Properties"]
        assert properties.get("CompatibleRuntimes") == ["python3.13"], layer_id
        assert properties.get("CompatibleArchitectures") == ["arm64"], layer_id
        assert resource.get("Metadata", {}).get("BuildMethod") == "python3.13", layer_id
        assert resource.get("Metadata", {}).get("BuildArchitecture") == "arm64", layer_id


def _inline_policy_problems(function_id: str, policy: dict[str, Any], known_names: set[str]) -> list[str]:
    """An inline statement (for what no SAM policy template covers) must name its actions and scope every
    resource to one of the template's own; a `*` may only end a path under such a resource."""
    problems = []
    for statement in policy["Statement"]:
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        if not actions or any("*" in action for action in actions):
            problems.append(f"{function_id}: inline statement with wildcard or no actions: {actions}")
        resources = statement.get("Resource")
        resources = resources if isinstance(resources, list) else [resources]
        # A tag condition naming one of the template's resources scopes the statement to what carries that tag.
        tagged = {key: value for key, value in ((statement.get("Condition") or {}).get("StringEquals") or {}).items()
                  if key.startswith("aws:ResourceTag/") and _referenced_names(value) & known_names}
        for resource in resources:
            text = json.dumps(resource)
            if text.endswith('::/apikeys"}'):
                continue  # creating an API key has no narrower resource than the region's key collection
            if tagged and text.endswith('::/apikeys/*"}'):
                continue
            if resource == "*" or not _referenced_names(resource) & known_names:
                problems.append(f"{function_id}: inline statement not scoped to a template resource: {resource!r}")
            elif "*" in text and not text.rstrip('"}]').endswith("/*"):
                problems.append(f"{function_id}: inline statement has a wildcard inside a resource: {resource!r}")
    return problems


def test_function_policies_are_sam_templates_scoped_to_template_resources(template: dict[str, Any]) -> None:
    policy_templates = _sam_policy_templates()
    known_names = set(template["Resources"]) | set(template.get("Parameters") or {})
    managed_policies = set(_resources(template, "AWS::IAM::ManagedPolicy"))
    problems = []
    for function_id, resource in _resources(template, "AWS::Serverless::Function").items():
        properties = resource.get("Properties") or {}
        if "Role" in properties:
            problems.append(f"{function_id}: sets Role; grant access through Policies instead")
        policies = properties.get("Policies") or []
        if not isinstance(policies, list):
            policies = [policies]
        for policy in policies:
            if isinstance(policy, dict) and policy.get("Ref") in managed_policies:
                continue  # the template's own managed policy; its statements are checked below
            if isinstance(policy, dict) and "Statement" in policy:
                problems += _inline_policy_problems(function_id, policy, known_names)
                continue
            if not (isinstance(policy, dict) and len(policy) == 1):
                problems.append(f"{function_id}: {policy!r} is not a SAM policy template")
                continue
            ((name, arguments),) = policy.items()
            if name not in policy_templates:
                problems.append(f"{function_id}: {name} is not a SAM policy template")
                continue
            if any(node == "*" or (isinstance(node, str) and "*" in node) for node in _walk(arguments)):
                problems.append(f"{function_id}: {name} is given a wildcard: {arguments!r}")
            if not policy_templates[name]["Parameters"]:
                problems.append(f"{function_id}: {name} takes no resource to scope it to")
            elif not isinstance(arguments, dict) or not _referenced_names(arguments) & known_names:
                problems.append(f"{function_id}: {name} is not scoped to a !Ref'd resource: {arguments!r}")
            for statement in policy_templates[name]["Definition"]["Statement"]:
                actions = statement.get("Action")
                actions = [actions] if isinstance(actions, str) else list(actions or [])
                if any(action == "*" or action.endswith(":*") for action in actions):
                    problems.append(f"{function_id}: {name} grants every action of a service: {actions}")
                if statement.get("Resource") == "*" and not set(actions) <= UNSCOPABLE_ACTIONS:
                    problems.append(f"{function_id}: {name} grants {actions} on every resource")
    for policy_id in managed_policies | set(_resources(template, "AWS::IAM::Policy")):
        document = template["Resources"][policy_id]["Properties"]["PolicyDocument"]
        problems += _inline_policy_problems(policy_id, document, known_names)
    assert not problems, "\n".join(problems)


def test_every_work_queue_redrives_to_a_dead_letter_queue(template: dict[str, Any]) -> None:
    all_queues = queues(template)
    dead_letter_ids = {
        name
        for node in _walk(template["Resources"])
        if isinstance(node, dict)
        for key in ("deadLetterTargetArn", "DeadLetterQueue", "DeadLetterConfig", "OnFailure")
        if key in node
        for name in _referenced_names(node[key])
        if name in all_queues
    }
    problems = []
    for queue_id, queue in all_queues.items():
        if queue_id in dead_letter_ids:
            continue
        if queue.dead_letter_queue is None:
            problems.append(f"{queue_id}: no RedrivePolicy to a dead-letter queue")
            continue
        if queue.dead_letter_queue not in all_queues:
            problems.append(f"{queue_id}: redrives to {queue.dead_letter_queue}, not a queue of this template")
            continue
        if not isinstance(queue.max_receive_count, int) or queue.max_receive_count < 1:
            problems.append(f"{queue_id}: maxReceiveCount {queue.max_receive_count!r} is not a positive number")
        dead_letter = all_queues[queue.dead_letter_queue]
        if dead_letter.message_retention_period < queue.message_retention_period:
            problems.append(f"{queue_id}: its dead-letter queue keeps messages for less time than it does")
    assert not problems, "\n".join(problems)


def test_queue_consumers_report_partial_failures_and_outlast_visibility(template: dict[str, Any]) -> None:
    timeouts = {function_id: function.timeout for function_id, function in functions(template).items()}
    problems = []
    for queue_id, queue in queues(template).items():
        for consumer in queue.consumers:
            if not consumer.report_batch_item_failures:
                problems.append(f"{consumer.function_id}: SQS event on {queue_id} lacks ReportBatchItemFailures")
            # AWS: a source queue's visibility timeout should be at least six times the function timeout.
            if queue.visibility_timeout < 6 * timeouts[consumer.function_id]:
                problems.append(
                    f"{queue_id}: VisibilityTimeout {queue.visibility_timeout}s is under six times "
                    f"{consumer.function_id}'s {timeouts[consumer.function_id]}s timeout"
                )
    assert not problems, "\n".join(problems)


def test_table_is_on_demand_encrypted_recoverable_and_expires_items(template: dict[str, Any]) -> None:
    table = template["Resources"][_main_table_id(template)]
    assert table["Type"] == "AWS::DynamoDB::Table"
    properties = table["Properties"]

    assert properties.get("BillingMode") == "PAY_PER_REQUEST"
    assert properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True
    assert properties.get("SSESpecification", {}).get("SSEEnabled") is True
    assert properties.get("TimeToLiveSpecification") == {"AttributeName": "expires_at", "Enabled": True}
    assert table.get("DeletionPolicy") == "Retain" and table.get("UpdateReplacePolicy") == "Retain"


def test_patients_files_are_kept_private_encrypted_with_the_stacks_key_over_tls_only(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    buckets = {logical_id: r for logical_id, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert list(buckets) == ["MediaBucket"]
    bucket = buckets["MediaBucket"]
    assert bucket.get("DeletionPolicy") == "Retain" and bucket.get("UpdateReplacePolicy") == "Retain"
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                     "KMSMasterKeyID": {"Fn::GetAtt": ["DataKey", "Arn"]}}
    assert all(properties["PublicAccessBlockConfiguration"][flag] is True for flag in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    (policy,) = [r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    assert policy["Properties"]["Bucket"] == {"Ref": "MediaBucket"}
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Only the functions that keep or show a patient's files may touch them.
    readers = sorted(logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
                     and "MediaBucket.Arn" in json.dumps(r["Properties"].get("Policies", [])))
    assert readers == ["AdminApiFunction", "InboundMediaFunction", "OutboundMessagingFunction"]


def test_table_keys_and_indexes_match_the_pynamodb_models(template: dict[str, Any]) -> None:
    from pynamodb.attributes import TTLAttribute
    from pynamodb.models import Model

    from switchboard.data import models

    schema: dict[str, Any] = dict(models.Item._get_schema())  # as CreateTable takes them
    properties = template["Resources"][_main_table_id(template)]["Properties"]

    assert _key_schema(properties["KeySchema"]) == _key_schema(schema["key_schema"])
    assert _index_shapes(
        properties.get("GlobalSecondaryIndexes") or [], "IndexName", "KeySchema", "Projection"
    ) == _index_shapes(schema["global_secondary_indexes"], "index_name", "key_schema", "projection")
    assert _index_shapes(
        properties.get("LocalSecondaryIndexes") or [], "IndexName", "KeySchema", "Projection"
    ) == _index_shapes(schema["local_secondary_indexes"], "index_name", "key_schema", "projection")
    model_attributes = {
        (d["AttributeName"], d["AttributeType"])
        for d in schema["attribute_definitions"]
        + [d for index in schema["global_secondary_indexes"] for d in index["attribute_definitions"]]
        + [d for index in schema["local_secondary_indexes"] for d in index["attribute_definitions"]]
    }
    template_attributes = {(d["AttributeName"], d["AttributeType"]) for d in properties["AttributeDefinitions"]}
    assert template_attributes == model_attributes

    ttl_attributes = {
        attribute.attr_name
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, Model) and model is not Model
        for attribute in model.get_attributes().values()
        if isinstance(attribute, TTLAttribute)
    }
    assert ttl_attributes == {properties["TimeToLiveSpecification"]["AttributeName"]}


def test_samconfig_has_local_demo_and_prod_environments(template: dict[str, Any]) -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    allowed = set(template["Parameters"]["Environment"]["AllowedValues"])
    expected = {"default": "local", "demo": "demo", "prod": "prod"}

    for env_name, environment in expected.items():
        section = config[env_name]
        assert environment in allowed
        assert section["global"]["parameters"]["stack_name"] == f"switchboard-{environment}"
        assert f"Environment={environment}" in section["global"]["parameters"]["parameter_overrides"]
        assert section["global"]["parameters"]["region"] == "us-east-1"
        assert section["build"]["parameters"] == {"cached": True, "parallel": True}
        assert section["validate"]["parameters"]["lint"] is True
        deploy = section["deploy"]["parameters"]
        assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
        assert deploy["resolve_s3"] is True
        assert deploy["confirm_changeset"] is (env_name == "prod")


def test_loader_turns_short_tags_into_their_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "A: !Ref Table\n"
        "B: !GetAtt Queue.Arn\n"
        "C: !GetAtt [Db, Endpoint.Address]\n"
        "D: !Sub 'arn:${AWS::Partition}:x:${Table}'\n"
        "E: !If [IsProd, !Equals [!Ref Environment, prod], !Not [!Condition IsProd]]\n"
        "F: !Join ['', [a, !Select [0, !Split [',', 'x,y']]]]\n"
        "G: 2012-10-17\n",
        encoding="utf-8",
    )

    assert load_template(path) == {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": ["Queue", "Arn"]},
        "C": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "D": {"Fn::Sub": "arn:${AWS::Partition}:x:${Table}"},
        "E": {
            "Fn::If": [
                "IsProd",
                {"Fn::Equals": [{"Ref": "Environment"}, "prod"]},
                {"Fn::Not": [{"Condition": "IsProd"}]},
            ]
        },
        "F": {"Fn::Join": ["", ["a", {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}]]},
        "G": "2012-10-17",
    }


# A template using every part of Fn::ForEach that the loader expands; test_deploy_gate holds the loader's
# expansion of it to SAM CLI's language extensions.
FOR_EACH_TEMPLATE = """\
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  Sizes: {Type: CommaDelimitedList, Default: "small, large"}
Conditions:
  "Fn::ForEach::IsSize":
    - Size
    - !Ref Sizes
    - "Is${Size}": !Equals [!Ref Size, small]
Resources:
  Plain: {Type: AWS::SNS::Topic}
  "Fn::ForEach::Queues":
    - Name
    - [Orders, Refunds]
    - "Fn::ForEach::QueueKinds":
        - Kind
        - [Work, Dead]
        - "${Name}${Kind}Queue":
            Type: AWS::SQS::Queue
            Properties:
              QueueName: !Sub "${AWS::StackName}-${Name}-${Kind}"
              Tags: [{Key: kind, Value: !Ref Kind}]
      "${Name}Alarm":
        Type: AWS::CloudWatch::Alarm
        Properties:
          Dimensions: [{Name: QueueName, Value: !GetAtt [!Sub "${Name}DeadQueue", QueueName]}]
          AlarmActions: [{Ref: !Sub "${Name}Topic"}]
  "Fn::ForEach::Hosts":
    - Host
    - [api.example.com, www.example.com]
    - "&{Host}Record":
        Type: AWS::Route53::RecordSet
        Properties:
          Name: !Ref Host
          "Fn::ForEach::Ttl":
            - Seconds
            - ["60"]
            - "TTL": !Ref Seconds
Outputs:
  "Fn::ForEach::QueueArns":
    - Name
    - [Orders, Refunds]
    - "${Name}WorkQueueArn":
        Value: !GetAtt [!Sub "${Name}WorkQueue", Arn]
"""


def test_loader_expands_fn_foreach_loops_as_the_language_extensions_transform_does(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(FOR_EACH_TEMPLATE, encoding="utf-8")

    template = load_template(path)

    assert template["Conditions"] == {"Issmall": {"Fn::Equals": ["small", "small"]},
                                      "Islarge": {"Fn::Equals": ["large", "small"]}}
    resources = template["Resources"]
    assert list(resources) == ["Plain", "OrdersWorkQueue", "OrdersDeadQueue", "OrdersAlarm", "RefundsWorkQueue",
                               "RefundsDeadQueue", "RefundsAlarm", "apiexamplecomRecord", "wwwexamplecomRecord"]
    assert resources["RefundsDeadQueue"]["Properties"] == {
        "QueueName": {"Fn::Sub": "${AWS::StackName}-Refunds-Dead"}, "Tags": [{"Key": "kind", "Value": "Dead"}]}
    assert resources["OrdersAlarm"]["Properties"] == {
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [{"Fn::Sub": "OrdersDeadQueue"}, "QueueName"]}}],
        "AlarmActions": [{"Ref": "OrdersTopic"}]}
    assert resources["wwwexamplecomRecord"]["Properties"] == {"Name": "www.example.com", "TTL": "60"}
    assert template["Outputs"] == {
        f"{name}WorkQueueArn": {"Value": {"Fn::GetAtt": [{"Fn::Sub": f"{name}WorkQueue"}, "Arn"]}}
        for name in ("Orders", "Refunds")}


def test_loader_without_the_transform_leaves_fn_foreach_alone(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(FOR_EACH_TEMPLATE.replace("AWS::LanguageExtensions, ", ""), encoding="utf-8")

    assert "Fn::ForEach::Queues" in load_template(path)["Resources"]


@pytest.mark.parametrize(("change", "problem", "message"), [
    ("- [Orders, Refunds]\n    - \"Fn::ForEach::QueueKinds\"", "- [Orders, Orders]\n    - \"Fn::ForEach::QueueKinds\"",
     "the same key twice"),
    ("  Plain: {Type: AWS::SNS::Topic}", "  OrdersAlarm: {Type: AWS::SNS::Topic}", "already there: OrdersAlarm"),
    ("    - Host\n", "    - Sizes\n", "'Sizes' is also a parameter"),
    ("[{Ref: !Sub \"${Name}Topic\"}]", "[{Ref: !Sub \"${Name}${AWS::Region}\"}]", "nothing left to substitute"),
    ("    - Name\n    - [Orders, Refunds]\n    - \"Fn::ForEach::QueueKinds\"",
     "    - Name\n    - !Ref Plain\n    - \"Fn::ForEach::QueueKinds\"", "a Ref to a CommaDelimitedList"),
], ids=["same key twice", "key already there", "identifier is a parameter", "Ref of an unfinished Sub",
        "collection not a list"])
def test_loader_refuses_a_loop_cloudformation_would_refuse(
    tmp_path: Path, change: str, problem: str, message: str
) -> None:
    assert change in FOR_EACH_TEMPLATE
    path = tmp_path / "t.yaml"
    path.write_text(FOR_EACH_TEMPLATE.replace(change, problem, 1), encoding="utf-8")

    with pytest.raises(ValueError, match=re.escape(message)):
        load_template(path)


def test_the_user_pool_lets_no_one_claim_an_email_or_sign_in_around_the_hosted_ui(template: dict[str, Any]) -> None:
    (pool,) = _resources(template, "AWS::Cognito::UserPool").values()
    (client,) = _resources(template, "AWS::Cognito::UserPoolClient").values()
    pool_properties, client_properties = pool["Properties"], client["Properties"]
    # An email changes only once its owner proves it; until then the token keeps the verified one.
    assert pool_properties["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["email"]
    assert pool_properties["UsernameAttributes"] == ["email"]
    assert pool_properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert (pool_properties["MfaConfiguration"], pool_properties["EnabledMfas"]) == ("ON", ["SOFTWARE_TOKEN_MFA"])
    # The console's tokens cannot call Cognito's own user APIs, and the client cannot write the email.
    assert "aws.cognito.signin.user.admin" not in client_properties["AllowedOAuthScopes"]
    assert "email" not in client_properties["WriteAttributes"]
    assert {"email", "email_verified"} <= set(client_properties["ReadAttributes"])
    assert client_properties["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client_properties["PreventUserExistenceErrors"] == "ENABLED"


def test_no_trace_records_a_request_url(template: dict[str, Any]) -> None:
    # Webhook paths carry their tokens, queries the caller's number, inbox paths the patient's.
    assert template["Globals"]["Api"]["TracingEnabled"] is False
    for api in _resources(template, "AWS::Serverless::Api").values():
        assert api["Properties"].get("TracingEnabled", False) is False


def test_queue_sources_stay_under_their_functions_reserved_concurrency(template: dict[str, Any]) -> None:
    """A receive Lambda throttles still counts toward the dead-letter queue's limit: every SQS source caps its
    concurrency (ScalingConfig) at or under the function's reserved concurrency."""
    problems = []
    for function_id, resource in _resources(template, "AWS::Serverless::Function").items():
        properties = resource.get("Properties") or {}
        for name, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "SQS":
                continue
            cap = ((event.get("Properties") or {}).get("ScalingConfig") or {}).get("MaximumConcurrency")
            reserved = properties.get("ReservedConcurrentExecutions")
            if not isinstance(cap, int) or not 2 <= cap <= 1000:
                problems.append(f"{function_id}.{name}: no ScalingConfig.MaximumConcurrency (2 to 1000)")
            elif not isinstance(reserved, int) or reserved < cap:
                problems.append(f"{function_id}: reserved concurrency {reserved!r} is under its source's cap {cap}")
    assert not problems, "\n".join(problems)


def test_a_retry_waits_out_any_send_attempt_that_may_still_run(template: dict[str, Any]) -> None:
    from switchboard.flows.delivery import ATTEMPT_LEASE

    timeout = functions(template)["OutboundMessagingFunction"].timeout
    assert timeout < ATTEMPT_LEASE.total_seconds(), "a send attempt could outlive the lease a retry waits out"

"""Managed Instances, durable functions and tenant isolation (LP240, LP245, LP323, LP345-LP359,
LP590) through `lpack check TEMPLATE --format json`, on templates written here and on the committed
ones under tests/data/templates/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lpack.cli import main

DATA = Path(__file__).parent.parent / "data" / "templates"
MINE = ("LP240", "LP245", "LP323", "LP345", "LP346", "LP347", "LP348", "LP350", "LP351",
        "LP355", "LP356", "LP357", "LP358", "LP359", "LP590")

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"
ROLE = """  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
{extra}"""
MI = """      CapacityProviderConfig:
        Arn: arn:aws:lambda:us-east-1:123456789012:capacity-provider:cp
"""


def check(tmp_path: Path, props: str, code: str = "def handler(event, context):\n    return 1\n",
          extra: str = "", files: dict[str, str] | None = None) -> list[dict[str, object]]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "app.py").write_text(code)
    for name, text in (files or {}).items():
        (src / name).write_text(text)
    body = ("  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
            "      Handler: app.handler\n      Role: !GetAtt Role.Arn\n" + props + ROLE.format(extra=extra))
    template = tmp_path / "template.yaml"
    template.write_text(HEAD + body)
    return run(template)


def run(template: Path) -> list[dict[str, object]]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(template), "--format", "json"])
    return [f for f in json.loads(out.getvalue())["findings"] if f["code"] in MINE]


def codes(findings: list[dict[str, object]]) -> list[object]:
    return sorted(f["code"] for f in findings)


# -- Managed Instances ----------------------------------------------------------------------------


@pytest.mark.parametrize(("props", "expected"), [
    pytest.param("      Runtime: python3.12\n" + MI, ["LP345"], id="python3.12-refused"),
    pytest.param("      Runtime: python3.13\n" + MI, [], id="python3.13-fine"),
    pytest.param("      Runtime: python3.12\n", [], id="no-capacity-provider"),
])
def test_managed_instances_runtime(tmp_path: Path, props: str, expected: list[str]) -> None:
    assert codes(check(tmp_path, props)) == expected


@pytest.mark.parametrize(("settings", "expected"), [
    pytest.param("ExecutionEnvironmentMemoryGiBPerVCpu: 1.5", ["LP346"], id="ratio-low"),
    pytest.param("ExecutionEnvironmentMemoryGiBPerVCpu: 9", ["LP346"], id="ratio-high"),
    pytest.param("ExecutionEnvironmentMemoryGiBPerVCpu: '4'", ["LP346"], id="ratio-string"),
    pytest.param("PerExecutionEnvironmentMaxConcurrency: 1601", ["LP346"], id="concurrency-high"),
    pytest.param("PerExecutionEnvironmentMaxConcurrency: 2.5", ["LP346"], id="concurrency-fraction"),
    pytest.param("ExecutionEnvironmentMemoryGiBPerVCpu: 8.0", [], id="ratio-8"),
    pytest.param("ExecutionEnvironmentMemoryGiBPerVCpu: 2", [], id="ratio-2"),
    pytest.param("PerExecutionEnvironmentMaxConcurrency: 1600", [], id="concurrency-1600"),
])
def test_capacity_provider_ranges(tmp_path: Path, settings: str, expected: list[str]) -> None:
    assert codes(check(tmp_path, f"      Runtime: python3.13\n{MI}        {settings}\n")) == expected


@pytest.mark.parametrize(("memory", "concurrency", "expected"), [
    pytest.param(2048, 64, ["LP347"], id="32MB-each"),
    pytest.param(2048, 16, [], id="128MB-each"),
    pytest.param(4096, 8, [], id="512MB-each"),
])
def test_memory_per_process(tmp_path: Path, memory: int, concurrency: int, expected: list[str]) -> None:
    props = (f"      Runtime: python3.13\n      MemorySize: {memory}\n{MI}"
             f"        PerExecutionEnvironmentMaxConcurrency: {concurrency}\n")
    found = check(tmp_path, props)
    assert codes(found) == expected
    if expected:
        assert "leaves each about 32 MB" in str(found[0]["message"])


def test_memory_per_process_quiet_without_a_configured_concurrency(tmp_path: Path) -> None:
    assert check(tmp_path, f"      Runtime: python3.13\n      MemorySize: 2048\n{MI}") == []


@pytest.mark.parametrize(("log_format", "mi", "expected"), [
    pytest.param("Text", MI, ["LP348"], id="text-on-mi"),
    pytest.param("JSON", MI, [], id="json-on-mi"),
    pytest.param("Text", "", [], id="text-elsewhere"),
])
def test_log_format_text(tmp_path: Path, log_format: str, mi: str, expected: list[str]) -> None:
    props = f"      Runtime: python3.13\n      LoggingConfig:\n        LogFormat: {log_format}\n{mi}"
    found = check(tmp_path, props)
    assert codes(found) == expected
    if expected:
        assert found[0]["severity"] == "info"


EVENTS = {
    "sqs": "      Events:\n        Q:\n          Type: SQS\n          Properties:\n            Queue: !GetAtt Q.Arn\n",
    "api": "      Events:\n        A:\n          Type: Api\n          Properties:\n            Path: /\n            Method: get\n",
    "url": "      FunctionUrlConfig:\n        AuthType: AWS_IAM\n",
    "none": "",
}
QUEUE = "  Q:\n    Type: AWS::SQS::Queue\n"


@pytest.mark.parametrize(("timeout", "mi", "events", "expected", "limit"), [
    pytest.param(901, "", "none", ["LP323"], "1 to 900 s", id="901-standard"),
    pytest.param(900, "", "none", [], "", id="900-standard"),
    pytest.param(3000, MI, "sqs", [], "", id="3000-mi-sqs"),
    pytest.param(5400, MI, "none", [], "", id="5400-mi-async"),
    pytest.param(5401, MI, "sqs", ["LP323"], "1 to 5,400 s (Managed Instances, asynchronous", id="5401-mi"),
    pytest.param(1200, MI, "api", ["LP323"], "but invoked by Api", id="1200-mi-api"),
    pytest.param(1200, MI, "url", ["LP323"], "but invoked by a function URL", id="1200-mi-url"),
    pytest.param(3000, "", "sqs", ["LP323"], "1 to 900 s", id="3000-standard-sqs"),
])
def test_timeout_by_invocation_kind(tmp_path: Path, timeout: int, mi: str, events: str, expected: list[str],
                                    limit: str) -> None:
    props = f"      Runtime: python3.13\n      Timeout: {timeout}\n{mi}{EVENTS[events]}"
    found = check(tmp_path, props, extra=QUEUE)
    assert codes(found) == expected
    if expected:
        assert limit in str(found[0]["message"])
        assert found[0]["line"] == 11  # the Timeout line


FIXED = {
    "open-w": 'def handler(event, context):\n    with open("/tmp/data.json", "w") as f:\n        f.write("x")\n',
    "open-mode-kw": 'def handler(event, context):\n    open("/tmp/data.json", mode="a").close()\n',
    "path-write-text": 'from pathlib import Path\n\ndef handler(event, context):\n    Path("/tmp/x").write_text("1")\n',
    "constant": 'OUT = "/tmp/out.bin"\n\ndef handler(event, context):\n    open(OUT, "wb").close()\n',
}
SAFE = {
    "read": 'def handler(event, context):\n    return open("/tmp/data.json").read()\n',
    "request-id": 'def handler(event, context):\n    open(f"/tmp/{context.aws_request_id}.json", "w").close()\n',
    "pid": 'import os\n\ndef handler(event, context):\n    open(f"/tmp/{os.getpid()}", "w").close()\n',
    "tempfile": 'import tempfile\n\ndef handler(event, context):\n    tempfile.NamedTemporaryFile("w").close()\n',
    "path-read": 'from pathlib import Path\n\ndef handler(event, context):\n    return Path("/tmp/x").read_text()\n',
    "elsewhere": 'def handler(event, context):\n    open("/var/task/x", "w").close()\n',
}


@pytest.mark.parametrize("code", [pytest.param(v, id=k) for k, v in FIXED.items()])
def test_tmp_fixed_name_write_flagged_on_managed_instances(tmp_path: Path, code: str) -> None:
    found = check(tmp_path, f"      Runtime: python3.13\n{MI}", code)
    assert codes(found) == ["LP240"]
    assert str(found[0]["path"]).endswith("app.py") and isinstance(found[0]["line"], int)


@pytest.mark.parametrize("code", [pytest.param(v, id=k) for k, v in SAFE.items()])
def test_tmp_near_misses_stay_quiet(tmp_path: Path, code: str) -> None:
    assert check(tmp_path, f"      Runtime: python3.13\n{MI}", code) == []


def test_tmp_fixed_name_write_quiet_without_managed_instances(tmp_path: Path) -> None:
    assert check(tmp_path, "      Runtime: python3.13\n", FIXED["open-w"]) == []


# -- durable functions ----------------------------------------------------------------------------

DURABLE = "      DurableConfig:\n        ExecutionTimeout: {timeout}\n        RetentionPeriodInDays: {days}\n"
GRANT = """      Policies:
        - PolicyName: durable
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: {action}
                Resource: '*'
"""
SDK = {"requirements.txt": "aws-durable-execution-sdk-python==1.5.0\n"}


def durable(timeout: object = 3600, days: object = 7, runtime: str = "python3.13", action: str | None =
            "[lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState]") -> tuple[str, str]:
    extra = GRANT.format(action=action) if action else ""
    return f"      Runtime: {runtime}\n" + DURABLE.format(timeout=timeout, days=days), extra


@pytest.mark.parametrize(("timeout", "days", "expected"), [
    pytest.param(0, 7, ["LP350"], id="timeout-0"),
    pytest.param(31_622_401, 7, ["LP350"], id="timeout-over-a-year"),
    pytest.param(3600, 91, ["LP350"], id="retention-91"),
    pytest.param("'3600'", 7, ["LP350"], id="timeout-string"),
    pytest.param(31_622_400, 90, [], id="both-at-max"),
    pytest.param(1, 1, [], id="both-at-min"),
])
def test_durable_config_ranges(tmp_path: Path, timeout: object, days: object, expected: list[str]) -> None:
    props, extra = durable(timeout, days)
    assert codes(check(tmp_path, props, extra=extra, files=SDK)) == expected


@pytest.mark.parametrize(("runtime", "expected"), [
    pytest.param("python3.12", ["LP351"], id="3.12"),
    pytest.param("python3.13", [], id="3.13"),
    pytest.param("python3.14", [], id="3.14"),
])
def test_durable_runtime(tmp_path: Path, runtime: str, expected: list[str]) -> None:
    props, extra = durable(runtime=runtime)
    assert codes(check(tmp_path, props, extra=extra, files=SDK)) == expected


def test_durable_sdk_not_bundled_is_a_warning(tmp_path: Path) -> None:
    props, extra = durable()
    found = check(tmp_path, props, extra=extra)
    assert codes(found) == ["LP245"]
    assert found[0]["severity"] == "warning"


def test_durable_sdk_bundled_in_the_folder_is_quiet(tmp_path: Path) -> None:
    props, extra = durable()
    (tmp_path / "src" / "aws_durable_execution_sdk_python").mkdir(parents=True)
    (tmp_path / "src" / "aws_durable_execution_sdk_python" / "__init__.py").write_text("")
    assert check(tmp_path, props, extra=extra) == []


@pytest.mark.parametrize(("action", "expected"), [
    pytest.param(None, ["LP590"], id="basic-role-only"),
    pytest.param("lambda:CheckpointDurableExecution", ["LP590"], id="checkpoint-only"),
    pytest.param("'lambda:*'", [], id="lambda-star"),
    pytest.param("[lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState]", [], id="both"),
])
def test_durable_role_checkpoint_rights(tmp_path: Path, action: str | None, expected: list[str]) -> None:
    props, extra = durable(action=action)
    found = check(tmp_path, props, extra=extra, files=SDK)
    assert codes(found) == expected
    if action == "lambda:CheckpointDurableExecution":
        assert "does not allow lambda:GetDurableExecutionState:" in str(found[0]["message"])


def test_durable_role_rule_ignores_functions_that_are_not_durable(tmp_path: Path) -> None:
    assert check(tmp_path, "      Runtime: python3.13\n") == []


# -- tenant isolation -----------------------------------------------------------------------------

TENANT = "      Runtime: python3.13\n      TenancyConfig:\n        TenantIsolationMode: {mode}\n"


@pytest.mark.parametrize(("mode", "more", "expected"), [
    pytest.param("PER_TENANT", "", [], id="alone"),
    pytest.param("PER_TENANT", EVENTS["api"], [], id="rest-api"),
    pytest.param("PER_FUNCTION", "", ["LP355"], id="unknown-mode"),
    pytest.param("PER_TENANT", "      SnapStart:\n        ApplyOn: PublishedVersions\n      AutoPublishAlias: live\n",
                 ["LP356"], id="snapstart"),
    pytest.param("PER_TENANT", "      SnapStart:\n        ApplyOn: None\n", [], id="snapstart-none"),
    pytest.param("PER_TENANT", "      AutoPublishAlias: live\n      ProvisionedConcurrencyConfig:\n"
                 "        ProvisionedConcurrentExecutions: 2\n", ["LP357"], id="provisioned"),
    pytest.param("PER_TENANT", EVENTS["url"], ["LP358"], id="function-url"),
    pytest.param("PER_TENANT", EVENTS["sqs"], ["LP359"], id="sqs"),
    pytest.param("PER_TENANT", "      Events:\n        H:\n          Type: HttpApi\n", ["LP359"], id="http-api"),
])
def test_tenancy(tmp_path: Path, mode: str, more: str, expected: list[str]) -> None:
    found = check(tmp_path, TENANT.format(mode=mode) + more, extra=QUEUE)
    assert codes(found) == expected
    assert all(f["severity"] == "error" and isinstance(f["line"], int) for f in found)


def test_tenancy_event_source_points_at_each_events_entry(tmp_path: Path) -> None:
    found = check(tmp_path, TENANT.format(mode="PER_TENANT") + """\
      Events:
        Count:
          Type: Api
          Properties:
            Path: /count
            Method: get
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
""", extra=QUEUE)
    text = (tmp_path / "template.yaml").read_text().splitlines()
    assert [(f["code"], text[f["line"] - 1].strip()) for f in found] == [("LP359", "Nightly:"), ("LP359", "Queue:")]


def test_event_sources_without_tenancy_stay_quiet(tmp_path: Path) -> None:
    assert check(tmp_path, "      Runtime: python3.13\n" + EVENTS["sqs"] + EVENTS["url"], extra=QUEUE) == []


# -- the committed templates, shaped like aws-samples/serverless-patterns ---------------------------


@pytest.mark.parametrize(("folder", "expected"), [
    pytest.param("managed-instances", [("LP240", "api.py", 10), ("LP240", "batch.py", 15),
                                       ("LP323", "template.yaml", 42), ("LP347", "template.yaml", 45),
                                       ("LP348", "template.yaml", 44)], id="managed-instances"),
    pytest.param("durable", [("LP350", "template.yaml", 50), ("LP351", "template.yaml", 47),
                             ("LP590", "template.yaml", 42)], id="durable"),
    # LP595: IngestFunction's own role (only AWSLambdaBasicExecutionRole) cannot read its SQS queue
    pytest.param("tenancy", [("LP357", "template.yaml", 46), ("LP358", "template.yaml", 48),
                             ("LP359", "template.yaml", 53), ("LP595", "template.yaml", 53)], id="tenancy"),
])
def test_committed_templates_give_exactly_the_expected_findings(
        tmp_path: Path, folder: str, expected: list[tuple[str, str, int]]) -> None:
    copy = tmp_path / folder
    shutil.copytree(DATA / folder, copy)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(copy / "template.yaml"), "--format", "json"])
    findings = json.loads(out.getvalue())["findings"]
    got = sorted((f["code"], Path(str(f["path"])).name, f["line"]) for f in findings)
    assert got == expected


def test_a_sam_durable_function_gets_the_durable_managed_policy(tmp_path: Path) -> None:
    """SAM attaches AWSLambdaBasicDurableExecutionRolePolicy to a durable function's own role: no LP590."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (src / "requirements.txt").write_text(SDK["requirements.txt"])
    template = tmp_path / "template.yaml"
    template.write_text(HEAD + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
                        "      Handler: app.handler\n      Runtime: python3.13\n" + DURABLE.format(timeout=3600, days=7))
    assert run(template) == []
    plain = template.read_text().replace("      DurableConfig:", "      XDurableConfig:")
    template.write_text(plain)
    assert run(template) == []  # not durable: not judged


def test_log_level_with_text_format_is_not_lp325_on_managed_instances(tmp_path: Path) -> None:
    props = "      Runtime: python3.13\n      LoggingConfig:\n        LogFormat: Text\n        ApplicationLogLevel: DEBUG\n"
    import contextlib
    import io

    def lp325(extra_props: str) -> list[str]:
        check(tmp_path, props + extra_props)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["check", str(tmp_path / "template.yaml"), "--format", "json", "--select", "LP325"])
        return [f["code"] for f in json.loads(out.getvalue())["findings"]]

    assert lp325("") == ["LP325"]
    assert lp325(MI) == []


DURABLE_HANDLER = ("from aws_durable_execution_sdk_python import DurableContext, durable_execution\n\n\n"
                   "@durable_execution\ndef handler(event, context: DurableContext):\n    return 1\n")


@pytest.mark.parametrize(("props", "expected"), [
    # the python3.13 and python3.14 runtimes include the SDK: the import works, LP245 asks for a bundled copy
    pytest.param(durable(runtime="python3.13")[0], ["LP245"], id="durable-3.13"),
    pytest.param(durable(runtime="python3.14")[0], ["LP245"], id="durable-3.14"),
    pytest.param("      Runtime: python3.14\n", [], id="not-durable-3.14"),
    # near miss: python3.12 has no copy, so the handler cannot import it
    pytest.param("      Runtime: python3.12\n", ["LP209"], id="not-durable-3.12"),
])
def test_the_runtimes_copy_of_the_durable_sdk_is_importable(tmp_path: Path, props: str, expected: list[str]) -> None:
    """serverless-patterns' lambda-durable-human-approval-sam imports the SDK and bundles only boto3."""
    import contextlib
    import io

    check(tmp_path, props, code=DURABLE_HANDLER, extra=durable()[1])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(tmp_path / "template.yaml"), "--format", "json"])
    found = [f["code"] for f in json.loads(out.getvalue())["findings"] if f["code"] in ("LP209", "LP245")]
    assert sorted(found) == expected


CALLS_S3 = "import boto3\n\ns3 = boto3.client('s3')\n\n\ndef handler(event, context):\n    return s3.list_buckets()\n"
GRANTS = "[lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState, s3:ListAllMyBuckets]"


@pytest.mark.parametrize(("props", "unused"), [
    # the SDK checkpoints with the role: calls the handler's code does not show (serverless-patterns'
    # lambda-durable-investigation-escalation)
    pytest.param(durable()[0], [], id="durable"),
    pytest.param("      Runtime: python3.13\n", ["lambda:CheckpointDurableExecution, lambda:GetDurableExecutionState"],
                 id="not-durable"),
])
def test_a_durable_functions_checkpoint_grants_are_used(tmp_path: Path, props: str, unused: list[str]) -> None:
    import contextlib
    import io

    check(tmp_path, props, code=CALLS_S3, extra=GRANT.format(action=GRANTS), files=SDK)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["check", str(tmp_path / "template.yaml"), "--format", "json"])
    found = [f["message"] for f in json.loads(out.getvalue())["findings"] if f["code"] == "LP571"]
    assert [m.split(" grants ")[1].split(", which")[0] for m in found] == unused

"""The Lambda of 2025-2026 on real inputs (#13): every committed template shaped like
aws-samples/serverless-patterns, and a real `cdk synth` cloud assembly, each checked by the CLI
from a copy and giving exactly the findings Lambda's behaviour calls for -- no more, no fewer.

Each expected finding says why Lambda would refuse or misbehave, not what lpack prints. The
cloud assembly under data/cdk/app/cdk.out was made by the real CDK (data/cdk/README.md says how);
the network-marked test at the end synthesises it again and checks lpack reads the fresh one alike.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lpack.cli import main

DATA = Path(__file__).resolve().parent / "data"
TEMPLATES = DATA / "templates"
CDK_APP = DATA / "cdk" / "app"
CDK_TEMPLATE = "OrdersStack.template.json"
# the logical IDs CDK gives the two functions (construct ID + a hash of the construct path)
ORDERS, REPORTS = "OrdersFunctionC129706A", "ReportsFunctionA1118E46"

Expected = list[tuple[str, str, str, int]]  # (code, function, file name, line)


def run(argv: list[str]) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, json.loads(out.getvalue())


def found(path: Path) -> Expected:
    _, report = run(["check", str(path), "--format", "json"])
    return sorted((f["code"], f.get("function") or "", Path(str(f["path"])).name, f["line"])
                  for f in report["findings"])


def copy_of(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / source.name
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "dist"))
    return copy


# -- exactly the expected findings --------------------------------------------------------------------

EXACT = [
    pytest.param("snapstart", "template.yaml", [
        # app.py:17 makes uuid.uuid4() at import: SnapStart snapshots the initialised memory once per
        # published version and resumes every environment from it, so each one logs the same "unique" id
        ("LP230", "OrdersFunction", "app.py", 17),
    ], id="snapstart"),
    pytest.param("managed-instances", "template.yaml", [
        # an HttpApi event invokes synchronously, and a synchronous invocation stops at 900 s even on
        # Managed Instances (only async and event-source invocations may run to 5,400 s): 1200 is refused
        ("LP323", "ApiFunction", "template.yaml", 42),
        # Managed Instances run Python's concurrent requests as separate processes in one environment:
        # 2048 MB shared by up to 64 of them leaves about 32 MB each, under Lambda's 128 MB floor
        ("LP347", "ApiFunction", "template.yaml", 45),
        # Managed Instances always write JSON logs, so LogFormat: Text has no effect
        ("LP348", "ApiFunction", "template.yaml", 44),
        # those concurrent processes share /tmp: two requests writing /tmp/cache.json (api.py:10) or
        # /tmp/report.json (batch.py:15) overwrite each other's file; batch.py's per-request and
        # tempfile names beside them are the near misses that stay quiet
        ("LP240", "ApiFunction", "api.py", 10),
        ("LP240", "BatchFunction", "batch.py", 15),
        # BatchFunction's Timeout: 3000 is no finding: an SQS event-source invocation may run 5,400 s
    ], id="managed-instances"),
    pytest.param("durable", "template.yaml", [
        # a durable execution lasts at most one year (31,622,400 s); 40,000,000 s is refused
        ("LP350", "SagaFunction", "template.yaml", 50),
        # durable functions need the durable execution SDK's runtimes, python3.13 and later; not 3.12
        ("LP351", "SagaFunction", "template.yaml", 47),
        # SagaRole (its own role, so SAM adds no durable policy) grants only basic logging: without
        # lambda:CheckpointDurableExecution and GetDurableExecutionState no step can checkpoint.
        # ProcessorFunction's inline policy grants both: no finding for it
        ("LP590", "SagaFunction", "template.yaml", 42),
    ], id="durable"),
    pytest.param("tenancy", "template.yaml", [
        # tenant isolation starts an environment per tenant on demand: Lambda refuses it together with
        # provisioned concurrency (46), a function URL (48) and an SQS source, which sends no tenant ID
        # (the SQS event at 53); CounterFunction behind a REST API (Api) is the supported shape: quiet
        ("LP357", "IngestFunction", "template.yaml", 46),
        ("LP358", "IngestFunction", "template.yaml", 48),
        ("LP359", "IngestFunction", "template.yaml", 53),
        # and IngestFunction names its own ExecutionRole, which has only AWSLambdaBasicExecutionRole (SAM
        # adds the SQS policy only to a role it generates): Lambda cannot create the SQS event source
        # mapping without sqs:ReceiveMessage, DeleteMessage and GetQueueAttributes (the event at 53)
        ("LP595", "IngestFunction", "template.yaml", 53),
    ], id="tenancy"),
    # the Lambda Web Adapter layer, AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, an executable run.sh and
    # RESPONSE_STREAM on both the URL and the adapter: the working pattern, nothing to say
    pytest.param("web-adapter-streaming", "template.yaml", [], id="web-adapter-streaming"),
    pytest.param("image", "template.yaml", [
        # a PackageType: Image function's code, dependencies and handler are the image's: lpack judges
        # its settings and role but cannot see inside the Dockerfile's build, and says so once (info).
        # Its ImageConfig Command, 1024 MB, 60 s and S3 policies are all valid; StatusFunction, the
        # .zip function beside it, is a healthy arm64 python3.13 handler
        ("LP360", "ThumbnailFunction", "template.yaml", 24),
    ], id="image"),
    # the real `cdk synth` output: two python3.13 functions (one arm64) whose code is the assets in
    # cdk.out, CDK's generated roles (AWSLambdaBasicExecutionRole + the DynamoDB grant, the stream
    # read policy for the event source mapping), BootstrapVersion and CDKMetadata: all valid
    pytest.param("cdk", f"cdk.out/{CDK_TEMPLATE}", [
        # the orders handler only puts items; grantReadWriteData's other eleven actions are unused (info)
        ("LP571", ORDERS, CDK_TEMPLATE, 68),
    ], id="cdk-synth-template"),
]


@pytest.mark.parametrize(("folder", "template", "expected"), EXACT)
def test_committed_template_gives_exactly_the_expected_findings(
        tmp_path: Path, folder: str, template: str, expected: Expected) -> None:
    copy = copy_of(CDK_APP if folder == "cdk" else TEMPLATES / folder, tmp_path)
    assert found(copy / template) == sorted(expected)


@pytest.mark.parametrize("folder", ["cdk.out", "."], ids=["cdk.out", "app-folder"])
def test_the_cdk_out_folder_reads_as_its_stack_templates(tmp_path: Path, folder: str) -> None:
    copy = copy_of(CDK_APP, tmp_path)
    code, report = run(["check", str(copy / folder), "--format", "json"])
    assert (code, [f["code"] for f in report["findings"]]) == (0, ["LP571"])  # the unused grants (info)


# -- build and invoke from the cdk.out assets ---------------------------------------------------------


def test_build_of_the_cdk_template_packages_each_asset_folder(tmp_path: Path) -> None:
    copy = copy_of(CDK_APP, tmp_path)
    code, report = run(["build", str(copy / "cdk.out" / CDK_TEMPLATE), "-q", "--format", "json"])
    assert code == 0, report
    targets = {a["name"]: (a["runtime"], a["architecture"]) for a in report["artifacts"]}
    # CDK's Architecture.ARM_64 is the template's Architectures: [arm64]; the default is x86_64
    assert targets == {ORDERS: ("python3.13", "x86_64"), REPORTS: ("python3.13", "arm64")}
    assets = json.loads((copy / "cdk.out" / CDK_TEMPLATE).read_text())["Resources"]
    for name in (ORDERS, REPORTS):
        asset = copy / "cdk.out" / assets[name]["Metadata"]["aws:asset:path"]
        with zipfile.ZipFile(copy / "cdk.out" / "dist" / f"{name}.zip") as zf:
            # the handler app.handler is app.py at the zip root, with the asset folder's bytes
            assert zf.namelist() == ["app.py"]
            assert zf.read("app.py") == (asset / "app.py").read_bytes()


def test_invoke_of_a_cdk_function_runs_its_asset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = copy_of(CDK_APP, tmp_path)
    event = {"Records": [
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"S": "o-1"}, "amount": {"N": "12.50"}}}},
        {"eventName": "MODIFY", "dynamodb": {"NewImage": {"id": {"S": "o-1"}, "amount": {"N": "13.00"}}}},
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"id": {"S": "o-2"}, "amount": {"N": "7.25"}}}},
    ]}
    code = main(["invoke", str(copy / "cdk.out" / CDK_TEMPLATE), "--function", REPORTS, "--payload",
                 json.dumps(event), "--python", sys.executable, "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    # CDK sets no MemorySize for ReportsFunction: Lambda's default, 128 MB; its timeout is 30 s
    assert (report["architecture"], report["memory_size_mb"], report["timeout_s"]) == ("arm64", 128, 30.0)
    (only,) = report["invocations"]
    assert only["status"] == "succeeded"
    assert only["response"] == {"orders": 2, "total": "19.75"}
    assert "2 new orders worth 19.75" in only["logs"]


# -- the fixture matches today's CDK --------------------------------------------------------------------

CDK_TOOLS = Path(os.environ.get("LPACK_CDK_TOOLS", "/tmp/cdk-tools"))


def cdk_tools() -> tuple[str, str] | None:
    """The `cdk` command and a Python with aws-cdk-lib, as data/cdk/README.md installs them."""
    local = CDK_TOOLS / "node_modules" / ".bin" / "cdk"
    cdk = str(local) if local.is_file() else shutil.which("cdk")
    venv = CDK_TOOLS / "venv" / "bin" / "python"
    python = str(venv) if venv.is_file() else sys.executable
    if cdk is None or subprocess.run([python, "-c", "import aws_cdk"], capture_output=True, check=False).returncode:
        return None
    return cdk, python


def functions_of(template: Path) -> dict[str, Any]:
    resources = json.loads(template.read_text())["Resources"]
    return {k: v for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}


@pytest.mark.network
def test_a_fresh_cdk_synth_reads_like_the_committed_one(tmp_path: Path) -> None:
    tools = cdk_tools()
    if tools is None:
        pytest.skip(f"no `cdk` with aws-cdk-lib (looked in {CDK_TOOLS} and on PATH); see tests/data/cdk/README.md")
    cdk, python = tools
    app = tmp_path / "app"
    shutil.copytree(CDK_APP, app, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    done = subprocess.run([cdk, "synth", "--no-lookups", "--quiet", "--app", f"{python} app.py"],
                          cwd=app, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    fresh, committed = app / "cdk.out" / CDK_TEMPLATE, CDK_APP / "cdk.out" / CDK_TEMPLATE
    # same functions, same asset folders (named by the hash of their files), same properties:
    # otherwise today's CDK writes something else and the fixture must be regenerated (README.md)
    assert functions_of(fresh) == functions_of(committed)
    assert found(fresh) == []

"""`lpack invoke` of the Lambda of 2025-2026: SnapStart hooks, tenant IDs, durable functions,
exec wrappers and response streaming, each run (or refused) as Lambda would, from real templates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from lpack.cli import main

RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"

HOOKS_APP = '''\
import os
from snapshot_restore_py import register_after_restore, register_before_snapshot

LOG = os.path.join(os.environ["HOOK_LOG_DIR"], "hooks.log")


def write(line):
    with open(LOG, "a") as f:
        f.write(line + "\\n")


write("init")


@register_before_snapshot
def close_pool():
    write("before:close_pool")


def flush(tag):
    write("before:flush:" + tag)


register_before_snapshot(flush, "cache")


@register_after_restore
def reconnect():
    write("after:reconnect")
    if os.environ.get("FAIL_HOOK") == "after":
        raise ConnectionError("no database")


@register_after_restore
def reseed():
    write("after:reseed")


if os.environ.get("FAIL_HOOK") == "before":
    register_before_snapshot(lambda: 1 / 0)


def handler(event, context):
    write("invoke")
    return {"tenant_id": context.tenant_id, "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
'''


def template(root: Path, properties: str, code: str = HOOKS_APP, env: dict[str, str] | None = None) -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app.py").write_text(code)
    variables = {"HOOK_LOG_DIR": str(root), **(env or {})}
    lines = "".join(f"          {k}: '{v}'\n" for k, v in variables.items())
    (root / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        f"    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: {RUNTIME}\n"
        f"      Environment:\n        Variables:\n{lines}{properties}")
    return root / "template.yaml"


def invoke(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, Any, str]:
    code = main(["invoke", str(path), "--payload", "{}", "--python", sys.executable, "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def hook_log(root: Path) -> list[str]:
    return (root / "hooks.log").read_text().split()


SNAPSTART = "      SnapStart:\n        ApplyOn: PublishedVersions\n      AutoPublishAlias: live\n"


def test_snapstart_runs_init_then_before_hooks_reversed_then_after_hooks_then_the_event(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = invoke(capsys, template(tmp_path, SNAPSTART))
    assert code == 0, err
    assert hook_log(tmp_path) == ["init", "before:flush:cache", "before:close_pool", "after:reconnect",
                                  "after:reseed", "invoke"]
    assert report["invocations"][0]["response"] == {"tenant_id": None, "init_type": "snap-start"}
    assert ("SnapStart: ran init (imported app), the before-snapshot hooks (flush, close_pool; reverse order of "
            "registration), then restored: the after-restore hooks (reconnect, reseed;") in err


def test_no_snapstart_runs_no_hooks_and_snapstart_forces_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = template(tmp_path, SNAPSTART)
    code, report, err = invoke(capsys, path, "--no-snapstart")
    assert code == 0, err
    assert hook_log(tmp_path) == ["init", "invoke"]
    assert report["invocations"][0]["response"]["init_type"] == "on-demand"
    assert "SnapStart" not in err
    plain = template(tmp_path / "plain", "")
    assert invoke(capsys, plain)[0] == 0 and hook_log(tmp_path / "plain") == ["init", "invoke"]
    assert invoke(capsys, plain, "--snapstart")[0] == 0
    assert hook_log(tmp_path / "plain")[2:] == ["init", "before:flush:cache", "before:close_pool",
                                                "after:reconnect", "after:reseed", "invoke"]


@pytest.mark.parametrize(("where", "error_type", "ran"), [
    ("before", "Runtime.BeforeSnapshotError", ["init"]),
    ("after", "Runtime.AfterRestoreError", ["init", "before:flush:cache", "before:close_pool", "after:reconnect"]),
])
def test_a_hook_that_raises_is_the_runtime_s_snapstart_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str, error_type: str, ran: list[str]) -> None:
    code, report, err = invoke(capsys, template(tmp_path, SNAPSTART, env={"FAIL_HOOK": where}))
    assert code == 1, err
    invocation = report["invocations"][0]
    assert invocation["error"]["errorType"] == error_type
    assert invocation["report"].endswith(f"Status: error\tError Type: {error_type}")
    assert hook_log(tmp_path) == ran  # nothing after the failing hook, and no invocation


def test_a_bundled_snapshot_restore_py_is_the_one_imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = template(tmp_path, SNAPSTART)
    (tmp_path / "src" / "snapshot_restore_py.py").write_text(
        "def register_before_snapshot(f, *a, **k):\n    return f\n"
        "def register_after_restore(f, *a, **k):\n    return f\n"
        "def get_before_snapshot():\n    return []\n"
        "def get_after_restore():\n    return []\n")
    code, _, err = invoke(capsys, path)
    assert code == 0, err
    assert hook_log(tmp_path) == ["init", "invoke"]  # the package's own copy registers nothing


TENANCY = "      TenancyConfig:\n        TenantIsolationMode: PER_TENANT\n"


LOGGING_APP = """\
import logging

logging.getLogger().setLevel(logging.INFO)


def handler(event, context):
    logging.getLogger("counter").info("counted", extra={"count": 1})
    return context.tenant_id
"""
JSON_LOGS = "      LoggingConfig:\n        LogFormat: JSON\n"


def function_records(invocation: dict[str, Any]) -> list[dict[str, Any]]:
    """The handler's JSON log records (not the platform.* records around them)."""
    records = [json.loads(line) for line in invocation["logs"].splitlines() if line.startswith("{")]
    return [r for r in records if "type" not in r]


def test_json_logs_of_a_tenant_isolated_function_carry_the_tenant_id(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lambda adds tenantId to the JSON log records of a tenant-isolated function's invoke, after the
    runtime's own fields and before the handler's extra ones (awslambdaric's JsonFormatter)."""
    code, report, err = invoke(capsys, template(tmp_path, TENANCY + JSON_LOGS, LOGGING_APP), "--tenant-id", "blue")
    assert code == 0, err
    (invocation,) = report["invocations"]
    (record,) = function_records(invocation)
    assert list(record) == ["timestamp", "level", "message", "logger", "requestId", "tenantId", "count"]
    assert (record["message"], record["tenantId"], record["requestId"]) == ("counted", "blue", invocation["request_id"])


def test_json_logs_without_tenant_isolation_have_no_tenant_id(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = invoke(capsys, template(tmp_path, JSON_LOGS, LOGGING_APP))
    assert code == 0, err
    (record,) = function_records(report["invocations"][0])
    assert record["message"] == "counted" and "tenantId" not in record


def test_tenant_id_is_context_tenant_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = invoke(capsys, template(tmp_path, TENANCY), "--tenant-id", "blue")
    assert code == 0, err
    assert report["invocations"][0]["response"] == {"tenant_id": "blue", "init_type": "on-demand"}


@pytest.mark.parametrize(("properties", "args", "message"), [
    (TENANCY, (), ("Fn has tenant isolation (TenancyConfig PER_TENANT) and Lambda refuses an invoke without a "
                  "tenant ID (InvalidParameterValueException): pass --tenant-id ID")),
    ("", ("--tenant-id", "blue"), ("Fn has no tenant isolation and Lambda refuses an invoke with a tenant ID "
                                  "(InvalidParameterValueException): drop --tenant-id, or set TenancyConfig")),
    (TENANCY, ("--tenant-id", " "), "--tenant-id is empty"),
], ids=["isolated-without-id", "id-without-isolation", "empty-id"])
def test_tenant_refusals_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], properties: str,
                                             args: tuple[str, ...], message: str) -> None:
    code, report, err = invoke(capsys, template(tmp_path, properties), *args)
    assert (code, report) == (2, None)
    assert err.startswith("lpack: error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "hooks.log").exists()  # refused before anything ran


DURABLE = "      DurableConfig:\n        ExecutionTimeout: 60\n        RetentionPeriodInDays: 7\n"


def test_a_durable_function_without_the_sdk_s_testing_package_says_how(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if _importable("aws_durable_execution_sdk_python_testing"):
        pytest.skip("the durable testing package is installed here: the refusal cannot happen")
    code, report, err = invoke(capsys, template(tmp_path, DURABLE))
    assert (code, report) == (2, None)
    assert err.count("\n") == 1
    assert ("Fn is a durable function (DurableConfig): lpack invoke runs it only through the SDK's own local test "
            "runner, and aws-durable-execution-sdk-python-testing is not installed for") in err
    assert "-m pip install aws-durable-execution-sdk-python-testing`" in err
    assert not (tmp_path / "hooks.log").exists()  # the handler did not run outside the SDK


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


WEB_ADAPTER = "      Layers:\n        - arn:aws:lambda:us-east-1:753240598075:layer:LambdaAdapterLayerX86:25\n"


def test_a_web_adapter_function_is_refused_naming_what_is_not_emulated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = template(tmp_path, WEB_ADAPTER, env={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap"})
    text = path.read_text().replace("Handler: app.handler", "Handler: run.sh")
    path.write_text(text)
    (tmp_path / "src" / "run.sh").write_text("#!/bin/bash\nexec python -m uvicorn app:app --port $PORT\n")
    code, report, err = invoke(capsys, path)
    assert (code, report) == (2, None)
    error = err.splitlines()[-1]  # after the note that the adapter's layer is not fetched
    assert sum(line.startswith("lpack: error:") for line in err.splitlines()) == 1
    assert error.startswith("lpack: error: Fn: AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap")
    assert "handler 'run.sh' is not a Python module" in error and "run the web app directly" in error


def test_a_wrapper_around_a_python_handler_runs_it_and_says_the_wrapper_did_not(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = template(tmp_path, "", env={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument"})
    code, _report, err = invoke(capsys, path)
    assert code == 0, err
    assert hook_log(tmp_path) == ["init", "invoke"]
    assert "Fn: AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-instrument is not run" in err


def test_response_streaming_runs_buffered_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "      FunctionUrlConfig:\n        AuthType: NONE\n        InvokeMode: RESPONSE_STREAM\n"
    code, report, err = invoke(capsys, template(tmp_path, url))
    assert code == 0, err
    assert report["invocations"][0]["response"]["tenant_id"] is None
    assert "Fn: the function URL's InvokeMode RESPONSE_STREAM is not emulated" in err


def test_rest_api_streaming_runs_buffered_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = """\
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionBody:
        openapi: 3.0.1
        paths:
          /story:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                responseTransferMode: STREAM
                uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2021-11-15/functions/${Fn.Arn}/response-streaming-invocations
"""
    code, report, err = invoke(capsys, template(tmp_path, api))
    assert code == 0, err
    assert report["invocations"][0]["response"]["tenant_id"] is None
    assert "Fn: the API Gateway integration's ResponseTransferMode STREAM is not emulated" in err


def test_a_snapstart_report_line_has_the_restore_duration_not_the_init(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As Lambda logs a restored environment: RESTORE_START/RESTORE_REPORT, and Restore Duration on REPORT."""
    path = template(tmp_path, SNAPSTART)
    assert main(["invoke", str(path), "--payload", "{}", "--python", sys.executable]) == 0
    out, err = capsys.readouterr()
    report = next(line for line in (out + err).splitlines() if line.startswith("REPORT RequestId:"))
    assert "\tRestore Duration: " in report and "\tBilled Restore Duration: " in report
    assert "Init Duration" not in report
    assert "RESTORE_REPORT Restore Duration: " in out + err
    assert main(["invoke", str(path), "--payload", "{}", "--python", sys.executable, "--no-snapstart"]) == 0
    out, err = capsys.readouterr()
    report = next(line for line in (out + err).splitlines() if line.startswith("REPORT RequestId:"))
    assert "\tInit Duration: " in report and "Restore" not in report

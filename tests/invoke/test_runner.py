"""`lpack invoke`: real packages run in a real child Python, as the Lambda console's Test button runs them.

Most cases run a small .zip written here with zipfile (the handler dispatches on the event's
"action"); the project cases build first with lpack, as a user's `lpack invoke` does.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lpack.cli import main
from tests.factories.elf import make_elf

REPO = Path(__file__).resolve().parents[2]
RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d\d) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB(?:\tInit Duration: (?P<init>\d+\.\d\d) ms)?(?P<rest>.*)$",
    re.MULTILINE,
)

APP = '''\
import collections, datetime, decimal, logging, os, sys, time

logger = logging.getLogger()
CALLS = []
Point = collections.namedtuple("Point", "x y")
print("init output")


def handler(event, context):
    CALLS.append(context.aws_request_id)
    action = event.get("action")
    if action == "context":
        return {
            "function_name": context.function_name, "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb, "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name, "log_stream_name": context.log_stream_name,
            "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
            "client_context": context.client_context,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
    if action == "sleep":
        print("going to sleep")
        time.sleep(event["seconds"])
        return "woke up"
    if action == "raise":
        raise ValueError(event.get("message", "boom"))
    if action == "datetime":
        return {"when": datetime.datetime(2026, 1, 1)}
    if action == "big":
        return "x" * event["size"]
    if action == "exit":
        sys.exit(event["code"])
    if action == "alloc":
        data = b"\\1" * (event["mb"] * 1024 * 1024)
        return len(data)
    if action == "env":
        return {name: os.environ.get(name) for name in event["names"]}
    if action == "where":
        return {"cwd": os.getcwd(), "path": sys.path, "file": __file__}
    if action == "import":
        try:
            module = __import__(event["name"])
        except ImportError as exc:
            return {"error": str(exc)}
        return {"file": getattr(module, "__file__", None)}
    if action == "log":
        print("printed")
        logger.info("informed")
        logger.warning("warned")
        return None
    if action == "decimal":
        return {"price": decimal.Decimal("1.10"), "point": Point(1, 2), "text": "caf\\u00e9"}
    if action == "write":
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "new.txt"), "w") as f:
            f.write("x")
        return "written"
    return {"calls": len(CALLS), "pid": os.getpid()}
'''


def make_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(name, data)
    return path


@pytest.fixture
def app_zip(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "app.zip", {"app.py": APP})


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["invoke", *args])
    out, err = capsys.readouterr()
    return code, out, err


def invoke_zip(capsys: pytest.CaptureFixture[str], package: Path, *events: dict[str, Any],
               handler: str = "app.handler", extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    payloads = [arg for event in events for arg in ("--payload", json.dumps(event))] if len(events) == 1 else []
    if len(events) > 1:
        folder = package.parent / "events"
        folder.mkdir(exist_ok=True)
        for i, event in enumerate(events):
            (folder / f"{i:02d}.json").write_text(json.dumps(event))
        payloads = ["--event", str(folder)]
    code, out, err = invoke(capsys, str(package), "--handler", handler, "--runtime", RUNTIME,
                            "--python", sys.executable, "--format", "json", *payloads, *extra)
    return code, json.loads(out), err


def billed_as_lambda(billed: int, duration_ms: float, init_ms: float) -> bool:
    """Billed Duration is the exact duration (plus a cold start's init) rounded up to the ms. The
    REPORT line shows each figure to 2 decimals, so their sum is within 0.01 ms of the exact one."""
    shown = duration_ms + init_ms
    return math.ceil(shown - 0.01) <= billed <= math.ceil(shown + 0.01)


def report_of(invocation: dict[str, Any]) -> re.Match[str]:
    match = REPORT.search(invocation["logs"])
    assert match, invocation["logs"]
    return match


# -- the examples ------------------------------------------------------------------------------

def test_area_example_runs_from_its_built_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = shutil.copytree(REPO / "examples" / "area", tmp_path / "area", ignore=shutil.ignore_patterns("dist"))
    code, out, err = invoke(capsys, str(project), "--event", str(project / "event.json"), "--python", sys.executable)
    assert code == 0, err
    assert '"area": 42' in out
    assert "Status: Succeeded" in out
    assert (project / "dist" / "area.zip").is_file()  # it built the package it ran
    match = REPORT.search(out)
    assert match and match["init"] is not None
    assert billed_as_lambda(int(match["billed"]), float(match["duration"]), float(match["init"]))
    assert match["memory"] == "128" and int(match["used"]) > 0
    request_id = match["id"]
    assert f"START RequestId: {request_id} Version: $LATEST" in out
    assert f"END RequestId: {request_id}" in out
    assert f"Request ID: {request_id}" in out
    assert re.search(rf"\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tThe area is 42", out)


def test_a_second_event_reuses_the_warm_environment(tmp_path: Path, app_zip: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {}, {})
    assert code == 0
    first, second = report["invocations"]
    assert first["init_duration_ms"] is not None and report_of(first)["init"] is not None
    assert second["init_duration_ms"] is None and report_of(second)["init"] is None
    assert first["response"]["pid"] == second["response"]["pid"]
    assert [first["response"]["calls"], second["response"]["calls"]] == [1, 2]
    assert "INIT_START" in first["logs"] and "init output" in first["logs"]
    assert "INIT_START" not in second["logs"]


def test_the_report_line_uses_lambdas_rounding(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = invoke_zip(capsys, app_zip, {}, {})
    for invocation in report["invocations"]:
        match = report_of(invocation)
        init = float(match["init"] or 0)
        assert billed_as_lambda(int(match["billed"]), float(match["duration"]), init)
        assert invocation["report"] == match.group(0)
        assert int(match["billed"]) >= float(match["duration"]) + init


# -- the context object and the environment ----------------------------------------------------

def test_context_has_every_documented_attribute(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "context"},
                                 extra=("--memory", "256", "--timeout", "7", "--region", "eu-west-1"))
    assert code == 0
    invocation = report["invocations"][0]
    context = invocation["response"]
    assert context["function_name"] == "app"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:app"
    assert context["memory_limit_in_mb"] == "256"  # a string, as the runtime reads it from the environment
    assert context["aws_request_id"] == invocation["request_id"]
    assert context["log_group_name"] == "/aws/lambda/app"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert context["identity"] == [None, None]
    assert context["client_context"] is None
    assert 0 < context["remaining_ms"] <= 7000
    assert report_of(invocation)["memory"] == "256"


def test_environment_is_lambdas_not_the_shell(tmp_path: Path, app_zip: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_FROM_SHELL", "leak")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"Variables": {"TABLE": "orders", "AWS_REGION": "mars-1"}}))
    names = ["TABLE", "AWS_REGION", "SECRET_FROM_SHELL", "AWS_PROFILE", "_HANDLER", "LAMBDA_TASK_ROOT",
             "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "TZ", "AWS_LAMBDA_INITIALIZATION_TYPE"]
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "env", "names": names},
                                 extra=("--env", str(env), "--pass-env", "AWS_PROFILE", "--region", "us-west-2"))
    assert code == 0
    seen = report["invocations"][0]["response"]
    assert seen["TABLE"] == "orders"
    assert seen["AWS_REGION"] == "us-west-2"  # a reserved name: Lambda's value, not the function's
    assert seen["SECRET_FROM_SHELL"] is None
    assert seen["AWS_PROFILE"] == "dev"
    assert seen["_HANDLER"] == "app.handler"
    assert seen["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"
    assert seen["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert seen["TZ"] == ":UTC"
    assert seen["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert Path(seen["LAMBDA_TASK_ROOT"]).is_dir()


@pytest.mark.parametrize(("variables", "says"), [
    pytest.param({"TABLE": "a\0b"}, "'TABLE' has a NUL byte in its value", id="nul-in-value"),
    pytest.param({"A=B": "1"}, "'A=B' has a name with '='", id="equals-in-key"),
    pytest.param({"TABLE": "\ud800"}, "'TABLE' cannot be encoded for the operating system", id="lone-surrogate"),
    pytest.param({"\ud800": "x"}, "'\\ud800' cannot be encoded", id="lone-surrogate-key"),
    pytest.param({"BLOB": "x" * 10_000_000}, "'BLOB' is 10,000,006 bytes, more than a process", id="10-mb-value"),
])
def test_an_environment_the_os_refuses_is_an_input_error(tmp_path: Path, app_zip: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         variables: dict[str, str], says: str) -> None:
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"Variables": variables}))
    code, _out, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--runtime", RUNTIME,
                            "--python", sys.executable, "--env", str(env), "--payload", "{}")
    assert code == 2, err
    assert f"{app_zip}: environment variable {says}" in err
    assert "internal error" not in err
    assert len(err) < 2000


def test_runs_in_the_extracted_package_with_the_runtimes_search_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    package = make_zip(tmp_path / "app.zip", {"app.py": APP, "shadow.py": "WHO = 'function'\n"})
    layer = make_zip(tmp_path / "layer.zip", {"python/shadow.py": "WHO = 'layer'\n",
                                              "python/layered.py": "WHO = 'layer'\n"})
    code, report, _ = invoke_zip(capsys, package, {"action": "where"}, extra=("--layer", str(layer)))
    assert code == 0
    where = report["invocations"][0]["response"]
    task_root = Path(where["cwd"])
    assert Path(where["file"]).parent == task_root  # the package's copy, not a source tree
    assert where["path"][0] == str(task_root)
    opt = Path(where["path"][2]).parent
    assert where["path"][1:3] == [str(opt / "python" / "lib" / RUNTIME / "site-packages"), str(opt / "python")]
    assert not any("site-packages" in p for p in where["path"][3:])  # not this machine's packages
    _, report, _ = invoke_zip(capsys, package, {"action": "import", "name": "layered"}, extra=("--layer", str(layer)))
    assert Path(report["invocations"][0]["response"]["file"]).parts[-2:] == ("python", "layered.py")
    _, report, _ = invoke_zip(capsys, package, {"action": "import", "name": "shadow"}, extra=("--layer", str(layer)))
    assert Path(report["invocations"][0]["response"]["file"]).parent == task_root  # function code beats layers


def test_packages_of_this_machine_are_not_importable(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = invoke_zip(capsys, app_zip, {"action": "import", "name": "pytest"})
    assert report["invocations"][0]["response"] == {"error": "No module named 'pytest'"}


def test_runtime_provided_modules_come_from_the_interpreter_only(tmp_path: Path, app_zip: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """boto3 and its dependencies ship with the Lambda runtime; nothing else on the machine does."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "six.py").write_text("PROVIDED = True\n")
    (Path(site) / "requests.py").write_text("PROVIDED = True\n")
    base = (str(app_zip), "--handler", "app.handler", "--runtime", RUNTIME, "--python", str(python), "--format", "json")
    _, out, _ = invoke(capsys, *base, "--payload", '{"action": "import", "name": "six"}')
    assert Path(json.loads(out)["invocations"][0]["response"]["file"]) == Path(site) / "six.py"
    _, out, _ = invoke(capsys, *base, "--payload", '{"action": "import", "name": "requests"}')
    assert json.loads(out)["invocations"][0]["response"] == {"error": "No module named 'requests'"}


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_the_task_root_is_read_only(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "write"})
    assert code == 1
    assert report["invocations"][0]["error"]["errorType"] == "PermissionError"


def test_logging_as_the_runtime_formats_it(tmp_path: Path, app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = invoke_zip(capsys, app_zip, {"action": "log"})
    logs = report["invocations"][0]["logs"]
    assert "printed" in logs and "\twarned" in logs
    assert "informed" not in logs  # the root logger stays at WARNING unless the function or config says
    env = tmp_path / "env.json"
    env.write_text('{"AWS_LAMBDA_LOG_LEVEL": "INFO"}')
    _, report, _ = invoke_zip(capsys, app_zip, {"action": "log"}, extra=("--env", str(env)))
    invocation = report["invocations"][0]
    assert re.search(rf"^\[INFO\]\t\S+Z\t{invocation['request_id']}\tinformed$", invocation["logs"], re.MULTILINE)
    assert invocation["response"] is None


def test_response_is_serialized_as_the_runtime_does(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = invoke_zip(capsys, app_zip, {"action": "decimal"})
    assert report["invocations"][0]["response"] == {"price": 1.1, "point": {"x": 1, "y": 2}, "text": "café"}


# -- errors, as Lambda reports them ------------------------------------------------------------

def test_an_exception_is_lambdas_error_document(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "raise", "message": "no such order"}, {})
    assert code == 1
    failed, after = report["invocations"]
    error = failed["error"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no such order"
    assert error["requestId"] == failed["request_id"]
    assert re.match(r'  File ".*app\.py", line \d+, in handler\n', error["stackTrace"][0])
    assert "[ERROR] ValueError: no such order" in failed["logs"]
    assert failed["status"] == "failed" and "Status: error" not in failed["report"]
    assert after["status"] == "succeeded" and after["init_duration_ms"] is None  # still warm


def test_text_output_shows_the_error_response(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, str(app_zip), "--handler", "app.handler", "--runtime", RUNTIME,
                          "--python", sys.executable, "--payload", '{"action": "raise"}')
    assert code == 1
    assert "Status: Failed" in out
    assert '"errorType": "ValueError"' in out and '"errorMessage": "boom"' in out


def test_a_response_that_is_not_json_is_a_marshal_error(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "datetime"})
    assert code == 1
    error = report["invocations"][0]["error"]
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == "Unable to marshal response: Object of type datetime is not JSON serializable"


def test_a_response_over_6_mb_fails_as_on_lambda(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    limit = 6 * 1024 * 1024 + 100
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "big", "size": limit - 2}, {"action": "big", "size": limit})
    assert code == 1
    fits, too_big = report["invocations"]
    assert fits["status"] == "succeeded"  # the JSON string's two quotes make it exactly the limit
    assert too_big["error"]["errorType"] == "Function.ResponseSizeTooLarge"


@pytest.mark.parametrize(("handler", "error_type", "message"), [
    ("app.nope", "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'"),
    ("missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing': No module named 'missing'"),
    ("app", "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
    ("sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
    ("broken.handler", "Runtime.UserCodeSyntaxError", None),
])
def test_a_bad_handler_gives_the_runtimes_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                handler: str, error_type: str, message: str | None) -> None:
    package = make_zip(tmp_path / "app.zip", {"app.py": APP, "broken.py": "def handler(event, context)\n"})
    code, report, _ = invoke_zip(capsys, package, {}, {}, handler=handler)
    assert code == 1
    for invocation in report["invocations"]:  # init fails each time: every invocation is a cold start
        assert invocation["error"]["errorType"] == error_type
        if message:
            assert invocation["error"]["errorMessage"] == message
        assert invocation["init_duration_ms"] is not None
        assert f"Status: error\tError Type: {error_type}" in invocation["report"]
        assert f"[ERROR] {error_type}" in invocation["logs"]


def test_a_timeout_stops_the_handler_near_the_timeout(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "sleep", "seconds": 30}, {},
                                 extra=("--timeout", "1"))
    assert code == 1
    timed_out, after = report["invocations"]
    assert timed_out["status"] == "timeout"
    assert timed_out["error"] == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {timed_out['request_id']} Error: Task timed out after 1.00 seconds",
    }
    assert 1000 <= timed_out["duration_ms"] < 5000
    assert "going to sleep" in timed_out["logs"]
    assert re.search(rf"Z {timed_out['request_id']} Task timed out after 1\.00 seconds\n", timed_out["logs"])
    assert timed_out["report"].endswith("\tStatus: timeout")
    assert after["status"] == "succeeded" and after["init_duration_ms"] is not None  # a new environment


def test_an_exit_ends_the_environment(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "exit", "code": 3}, {})
    assert code == 1
    exited, after = report["invocations"]
    assert exited["error"] == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {exited['request_id']} Error: Runtime exited with error: exit status 3",
    }
    assert exited["report"].endswith("\tStatus: error\tError Type: Runtime.ExitError")
    assert after["init_duration_ms"] is not None


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="memory is read from /proc")
def test_memory_peak_and_enforced_limit(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "alloc", "mb": 200})
    assert code == 0
    assert report["invocations"][0]["max_memory_used_mb"] >= 200
    code, report, _ = invoke_zip(capsys, app_zip, {"action": "alloc", "mb": 300}, {},
                                 extra=("--memory", "128", "--enforce-memory"))
    assert code == 1
    killed, after = report["invocations"]
    assert killed["error"]["errorType"] == "Runtime.OutOfMemory"
    assert killed["error"]["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert killed["report"].endswith("\tStatus: error\tError Type: Runtime.OutOfMemory")
    assert after["status"] == "succeeded" and after["init_duration_ms"] is not None


# -- what is refused before anything runs ------------------------------------------------------

def test_events_over_the_payload_limits_are_refused(tmp_path: Path, app_zip: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"data": "x" * (6 * 1024 * 1024)}))
    code, out, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--event", str(big))
    assert code == 2 and out == ""
    assert "big.json" in err and "6,291,456-byte limit for a synchronous invocation" in err
    medium = tmp_path / "medium.json"
    medium.write_text(json.dumps({"data": "x" * (1024 * 1024)}))
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--event", str(medium), "--invocation", "async")
    assert code == 2 and "1,048,576-byte limit for an asynchronous invocation" in err
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"data": "x" * (300 * 1024)}))
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--event", str(small), "--invocation",
                          "async", "--runtime", RUNTIME, "--python", sys.executable)
    assert code == 0 and "262,144 bytes" in err


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--event", str(bad))
    assert code == 2 and err.startswith("lpack: error: ") and "bad.json: not valid JSON" in err
    assert "Traceback" not in err
    code, _, err = invoke(capsys, str(app_zip), "--payload", "{}")
    assert code == 2 and "needs --handler" in err
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler")
    assert code == 2 and "no test event" in err
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--payload", "{}", "--memory", "64")
    assert code == 2 and "128-10,240 MB" in err
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--payload", "{}", "--timeout", "901")
    assert code == 2 and "1-900 seconds" in err


def test_native_code_for_another_machine_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = "x86_64" if platform.machine() in ("aarch64", "arm64") else "aarch64"
    so = f"fast/_native.cpython-{sys.version_info[0]}{sys.version_info[1]}-{other}-linux-gnu.so"
    package = make_zip(tmp_path / "app.zip", {"app.py": "import fast\n" + APP, "fast/__init__.py": "",
                                              so: make_elf(other, ("GLIBC_2.17",))})
    code, out, err = invoke(capsys, str(package), "--handler", "app.handler", "--runtime", RUNTIME,
                            "--python", sys.executable, "--payload", "{}")
    assert code == 2 and out == ""
    assert f"{other}" in err and "_native" in err and "--arch" in err


# -- projects ----------------------------------------------------------------------------------

def project(root: Path, config: str, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(config)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_module_excluded_from_the_package_fails_to_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It runs the package, not the source: a module left out of the zip is missing, as on Lambda."""
    root = project(tmp_path / "fn", f'[tool.lpack]\nruntime = "{RUNTIME}"\nexclude = ["helpers/"]\n', {
        "lambda_function.py": "import helpers\n\ndef lambda_handler(event, context):\n    return helpers.VALUE\n",
        "helpers/__init__.py": "VALUE = 1\n",
    })
    code, out, _ = invoke(capsys, str(root), "--payload", "{}", "--python", sys.executable, "--format", "json")
    assert code == 1
    error = json.loads(out)["invocations"][0]["error"]
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'lambda_function': No module named 'helpers'"


def test_project_settings_events_and_layers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "svc", f'''[tool.lpack]
runtime = "{RUNTIME}"

[tool.lpack.layers.shared]
source = "shared"

[tool.lpack.functions.api]
source = "src"
handler = "api.handler"
memory = 512
timeout = 5
events = "events/"
layers = ["shared"]
environment = {{ STAGE = "test" }}

[tool.lpack.functions.worker]
source = "src"
handler = "api.handler"
''', {
        "src/api.py": "import os, common\n\ndef handler(event, context):\n"
                      "    return [event['n'], os.environ['STAGE'], common.NAME, context.memory_limit_in_mb]\n",
        "shared/common.py": "NAME = 'shared'\n",
        "events/a.json": '{"n": 1}', "events/b.json": '{"n": 2}',
    })
    code, _, err = invoke(capsys, str(root), "--payload", "{}")
    assert code == 2 and "2 functions" in err and "api" in err and "worker" in err
    code, _, err = invoke(capsys, str(root), "--function", "shared", "--payload", "{}")
    assert code == 2 and "is a layer" in err
    code, out, err = invoke(capsys, str(root), "--function", "api", "--python", sys.executable, "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    assert [i["event"] for i in report["invocations"]] == ["events/a.json", "events/b.json"] or \
        [Path(i["event"]).name for i in report["invocations"]] == ["a.json", "b.json"]
    assert [i["response"] for i in report["invocations"]] == [[1, "test", "shared", "512"], [2, "test", "shared", "512"]]
    assert report["memory_size_mb"] == 512 and report["timeout_s"] == 5


def test_json_report_matches_its_schema(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = invoke_zip(capsys, app_zip, {}, {"action": "raise"}, {"action": "sleep", "seconds": 9},
                              extra=("--timeout", "1"))
    schema = json.loads((REPO / "schemas" / "invoke.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(report, schema)
    assert [i["status"] for i in report["invocations"]] == ["succeeded", "failed", "timeout"]
    assert report["python"] == {"path": sys.executable, "version": platform.python_version(), "matches_runtime": True}


def test_it_says_which_python_it_runs_under(app_zip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = "python3.14" if RUNTIME != "python3.14" else "python3.13"
    code, _, err = invoke(capsys, str(app_zip), "--handler", "app.handler", "--runtime", other,
                          "--python", sys.executable, "--payload", "{}")
    assert code == 0
    assert f"{other} is not" in err and platform.python_version() in err


def test_sample_events(app_zip: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, report, _ = invoke_zip(capsys, app_zip, extra=("--sample", "sqs"))
    assert code == 0 and report["invocations"][0]["event"] == "sample sqs"
    assert report["invocation_type"] == "sync"
    _, report, _ = invoke_zip(capsys, app_zip, extra=("--sample", "s3-put"))
    assert report["invocation_type"] == "async"  # S3 invokes asynchronously
    assert main(["events"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^s3-put\s+async\s+\S", listing, re.MULTILINE)
    target = tmp_path / "events" / "s3.json"
    assert main(["events", "s3-put", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["Records"][0]["eventSource"] == "aws:s3"
    assert main(["events", "s3-putt"]) == 2
    assert "did you mean 's3-put'" in capsys.readouterr().err


def test_a_function_named_on_the_command_line_and_an_event_on_stdin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "svc", f"""[tool.lpack]
runtime = "{RUNTIME}"

[tool.lpack.functions.first]
handler = "app.handler"

[tool.lpack.functions.second]
handler = "app.other"
""", {"app.py": "def handler(event, context):\n    return 1\n\ndef other(event, context):\n    return event\n"})
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"from": "stdin"}'))
    code, out, err = invoke(capsys, "second", "--event", "-", "--python", sys.executable, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["function"] == "second"
    assert report["invocations"][0]["event"] == "stdin"
    assert report["invocations"][0]["response"] == {"from": "stdin"}
    code, _, err = invoke(capsys, "third", "--payload", "{}")
    assert code == 2 and "no function or layer named 'third'" in err


def test_a_sam_template_function_runs_with_its_layer_and_globals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = shutil.copytree(REPO / "tests" / "data" / "templates" / "healthy", tmp_path / "app",
                          ignore=shutil.ignore_patterns("dist"))
    code, out, err = invoke(capsys, str(app / "template.yaml"), "--function", "ApiFunction", "--payload", "{}",
                            "--runtime", RUNTIME, "--python", sys.executable, "--format", "json")
    assert code == 0, out + err
    report = json.loads(out)
    assert report["memory_size_mb"] == 256 and report["timeout_s"] == 10  # from Globals
    body = json.loads(report["invocations"][0]["response"]["body"])
    assert body == {"message": "hello from prod"}  # the layer's module, and STAGE from the parameter default


def test_another_target_than_configured_leaves_dist_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dist/NAME.zip is what gets deployed: --arch/--runtime for a local run must not replace it."""
    other = "arm64" if platform.machine() in ("x86_64", "AMD64") else "x86_64"
    root = project(tmp_path / "fn", f'[tool.lpack]\nruntime = "{RUNTIME}"\narchitecture = "{other}"\n',
                   {"lambda_function.py": "def lambda_handler(event, context):\n    return 'ok'\n"})
    assert main(["build", str(root), "-q"]) == 0
    capsys.readouterr()
    deployed = (root / "dist" / "fn.zip").read_bytes()
    here = "x86_64" if other == "arm64" else "arm64"
    code, out, err = invoke(capsys, str(root), "--payload", "{}", "--arch", here, "--python", sys.executable)
    assert code == 0, out + err
    assert "dist/ is left as it is" in err
    assert (root / "dist" / "fn.zip").read_bytes() == deployed


def test_json_log_format_as_lambdas_advanced_logging_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path / "fn", f'[tool.lpack]\nruntime = "{RUNTIME}"\nlog-format = "JSON"\nlog-level = "DEBUG"\n', {
        "lambda_function.py": "import logging\nlogger = logging.getLogger('orders')\n\n"
                              "def lambda_handler(event, context):\n"
                              "    logger.debug('looking up', extra={'order': event['id']})\n"
                              "    print('plain print')\n"
                              "    if event.get('fail'):\n        raise KeyError('missing')\n"
                              "    return 'ok'\n"})
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "a.json").write_text('{"id": 7}')
    (folder / "b.json").write_text('{"id": 8, "fail": true}')
    code, out, _ = invoke(capsys, str(root), "--event", str(folder), "--python", sys.executable, "--format", "json")
    assert code == 1
    ok, failed = json.loads(out)["invocations"]
    lines = ok["logs"].splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [r.get("type") for r in records if "type" in r] == ["platform.initStart", "platform.start", "platform.report"]
    debug = next(r for r in records if r.get("level") == "DEBUG")
    assert debug["message"] == "looking up" and debug["logger"] == "orders" and debug["order"] == 7
    assert debug["requestId"] == ok["request_id"] and re.fullmatch(r"\S+T\S+\.\d{3}Z", debug["timestamp"])
    assert "plain print" in lines  # stdout stays text
    report = records[-1]["record"]
    assert report["status"] == "success" and report["metrics"]["billedDurationMs"] == ok["billed_duration_ms"]
    error = next(json.loads(line) for line in failed["logs"].splitlines() if '"level": "ERROR"' in line)
    assert error["errorType"] == "KeyError" and error["requestId"] == failed["request_id"]
    assert json.loads(failed["logs"].splitlines()[-1])["record"]["status"] == "error"
    assert ok["report"].startswith("REPORT RequestId: ")  # the text line stays in the report field


def test_a_templates_logging_config_is_read(tmp_path: Path) -> None:
    from lpack.inputs.template import load_template

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    LoggingConfig:\n      LogFormat: JSON\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
        "      Handler: app.handler\n      Runtime: python3.12\n      LoggingConfig:\n"
        "        LogFormat: JSON\n        ApplicationLogLevel: WARN\n")
    settings = load_template(tmp_path / "template.yaml").project.unit("Fn").settings
    assert (settings.log_format, settings.log_level) == ("JSON", "WARN")


def test_boto3_comes_from_the_runtime_as_on_lambda(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A function that imports boto3 without bundling it works on Lambda: lpack installs boto3 for the
    target into its cache once (from your index; here a local one) and runs the event again."""
    from tests.factories import make_wheel

    house = tmp_path / "index"
    house.mkdir()
    make_wheel(house, "boto3", "1.0", files={"boto3/__init__.py": "SOURCE = 'lpack runtime cache'\n"})
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    package = make_zip(tmp_path / "app.zip", {
        "app.py": "import boto3\n\ndef handler(event, context):\n    return [boto3.SOURCE, boto3.__file__]\n"})
    args = (str(package), "--handler", "app.handler", "--runtime", RUNTIME, "--python", str(venv / "bin" / "python"),
            "--payload", "{}", "--format", "json")

    monkeypatch.setenv("PIP_NO_INDEX", "1")  # offline, and no boto3 anywhere: it says what to do
    code, out, err = invoke(capsys, *args)
    assert code == 1 and json.loads(out)["invocations"][0]["error"]["errorType"] == "Runtime.ImportModuleError"
    assert "boto3 is part of the Lambda runtime" in err and "could not install it" in err

    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    code, out, err = invoke(capsys, *args)
    assert code == 0, out + err
    (invocation,) = json.loads(out)["invocations"]
    source, file = invocation["response"]
    assert source == "lpack runtime cache" and f"invoke/runtime/{RUNTIME}-" in file
    assert "installed boto3" in err and invocation["init_duration_ms"] is not None

    code, out, err = invoke(capsys, *args)  # the next run finds it at once
    assert code == 0 and "installed boto3" not in err

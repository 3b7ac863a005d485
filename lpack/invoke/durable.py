"""Durable functions (``DurableConfig``): run through the SDK's own local test runner, or say how.

A durable handler (``@durable_execution`` from ``aws-durable-execution-sdk-python``) is not a
plain handler: Lambda checkpoints each step and replays the function to resume it. lpack does
not imitate that. When ``aws-durable-execution-sdk-python-testing`` is importable (bundled in
the package, or installed for the interpreter that runs the function), each event runs through
its ``DurableFunctionTestRunner`` in a child process (``_durable_driver.py``); otherwise the
invoke stops with the command that installs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lpack.core.errors import UsageError
from lpack.invoke.interpreter import Interpreter
from lpack.invoke.sandbox import Outcome, Spec, new_request_id

if TYPE_CHECKING:
    from lpack.invoke.runner import Event, Plan

TESTING = "aws-durable-execution-sdk-python-testing"
DRIVER = Path(__file__).with_name("_durable_driver.py")
MISSING = 3  # _durable_driver.MISSING
GRACE_S = 30.0


def run_durable(plan: Plan, interpreter: Interpreter, spec: Spec) -> list[Outcome]:
    return [_run(plan, interpreter, spec, event) for event in plan.events]


def _execution_timeout_s(plan: Plan) -> int:
    durable = plan.features.durable
    configured = durable.execution_timeout if durable is not None else None
    return configured if isinstance(configured, int) and configured > 0 else max(1, int(plan.timeout_s))


def _run(plan: Plan, interpreter: Interpreter, spec: Spec, event: Event) -> Outcome:
    timeout_s = _execution_timeout_s(plan)
    with tempfile.TemporaryDirectory(prefix="lpack-durable-") as scratch:
        result_file = Path(scratch) / "result.json"
        setup = {"handler": plan.handler, "task_root": str(spec.task_root), "function": plan.function,
                 "opt_root": str(spec.opt_root) if spec.opt_root else None, "extra_paths": list(spec.extra_paths),
                 "runtime_provided": list(spec.runtime_provided), "runtime_paths": list(spec.runtime_paths),
                 "event": event.text, "timeout_s": timeout_s, "result_file": str(result_file)}
        started = time.perf_counter()
        try:
            done = subprocess.run([interpreter.path, "-I", "-S", str(DRIVER)], input=json.dumps(setup), text=True,
                                  capture_output=True, cwd=spec.task_root, env=dict(spec.environment),
                                  timeout=timeout_s + GRACE_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise UsageError(f"{plan.function}: the durable execution did not finish within its {timeout_s} s "
                             "execution timeout (DurableConfig ExecutionTimeout)") from exc
        duration_ms = (time.perf_counter() - started) * 1000
        if done.returncode == MISSING:
            raise UsageError(_missing(plan, interpreter))
        logs = done.stdout + done.stderr
        if done.returncode != 0 or not result_file.is_file():
            error = {"errorType": "Runtime.ExitError",
                     "errorMessage": f"the durable test runner exited with status {done.returncode}"}
            return _outcome(plan, "failed", None, error, logs, duration_ms)
        document: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    if document["status"] == "SUCCEEDED":
        return _outcome(plan, "succeeded", document.get("result"), None, logs, duration_ms)
    error = document.get("error") or {}
    return _outcome(plan, "failed", None, {"errorType": error.get("ErrorType") or document["status"],
                                           "errorMessage": error.get("ErrorMessage") or ""}, logs, duration_ms)


def _missing(plan: Plan, interpreter: Interpreter) -> str:
    python = os.path.basename(interpreter.path)
    return (f"{plan.function} is a durable function (DurableConfig): lpack invoke runs it only through the SDK's own "
            f"local test runner, and {TESTING} is not installed for {interpreter.path}: install it "
            f"(`{python} -m pip install {TESTING}`, or add it to the package's requirements) and run again")


def _outcome(plan: Plan, status: str, response: str | None, error: dict[str, Any] | None, logs: str,
             duration_ms: float) -> Outcome:
    return Outcome(request_id=new_request_id(), status=status, response=response, binary=False, error=error,
                   logs=logs, init_logs="", duration_ms=duration_ms, init_duration_ms=None, max_memory_used_mb=None,
                   memory_size_mb=plan.memory_mb, timeout_s=plan.timeout_s)

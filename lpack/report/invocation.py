"""What `lpack invoke` prints: the Lambda console's test result, or one JSON document.

The log lines are Lambda's text-format platform lines: ``START RequestId: ID Version: $LATEST``,
``END RequestId: ID`` and ``REPORT RequestId: ID<TAB>Duration: 1.42 ms<TAB>Billed Duration: 2 ms
<TAB>Memory Size: 128 MB<TAB>Max Memory Used: 39 MB<TAB>Init Duration: 123.74 ms`` (Init Duration
on a cold start only; ``Status: timeout``, or ``Status: error`` and ``Error Type``, when the
runtime failed). Duration has two decimals; Billed Duration is whole milliseconds rounded up and,
since 2025-08-01, includes a cold start's Init Duration.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

from lpack.invoke.runner import Invocation, InvokeRun, Plan, billed_duration_ms
from lpack.invoke.sandbox import Outcome

REPORT_SCHEMA_VERSION = 1
EXIT_ERRORS = ("Runtime.ExitError", "Runtime.OutOfMemory")  # the runtime process died


def report_line(outcome: Outcome) -> str:
    parts = [
        f"REPORT RequestId: {outcome.request_id}",
        f"Duration: {outcome.duration_ms:.2f} ms",
        f"Billed Duration: {billed_duration_ms(outcome)} ms",
        f"Memory Size: {outcome.memory_size_mb} MB",
        f"Max Memory Used: {outcome.max_memory_used_mb if outcome.max_memory_used_mb is not None else '-'} MB",
    ]
    if outcome.restore_duration_ms is not None:  # SnapStart: the environment was restored, not initialized
        parts += [f"Restore Duration: {outcome.restore_duration_ms:.2f} ms",
                  f"Billed Restore Duration: {math.ceil(outcome.restore_duration_ms)} ms"]
    elif outcome.init_duration_ms is not None:
        parts.append(f"Init Duration: {outcome.init_duration_ms:.2f} ms")
    if outcome.status == "timeout":
        parts.append("Status: timeout")
    elif outcome.error_type:
        parts += ["Status: error", f"Error Type: {outcome.error_type}"]
    return "\t".join(parts)


def function_logs(outcome: Outcome, plan: Plan, python: str) -> str:
    """The log stream of one invocation, platform lines included, as CloudWatch would hold it."""
    if plan.log_format == "JSON":
        return _json_logs(outcome, plan, python)
    lines: list[str] = []
    if outcome.init_duration_ms is not None:
        lines.append(f"INIT_START Runtime Version: python:{plan.target.runtime.python_version} "
                     f"(lpack: local Python {python})")
        lines += _lines(outcome.init_logs)  # with SnapStart, the hooks' output too
    if outcome.restore_duration_ms is not None:
        lines.append(f"RESTORE_START Runtime Version: python:{plan.target.runtime.python_version}")
        lines.append(f"RESTORE_REPORT Restore Duration: {outcome.restore_duration_ms:.2f} ms")
    lines.append(f"START RequestId: {outcome.request_id} Version: $LATEST")
    lines += _lines(outcome.logs)
    if outcome.status == "timeout":
        lines.append(f"{_now()} {outcome.request_id} Task timed out after {outcome.timeout_s:.2f} seconds")
    elif outcome.error_type in EXIT_ERRORS and outcome.error:
        lines.append(outcome.error["errorMessage"])
        lines.append(outcome.error_type)
    lines.append(f"END RequestId: {outcome.request_id}")
    lines.append(report_line(outcome))
    return "\n".join(lines)


def _json_logs(outcome: Outcome, plan: Plan, python: str) -> str:
    """With LogFormat JSON the platform lines are records too (platform.initStart, .start, .report)."""
    def record(kind: str, body: dict[str, Any]) -> str:
        return json.dumps({"time": _now(), "type": kind, "record": body})

    lines: list[str] = []
    if outcome.init_duration_ms is not None:
        lines.append(record("platform.initStart", {
            "initializationType": "on-demand", "phase": "init",
            "runtimeVersion": f"python:{plan.target.runtime.python_version} (lpack: local Python {python})"}))
        lines += _lines(outcome.init_logs)
    lines.append(record("platform.start", {"requestId": outcome.request_id, "version": "$LATEST"}))
    lines += _lines(outcome.logs)
    metrics: dict[str, Any] = {
        "durationMs": round(outcome.duration_ms, 2), "billedDurationMs": billed_duration_ms(outcome),
        "memorySizeMB": outcome.memory_size_mb, "maxMemoryUsedMB": outcome.max_memory_used_mb}
    if outcome.restore_duration_ms is not None:
        metrics["restoreDurationMs"] = round(outcome.restore_duration_ms, 2)
    elif outcome.init_duration_ms is not None:
        metrics["initDurationMs"] = round(outcome.init_duration_ms, 2)
    report: dict[str, Any] = {"requestId": outcome.request_id, "metrics": metrics,
                              "status": {"succeeded": "success", "timeout": "timeout"}.get(outcome.status, "error")}
    if outcome.error is not None:
        report["errorType"] = outcome.error.get("errorType")
    lines.append(record("platform.report", report))
    return "\n".join(lines)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n") if text.strip() else []


def response_document(outcome: Outcome) -> Any:
    """What the caller receives: the handler's JSON, or Lambda's error document."""
    if outcome.error is not None:
        return outcome.error
    if outcome.response is None:
        return None
    if outcome.binary:
        return outcome.response
    return json.loads(outcome.response)


def render_text(invocation: Invocation, plan: Plan, python: str) -> str:
    outcome = invocation.outcome
    status = {"succeeded": "Succeeded", "failed": "Failed", "timeout": "Failed (timed out)"}[outcome.status]
    response = response_document(outcome)
    shown = response if outcome.binary and outcome.error is None else json.dumps(response, indent=2, ensure_ascii=False)
    if plan.invocation == "async":
        shown += "\n(asynchronous invocation: Lambda returns 202 and no response to the caller)"
    return "\n".join([
        f"Test Event Name: {invocation.event.name}",
        "",
        f"Status: {status}",
        "Response:",
        shown,
        "",
        "Function Logs:",
        function_logs(outcome, plan, python),
        "",
        f"Request ID: {outcome.request_id}",
    ])


def render_json(run: InvokeRun) -> str:
    plan, interpreter = run.plan, run.interpreter
    document = {
        "version": REPORT_SCHEMA_VERSION,
        "function": plan.function,
        "handler": plan.handler,
        "runtime": plan.target.runtime.name,
        "architecture": plan.target.architecture,
        "python": {"path": interpreter.path, "version": interpreter.full_version, "matches_runtime": interpreter.matches},
        "invocation_type": plan.invocation,
        "memory_size_mb": plan.memory_mb,
        "timeout_s": plan.timeout_s,
        "ok": run.ok,
        "invocations": [_invocation(i, plan, interpreter.full_version) for i in run.invocations],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _invocation(invocation: Invocation, plan: Plan, python: str) -> dict[str, Any]:
    outcome = invocation.outcome
    return {
        "event": invocation.event.name,
        "request_id": outcome.request_id,
        "status": outcome.status,
        "response": response_document(outcome) if outcome.error is None else None,
        "error": outcome.error,
        "logs": function_logs(outcome, plan, python),
        "duration_ms": round(outcome.duration_ms, 2),
        "billed_duration_ms": billed_duration_ms(outcome),
        "init_duration_ms": None if outcome.init_duration_ms is None else round(outcome.init_duration_ms, 2),
        "max_memory_used_mb": outcome.max_memory_used_mb,
        "report": report_line(outcome),
    }


def summary(invocations: Sequence[Invocation]) -> str:
    failed = sum(1 for i in invocations if i.outcome.status != "succeeded")
    return f"{len(invocations)} invocation(s), {failed} failed"

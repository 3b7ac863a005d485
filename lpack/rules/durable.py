"""Durable function settings (LP350-LP354): DurableConfig and the SDK the function needs."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.facts import compute
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules.managed_instances import number_problem, shown


def _line(s: FunctionSubject) -> int | None:
    return s.features.lines.get("durable")


@rule("LP350", "durable-config-invalid", Severity.ERROR, subject=FunctionSubject, source=compute.DURABLE_CONFIG_URL)
def durable_config_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks `DurableConfig`: `ExecutionTimeout`, an integer from 1 to 31,622,400 seconds (one
    366-day year), and `RetentionPeriodInDays`, an integer from 1 to 90 (14 when left out).

    ## Why is this bad?
    The deployment fails validation. `ExecutionTimeout` bounds the whole durable execution, across
    every invocation and wait, not one invocation (that is the function's `Timeout`).

    ## How to fix
    Set both to whole numbers in range.
    """
    durable = s.features.durable
    if durable is None:
        return
    checks = (("ExecutionTimeout", durable.execution_timeout, compute.DURABLE_EXECUTION_TIMEOUT_S),
              ("RetentionPeriodInDays", durable.retention_days, compute.DURABLE_RETENTION_DAYS))
    for key, value, span in checks:
        if problem := number_problem(value, span, whole=True):
            yield r.finding(f"DurableConfig {key} = {json.dumps(value, default=str)} {problem}", s.where,
                            line=_line(s), function=s.name,
                            fix=f"set {key} to an integer from {shown(span.low)} to {shown(span.high)}")


@rule("LP351", "durable-runtime", Severity.ERROR, subject=FunctionSubject, source=compute.DURABLE_RUNTIMES_URL)
def durable_runtime(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a durable function (`DurableConfig`) on a Python runtime other than `python3.13` and
    `python3.14`, the managed Python runtimes durable functions support.

    ## Why is this bad?
    Lambda refuses to create the durable function on that runtime.

    ## How to fix
    Set the runtime to `python3.13` or `python3.14`, or deploy a container image.
    """
    runtime = s.target.runtime.name
    if s.features.durable is not None and runtime not in compute.DURABLE_PYTHON_RUNTIMES:
        yield r.finding(
            f"{runtime} does not support durable functions: {' and '.join(compute.DURABLE_PYTHON_RUNTIMES)} do",
            s.where, line=s.line_of("runtime") or _line(s), function=s.name,
            fix=f"set the runtime to {compute.DURABLE_PYTHON_RUNTIMES[-1]}",
        )

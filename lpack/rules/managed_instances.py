"""Lambda Managed Instances settings (LP345-LP349): CapacityProviderConfig and what it changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.facts import compute
from lpack.core.facts.compute import Span
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule


def _line(s: FunctionSubject) -> int | None:
    return s.features.lines.get("capacity-provider")


def shown(number: float) -> str:
    """``31622400`` as ``31,622,400``, ``2.0`` as ``2``."""
    return f"{int(number):,}" if number == int(number) else f"{number:g}"


def number_problem(value: object, span: Span, *, whole: bool) -> str | None:
    """What is wrong with a configured number, or None when it is absent or in ``span``."""
    if value is None:
        return None
    kind = "an integer" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
        return f"is not {kind}; Lambda takes {kind} from {shown(span.low)} to {shown(span.high)} {span.unit}"
    if not span.low <= value <= span.high:
        return f"is outside Lambda's range of {shown(span.low)} to {shown(span.high)} {span.unit}"
    return None


@rule("LP345", "managed-instances-runtime", Severity.ERROR, subject=FunctionSubject, source=compute.MI_RUNTIMES_URL)
def managed_instances_runtime(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a function with `CapacityProviderConfig` (Lambda Managed Instances) whose runtime is
    older than Python 3.13, the first Python runtime Managed Instances support.

    ## Why is this bad?
    Lambda refuses to create the function on the capacity provider.

    ## How to fix
    Move the function to `python3.13` or later, or remove `CapacityProviderConfig` (it can only be
    set when the function is first created).
    """
    python = s.target.runtime.python
    if s.features.managed_instances and python < compute.MI_MIN_PYTHON:
        yield r.finding(
            f"{s.target.runtime.name} cannot run on Lambda Managed Instances: Python 3.13 and later only",
            s.where, line=s.line_of("runtime") or _line(s), function=s.name,
            fix="set the runtime to python3.13 or later",
        )


@rule("LP346", "capacity-provider-invalid", Severity.ERROR, subject=FunctionSubject,
      source=compute.MI_CONFIG_URL)
def capacity_provider_config_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks `ExecutionEnvironmentMemoryGiBPerVCpu` (a number from 2.0 to 8.0 GiB per vCPU) and
    `PerExecutionEnvironmentMaxConcurrency` (an integer from 1 to 1,600) in `CapacityProviderConfig`.

    ## Why is this bad?
    The deployment fails validation.

    ## How to fix
    Set the memory ratio to 2, 4 or 8 (the ratios the SAM guide names) and the concurrency to a
    whole number in range, or leave them out for Lambda's defaults.
    """
    provider = s.features.capacity_provider
    if provider is None:
        return
    checks = (("ExecutionEnvironmentMemoryGiBPerVCpu", provider.memory_per_vcpu, compute.MEMORY_PER_VCPU_GIB, False),
              ("PerExecutionEnvironmentMaxConcurrency", provider.max_concurrency, compute.MAX_CONCURRENCY, True))
    for key, value, span, whole in checks:
        if problem := number_problem(value, span, whole=whole):
            yield r.finding(f"{key} = {json.dumps(value, default=str)} {problem}", s.where, line=_line(s),
                            function=s.name, fix=f"set {key} from {shown(span.low)} to {shown(span.high)}, or remove it")


@rule("LP347", "mi-memory-per-process", Severity.WARNING, subject=FunctionSubject,
      source=compute.MI_PYTHON_URL)
def managed_instances_memory_per_process(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    On Lambda Managed Instances the Python runtime serves each concurrent request in a process of
    its own, each with its own imports and initialisation: the function's memory is shared by
    `PerExecutionEnvironmentMaxConcurrency` processes. Warns when the configured memory divided by
    the configured concurrency leaves a process less than 128 MB, Lambda's smallest function size.
    AWS gives no figure for one process; 128 MB is the floor lpack uses. With the default
    concurrency (16 per vCPU) and the smallest ratio (2 GiB per vCPU) each process has 128 MB, so
    only a configured concurrency is judged; without a configured memory the rule stays quiet.

    ## Why is this bad?
    The processes run out of memory together under load (`Runtime.OutOfMemory`), although each
    request alone fits: total use is the memory of one process times the number of processes.

    ## How to fix
    Lower `PerExecutionEnvironmentMaxConcurrency`, raise the memory, or choose a higher memory per
    vCPU. Watch the `MemoryUtilization` metric in CloudWatch.
    """
    provider = s.features.capacity_provider
    memory, concurrency = s.memory, provider.max_concurrency if provider else None
    if not (isinstance(memory, int) and isinstance(concurrency, int)) or isinstance(concurrency, bool):
        return
    if concurrency > 0 and memory / concurrency < compute.MIN_PROCESS_MEMORY_MB:
        yield r.finding(
            f"memory = {memory} MB shared by up to {concurrency} Python processes (one per concurrent request) "
            f"leaves each about {memory // concurrency} MB, under {compute.MIN_PROCESS_MEMORY_MB} MB",
            s.where, line=_line(s), function=s.name,
            fix=f"lower PerExecutionEnvironmentMaxConcurrency to {max(1, memory // compute.MIN_PROCESS_MEMORY_MB)} "
            "or fewer, or raise the memory",
        )


@rule("LP348", "mi-log-format-text", Severity.INFO, subject=FunctionSubject,
      source=compute.LOG_FORMAT_URL)
def managed_instances_log_format_text(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a `LogFormat: Text` on a Lambda Managed Instances function.

    ## Why is this bad?
    Managed Instances only write JSON logs: Lambda sets the format to JSON and the Text setting
    has no effect. Log queries and tools that expect plain-text lines will not match.

    ## How to fix
    Set `LogFormat: JSON` (or remove it), and read the logs as JSON, one object per line with
    its `requestId`.
    """
    if s.features.managed_instances and str(s.log_format or "").upper() == "TEXT":
        yield r.finding(
            "log-format = \"Text\" is ignored on Lambda Managed Instances: their logs are always JSON",
            s.where, line=s.line_of("log-format") or _line(s), function=s.name, fix='set log-format = "JSON"',
        )

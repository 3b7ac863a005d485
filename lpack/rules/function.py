"""Function configuration rules: environment variables (LP301-LP309), test events (LP311-LP319)
and memory, timeout and /tmp settings (LP321-LP329), checked as Lambda's API checks them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple, NoReturn

from lpack.analysis.subjects import EventFile, FunctionSubject
from lpack.core import limits
from lpack.core.findings import Finding, Severity
from lpack.core.patterns import lazy
from lpack.core.units import exact_bytes
from lpack.rules import Rule, rule

# -- environment variables -----------------------------------------------------------------------

_KEY = lazy(limits.ENV_KEY_PATTERN, re.ASCII)


class _EnvSize(NamedTuple):
    raw: int  # UTF-8 bytes of the compact JSON of the map, non-ASCII written as is
    escaped: int  # the same with non-ASCII written as \uXXXX (6 bytes per UTF-16 unit)


def _as_string(value: object) -> str:
    """A value as a deployment tool would send it, for measuring (LP306 flags non-strings)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _strings(env: Mapping[str, object]) -> dict[str, str]:
    return {str(key): _as_string(value) for key, value in env.items()}


def _json_bytes(data: object, *, ascii_only: bool) -> int:
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only)
    return len(text.encode("utf-8", "surrogatepass"))


def _measure(env: Mapping[str, str]) -> _EnvSize:
    return _EnvSize(_json_bytes(env, ascii_only=False), _json_bytes(env, ascii_only=True))


def _largest(env: Mapping[str, str], *, ascii_only: bool, count: int = 3) -> str:
    """The variables that weigh most, each as its `"K":"V"` share of the measured string."""
    sizes = {key: _json_bytes({key: value}, ascii_only=ascii_only) - 2 for key, value in env.items()}
    top = sorted(sizes, key=lambda key: (-sizes[key], key))[:count]
    return ", ".join(f"{key} ({exact_bytes(sizes[key])})" for key in top)


def _env_path(s: FunctionSubject) -> str:
    return s.environment_where or s.where


def _env_line(s: FunctionSubject, key: str | None = None) -> int | None:
    """The line of ``key`` (or of ``environment``) when the variables come from the config file."""
    if s.environment_where and s.environment_where != s.where:
        return None
    return (s.line_of(key) if key else None) or s.line_of("environment")


_SIZE_FIX = (
    "move large values (certificates, JSON documents, secrets) to SSM Parameter Store or "
    "Secrets Manager and read them at start-up, or ship them as files in the package"
)


@rule("LP301", "environment-too-large", Severity.ERROR, subject=FunctionSubject, source=limits.ENVIRONMENT_SIZE.source)
def environment_too_large(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Measures the environment variables as Lambda does: the UTF-8 bytes of the compact JSON of the
    whole map, `{"K1":"V1","K2":"V2"}` (braces, quotes, colons, commas and JSON escapes count),
    and flags a total over 4,096 bytes (4 KB, for all variables in aggregate). Non-ASCII
    characters are counted as raw UTF-8 here, the smallest count AWS could use.

    ## Why is this bad?
    `CreateFunction`/`UpdateFunctionConfiguration` fail: "Lambda was unable to configure your
    environment variables because the environment variables you have provided exceeded the 4KB
    limit. String measured: {...}". Counting only names and values, as some tools do,
    under-counts by 5 bytes a variable plus 2.

    ## How to fix
    Move large values (certificates, JSON documents, secrets) to SSM Parameter Store or Secrets
    Manager and read them at start-up, or ship them as files in the package.
    """
    if not s.environment:
        return
    env = _strings(s.environment)
    size, limit = _measure(env).raw, limits.ENVIRONMENT_SIZE.value
    if size > limit:
        yield r.finding(
            f"environment variables measure {exact_bytes(size)} as Lambda counts them (compact JSON "
            f"of the map, UTF-8); the limit is {exact_bytes(limit)}; largest: "
            f"{_largest(env, ascii_only=False)}",
            _env_path(s), line=_env_line(s), function=s.name, fix=_SIZE_FIX,
        )


@rule("LP302", "environment-may-be-too-large", Severity.WARNING, subject=FunctionSubject, source=limits.ENVIRONMENT_SIZE.source)
def environment_may_be_too_large(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the environment variables fit in 4,096 bytes counted as raw UTF-8 but not when
    non-ASCII characters are written as `\\uXXXX` escapes (6 bytes each, 12 outside the Basic
    Multilingual Plane), as a JSON encoder with ASCII output writes them.

    ## Why is this bad?
    Lambda measures the JSON of the map (see LP301), but whether it escapes non-ASCII characters
    first is not documented; if it does, the deployment fails with "exceeded the 4KB limit".

    ## How to fix
    Move the non-ASCII or large values out of the environment (see LP301). If you have deployed
    this environment successfully, Lambda counts raw UTF-8: ignore LP302 in `[tool.lpack]`.
    """
    if not s.environment:
        return
    env = _strings(s.environment)
    size, limit = _measure(env), limits.ENVIRONMENT_SIZE.value
    if size.raw <= limit < size.escaped:
        non_ascii = ", ".join(key for key, value in env.items() if not (key + value).isascii())
        yield r.finding(
            f"environment variables may exceed the {exact_bytes(limit)} limit: they measure "
            f"{exact_bytes(size.raw)} as raw UTF-8 but {exact_bytes(size.escaped)} with non-ASCII "
            f"characters escaped as \\uXXXX, and AWS does not document which it counts; "
            f"non-ASCII in: {non_ascii}; largest (escaped): {_largest(env, ascii_only=True)}",
            _env_path(s), line=_env_line(s), function=s.name, fix=_SIZE_FIX,
        )


@rule("LP303", "environment-near-limit", Severity.WARNING, subject=FunctionSubject, source=limits.ENVIRONMENT_SIZE.source)
def environment_near_limit(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the environment variables, measured as Lambda does (see LP301) with non-ASCII
    characters counted at their escaped size, are within 10% of the 4,096-byte limit: over
    3,686 bytes and at most 4,096.

    ## Why is this bad?
    The next variable, or a longer value in another stage, makes the deployment fail.

    ## How to fix
    Move large values to SSM Parameter Store or Secrets Manager now (see LP301).
    """
    if not s.environment:
        return
    env = _strings(s.environment)
    measured, limit = _measure(env), limits.ENVIRONMENT_SIZE.value
    size = measured.escaped
    if limit * limits.NEAR_LIMIT_FRACTION < size <= limit:
        counted = " (non-ASCII counted as \\uXXXX)" if measured.raw != size else ""
        yield r.finding(
            f"environment variables measure {exact_bytes(size)}{counted}, {size / limit:.0%} of the "
            f"{exact_bytes(limit)} limit; largest: {_largest(env, ascii_only=True)}",
            _env_path(s), line=_env_line(s), function=s.name,
        )


@rule("LP304", "environment-key-reserved", Severity.ERROR, subject=FunctionSubject, source=limits.ENV_URL)
def environment_key_reserved(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags environment variables that Lambda reserves for itself (exact, case-sensitive names):
    `_HANDLER`, `_X_AMZN_TRACE_ID`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_EXECUTION_ENV`,
    `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_LAMBDA_FUNCTION_VERSION`,
    `AWS_LAMBDA_INITIALIZATION_TYPE`, `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`,
    `AWS_ACCESS_KEY`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    `AWS_LAMBDA_RUNTIME_API`, `LAMBDA_TASK_ROOT` and `LAMBDA_RUNTIME_DIR`. The two that start
    with `_` already break the key pattern, so LP305 reports them.

    Not reserved, and not flagged: `TZ` (listed as reserved in the docs until 2022; Lambda
    accepts it), `LANG`, `PATH`, `PYTHONPATH`, `LD_LIBRARY_PATH` (but see LP307),
    `AWS_LAMBDA_EXEC_WRAPPER` and the `AWS_XRAY_*` settings.

    ## Why is this bad?
    The deployment fails: "Lambda was unable to configure your environment variables because
    the environment variables you have provided contains reserved keys that are currently not
    supported for modification. Reserved keys used in this request: AWS_REGION".

    ## How to fix
    Remove the variable: Lambda sets it in every execution environment. Credentials come from
    the function's execution role. For a value of your own, use another name.
    """
    for key in s.environment or {}:
        if key in limits.RESERVED_ENV_KEYS and _KEY().fullmatch(key):
            if key in limits.RESERVED_ENV_CREDENTIALS:
                fix = "grant permissions through the function's execution role; Lambda sets its credentials"
            else:
                fix = f"remove it (Lambda sets {key} itself); for a value of your own use another name, e.g. APP_{key}"
            yield r.finding(
                f"environment variable {key} is reserved by Lambda: \"...contains reserved keys that "
                f"are currently not supported for modification. Reserved keys used in this request: {key}\"",
                _env_path(s), line=_env_line(s, key), function=s.name, fix=fix,
            )


def _suggest_key(key: str) -> str | None:
    candidate = re.sub(r"[^A-Za-z0-9_]", "_", key)
    return candidate if candidate != key and _KEY().fullmatch(candidate) else None


@rule("LP305", "environment-key-invalid", Severity.ERROR, subject=FunctionSubject, source=limits.API_ENVIRONMENT_URL)
def environment_key_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks every environment variable name against Lambda's key pattern `[a-zA-Z]([a-zA-Z0-9_])+`:
    an ASCII letter first, at least two characters, then only ASCII letters, digits and `_`.
    `A`, `1ABC`, `_PRIVATE`, `MY-KEY`, `my.key` and `CAFÉ` all fail.

    ## Why is this bad?
    The deployment fails validation: "Map keys must satisfy constraint: [Member must satisfy
    regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]".

    ## How to fix
    Rename the variable (for example `MY-KEY` to `MY_KEY`) and the code that reads it.
    """
    for key in s.environment or {}:
        if _KEY().fullmatch(key):
            continue
        reserved = " (and it is a name Lambda reserves)" if key in limits.RESERVED_ENV_KEYS else ""
        suggestion = _suggest_key(key)
        yield r.finding(
            f"environment variable name {key!r} does not match Lambda's pattern "
            f"[a-zA-Z]([a-zA-Z0-9_])+: an ASCII letter, then at least one ASCII letter, digit or _{reserved}",
            _env_path(s), line=_env_line(s, key), function=s.name,
            fix=f"rename it to {suggestion}" if suggestion and not reserved else "rename it",
        )


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


@rule("LP306", "environment-value-not-string", Severity.ERROR, subject=FunctionSubject, source=limits.API_ENVIRONMENT_URL)
def environment_value_not_string(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags environment variable values that are not strings, such as TOML's `RETRIES = 3` or
    `DEBUG = true`, or a date, array or table.

    ## Why is this bad?
    Lambda's `Environment.Variables` is a map of strings to strings; the API refuses anything
    else, and the code reads strings from `os.environ` anyway.

    ## How to fix
    Quote the value: `RETRIES = "3"`, `DEBUG = "true"`; write arrays and tables as a JSON string.
    """
    for key, value in (s.environment or {}).items():
        if isinstance(value, str):
            continue
        if isinstance(value, (Mapping, list, tuple)) or value is None:
            fix = "write it as a JSON string and json.loads it in the function"
        else:
            fix = f'quote it: {key} = "{_as_string(value)}"'
        yield r.finding(
            f"environment variable {key} is {_kind(value)}; Lambda environment values are strings",
            _env_path(s), line=_env_line(s, key), function=s.name, fix=fix,
        )


_SEARCH_PATH_FIX = {
    "PYTHONPATH": "remove it: the package root and a layer's python/ folder (/opt/python) are on "
    "sys.path already; or extend sys.path in the handler module",
    "PATH": "remove it: a layer's bin/ folder (/opt/bin) is on PATH already; "
    "or call the program by its absolute path",
    "LD_LIBRARY_PATH": "remove it: a layer's lib/ folder (/opt/lib) is on LD_LIBRARY_PATH already",
}


@rule("LP307", "environment-path-override", Severity.WARNING, subject=FunctionSubject, source=limits.ENV_URL)
def environment_path_override(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the function sets `PYTHONPATH`, `PATH` or `LD_LIBRARY_PATH`. Lambda lets you set
    them, but your value replaces the one the runtime sets; Lambda does not expand `$PATH` or
    other references in a value.

    ## Why is this bad?
    Without the runtime's entries, imports (`Runtime.ImportModuleError`), native libraries or
    programs the runtime relies on can stop loading, and only in the deployed function.

    ## How to fix
    Remove the variable: the package root and `/opt/python` are on `sys.path`, `/opt/bin` on
    `PATH` and `/opt/lib` on `LD_LIBRARY_PATH` already. If your value deliberately keeps the
    runtime's entries, ignore LP307 in `[tool.lpack]`.
    """
    for key in limits.SEARCH_PATH_ENV_KEYS:
        value = (s.environment or {}).get(key)
        if value is None:
            continue
        literal = ""
        if "$" in _as_string(value):
            literal = f"; Lambda does not expand variables, so the value is literally {_as_string(value)!r}"
        yield r.finding(
            f"setting {key} replaces the runtime's own value and can break imports or native "
            f"libraries{literal}",
            _env_path(s), line=_env_line(s, key), function=s.name, fix=_SEARCH_PATH_FIX[key],
        )


# -- test events ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_error(data: bytes) -> tuple[str, int | None, int | None] | None:
    """Why ``data`` is not a JSON document Lambda accepts, with its line and column, or None."""
    if not data.strip():
        return "the file is empty", None, None
    try:
        json.loads(data, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return exc.msg, exc.lineno, exc.colno
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"not UTF-8 at byte {exc.start} ({exc.reason})", line, None
    except ValueError as exc:  # NaN, Infinity, -Infinity: Python reads them, Lambda refuses them
        return str(exc), None, None
    except RecursionError:  # valid JSON, but the Python runtime's json.loads gives up the same way
        return "nested too deeply for the Python runtime's json.loads to read (Runtime.UnmarshalError)", None, None
    return None


@rule("LP311", "event-invalid-json", Severity.ERROR, subject=FunctionSubject, source=limits.API_INVOKE_URL)
def event_invalid_json(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Parses each test event as Lambda parses an invocation payload: one JSON document in UTF-8
    (a UTF-8 byte-order mark is tolerated). `NaN` and `Infinity`, which Python's `json` reads
    but JSON does not allow, are refused too, and so is an empty file.

    ## Why is this bad?
    `Invoke` fails with `InvalidRequestContentException: Could not parse request body into
    json`, and `lpack invoke` cannot use the event.

    ## How to fix
    Fix the JSON at the line and column given (a trailing comma, single quotes and comments are
    the usual slips); save the file as UTF-8.
    """
    for event in s.events:
        problem = _json_error(event.data)
        if problem is not None:
            message, line, column = problem
            where = f" at line {line}, column {column}" if line and column else ""
            yield r.finding(
                f"test event is not valid JSON{where}: {message}",
                str(event.path), line=line, function=s.name,
            )


def _event_size(event: EventFile) -> str:
    return f"test event is {exact_bytes(len(event.data))}"


@rule("LP312", "event-too-large-sync", Severity.ERROR, subject=FunctionSubject, source=limits.QUOTAS_URL)
def event_too_large_sync(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a test event for a synchronous (`RequestResponse`) invocation larger than 6,291,456
    bytes (6 MB), counting the bytes of the file as given.

    ## Why is this bad?
    Lambda refuses the request with HTTP 413: "Request must be smaller than 6291456 bytes for
    the InvokeFunction operation". An event this size cannot reach the function in production
    either.

    ## How to fix
    Pass a reference instead of the data: put the payload in S3 and send its bucket and key.
    """
    limit = limits.SYNC_PAYLOAD.value
    for event in s.events:
        if event.invocation != "async" and len(event.data) > limit:
            yield r.finding(
                f"{_event_size(event)}; a synchronous invocation accepts at most {exact_bytes(limit)} "
                f'("Request must be smaller than {limit} bytes for the InvokeFunction operation")',
                str(event.path), function=s.name,
                fix="put the data in S3 and pass its bucket and key in the event",
            )


@rule("LP313", "event-too-large-async", Severity.ERROR, subject=FunctionSubject, source=limits.QUOTAS_URL)
def event_too_large_async(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a test event for an asynchronous (`Event`) invocation larger than 1,048,576 bytes
    (1 MB; Lambda raised this limit from 256 KB on 2025-10-24), counting the bytes of the file
    as given.

    ## Why is this bad?
    Lambda refuses the invocation: "N byte payload is too large for the Event invocation type
    (limit 1048576 bytes)".

    ## How to fix
    Put the payload in S3 and send its bucket and key.

    ## References
    AWS What's New, 2025-10-24: "AWS Lambda increases maximum payload size from 256 KB to 1 MB for
    asynchronous invocations",
    https://aws.amazon.com/about-aws/whats-new/2025/10/aws-lambda-payload-size-256-kb-1-mb-invocations/
    """
    limit = limits.ASYNC_PAYLOAD.value
    for event in s.events:
        if event.invocation == "async" and len(event.data) > limit:
            yield r.finding(
                f"{_event_size(event)}; an asynchronous invocation accepts at most {exact_bytes(limit)} "
                f'("{len(event.data)} byte payload is too large for the Event invocation type '
                f'(limit {limit} bytes)")',
                str(event.path), function=s.name,
                fix="put the data in S3 and pass its bucket and key in the event",
            )


@rule("LP314", "event-over-256kb-async", Severity.WARNING, subject=FunctionSubject, source=limits.QUOTAS_URL)
def event_over_256kb_async(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Warns when a test event for an asynchronous invocation is larger than 262,144 bytes
    (256 KB) but within Lambda's 1,048,576-byte (1 MB) asynchronous limit.

    ## Why is this bad?
    Lambda raised its asynchronous limit from 256 KB to 1 MB on 2025-10-24, but SNS messages,
    Step Functions state and the deprecated `InvokeAsync` API are still limited to 256 KB: an
    event this size that arrives through them is refused before it reaches the function.

    ## How to fix
    Invoke through `Invoke` with `InvocationType=Event`, SQS or EventBridge (1 MB), or put the
    payload in S3 and pass a reference. If nothing on the way is limited to 256 KB, ignore LP314.

    ## References
    AWS What's New, 2025-10-24,
    https://aws.amazon.com/about-aws/whats-new/2025/10/aws-lambda-payload-size-256-kb-1-mb-invocations/
    """
    legacy, limit = limits.ASYNC_PAYLOAD_LEGACY.value, limits.ASYNC_PAYLOAD.value
    for event in s.events:
        if event.invocation == "async" and legacy < len(event.data) <= limit:
            yield r.finding(
                f"{_event_size(event)}, over {exact_bytes(legacy)} (256 KB): Lambda accepts up to "
                f"{exact_bytes(limit)} asynchronously since 2025-10-24, but SNS, Step Functions "
                "and InvokeAsync are still limited to 256 KB",
                str(event.path), function=s.name,
            )


# -- memory, timeout, /tmp -----------------------------------------------------------------------


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, (str, bool, float)) else str(value)


def _out_of_range(value: object, low: int, high: int, unit: str) -> str | None:
    """What is wrong with a configured whole number, or None when it is absent or fine."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"is not a whole number of {unit}; Lambda takes an integer from {low:,} to {high:,} {unit}"
    if not low <= value <= high:
        return f"is outside Lambda's range of {low:,} to {high:,} {unit}"
    return None


def _setting(r: Rule, s: FunctionSubject, key: str, value: object, bounds: tuple[int, int], unit: str,
             fix: str) -> Iterator[Finding]:
    problem = _out_of_range(value, *bounds, unit)
    if problem:
        yield r.finding(f"{key} = {_shown(value)} {problem}", s.where, line=s.line_of(key),
                        function=s.name, fix=fix)


@rule("LP321", "memory-invalid", Severity.ERROR, subject=FunctionSubject, source=limits.QUOTAS_URL)
def memory_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks the configured `memory`: a whole number of MB from 128 to 10,240 (Lambda's MB is
    1,048,576 bytes; any 1-MB step is allowed).

    ## Why is this bad?
    `CreateFunction` fails validation ("Member must have value greater than or equal to 128" /
    "less than or equal to 10240"); `512.0` or `"512"` is not an integer.

    ## How to fix
    Set `memory` to an integer in range, such as `memory = 512`.
    """
    yield from _setting(r, s, "memory", s.memory, limits.MEMORY_MB, "MB",
                        "set memory to an integer from 128 to 10240 (MB)")


@rule("LP322", "memory-above-3008", Severity.INFO, subject=FunctionSubject, source=limits.QUOTAS_URL)
def memory_above_3008(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Notes a `memory` setting above 3,008 MB (and at most 10,240 MB). 3,008 MB was Lambda's
    maximum until 2020-12-01.

    ## Why is this bad?
    It is valid, but the Lambda quotas page warns that "new AWS accounts have reduced concurrency
    and memory quotas", raised automatically with use: in a new account the deployment can be
    refused.

    ## How to fix
    Nothing, if the account has deployed this size before. Otherwise request a quota increase
    in Service Quotas, or ignore LP322 in `[tool.lpack]` once the account allows it.
    """
    low, high = limits.MEMORY_MB_BEFORE_2020, limits.MEMORY_MB[1]
    memory = s.memory
    if isinstance(memory, int) and not isinstance(memory, bool) and low < memory <= high:
        yield r.finding(
            f"memory = {memory} is above {low:,} MB: new AWS accounts have reduced memory quotas "
            "until AWS raises them, so a new account may refuse it",
            s.where, line=s.line_of("memory"), function=s.name,
        )


def _timeout_limit(s: FunctionSubject) -> tuple[int, str]:
    """The longest timeout Lambda accepts for this function, and why (LP323)."""
    from lpack.core.facts import compute

    if not s.features.managed_instances:
        return limits.TIMEOUT_S[1], ""
    kinds = (*s.features.event_sources, *(("function-url",) if s.features.function_url else ()))
    short = sorted({k for k in kinds if k in compute.SYNC_EVENT_SOURCES or k in compute.MI_SHORT_EVENT_SOURCES})
    if short:
        shown = ", ".join("a function URL" if k == "function-url" else k for k in short)
        return compute.SYNC_TIMEOUT_S, f" (Managed Instances, but invoked by {shown}: those keep 900 s)"
    return compute.MI_LONG_TIMEOUT_S, " (Managed Instances, asynchronous and event-source invocations)"


@rule("LP323", "timeout-invalid", Severity.ERROR, subject=FunctionSubject, source=limits.QUOTAS_URL)
def timeout_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks the configured `timeout`: a whole number of seconds from 1 to 900 (15 minutes).
    A timeout over 29 seconds is fine: that is API Gateway's integration timeout, not Lambda's.

    On Lambda Managed Instances (`CapacityProviderConfig`), asynchronous invocations and event
    source mappings may run up to 5,400 seconds (90 minutes), except Amazon MQ and Amazon
    DocumentDB mappings. There the limit is 5,400 s, unless something that invokes the function
    synchronously is attached to it in the template (an `Api`, `HttpApi`, `ALB` ... event, a
    function URL) or an MQ or DocumentDB source: then 900 s applies. The message says which.

    ## Why is this bad?
    `CreateFunction` fails validation; no invocation runs longer than its limit.

    ## How to fix
    Set `timeout` to an integer from 1 to 900 (5,400 for a Managed Instances function invoked
    asynchronously or by an event source). Split longer work with durable functions or Step
    Functions, or run it on ECS, Fargate or Batch.

    ## References
    Configuring the timeout, https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
    """
    high, why = _timeout_limit(s)
    problem = _out_of_range(s.timeout, limits.TIMEOUT_S[0], high, "s")
    if problem:
        yield r.finding(f"timeout = {_shown(s.timeout)} {problem}{why}", s.where, line=s.line_of("timeout"),
                        function=s.name, fix=f"set timeout to an integer from 1 to {high} (seconds)")


@rule("LP324", "ephemeral-storage-invalid", Severity.ERROR, subject=FunctionSubject, source=limits.QUOTAS_URL)
def ephemeral_storage_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks the configured `ephemeral-storage` (the size of `/tmp`): a whole number of MB from
    512 to 10,240.

    ## Why is this bad?
    `CreateFunction` fails validation: Lambda takes "any whole number between 512 and 10240 MB".

    ## How to fix
    Set `ephemeral-storage` to an integer in range, or remove it for the default 512 MB. For
    more space, mount EFS or stream through S3.
    """
    yield from _setting(r, s, "ephemeral-storage", s.ephemeral_storage, limits.EPHEMERAL_STORAGE_MB,
                        "MB", "set ephemeral-storage to an integer from 512 to 10240 (MB)")


LOGGING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html"


@rule("LP325", "log-level-without-json", Severity.WARNING, subject=FunctionSubject, source=LOGGING_URL)
def log_level_without_json(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Finds a `log-level` (Lambda's `LoggingConfig.ApplicationLogLevel`) on a function whose
    `log-format` is not `JSON`.

    ## Why is this bad?
    Lambda filters application logs by level only for functions that use the JSON log format;
    with the Text format the level is not applied, so the DEBUG lines it was meant to drop still
    reach CloudWatch (and are billed), or the setting is refused when the function is updated.

    ## How to fix
    Set `log-format = "JSON"` (a template's `LoggingConfig: LogFormat: JSON`), or remove
    `log-level` and set the root logger's level in code.
    """
    if s.log_level is None or str(s.log_format or "Text").upper() == "JSON" or s.features.managed_instances:
        return  # (Managed Instances always log JSON: the level applies)
    yield r.finding(
        f"log-level = {_shown(s.log_level)} has no effect without log-format = \"JSON\": Lambda filters "
        "application logs by level only in the JSON log format",
        s.where, line=s.line_of("log-level"), function=s.name, fix='set log-format = "JSON", or remove log-level',
    )

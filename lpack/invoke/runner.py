"""Plan and run local invocations: which package, which events, which settings, which Python.

``invoke`` takes a project (built first, so the package that runs is the one that ships) or any
function .zip, reads and checks the test events before anything runs, extracts the package and
its layers, sets up the environment the Lambda Python runtime gives a function, and runs the
events one after another in one warm execution environment (sandbox.py).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

from lpack.analysis.import_paths import RUNTIME_PROVIDED, runtime_site_packages
from lpack.analysis.package import display_path
from lpack.core import limits
from lpack.core.errors import LpackError, UsageError
from lpack.core.features import NONE as NO_FEATURES
from lpack.core.features import Features
from lpack.core.targets import Runtime, Target, make_target
from lpack.inputs.config import FunctionSettings, Project, Unit
from lpack.invoke import runtime_modules
from lpack.invoke.interpreter import (
    Interpreter,
    find_interpreter,
    host_problem,
    installed_runtime,
    nearest_runtime,
)
from lpack.invoke.sandbox import BOOTSTRAP, Outcome, Request, Sandbox, Spec, new_request_id
from lpack.plan import Plan as UnitPlan
from lpack.plan import plan as plan_unit

DEFAULT_MEMORY_MB = 128  # CreateFunction's default
DEFAULT_TIMEOUT_S = 3  # CreateFunction's default
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # a placeholder: nothing here talks to AWS
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"
SNAPSTART_ON = "PublishedVersions"  # SnapStart.ApplyOn
TENANT_ISOLATED = "PER_TENANT"  # TenancyConfig.TenantIsolationMode

Progress = Callable[[str, str], None]
Note = Callable[[str], None]


class InvokeOptions(NamedTuple):
    function: str | None = None
    events: tuple[str, ...] = ()  # files, folders, or "-" for stdin
    payload: str | None = None
    sample: str | None = None
    invocation: str | None = None  # "sync" or "async"
    handler: str | None = None  # for a .zip
    layers: tuple[Path, ...] = ()  # layer .zip files, in order
    runtime: str | None = None
    architecture: str | None = None
    memory_mb: int | None = None
    timeout_s: float | None = None
    env: Path | None = None
    pass_env: tuple[str, ...] = ()
    python: str | None = None
    enforce_memory: bool = False
    build: bool = True
    config: Path | None = None
    region: str | None = None
    cache_dir: Path | None = None
    snapstart: bool | None = None  # None: as the function's SnapStart setting says
    tenant_id: str | None = None


class Event(NamedTuple):
    name: str  # how the output names it: a path, "payload", "sample NAME" or "stdin"
    text: str


class Plan(NamedTuple):
    function: str
    handler: str
    target: Target
    package: Path
    layers: tuple[Path, ...]
    environment: Mapping[str, str]
    memory_mb: int
    timeout_s: float
    invocation: str
    events: tuple[Event, ...]
    log_format: str = "Text"  # Lambda's LoggingConfig.LogFormat: "Text" or "JSON"
    log_level: str | None = None  # LoggingConfig.ApplicationLogLevel (JSON only)
    features: Features = NO_FEATURES
    snapstart: bool = False  # init, the before-snapshot hooks, the after-restore hooks, then each event
    tenant_id: str | None = None


class Invocation(NamedTuple):
    event: Event
    outcome: Outcome


OnResult = Callable[[Plan, Interpreter, Invocation], None]


class InvokeRun(NamedTuple):
    plan: Plan
    interpreter: Interpreter
    invocations: list[Invocation]

    @property
    def ok(self) -> bool:
        return all(i.outcome.status == "succeeded" for i in self.invocations)


def invoke(target: str | None, options: InvokeOptions, progress: Progress = lambda _u, _m: None,
           note: Note = lambda _m: None, on_result: OnResult = lambda _p, _i, _r: None) -> InvokeRun:
    """Run every event against the function; ``on_result`` sees each invocation as it ends."""
    if os.name != "posix":
        raise UsageError("lpack invoke runs the handler as Lambda's Linux runtime does and needs Linux or macOS; "
                         "on Windows, run it in WSL")
    if options.enforce_memory and not Path("/proc/self/status").exists():
        raise UsageError("--enforce-memory reads the function's memory from /proc, which this system lacks; "
                         "run it on Linux (or drop --enforce-memory: the REPORT line still shows the peak)")
    plan = _plan(target, options, progress, note)
    interpreter = find_interpreter(plan.target.runtime, options.python)
    if not interpreter.matches:
        note(_not_installed(plan.target.runtime, interpreter, options))
    spec = _spec(plan, interpreter, options, progress)
    _emulated(plan, spec, note)
    if plan.features.durable is not None:
        from lpack.invoke.durable import run_durable

        outcomes = run_durable(plan, interpreter, spec)
        ran = [Invocation(e, _checked(o, plan)) for e, o in zip(plan.events, outcomes)]
        for i, invocation in enumerate(ran):
            on_result(plan, interpreter, invocation)
            _hint(plan, interpreter, ran[:i + 1], note)
        return InvokeRun(plan, interpreter, ran)
    invocations: list[Invocation] = []
    provisioned = False
    with Sandbox(spec) as sandbox:
        for event in plan.events:
            outcome = _checked(sandbox.invoke(_request(plan, event, options)), plan)
            module = runtime_modules.missing_module(outcome.error)
            if module and not provisioned:  # boto3 & co. are the runtime's: get them, then run it again
                provisioned = True
                if _provide_runtime_modules(sandbox, module, plan, interpreter, options, progress, note):
                    outcome = _checked(sandbox.invoke(_request(plan, event, options)), plan)
            if outcome.hooks is not None:
                note(_snapstart_order(plan, outcome))
            invocations.append(Invocation(event, outcome))
            on_result(plan, interpreter, invocations[-1])
            _hint(plan, interpreter, invocations, note)
    return InvokeRun(plan, interpreter, invocations)


def _hint(plan: Plan, interpreter: Interpreter, invocations: list[Invocation], note: Note) -> None:
    """What to do about the last invocation's error, said once, after the error it explains."""
    *before, last = invocations
    for hint in (_credentials_hint, _site_packages_hint):
        text = hint(plan, interpreter, last.outcome)
        if text and not any(hint(plan, interpreter, i.outcome) for i in before):
            note(text)


def _site_packages_hint(plan: Plan, interpreter: Interpreter, outcome: Outcome) -> str | None:
    """pip or setuptools (pkg_resources) missing: in the runtime's own site-packages but not in the
    local Python's, or not in this runtime at all (setuptools from python3.12)."""
    from lpack.core.facts.runtime_packages import SITE_PACKAGES

    runtime = plan.target.runtime
    shipped = runtime_site_packages(runtime.python)
    module = runtime_modules.missing_module(outcome.error, frozenset(SITE_PACKAGES))
    if module is None:
        return None
    distribution = "pip" if module == "pip" else "setuptools"
    if module not in shipped:
        return (f"{module} is not in the {runtime.name} runtime, as on Lambda (the python3.11 and older runtimes "
                f"have setuptools): add {distribution} to the requirements"
                + (", or use importlib.metadata and importlib.resources" if module == "pkg_resources" else ""))
    return (f"{module} is in the {runtime.name} runtime's own site-packages ({distribution}), not in Python "
            f"{interpreter.full_version}'s here ({interpreter.path}): install {distribution} for that Python, or "
            "pass --python with one that has it")


NO_CREDENTIALS = "NoCredentialsError"  # botocore.exceptions: "Unable to locate credentials"


def _credentials_hint(plan: Plan, _interpreter: Interpreter, outcome: Outcome) -> str | None:
    """botocore looked for AWS credentials and found none: raised from botocore's own code."""
    error = outcome.error or {}
    trace = error.get("stackTrace") or []
    if error.get("errorType") != NO_CREDENTIALS or not any(
            "botocore" in str(frame).replace("\\", "/").split("/") for frame in trace):
        return None
    return (f"{plan.function}: botocore found no AWS credentials: the function sees only the variables Lambda "
            "would set, not your shell's; pass your profile with --pass-env AWS_PROFILE --pass-env HOME (or your "
            "keys: --pass-env AWS_ACCESS_KEY_ID --pass-env AWS_SECRET_ACCESS_KEY --pass-env AWS_SESSION_TOKEN)")


def _not_installed(runtime: Runtime, interpreter: Interpreter, options: InvokeOptions) -> str:
    """The runtime's Python is not here: what runs instead, and (unless --python chose it) the
    nearest Lambda runtime that is installed, to run as with --runtime."""
    text = (f"{runtime.name} is not installed here (looked on PATH, in pyenv and uv); running under Python "
            f"{interpreter.full_version} ({interpreter.path}): install it (`uv python install "
            f"{runtime.python_version}`) or pass --python")
    nearest = None if options.python else _nearest(runtime)
    if nearest is None:
        return text
    other, found = nearest
    return (f"{text}; the nearest Lambda runtime installed here is {other.name} (Python {found.full_version}, "
            f"{found.path}): pass --runtime {other.name} to run as it")


def _nearest(runtime: Runtime) -> tuple[Runtime, Interpreter] | None:
    from lpack.core import clock
    from lpack.core.targets import RUNTIMES, lifecycle

    creatable = [r for r in RUNTIMES.values() if lifecycle(r, clock.today()) != "blocked"]
    return nearest_runtime(runtime, creatable)


def _snapstart_order(plan: Plan, outcome: Outcome) -> str:
    assert outcome.hooks is not None
    before, after = (", ".join(names) or "none" for names in outcome.hooks)
    restore = outcome.restore_duration_ms or 0.0
    return (f"SnapStart: ran init (imported {plan.handler.rsplit('.', 1)[0]}), the before-snapshot hooks ({before}; "
            f"reverse order of registration), then restored: the after-restore hooks ({after}; order of "
            f"registration, Restore Duration {restore:.2f} ms), then the invocation")


def _emulated(plan: Plan, spec: Spec, note: Note) -> None:
    """What lpack cannot emulate: an exec wrapper (the Lambda Web Adapter's /opt/bootstrap and the
    like) is refused unless the handler is a Python module lpack can run without it; a
    RESPONSE_STREAM function URL or a streaming REST integration is run buffered, as the managed Python
    runtime answers."""
    wrapper = plan.features.exec_wrapper
    if wrapper:
        if not _python_handler(plan.handler, spec.task_root, spec.opt_root):
            raise UsageError(f"{plan.function}: {EXEC_WRAPPER}={wrapper} starts a wrapper script (such as the Lambda "
                             f"Web Adapter's /opt/bootstrap) in place of the Python runtime, and handler "
                             f"{plan.handler!r} is not a Python module: lpack invoke cannot emulate the wrapper or "
                             "the web server it starts; run the web app directly, or use `sam local invoke`")
        note(f"{plan.function}: {EXEC_WRAPPER}={wrapper} is not run: lpack invoke runs the handler {plan.handler} "
             "as the Python runtime does, without what the wrapper script adds (variables, arguments, a proxy)")
    streaming = [what for on, what in ((plan.features.streams, "the function URL's InvokeMode RESPONSE_STREAM"),
                                       (plan.features.api_streaming,
                                        "the API Gateway integration's ResponseTransferMode STREAM"))
                 if on]
    if streaming:
        note(f"{plan.function}: {' and '.join(streaming)} {'is' if len(streaming) == 1 else 'are'} not emulated: "
             "the managed Python runtime cannot stream, so the response shown is the buffered one (streaming needs "
             "the Lambda Web Adapter or a custom runtime)")


def _python_handler(handler: str, task_root: Path, opt_root: Path | None) -> bool:
    """The handler's module is a .py file or package in the package or its layers' python/."""
    module = handler.rsplit(".", 1)[0].replace(".", "/") if "." in handler else None
    if not module:
        return False
    roots = [task_root, *([opt_root / "python"] if opt_root is not None else [])]
    return any((root / f"{module}.py").is_file() or (root / module / "__init__.py").is_file() for root in roots)


def _provide_runtime_modules(sandbox: Sandbox, module: str, plan: Plan, interpreter: Interpreter,
                             options: InvokeOptions, progress: Progress, note: Note) -> bool:
    """Install boto3 for the target into the cache and restart the environment with it; False
    (with a note saying what to do) when it cannot be installed."""
    path = runtime_modules_for(module, plan, interpreter, options.cache_dir, progress, note)
    if path is None:
        return False
    note(f"{module} is part of the Lambda runtime; lpack installed boto3 for {plan.target.label} into "
         f"{display_path(path)} for local runs (once) and ran the event again")
    sandbox.close()
    sandbox.spec = sandbox.spec._replace(runtime_paths=(str(path),))
    return True


def runtime_modules_for(module: str, plan: Plan, interpreter: Interpreter, cache_dir: Path | None,
                        progress: Progress, note: Note) -> Path | None:
    """The folder of the runtime's modules (boto3 & co.) for the plan's target, installed into the
    cache the first time; None (with a note saying what to do) when it cannot be installed."""
    from lpack.core.cache import default_root

    progress(plan.function, f"{module} is part of the Lambda runtime: installing boto3 for local runs")
    try:
        return runtime_modules.install(cache_dir or default_root(), plan.target)
    except LpackError as exc:
        note(f"{module} is part of the Lambda runtime, not of Python {interpreter.full_version} "
             f"({interpreter.path}), and lpack could not install it ({exc}); install boto3 for that Python, "
             "or bundle it in requirements")
        return None


# -- the plan ---------------------------------------------------------------------------------

def _plan(target: str | None, options: InvokeOptions, progress: Progress, note: Note) -> Plan:
    path = Path(target) if target is not None else Path(".")
    function = options.function
    if target is not None and not path.exists() and "/" not in target and not target.endswith(".zip"):
        function, path = function or target, Path(".")
    if path.suffix == ".zip":
        return _zip_plan(path, options, note)
    if not path.exists():
        raise UsageError(f"{target}: no such project, package or function; pass a project folder, a .zip, "
                         "or the name of a function in this folder's project")
    project = _load(path, options)
    return _project_plan(project, _function_unit(project, function), options, progress, note)


def _load(path: Path, options: InvokeOptions) -> Project:
    """A project's config, or a SAM/CloudFormation template's functions (by logical ID)."""
    from lpack.inputs.detect import load

    return load(path, options.config)[0]


def _function_unit(project: Project, name: str | None) -> Unit:
    functions = [u for u in project.units if u.kind == "function"]
    if name is not None:
        unit = project.unit(name)
        if unit.kind != "function":
            raise UsageError(f"{project.describe()}: {name!r} is a layer; invoke one of its functions: "
                             f"{', '.join(u.name for u in functions)}")
        return _runnable(project, unit)
    if len(functions) != 1:
        raise UsageError(f"{project.describe()}: this project has {len(functions)} functions; name one: "
                         f"lpack invoke NAME (one of {', '.join(u.name for u in functions)})")
    return _runnable(project, functions[0])


def _runnable(project: Project, unit: Unit) -> Unit:
    """The function, when lpack has its code: an image or code on S3 cannot run here."""
    if (why := unit.settings.features.not_here()) is not None:
        raise UsageError(f"{project.describe()}: {unit.name} cannot run here: {why}")
    return unit


def _tenant(options: InvokeOptions, features: Features | None, where: object) -> str | None:
    """--tenant-id, which Lambda requires of a function with tenant isolation and refuses for one
    without (InvalidParameterValueException); a .zip's tenancy is unknown, so any is taken."""
    tenant = options.tenant_id
    if tenant is not None and not tenant.strip():
        raise UsageError(f"{where}: --tenant-id is empty; pass the tenant's identifier")
    if features is None:
        return tenant
    isolated = features.tenancy == TENANT_ISOLATED
    if isolated and tenant is None:
        raise UsageError(f"{where} has tenant isolation (TenancyConfig {TENANT_ISOLATED}) and Lambda refuses an "
                         "invoke without a tenant ID (InvalidParameterValueException): pass --tenant-id ID")
    if tenant is not None and not isolated:
        raise UsageError(f"{where} has no tenant isolation and Lambda refuses an invoke with a tenant ID "
                         "(InvalidParameterValueException): drop --tenant-id, or set TenancyConfig")
    return tenant


def _zip_plan(path: Path, options: InvokeOptions, note: Note) -> Plan:
    if not path.is_file():
        raise UsageError(f"{path}: no such package")
    if not options.handler:
        raise UsageError(f"{path}: a .zip needs --handler MODULE.FUNCTION (the function's Handler setting)")
    target = make_target(options.runtime, options.architecture, where=str(path))
    none = FunctionSettings()
    events = _events(options, None, None, _invocation(options, none), note)
    environment = _environment(options, none, path)
    features = Features(exec_wrapper=environment.get(EXEC_WRAPPER))
    return Plan(path.stem, options.handler, target, path, tuple(options.layers), environment,
                _memory(options, none, path), _timeout(options, none, path), _invocation(options, none), events,
                features=features, snapstart=bool(options.snapstart), tenant_id=_tenant(options, None, path))


def _project_plan(project: Project, unit: Unit, options: InvokeOptions, progress: Progress, note: Note) -> Plan:
    settings = unit.settings
    where = f"{project.describe()} [{unit.where}]"
    invocation = _invocation(options, settings)
    events = _events(options, project.root, settings.events, invocation, note)
    memory, timeout = _memory(options, settings, where), _timeout(options, settings, where)
    environment = _environment(options, settings, where)
    features = settings.lambda_features
    snapstart = options.snapstart if options.snapstart is not None else features.snap_start == SNAPSTART_ON
    tenant = _tenant(options, features, f"{where}: {unit.name}")
    target, package, layers = _package(project, unit, options, progress, note)
    assert unit.handler is not None
    log_format = "JSON" if str(settings.log_format or "Text").upper() == "JSON" else "Text"
    log_level = str(settings.log_level or "INFO").upper() if log_format == "JSON" else None
    return Plan(unit.name, unit.handler, target, package, layers, environment, memory, timeout, invocation, events,
                log_format, log_level, features, snapstart, tenant)


def _package(project: Project, unit: Unit, options: InvokeOptions, progress: Progress,
             note: Note) -> tuple[Target, Path, tuple[Path, ...]]:
    """Build the function and its project layers (a rebuild that changes nothing installs nothing),
    or with --no-build take dist/ as it is."""
    own_layers = [name for name in unit.layers if not name.startswith("arn:")]
    for arn in (name for name in unit.layers if name.startswith("arn:")):
        note(f"layer {arn} is not fetched (that needs AWS); pass its .zip with --layer if the function imports from it")
    if options.build and not (options.runtime or options.python):
        options = options._replace(runtime=_local_runtime(plan_unit(project, unit), note))
    target = plan_unit(project, unit, options.runtime, options.architecture).target
    if options.build and target != plan_unit(project, unit).target:
        # another target than the one `lpack build` uses: dist/ keeps the package you deploy
        project = project._replace(dist=_scratch_dist(project, options))
        note(f"building for {target.label}, not the target of `lpack build`, into {display_path(project.dist)}; "
             "dist/ is left as it is")
    unit_plan = plan_unit(project, unit, options.runtime, options.architecture)
    zips = [unit_plan.artifact, *unit_plan.layer_artifacts().values()]
    to_build = (*([unit.name] if unit_plan.built_here else []), *own_layers)
    if options.build and to_build:
        _build(project, to_build, options, progress, note)
    for path in zips:
        if not path.is_file():
            raise UsageError(f"{display_path(path)}: not built; run `lpack build` (or drop --no-build)")
    return target, zips[0], (*zips[1:], *options.layers)


def _local_runtime(default: UnitPlan, note: Note) -> str | None:
    """For a target nothing chose (no runtime configured, no .python-version, no requires-python
    that decides it): the newest Lambda runtime whose Python is installed here, so a first invoke
    runs under the runtime's own Python rather than one the user never chose and does not have."""
    from lpack.core import clock
    from lpack.core.targets import RUNTIMES, lifecycle

    wanted = default.target.runtime
    if not default.target_defaulted or find_interpreter(wanted).matches:
        return None
    local = installed_runtime([r for r in RUNTIMES.values() if lifecycle(r, clock.today()) == "supported"])
    if local is None:
        return None
    note(f"no runtime is configured and {wanted.name}, the default, is not installed here: running "
         f"{local.name}, the newest Lambda runtime installed (set runtime, or `uv python install "
         f"{wanted.python_version}` to run the default)")
    return local.name


def _scratch_dist(project: Project, options: InvokeOptions) -> Path:
    import hashlib

    from lpack.core.cache import default_root

    key = hashlib.sha256(str(project.root).encode()).hexdigest()[:16]
    return (options.cache_dir or default_root()) / "invoke" / "dist" / key


def _build(project: Project, names: tuple[str, ...], options: InvokeOptions, progress: Progress, note: Note) -> None:
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.core.findings import Severity

    result = build_project(project, BuildOptions(runtime=options.runtime, architecture=options.architecture,
                                                 functions=names, cache_dir=options.cache_dir), progress)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if errors:
        codes = ", ".join(sorted({f.code for f in errors}))
        note(f"the build has {len(errors)} error finding(s) ({codes}) that would stop a deployment; "
             "`lpack build` shows them. Running it anyway.")


# -- settings ---------------------------------------------------------------------------------

def _invocation(options: InvokeOptions, settings: FunctionSettings) -> str:
    """--invocation, else how a --sample's trigger invokes (S3 and SNS asynchronously), else the config."""
    if options.invocation:
        return options.invocation
    if options.sample is not None:
        from lpack.inputs.events import sample

        return sample(options.sample).invocation
    return settings.invocation


def _memory(options: InvokeOptions, settings: FunctionSettings, where: object) -> int:
    configured = settings.memory if settings.memory is not None else DEFAULT_MEMORY_MB
    value = options.memory_mb if options.memory_mb is not None else configured
    low, high = limits.MEMORY_MB
    if not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{where}: memory {value!r} MB: Lambda accepts {low}-{high:,} MB")
    return value


def _timeout(options: InvokeOptions, settings: FunctionSettings, where: object) -> float:
    configured = settings.timeout if settings.timeout is not None else DEFAULT_TIMEOUT_S
    value = options.timeout_s if options.timeout_s is not None else configured
    low, high = limits.TIMEOUT_S
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise UsageError(f"{where}: timeout {value!r} s: Lambda accepts {low}-{high} seconds")
    return float(value)


def _environment(options: InvokeOptions, settings: FunctionSettings, where: object) -> dict[str, str]:
    from lpack.inputs.environment import read_env

    configured = settings.environment or {}
    merged = {**configured, **(read_env(options.env) if options.env else {})}
    for key in options.pass_env:
        if key in os.environ:
            merged[key] = os.environ[key]
    environment = {key: _env_text(value) for key, value in merged.items()}
    for key, value in environment.items():
        _check_os_accepts(key, value, where)
    return environment


ENV_VARIABLE_MAX_BYTES = 131_072  # Linux MAX_ARG_STRLEN: execve refuses a longer "KEY=value" (E2BIG)


def _check_os_accepts(key: str, value: str, where: object) -> None:
    """A variable no process can be started with is the input's fault (exit 2), named by its key."""
    problem = _os_refuses(key, value)
    if problem:
        shown = repr(key) if len(key) <= 80 else repr(key[:80]) + "..."
        raise UsageError(f"{where}: environment variable {shown} {problem}; no process can be started with it: "
                         "fix it (lpack check --env reports Lambda's own rules, LP301-LP306)")


def _os_refuses(key: str, value: str) -> str | None:
    if not key or "=" in key or "\0" in key:
        return "has a name with '=', a NUL byte or nothing in it"
    if "\0" in value:
        return "has a NUL byte in its value"
    try:
        size = len(os.fsencode(key)) + len(os.fsencode(value)) + 2
    except UnicodeError:
        return "cannot be encoded for the operating system (a lone surrogate?)"
    if size > ENV_VARIABLE_MAX_BYTES:
        return f"is {size:,} bytes, more than a process environment variable can hold ({ENV_VARIABLE_MAX_BYTES:,})"
    return None


def _env_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


# -- events -----------------------------------------------------------------------------------

def _events(options: InvokeOptions, root: Path | None, configured: object, invocation: str, note: Note) -> tuple[Event, ...]:
    events = list(_given_events(options))
    if not events and isinstance(configured, str) and root is not None:
        events = list(_event_files(root / configured, f"events {configured!r}"))
    if not events:
        raise UsageError("no test event: pass --event FILE (or a folder of .json files, or - for stdin), "
                         "--payload JSON, or --sample NAME (`lpack events` lists them)")
    for event in events:
        _check_event(event, invocation, note)
    return tuple(events)


def _given_events(options: InvokeOptions) -> Iterator[Event]:
    if options.payload is not None:
        yield Event("payload", options.payload)
    if options.sample is not None:
        from lpack.inputs.events import sample_json

        yield Event(f"sample {options.sample}", sample_json(options.sample))
    for value in options.events:
        if value == "-":
            yield Event("stdin", sys.stdin.read())
        else:
            yield from _event_files(Path(value), value)


def _event_files(path: Path, label: str) -> Iterator[Event]:
    if path.is_dir():
        files = sorted(path.rglob("*.json"))
        if not files:
            raise UsageError(f"{display_path(path)}: no .json test events in this folder")
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"{label}: no such event file or folder")
    for file in files:
        try:
            yield Event(display_path(file), file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{display_path(file)}: cannot read test event: {exc}") from exc


def _check_event(event: Event, invocation: str, note: Note) -> None:
    """Lambda's Invoke refuses a body that is not JSON, or over the payload limit, before running."""
    try:
        json.loads(event.text)
    except ValueError as exc:
        raise UsageError(f"{event.name}: not valid JSON ({exc}); Lambda refuses it "
                         "(InvalidRequestContentException)") from exc
    size = len(event.text.encode("utf-8"))
    limit = limits.SYNC_PAYLOAD if invocation == "sync" else limits.ASYNC_PAYLOAD
    if size > limit.value:
        kind = "a synchronous" if invocation == "sync" else "an asynchronous"
        raise UsageError(f"{event.name}: {size:,} bytes is over Lambda's {limit.value:,}-byte limit for "
                         f"{kind} invocation; Lambda would refuse it (RequestEntityTooLargeException)")
    legacy = limits.ASYNC_PAYLOAD_LEGACY.value
    if invocation == "async" and size > legacy:
        note(f"{event.name}: {size:,} bytes is over {legacy:,} bytes, still the limit when SNS, "
             "Step Functions or the InvokeAsync API deliver the event")


# -- the environment --------------------------------------------------------------------------

def _spec(plan: Plan, interpreter: Interpreter, options: InvokeOptions, progress: Progress) -> Spec:
    from lpack.core.cache import default_root
    from lpack.invoke.extract import extract_layers, extract_package

    cache = options.cache_dir or default_root()
    progress(plan.function, f"extracting {display_path(plan.package)}")
    task_root = extract_package(plan.package, cache)
    opt_root = extract_layers(plan.layers, cache) if plan.layers else None
    problem = host_problem([p for p in (task_root, opt_root) if p is not None], interpreter)
    if problem:
        raise LpackError(f"{display_path(plan.package)}: {problem}")
    environment = lambda_environment(plan, task_root, opt_root, options.region)
    return Spec(
        python=interpreter.path, handler=plan.handler, task_root=task_root, opt_root=opt_root,
        environment=environment, timeout_s=plan.timeout_s, memory_mb=plan.memory_mb,
        enforce_memory=options.enforce_memory,
        runtime_provided=tuple(sorted(RUNTIME_PROVIDED | runtime_site_packages(plan.target.runtime.python))),
        runtime_paths=_provided_before(cache, plan.target),
        extra_paths=_python_path(plan.environment.get("PYTHONPATH", ""), task_root, opt_root),
    )


def _provided_before(cache: Path, target: Target) -> tuple[str, ...]:
    """The runtime's modules lpack installed for this target on an earlier run, if any."""
    path = runtime_modules.folder(cache, target)
    return (str(path),) if path.is_dir() else ()


def lambda_environment(plan: Plan, task_root: Path, opt_root: Path | None, region: str | None) -> dict[str, str]:
    """The variables the runtime defines ("Defined runtime environment variables"), over the
    function's own; a reserved name the function sets is Lambda's value, as Lambda refuses it."""
    region = region_of(region)
    opt = str(opt_root) if opt_root else "/opt"
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y/%m/%d")
    host_path = os.environ.get("PATH", os.defpath)
    defaults = {
        "PATH": f"{host_path}{os.pathsep}{opt}/bin",
        "LD_LIBRARY_PATH": os.pathsep.join([str(task_root), f"{task_root}/lib", f"{opt}/lib"]),
        "LANG": "en_US.UTF-8", "TZ": ":UTC",
    }
    runtime = {
        "_HANDLER": plan.handler, "AWS_EXECUTION_ENV": f"AWS_Lambda_{plan.target.runtime.name}",
        "AWS_LAMBDA_FUNCTION_NAME": plan.function, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(plan.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if plan.snapstart else "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{plan.function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": str(task_root), "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
    }
    if plan.log_format == "JSON":  # what Lambda sets from LoggingConfig (advanced logging controls)
        runtime["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        runtime["AWS_LAMBDA_LOG_LEVEL"] = plan.log_level or "INFO"
    own = {k: v for k, v in plan.environment.items() if k not in runtime or k in limits.RESERVED_ENV_CREDENTIALS}
    return {**defaults, **own, **runtime}


def _python_path(value: str, task_root: Path, opt_root: Path | None) -> tuple[str, ...]:
    """PYTHONPATH entries, with Lambda's /var/task and /opt read as the local folders."""
    def local(entry: str) -> str:
        if entry == "/var/task" or entry.startswith("/var/task/"):
            return str(task_root) + entry[len("/var/task"):]
        if opt_root is not None and (entry == "/opt" or entry.startswith("/opt/")):
            return str(opt_root) + entry[len("/opt"):]
        return entry
    return tuple(local(e) for e in value.split(os.pathsep) if e and e != "/var/runtime")


def region_of(given: str | None) -> str:
    """--region, else the shell's AWS_REGION / AWS_DEFAULT_REGION, else us-east-1."""
    return given or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _request(plan: Plan, event: Event, options: InvokeOptions) -> Request:
    arn = f"arn:aws:lambda:{region_of(options.region)}:{ACCOUNT_ID}:function:{plan.function}"
    return Request(new_request_id(), event.text, arn, tenant_id=plan.tenant_id)


def _checked(outcome: Outcome, plan: Plan) -> Outcome:
    """A synchronous response over 6 MB is an error, as Lambda reports it."""
    if plan.invocation != "sync" or outcome.response is None:
        return outcome
    limit = limits.SYNC_RESPONSE.value
    if len(outcome.response.encode("utf-8", "surrogateescape")) <= limit:
        return outcome
    error = {"errorType": RESPONSE_TOO_LARGE,
             "errorMessage": f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."}
    return outcome._replace(status="failed", response=None, error=error)


def billed_duration_ms(outcome: Outcome) -> int:
    """Whole milliseconds, rounded up; since 2025-08-01 a cold start's init is billed too. A
    SnapStart restore is billed apart (Billed Restore Duration), and its init ran at publish."""
    if outcome.restore_duration_ms is not None:
        return math.ceil(outcome.duration_ms)
    return math.ceil(outcome.duration_ms + (outcome.init_duration_ms or 0.0))


# -- for lpack serve: one function's environment without test events ---------------------------

def prepare(project: Project, name: str, options: InvokeOptions, progress: Progress = lambda _u, _m: None,
            note: Note = lambda _m: None) -> tuple[Plan, Interpreter, Spec]:
    """Build one function of a loaded project and describe its execution environment, as ``invoke``
    does before its first event; the requests ``lpack serve`` receives are its events."""
    unit = _runnable(project, project.unit(name))
    plan = _project_plan(project, unit, options._replace(events=(), sample=None, payload="{}"), progress, note)
    plan = plan._replace(events=())
    interpreter = find_interpreter(plan.target.runtime, options.python)
    spec = _spec(plan, interpreter, options, progress)
    _emulated(plan, spec, note)
    return plan, interpreter, spec


def request_for(plan: Plan, event: Mapping[str, object], request_id: str, region: str | None) -> Request:
    """One Invoke of the function with this event (built by lpack serve: handed over as a value)."""
    arn = f"arn:aws:lambda:{region_of(region)}:{ACCOUNT_ID}:function:{plan.function}"
    return Request(request_id, "", arn, tenant_id=plan.tenant_id, value=event)

"""lpack's stand-in for the Lambda Python runtime's bootstrap, run in the child process.

It behaves as ``awslambdaric/bootstrap.py`` (the runtime interface client the managed python3.x
runtimes use) does, in the points a function can observe: the handler string is split on its
last dot and imported at init (``Runtime.MalformedHandlerName``, ``Runtime.BuiltInModuleConflict``,
``Runtime.ImportModuleError``, ``Runtime.UserCodeSyntaxError``, ``Runtime.HandlerNotFound``); the
root logger gets a handler writing ``[LEVEL]\\tTIME\\tREQUEST_ID\\tMESSAGE`` in UTC at the level
of ``AWS_LAMBDA_LOG_LEVEL`` (else Python's default, WARNING); stdout and stderr are unbuffered;
the event is parsed as JSON and the response serialized as the runtime does (a ``Decimal`` as
its digits, a named tuple as an object, ``bytes`` as they are); a handler exception becomes
``{"errorMessage", "errorType", "requestId", "stackTrace"}`` and the process lives on, while
``SystemExit`` ends it as it ends the runtime.

``sys.path`` is the runtime's: the task root, then the layers' ``python/lib/python3.X/
site-packages`` and ``python``, then the standard library. The modules the runtime itself
provides (boto3 and its dependencies) are served from this interpreter's site-packages, after
the package and its layers, as ``/var/runtime`` serves them on Lambda; nothing else is.

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`` it then runs the SnapStart hooks as the runtime's
``on_init_complete`` does (``snapshot_restore_py``: before-snapshot hooks popped, after-restore hooks in
order; a raise is ``Runtime.BeforeSnapshotError``, exit 64, or ``Runtime.AfterRestoreError``, exit 65).

It talks to lpack over pipes: setup and invoke requests arrive on one, each its size on a line then
the request marshalled (lpack serve's events are values, not JSON text). Each phase ends with
a marker on stdout, so lpack can tell one invocation's logs from the next, and the phase's result
follows the marker in the same write: one wake-up of lpack per invocation. A result too big for one
atomic pipe write, or one whose stdout the handler has redirected, goes on a results pipe instead,
which also tells lpack the process has exited (its end closes only then). Standard library only,
and the syntax of the oldest runtime lpack runs (Python 3.7): it runs under the target's
interpreter, which may not have lpack installed.
"""

from __future__ import annotations

import decimal
import importlib
import importlib.abc
import importlib.machinery
import json
import logging
import marshal
import math
import os
import re
import select
import site
import sys
import time
import traceback
from typing import Any

END_MARKER = b"\x00lpack:end\x00"
# lpack's stand-ins for what the runtime has in /var/runtime and PyPI does not (snapshot_restore_py)
VAR_RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "var_runtime")
_DECIMAL = "\x00lpack-decimal:"
_DECIMAL_JSON = re.compile(r'"\\u0000lpack-decimal:([^"\\]*)"')

LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior."
)

_request_id = ""
_tenant_id: str | None = None  # the invoke's tenant ID (--tenant-id), None without tenant isolation


class FaultException(Exception):
    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# -- init ---------------------------------------------------------------------------------------

def set_search_path(setup: dict[str, Any]) -> None:
    """The runtime's sys.path: task root, layer paths, PYTHONPATH entries, then the stdlib."""
    version = "python{}.{}".format(*sys.version_info[:2])
    paths = [setup["task_root"]]
    if setup.get("opt_root"):
        python = os.path.join(setup["opt_root"], "python")
        paths += [os.path.join(python, "lib", version, "site-packages"), python]
    paths += setup.get("extra_paths", [])
    stdlib = [p for p in sys.path if p and "site-packages" not in p and "dist-packages" not in p]
    sys.path[:] = paths + stdlib
    provided = setup.get("runtime_provided", [])
    if provided:
        paths = [VAR_RUNTIME, *setup.get("runtime_paths", []), *_site_packages()]
        sys.meta_path.append(RuntimeProvided(provided, paths))


def _site_packages() -> list[str]:
    """This interpreter's site-packages, a virtual environment's included, found as site.py
    would find them but without running site.py (no .pth files, no user site)."""
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    prefixes: list[str] = []
    system = True
    for conf in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg")):
        if os.path.isfile(conf):
            with open(conf, encoding="utf-8") as f:
                settings = dict(line.split("=", 1) for line in f if "=" in line)
            settings = {k.strip().lower(): v.strip().lower() for k, v in settings.items()}
            prefixes.append(os.path.dirname(exe_dir))
            system = settings.get("include-system-site-packages") == "true"
            break
    if system:
        prefixes.append(sys.base_prefix)
    try:
        found = site.getsitepackages(prefixes)
    except (AttributeError, TypeError):  # a virtualenv's old site.py
        found = []
    return [p for p in found if os.path.isdir(p)]


class RuntimeProvided(importlib.abc.MetaPathFinder):
    """Finds only the top-level modules the Lambda runtime ships, in this interpreter's
    site-packages, and only when nothing earlier on sys.path has them."""

    def __init__(self, names: list[str], paths: list[str]) -> None:
        self.names = frozenset(names)
        self.paths = paths

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if path is not None or fullname not in self.names:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, self.paths)


def get_handler(handler: str) -> Any:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultException("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}")
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException("Runtime.BuiltInModuleConflict",
                                 f"Cannot use built-in module {modname} as a handler module")
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise FaultException("Runtime.ImportModuleError",
                             f"Unable to import module '{modname}': {exc}")
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultException("Runtime.UserCodeSyntaxError",
                             f"Syntax error in module '{modname}': {exc}", trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException("Runtime.HandlerNotFound",
                             f"Handler '{fname}' missing on module '{modname}'")


def hook_name(func: Any) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def run_hooks(error_type: str, before: bool) -> list[str]:
    """The runtime's hooks runner: the before-snapshot hooks popped (reverse order of
    registration), the after-restore hooks in order; a hook that raises is ``error_type``."""
    ran: list[str] = []
    try:
        hooks = importlib.import_module("snapshot_restore_py")
        if before:
            callables = hooks.get_before_snapshot()
            while callables:
                func, args, kwargs = callables.pop()
                ran.append(hook_name(func))
                func(*args, **kwargs)
        else:
            for func, args, kwargs in hooks.get_after_restore():
                ran.append(hook_name(func))
                func(*args, **kwargs)
    except Exception as exc:
        _etype, value, tb = sys.exc_info()
        log_error(make_error(str(value), type(value).__name__, _user_trace(tb)))
        raise FaultException(error_type, f"{type(exc).__name__}: {exc}", _user_trace(tb)) from exc
    return ran


def snapstart() -> dict[str, Any]:
    """Before the snapshot, then after the restore (awslambdaric's on_init_complete), timed."""
    started = time.perf_counter()
    before = run_hooks("Runtime.BeforeSnapshotError", before=True)
    restored = time.perf_counter()
    after = run_hooks("Runtime.AfterRestoreError", before=False)
    done = time.perf_counter()
    return {"before": before, "after": after, "snapshot_ms": (restored - started) * 1000,
            "restore_ms": (done - restored) * 1000}


# -- logging ------------------------------------------------------------------------------------

class Unbuffered:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.stream, attr)

    def write(self, msg: str) -> None:
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs: list[str]) -> None:
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        record.tenant_id = _tenant_id
        return True


# LogRecord attributes that are not "extra" fields of a JSON log record (awslambdaric's list).
_RECORD_FIELDS = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
    "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
    "threadName", "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
))


def json_logs() -> bool:
    return (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


class JsonFormatter(logging.Formatter):
    """The runtime's JSON log record: timestamp, level, message, logger, requestId, the
    exception's type, message and trace when there is one, tenantId for a tenant-isolated
    function's invoke (awslambdaric's ``JsonFormatter``), and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        result: dict[str, Any] = {
            "timestamp": f"{created}.{int(record.msecs):03d}Z",
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None) or None,
        }
        if record.exc_info and record.exc_info[0] is not None:
            result["stackTrace"] = traceback.format_tb(record.exc_info[2])
            result["errorType"] = record.exc_info[0].__name__
            result["errorMessage"] = str(record.exc_info[1])
            result["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        tenant = getattr(record, "tenant_id", None)
        if tenant is not None:
            result["tenantId"] = tenant
        result.update((k, v) for k, v in record.__dict__.items() if k not in _RECORD_FIELDS and k not in result)
        return json.dumps({k: v for k, v in result.items() if v is not None}, ensure_ascii=False) + "\n"


def setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if json_logs():
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"):
        root.setLevel({"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))
    root.addHandler(handler)


def log_error(error: dict[str, Any]) -> None:
    """The runtime's error record: ``[ERROR] Type: message`` and the traceback, or one JSON object."""
    if json_logs():
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        sys.stdout.write(json.dumps({"timestamp": stamp, "level": "ERROR", **error}, ensure_ascii=False) + "\n")
        return
    line = "[ERROR]"
    if error.get("errorType"):
        line += " " + error["errorType"]
    if error.get("errorMessage"):
        line += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [line]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines += element.splitlines() or [""]
    sys.stdout.write("\n".join(lines) + "\n")


# -- context ------------------------------------------------------------------------------------

class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, identity: dict[str, Any] | None = None) -> None:
        identity = identity or {}
        self.cognito_identity_id = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id = identity.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},cognito_identity_pool_id={self.cognito_identity_pool_id}])"


class Client:
    __slots__ = ["app_package_name", "app_title", "app_version_code", "app_version_name",
                 "installation_id"]

    def __init__(self, data: dict[str, Any]) -> None:
        for field in self.__slots__:
            setattr(self, field, data.get(field))


class ClientContext:
    __slots__ = ["client", "custom", "env"]

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom: Any = data.get("custom")
        self.env: Any = data.get("env")
        self.client: Client | None = Client(data["client"]) if data.get("client") is not None else None


class LambdaContext:
    def __init__(self, request: dict[str, Any]) -> None:
        self.aws_request_id = request["request_id"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = request["invoked_function_arn"]
        self.tenant_id = request.get("tenant_id")
        client_context = request.get("client_context")
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self.identity = CognitoIdentity(request.get("identity"))
        self._epoch_deadline_time_in_ms = int(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return max(0, remaining)

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},tenant_id={self.tenant_id}])"
        )


# -- marshalling --------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """What the runtime's encoder (simplejson) sees differently from the json module: named
    tuples are objects, and a Decimal is written as its digits (NaN as NaN)."""
    if isinstance(value, decimal.Decimal):
        return math.nan if value.is_nan() else _DECIMAL + str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {key: _plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def marshal_response(response: Any) -> Any:
    if isinstance(response, bytes):
        return response, "application/unknown"
    # The runtime writes raw UTF-8 only on python3.12 (awslambdaric's Encoder); elsewhere \\u escapes.
    ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    try:
        text = json.dumps(_plain(response), ensure_ascii=ascii_only)
    except Exception as exc:  # noqa: BLE001 - any failure to serialize is the runtime's MarshalError
        raise FaultException("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return _DECIMAL_JSON.sub(r"\1", text).encode("utf-8"), "application/json"


def unmarshal_request(body: str) -> Any:
    try:
        return json.loads(body)
    except Exception as exc:  # noqa: BLE001 - as the runtime: any parse failure
        raise FaultException("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}")


# -- the loop -----------------------------------------------------------------------------------

def make_error(message: str, error_type: str, stack_trace: list[str] | None,
               request_id: str = "") -> dict[str, Any]:
    return {"errorMessage": message or "", "errorType": error_type or "",
            "requestId": request_id or "", "stackTrace": stack_trace or []}


def _user_trace(tb: Any) -> list[str]:
    frames = traceback.extract_tb(tb)
    for i, frame in enumerate(frames):
        if not frame.filename.endswith("_bootstrap.py"):
            return traceback.format_list(frames[i:])
    return traceback.format_list(frames)


def handle(handler: Any, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """One invocation: the result's header, and the response's bytes (the body)."""
    global _request_id, _tenant_id
    _request_id, _tenant_id = request["request_id"], request.get("tenant_id")
    os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
    started = time.perf_counter()
    error = None
    try:
        context = LambdaContext(request)
        # the JSON text as Lambda's Invoke receives it, or (lpack serve) the event lpack built: the
        # same values json.loads would give, handed over without writing and parsing JSON
        event = request["value"] if "value" in request else unmarshal_request(request["event"])
        body, content_type = marshal_response(handler(event, context))
    except FaultException as exc:
        error = make_error(exc.message, exc.error_type, exc.trace, _request_id)
    except Exception:  # noqa: BLE001 - a handler error is reported, and the process lives on
        _etype, value, tb = sys.exc_info()
        error = make_error(str(value), type(value).__name__, _user_trace(tb), _request_id)
    duration_ms = (time.perf_counter() - started) * 1000
    if error is not None:
        log_error(error)
        return {"type": "error", "error": error, "duration_ms": duration_ms}, b""
    return {"type": "result", "binary": content_type != "application/json", "duration_ms": duration_ms}, body


def flush_output() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001, S110 - a stream the handler closed or replaced
            pass


class Results:
    """Where each phase's result goes: after the end marker on stdout, in one write of at most
    PIPE_BUF bytes (atomic: no other writer's bytes inside it); else the marker alone on stdout
    and the result on the results pipe, or only the result there when fd 1 is no longer the
    stdout lpack gave (the handler redirected it: a marker would be lost)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.stdout = _file_identity(1)
        self.status = _open_status()

    def send(self, message: dict[str, Any], body: bytes = b"") -> None:
        flush_output()
        message["max_rss_kb"] = max_rss_kb(self.status)
        message["marker"] = ours = _file_identity(1) == self.stdout  # (read when on the results pipe)
        frame = frame_of(message, body)
        if ours and len(END_MARKER) + len(frame) <= PIPE_BUF:
            write_all(1, END_MARKER + frame)
            return
        if ours:
            write_all(1, END_MARKER + b"\n")  # an empty header: the result is on the results pipe
        write_all(self.fd, frame)


# a write to a pipe of at most this many bytes is atomic (4096 on Linux, 512 on macOS)
PIPE_BUF = getattr(select, "PIPE_BUF", 512)


def frame_of(message: dict[str, Any], body: bytes = b"") -> bytes:
    """One message: a JSON header line, then ``body_bytes`` bytes of body."""
    if body:
        message["body_bytes"] = len(body)
    return json.dumps(message).encode("utf-8") + b"\n" + body


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_request(requests: Any) -> dict[str, Any] | None:
    """The next request from lpack: its size in bytes on a line, then the request, marshalled
    (format 2, which every Python 3 reads; no references, so no two parts are one object)."""
    size = requests.readline()
    if not size:
        return None
    request: dict[str, Any] = marshal.loads(requests.read(int(size)))
    return request


def _file_identity(fd: int) -> tuple[int, int] | None:
    try:
        status = os.fstat(fd)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def max_rss_kb(status: int | None = None) -> int | None:
    """This process's own peak resident memory (KiB): the kernel's high-water mark, VmHWM.

    Not getrusage's ru_maxrss where /proc has the answer: Linux keeps ru_maxrss across execve, so
    a child starts with the peak of the process that spawned it (lpack's, which a build or an
    install of boto3 can take past 200 MB), and a 40 MB function would report lpack's peak.
    ``status``: /proc/self/status kept open (one pread a request instead of an open, a read and a
    close)."""
    hwm = _proc_status_kb("VmHWM", status)
    if hwm is not None:
        return hwm
    peak = _rusage_peak_kb()
    return peak if peak is not None and peak > _INHERITED_PEAK_KB else None  # else it may be lpack's


def _open_status() -> int | None:
    try:
        return os.open("/proc/self/status", os.O_RDONLY)  # not inherited by the handler's children
    except OSError:
        return None


def _proc_status_kb(field: str, status: int | None = None) -> int | None:
    try:
        if status is None:
            with open("/proc/self/status", "rb") as file:
                text = file.read()
        else:
            text = os.pread(status, 16384, 0)
        start = text.index(field.encode("ascii") + b":") + len(field) + 1
        return int(text[start:text.index(b"kB", start)])
    except (OSError, ValueError):
        return None


def _rusage_peak_kb() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


# Where /proc is missing, the peak this process started with (perhaps the spawning process's): only
# a peak above it is surely this process's own.
_INHERITED_PEAK_KB = _rusage_peak_kb() or 0


def main() -> None:
    requests = os.fdopen(int(sys.argv[1]), "rb")
    results = Results(int(sys.argv[2]))
    setup = read_request(requests) or {}
    os.chdir(setup["task_root"])
    set_search_path(setup)
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    setup_logging()
    try:
        handler = get_handler(setup["handler"])
    except Exception as exc:  # noqa: BLE001 - any init failure is reported as the runtime does
        if isinstance(exc, FaultException):
            error = make_error(exc.message, exc.error_type, exc.trace)
        else:
            _etype, value, tb = sys.exc_info()
            error = make_error(str(value), type(value).__name__, _user_trace(tb))
        logging.getLogger().warning(LAMBDA_WARNING)
        log_error(error)
        results.send({"type": "init", "error": error})
        sys.exit(1)
    snapshot = None
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        try:
            snapshot = snapstart()
        except FaultException as exc:  # the runtime exits 64 before the snapshot, 65 after the restore
            results.send({"type": "init", "error": make_error(exc.message, exc.error_type, exc.trace)})
            sys.exit(64 if exc.error_type == "Runtime.BeforeSnapshotError" else 65)
    results.send({"type": "init", "error": None, "snapshot": snapshot})
    while True:
        request = read_request(requests)
        if request is None:
            return
        outcome, body = handle(handler, request)
        results.send(outcome, body)


if __name__ == "__main__":
    main()

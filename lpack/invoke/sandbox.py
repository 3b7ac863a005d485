"""One execution environment: a child Python process running the bootstrap, reused while warm.

Lambda starts an execution environment (init: start the runtime, import the handler module),
then sends it invocations one at a time and keeps it while it stays healthy. A handler
exception leaves it warm; a timeout, an out-of-memory kill or a process exit ends it, and the
next invocation starts a new one (a cold start again, with an Init Duration).
"""

from __future__ import annotations

import json
import marshal
import os
import queue
import select
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from lpack.invoke._bootstrap import END_MARKER

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
INIT_LIMIT_S = 10.0  # Lambda's init phase for on-demand functions
_POLL_S = 0.005  # how often the memory limit is enforced
_PEAK_POLL_S = 0.05


class Spec(NamedTuple):
    """How to start the environment."""

    python: str
    handler: str
    task_root: Path
    opt_root: Path | None
    environment: Mapping[str, str]
    timeout_s: float
    memory_mb: int
    enforce_memory: bool = False
    runtime_provided: tuple[str, ...] = ()
    runtime_paths: tuple[str, ...] = ()  # where else the runtime-provided modules are (lpack's cache)
    extra_paths: tuple[str, ...] = ()


class Request(NamedTuple):
    request_id: str
    event: str  # the JSON text, as Lambda's Invoke receives it ("" when ``value`` is given)
    invoked_function_arn: str
    client_context: Any = None
    identity: Any = None
    tenant_id: str | None = None  # Invoke's X-Amz-Tenant-Id, context.tenant_id in the handler
    value: Any = None  # lpack serve: the event itself (dicts, lists, str, int, bool, None), not as JSON text


class Outcome(NamedTuple):
    """What one invocation did, as numbers and text; rendering is report/invocation.py's job."""

    request_id: str
    status: str  # "succeeded", "failed" (handler or runtime error), "timeout"
    response: str | None  # the response body as Lambda returns it (JSON text), or None
    binary: bool  # the handler returned bytes
    error: dict[str, Any] | None  # Lambda's error document
    logs: str  # the function's own output, in order
    init_logs: str  # output of the init phase (cold start only)
    duration_ms: float
    init_duration_ms: float | None  # only on a cold start
    max_memory_used_mb: int | None
    memory_size_mb: int
    timeout_s: float
    error_type: str | None = None  # for REPORT's "Status: error  Error Type: ..." on a runtime fault
    restore_duration_ms: float | None = None  # SnapStart: the after-restore hooks, on a cold start
    hooks: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # SnapStart: before-snapshot, after-restore, as run


class _Process:
    """The child, and what it has written that lpack has not taken yet.

    No reader threads: the thread waiting for a result reads the child's stdout and its results
    pipe itself (one wake-up when the result arrives, no hand-off between threads). The bootstrap
    ends each phase with END_MARKER on stdout and the result after it (see _bootstrap.Results);
    between invocations nothing reads, so a background thread that prints a lot waits, as a
    frozen Lambda environment does, and its output shows in the next invocation's logs."""

    def __init__(self, spec: Spec) -> None:
        requests_r, self._requests = os.pipe()
        results_r, results_w = os.pipe()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [spec.python, "-I", "-S", str(BOOTSTRAP), str(requests_r), str(results_w)],
            cwd=spec.task_root, env=dict(spec.environment), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(requests_r, results_w),
            start_new_session=True,
        )
        os.close(requests_r)
        os.close(results_w)
        assert self.proc.stdout is not None
        self._stdout = self.proc.stdout.fileno()
        self._results = results_r  # closes (EOF) only when the child and its children have exited
        self._open = [self._stdout, self._results]  # the pipes not at their end yet
        self._output = bytearray()  # stdout not taken yet
        self._pending = bytearray()  # results pipe, not taken yet
        self._marker_seen = False  # the current phase's marker came with an empty header: result piped
        self._logs: bytes | None = None  # the output of the phase whose result was just read
        self.peak_kb = 0
        self.oom = False
        self._limit_kb = spec.memory_mb * 1024 if spec.enforce_memory else None
        threading.Thread(target=self._watch_memory, daemon=True).start()

    def send(self, message: dict[str, Any]) -> bool:
        """One request: its size on a line, then the request marshalled (see _bootstrap.read_request)."""
        data = marshal.dumps(message, 2)
        try:
            _write_all(self._requests, b"%d\n" % len(data) + data)
            return True
        except OSError:  # the child is gone
            return False

    def result(self, timeout_s: float) -> dict[str, Any] | None:
        """The child's next result (its output before it kept for take_output); None once the
        child has exited; queue.Empty after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._after_marker() if not self._marker_seen else None
            message = message or self._piped()
            if message is not None:
                return message
            if self._results not in self._open:
                return None
            if not self._read(deadline):
                raise queue.Empty

    def _after_marker(self) -> dict[str, Any] | None:
        """The result that follows the marker on stdout, once all of it has come."""
        at = self._output.find(END_MARKER)
        if at < 0:
            return None
        start = at + len(END_MARKER)
        framed = _framed(self._output, start)
        if framed is None:
            return None
        message, end = framed
        self._logs = bytes(self._output[:at])
        del self._output[:end]
        self._marker_seen = message is None
        return message

    def _piped(self) -> dict[str, Any] | None:
        """A result on the results pipe (too big for one atomic write, or stdout redirected)."""
        message, end = _framed(self._pending, 0) or (None, 0)
        if message is None:
            return None
        if message.pop("marker") and not self._marker_seen:
            return None  # its marker, written first, is still on its way through stdout
        del self._pending[:end]
        if not self._marker_seen:  # no marker: the output so far is this phase's
            self._logs, self._output[:] = bytes(self._output), b""
        self._marker_seen = False
        return message

    def _read(self, deadline: float) -> bool:
        """Wait for either pipe until ``deadline`` and take what came; False if nothing did."""
        ready, _, _ = select.select(self._open, [], [], max(0.0, deadline - time.monotonic()))
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                self._open.remove(fd)
            (self._output if fd == self._stdout else self._pending).extend(chunk)
        return bool(ready)

    def take_output(self, wait_s: float = 5.0) -> str:
        """The output of the phase whose result was just read; without one (the child exited or
        was killed), all its output until stdout closes, waiting at most ``wait_s``."""
        if self._logs is None:
            deadline = time.monotonic() + wait_s
            while self._stdout in self._open and self._read(deadline):
                pass
            self._logs, self._output[:] = bytes(self._output), b""
        logs, self._logs = self._logs, None
        return logs.decode("utf-8", "replace")

    def read_peak(self) -> int | None:
        """The child's resident memory now (KiB), updating its peak; None once it is gone."""
        try:
            text = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        rss_kb = int(fields.get("VmRSS", "0 kB").split()[0])
        self.peak_kb = max(self.peak_kb, int(fields.get("VmHWM", "0 kB").split()[0]), rss_kb)
        return rss_kb

    def over_limit(self, peak_kb: int = 0) -> bool:
        """With --enforce-memory, whether the child has used more than the memory size: its peak
        (VmHWM, which a short spike between two looks raises too), not only its memory now."""
        return self._limit_kb is not None and max(self.peak_kb, peak_kb) > self._limit_kb

    def kill_for_memory(self) -> None:
        self.oom = True
        self.kill()

    def _watch_memory(self) -> None:
        while self.proc.poll() is None:
            if self.read_peak() is None:
                return
            if self.over_limit():
                self.kill_for_memory()
                return
            # VmHWM is a high-water mark: without a limit to enforce, an occasional look is enough
            time.sleep(_POLL_S if self._limit_kb is not None else _PEAK_POLL_S)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        self.kill()
        self.proc.wait()
        for fd in (self._requests, self._results):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Sandbox:
    """Runs invocations one at a time, starting the child on the first and after each crash."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._process: _Process | None = None

    def __enter__(self) -> Sandbox:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None

    def invoke(self, request: Request) -> Outcome:
        init_ms: float | None = None
        init_logs = ""
        if self._process is None:
            self._process = _Process(self.spec)
            init, init_ms, init_logs = self._init(self._process)
            if init is None or init.get("error"):
                return self._init_failed(request, init, init_ms, init_logs)
            outcome = self._invoke(self._process, request, init_ms, init_logs)
            return _restored(outcome, init.get("snapshot"))
        return self._invoke(self._process, request, init_ms, init_logs)

    # -- phases ---------------------------------------------------------------------------------

    def _init(self, process: _Process) -> tuple[dict[str, Any] | None, float, str]:
        setup = {
            "handler": self.spec.handler, "task_root": str(self.spec.task_root),
            "opt_root": str(self.spec.opt_root) if self.spec.opt_root else None,
            "runtime_provided": list(self.spec.runtime_provided), "extra_paths": list(self.spec.extra_paths),
            "runtime_paths": list(self.spec.runtime_paths),
        }
        process.send(setup)
        limit = max(INIT_LIMIT_S, self.spec.timeout_s)
        try:
            init = process.result(limit)
        except queue.Empty:
            process.kill()
            init = {"type": "init", "error": _fault(
                "Sandbox.Timedout", f"Init phase did not finish within {limit:.2f} seconds")}
        init_ms = (time.perf_counter() - process.started) * 1000
        return init, init_ms, process.take_output()

    def _init_failed(self, request: Request, init: dict[str, Any] | None, init_ms: float, logs: str) -> Outcome:
        process = self._process
        assert process is not None
        error = dict(init["error"]) if init and init.get("error") else self._exit_error(process, request)
        self.close()
        return self._outcome(request, "failed", error=error, init_ms=init_ms, init_logs=logs,
                             duration_ms=0.0, peak_kb=process.peak_kb, error_type=error["errorType"])

    def _invoke(self, process: _Process, request: Request, init_ms: float | None, init_logs: str) -> Outcome:
        deadline_ms = int(time.time() * 1000 + self.spec.timeout_s * 1000)
        started = time.perf_counter()
        message = {**request._asdict(), "deadline_ms": deadline_ms, "trace_id": _trace_id()}
        if request.value is None:
            del message["value"]
        sent = process.send(message)
        try:
            result = process.result(self.spec.timeout_s) if sent else None
        except queue.Empty:
            return self._timed_out(process, request, started, init_ms, init_logs)
        if result is None:  # the child exited: sys.exit, a crash, or the memory limit
            return self._exited(process, request, started, init_ms, init_logs)
        if self.spec.enforce_memory:  # look once more; else the child's own high-water mark is the figure
            process.read_peak()  # (reading /proc here cost ~0.1 ms a request: lpack serve's latency)
        peak_kb = process.peak_kb = max(process.peak_kb, result.get("max_rss_kb") or 0)
        if process.over_limit(peak_kb):  # Lambda would have stopped it before it answered
            process.kill_for_memory()
            return self._exited(process, request, started, init_ms, init_logs)
        logs = process.take_output()
        if result["type"] == "error":
            return self._outcome(request, "failed", error=result["error"], logs=logs, init_ms=init_ms,
                                 init_logs=init_logs, duration_ms=result["duration_ms"], peak_kb=peak_kb)
        return self._outcome(request, "succeeded", response=result["body"], binary=result["binary"],
                             logs=logs, init_ms=init_ms, init_logs=init_logs,
                             duration_ms=result["duration_ms"], peak_kb=peak_kb)

    def _timed_out(self, process: _Process, request: Request, started: float,
                   init_ms: float | None, init_logs: str) -> Outcome:
        duration_ms = (time.perf_counter() - started) * 1000
        process.read_peak()
        process.kill()
        logs = process.take_output()
        self.close()
        message = f"Task timed out after {self.spec.timeout_s:.2f} seconds"
        error = _fault("Sandbox.Timedout", f"RequestId: {request.request_id} Error: {message}")
        return self._outcome(request, "timeout", error=error, logs=logs, init_ms=init_ms, init_logs=init_logs,
                             duration_ms=duration_ms, peak_kb=process.peak_kb)

    def _exited(self, process: _Process, request: Request, started: float,
                init_ms: float | None, init_logs: str) -> Outcome:
        duration_ms = (time.perf_counter() - started) * 1000
        process.proc.wait()
        logs = process.take_output()
        error = self._exit_error(process, request)
        self.close()
        return self._outcome(request, "failed", error=error, logs=logs, init_ms=init_ms, init_logs=init_logs,
                             duration_ms=duration_ms, peak_kb=process.peak_kb, error_type=error["errorType"])

    @staticmethod
    def _exit_error(process: _Process, request: Request) -> dict[str, Any]:
        code = process.proc.wait()
        how = f"signal: {_signal_text(-code)}" if code < 0 else f"exit status {code}"
        error_type = "Runtime.OutOfMemory" if process.oom else "Runtime.ExitError"
        message = f"RequestId: {request.request_id} Error: Runtime exited with error: {how}"
        return _fault(error_type, message)

    def _outcome(self, request: Request, status: str, *, response: str | None = None, binary: bool = False,
                 error: dict[str, Any] | None = None, logs: str = "", init_ms: float | None,
                 init_logs: str = "", duration_ms: float, peak_kb: int, error_type: str | None = None) -> Outcome:
        return Outcome(
            request_id=request.request_id, status=status, response=response, binary=binary, error=error,
            logs=logs, init_logs=init_logs, duration_ms=duration_ms, init_duration_ms=init_ms,
            max_memory_used_mb=-(-peak_kb // 1024) if peak_kb else None,
            memory_size_mb=self.spec.memory_mb, timeout_s=self.spec.timeout_s, error_type=error_type,
        )


def _framed(data: bytearray, start: int) -> tuple[dict[str, Any] | None, int] | None:
    """The message framed at ``start`` (a JSON header line, then ``body_bytes`` of body) and where
    it ends; None until all of it is there. An empty header line is no message (None, its end)."""
    newline = data.find(b"\n", start)
    if newline < 0:
        return None
    if newline == start:
        return None, newline + 1
    message: dict[str, Any] = json.loads(data[start:newline])
    end = newline + 1 + message.pop("body_bytes", 0)
    if len(data) < end:
        return None
    if message.get("type") == "result":
        message["body"] = data[newline + 1:end].decode("utf-8", "surrogateescape")
    return message, end


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _restored(outcome: Outcome, snapshot: dict[str, Any] | None) -> Outcome:
    """A SnapStart cold start: the hooks that ran, and the restore's duration."""
    if snapshot is None:
        return outcome
    return outcome._replace(restore_duration_ms=snapshot["restore_ms"],
                            hooks=(tuple(snapshot["before"]), tuple(snapshot["after"])))


def _fault(error_type: str, message: str) -> dict[str, Any]:
    """Lambda's own faults (timeout, exit) carry only these two keys."""
    return {"errorType": error_type, "errorMessage": message}


# Go's names for signals, as Lambda's "Runtime exited with error: signal: killed" spells them.
_SIGNAL_TEXT = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "aborted",
                signal.SIGTERM: "terminated", signal.SIGBUS: "bus error", signal.SIGILL: "illegal instruction",
                signal.SIGFPE: "floating point exception", signal.SIGINT: "interrupt"}


def _signal_text(number: int) -> str:
    try:
        return _SIGNAL_TEXT.get(signal.Signals(number), signal.Signals(number).name)
    except ValueError:
        return f"signal {number}"


def _trace_id() -> str:
    digits = os.urandom(20).hex()  # the root's 24 hex digits and the parent's 16
    return f"Root=1-{int(time.time()):08x}-{digits[:24]};Parent={digits[24:]};Sampled=0"


def new_request_id() -> str:
    return str(uuid.uuid4())

"""`lpack serve`: the project's HTTP routes on one local port, each function warm, rebuilt on save.

Start-up builds every HTTP-triggered function (as `lpack invoke` does: the package that runs is the
one that ships), finds the routes of its template or config (lpack.serve.routes), and serves
them until Ctrl-C. A saved change rebuilds (the build cache makes a source-only edit cheap) and
swaps in fresh environments; a change that does not build is shown on the console and on every
request until it is fixed, and the server keeps running. Ctrl-C (or SIGTERM) stops accepting,
ends every environment's process and returns; the CLI exits 130.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.core.errors import LpackError, UsageError
from lpack.inputs.config import Project
from lpack.invoke.runner import InvokeOptions, Note, Progress, prepare, runtime_modules_for
from lpack.serve.environments import Function, Generation, Pool, broken

if TYPE_CHECKING:
    from lpack.serve.reload import Watcher
    from lpack.serve.server import App

DEBUG_TIMEOUT_S = 900.0  # Lambda's longest timeout: a paused breakpoint does not time the request out
DEBUG_INSTALL = "pip install 'lpack-lambda[debug]'  (or: pip install debugpy)"


class ServeOptions(NamedTuple):
    host: str = "127.0.0.1"
    port: int = 3000
    allow_remote: bool = False
    concurrency: int = 1
    event_shape: str | None = None
    debug_port: int | None = None
    reload: bool = True
    invoke: InvokeOptions = InvokeOptions()


class Ready(NamedTuple):
    """What the console shows once the server listens."""

    url: str
    routes: tuple[Any, ...]  # lpack.serve.routes.Route
    reload: bool
    debug_port: int | None


OnReady = Callable[[Ready], None]


def serve(target: str | None, options: ServeOptions, on_served: Any, on_ready: OnReady,
          progress: Progress = lambda _u, _m: None, note: Note = lambda _m: None) -> None:
    """Serve until interrupted (KeyboardInterrupt propagates once everything is stopped)."""
    from lpack.serve.server import App, listen

    _check_host(options, note)
    if options.debug_port is not None:
        options = _debugging(options, note)
    path = Path(target) if target is not None else Path(".")
    first = build_generation(path, options, progress, note)
    if first.error is not None:
        raise UsageError(first.error)
    app = App(first, on_served, options.invoke.region, _runtime_modules(options.invoke, progress, note))
    try:
        server = listen(options.host, options.port, app)
    except OSError as exc:
        app.close()
        raise UsageError(f"cannot listen on {options.host}:{options.port} ({exc.strerror or exc}); "
                         "pass another --port (0 picks a free one)") from exc
    watcher = _watch(path, options, app, note) if options.reload else None
    stop = _stop_on_sigterm()
    try:
        host, port = str(server.server_address[0]), int(server.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        on_ready(Ready(f"http://{shown}:{port}", tuple(first.routes), options.reload, options.debug_port))
        server.serve_forever(poll_interval=0.25)
    finally:
        stop()
        if watcher is not None:
            watcher.stop()
        server.server_close()
        app.close()


def _check_host(options: ServeOptions, note: Note) -> None:
    if _loopback(options.host):
        return
    if not options.allow_remote:
        raise UsageError(f"--host {options.host} would let other machines run your functions (with your "
                         "environment and credentials); add --allow-remote if that is what you want")
    note(f"serving on {options.host}: anyone who can reach this machine can call the functions")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _debugging(options: ServeOptions, note: Note) -> ServeOptions:
    """One environment (one debugger port), and a timeout long enough to sit at a breakpoint."""
    import importlib.util

    if importlib.util.find_spec("debugpy") is None:
        raise UsageError(f"--debug-port needs debugpy, which is not installed: {DEBUG_INSTALL}")
    if options.concurrency != 1:
        note("--debug-port runs one environment per function (one debugger port): --concurrency is 1")
    note(f"--debug-port: the timeout is {DEBUG_TIMEOUT_S:.0f} s so a breakpoint does not time the request out")
    return options._replace(concurrency=1, invoke=options.invoke._replace(timeout_s=DEBUG_TIMEOUT_S))


# -- building what is served --------------------------------------------------------------------

def build_generation(path: Path, options: ServeOptions, progress: Progress, note: Note) -> Generation:
    """Load the project, find its routes, build each routed function and describe its environment;
    an error (the configuration's, or a build's) becomes a generation that serves that error."""
    from lpack.serve.routes import SHAPES, routes

    try:
        project = _load(path, options.invoke)
        found = routes(project, options.event_shape)
        if not found:
            raise UsageError(f"{project.describe()}: no function has an HTTP event (Api, HttpApi, a function URL "
                             f"or an ALB target); pass --event-shape ({' | '.join(SHAPES)}) to serve every "
                             "function at /NAME/... with that integration's events")
        functions = {name: _function(project, name, options, progress, note)
                     for name in dict.fromkeys(r.function for r in found)}
    except LpackError as exc:
        return broken(_one_line(exc))
    return Generation(tuple(found), functions)


def _load(path: Path, invoke: InvokeOptions) -> Project:
    from lpack.inputs.detect import load

    if not path.exists():
        raise UsageError(f"{path}: no such project folder or template")
    return load(path, invoke.config)[0]


def _function(project: Project, name: str, options: ServeOptions, progress: Progress, note: Note) -> Function:
    plan, interpreter, spec = prepare(project, name, options.invoke, progress, note)
    if options.debug_port is not None:
        from lpack.serve.debug import under_debugpy

        spec = under_debugpy(spec, options.debug_port, options.invoke.cache_dir, name)
        note(f"--debug-port: {name} runs from {spec.task_root} (the remoteRoot of VS Code's pathMappings)")
    return Function(plan, interpreter, Pool(spec, options.concurrency))


def _runtime_modules(options: InvokeOptions, progress: Progress, note: Note) -> Callable[[Function, str], bool]:
    """What a function missing a module the Lambda runtime ships (boto3 & co.) gets, as `lpack
    invoke` does it: boto3 for its target installed into the cache (once), its environments
    restarted with it, and the request run again; False when it already had it or it cannot be
    installed (the request then answers the function's ImportModuleError, with a note)."""
    lock = threading.Lock()

    def provide(function: Function, module: str) -> bool:
        with lock:  # requests failing at once install it once
            if function.pool.spec.runtime_paths:
                return False  # it has the runtime's modules: the module is missing on Lambda too
            path = runtime_modules_for(module, function.plan, function.interpreter, options.cache_dir, progress, note)
            if path is None:
                return False
            function.pool.provide((str(path),))
            note(f"{module} is part of the Lambda runtime; lpack installed boto3 for {function.plan.target.label} "
                 f"into {path} for local runs (once); {function.plan.function}'s environments restarted with it")
            return True

    return provide


def _one_line(exc: LpackError) -> str:
    text = str(exc)
    return f"{text}\ntip: {exc.tip}" if exc.tip else text


# -- reload and stop ------------------------------------------------------------------------------

def _watch(path: Path, options: ServeOptions, app: App, note: Note) -> Watcher:
    """A watcher whose every burst of changes rebuilds and swaps in the new generation (one
    rebuild at a time: the watcher's thread runs them)."""
    from lpack.serve.reload import Watcher

    root = (path if path.is_dir() else path.parent).resolve()

    def rebuild(paths: list[str]) -> None:
        app.reloading()
        note(f"changed: {_shown(paths, root)}; rebuilding")
        generation = _rebuilt(path, options)
        app.swap(generation)
        if generation.error is not None:
            note(f"the rebuild failed; every request shows this until it is fixed:\n{generation.error}")
        else:
            note("reloaded: new requests run the new code")

    # what lpack writes: dist/, and a --cache-dir inside the project (rebuilding would write it again)
    skip = frozenset(p.resolve() for p in (root / "dist", options.invoke.cache_dir) if p is not None)
    return Watcher(root, rebuild, skip).start()


def _rebuilt(path: Path, options: ServeOptions) -> Generation:
    """The new generation; a bug must not leave every request waiting for a reload that never ends."""
    try:
        return build_generation(path, options, note=lambda _m: None, progress=lambda _u, _m: None)
    except Exception as exc:  # noqa: BLE001
        return broken(f"internal error while rebuilding: {type(exc).__name__}: {exc} (please report it)")


def _shown(paths: list[str], root: Path) -> str:
    def relative(path: str) -> str:
        return str(Path(path).relative_to(root)) if Path(path).is_relative_to(root) else path

    return ", ".join(relative(p) for p in paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _stop_on_sigterm() -> Callable[[], None]:
    """SIGTERM stops the server as Ctrl-C does (every environment ended), e.g. from a process manager."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore

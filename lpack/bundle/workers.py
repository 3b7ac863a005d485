"""``lpack build --jobs N`` on worker processes: each builds its share of the units and reports
every step and every unit's outcome through its own pipe, as it goes.

Threads sharing one interpreter take turns for it, and a build is mostly Python work (walking,
compressing, writing and judging zips): 200 functions took 1.03x as long on two threads as on
one. Processes run that work at once. They are forked (Linux): the project and options need no
pickling, and what every worker would do first is done once before (the build's modules imported,
the installer found). The parent builds nothing here, so it holds no remote cache client or
thread pool of ours when it forks; each worker makes those on first use. The workers take their
units one at a time from shared shares (lpack.bundle.workers._Queue), never print and never touch
what another thread of the parent may hold (a terminal's spinner): their only way out is their pipe.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from lpack.analysis.package import PackageIndex
from lpack.core.errors import LpackError
from lpack.core.forking import ready_for_stop_signals, stop_signals_held
from lpack.inputs.config import Unit

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from lpack.bundle.builder import _Builder, _Outcome

# Below this many units to build, threads. A unit's Python work is ~14 ms (200 functions, warm
# cache) and each worker paid a fixed ~40 ms (fork, imports, installer lookup, pip settings, first
# pipe messages; the imports and the lookup are now done once before the fork), so few units gain little. Measured with --jobs 2 on 2 CPUs, in CPU
# seconds on the critical path (the parent's plus half the workers'; the machine was too busy
# for wall time to show it): 8 units 0.80x one job, 16 units 0.71x, 32 units 0.70x, a cold 200
# 0.56x, a warm rebuild of 200 0.62x; threads 0.95-1.02x at every size. The installs, which
# dominate a small cold build, overlap on threads as well. See benchmarks/README.md, "worker processes".
PROCESS_THRESHOLD = 16
# A worker told to stop (Ctrl-C, another unit's internal error) has this long to clean up (its
# installer's process, its staging folder, its zip's temporary file) before it is killed.
STOP_GRACE_S = 10.0




class Done(NamedTuple):
    """A unit's outcome, as a worker reports it to the parent."""
    unit: str
    outcome: _Outcome
    key: str | None  # its dependencies' cache key (the report's installed/cached turns on it)
    layer: PackageIndex | None  # a layer's package: the functions using it are judged with it


def usable(units: int, jobs: int) -> bool:
    """Whether ``units`` builds on ``jobs`` worker processes rather than threads."""
    return jobs > 1 and units >= PROCESS_THRESHOLD and "fork" in multiprocessing.get_all_start_methods()


def partition(units: list[Unit], jobs: int) -> list[list[Unit]]:
    """``units`` in ``jobs`` shares whose counts differ by one at most; the units of one
    dependency set go to one worker where they fit (it installs the set, the others reuse it and
    none waits for another worker's install). Sets are placed largest first, each on the share
    with the most room; one that does not fit is split (at most ``jobs`` - 1 are): the worker with
    its first part starts with it (installs it first), and the units of it the others get come
    last in their shares, when the install is long done (both at the end, measured: one worker
    waited out the other's install, ~0.1-0.2 s of a 2 s build of 200 functions)."""
    groups: dict[object, list[Unit]] = {}
    for unit in units:  # units without dependencies install nothing: each is a group of its own
        groups.setdefault(unit.dependencies or ("none", unit.name), []).append(unit)
    room = [len(units) // jobs + (i < len(units) % jobs) for i in range(jobs)]
    lead: list[list[Unit]] = [[] for _ in range(jobs)]  # a split set's first part: installed first
    first: list[list[Unit]] = [[] for _ in range(jobs)]
    later: list[list[Unit]] = [[] for _ in range(jobs)]
    for group in sorted(groups.values(), key=len, reverse=True):
        shares = first
        while group:
            i = max(range(jobs), key=lambda j: room[j])
            split = shares is first and len(group) > room[i]
            (lead if split else shares)[i].extend(group[:room[i]])
            group, room[i], shares = group[room[i]:], max(room[i] - len(group), 0), later
    order = {unit.name: n for n, unit in enumerate(units)}

    def ordered(share: list[Unit]) -> list[Unit]:
        return sorted(share, key=lambda u: order[u.name])

    return [ordered(a) + ordered(b) + ordered(c) for a, b, c in zip(lead, first, later) if a or b or c]


def build(builder: _Builder, units: list[Unit], jobs: int, layers: dict[str, PackageIndex],
          on_done: Callable[[Done], None]) -> None:
    """Build ``units`` on ``jobs`` forked workers; ``builder.progress`` hears each step,
    ``builder.warnings`` gets each warning (once) and ``on_done`` each unit's outcome, in the
    parent, as they come. An error or Ctrl-C in the parent, or an internal error in a worker,
    stops every worker before it returns."""
    _prepare(builder, units)
    with _workers(builder, partition(units, jobs), layers) as pipes:
        _listen(pipes, {unit.name for unit in units}, builder, on_done)


def _prepare(builder: _Builder, units: list[Unit]) -> None:
    """What every worker would otherwise do for itself, done once before they fork: import the
    modules a build uses on first use, the rules it runs and the patterns they and the source
    walk compile (~40 ms in each worker), and find the installer (its version is part of every
    dependency key)."""
    import importlib
    from fnmatch import fnmatchcase

    from lpack import rules
    from lpack.analysis.subjects import (
        HandlerSubject,
        LockfileSubject,
        PackageSubject,
        RuntimeSubject,
    )
    from lpack.core.compat import tomllib
    from lpack.core.select import DEPENDENCY_EXCLUDES, KEPT, NOT_RUNTIME, SOURCE_EXCLUDES

    for module in _BUILD_MODULES:
        importlib.import_module(module)
    for subject in (RuntimeSubject, LockfileSubject, PackageSubject, HandlerSubject):
        rules.rules_for(subject, featured=False)  # the rule families a unit's build runs, and their patterns
    tomllib.loads("")  # imported on first use (a resolution's answer)
    for excludes in (SOURCE_EXCLUDES, NOT_RUNTIME, DEPENDENCY_EXCLUDES):  # their patterns compiled (fnmatch keeps them)
        excludes.match_file("x")
        excludes.match_file("a/x")
    any(fnmatchcase("x", kept) for kept in KEPT)
    if any(unit.dependencies for unit in units):
        with suppress(LpackError):  # none to be found: each unit that needs one says so
            builder.installer  # noqa: B018  a property: looked up once, here, for every worker


# The modules a unit's build imports on first use (lazily, to keep `lpack check` and the
# command line's start-up small): measured as what `sys.modules` gains over a cold build.
_BUILD_MODULES = (
    "concurrent.futures", "csv", "subprocess", "packaging.tags", "packaging.utils",
    "lpack.analysis.distributions", "lpack.analysis.handler_analysis", "lpack.bundle.artifacts",
    "lpack.bundle.install", "lpack.bundle.installer", "lpack.bundle.manifest", "lpack.bundle.stamps",
    "lpack.bundle.wheelcopy", "lpack.bundle._downloads", "lpack.analysis.signature", "lpack.core.facts.delivery",
    "lpack.core.facts.runtime_packages", "lpack.inputs.lpack_lock", "concurrent.futures.thread", "queue",
    "encodings.cp437",
)


class _Queue:
    """The shares' units, which the workers take one at a time: each from the front of its own
    share, then, its own done, from the back of the share with the most left, so that no worker
    idles while another has units waiting (a share with more installs takes longer). Not with a
    remote cache: a worker starts downloading its own share's packages at once."""

    def __init__(self, context: Any, shares: list[list[Unit]], steal: bool) -> None:
        self.shares = shares
        self.steal = steal
        # per share: the next unit from the front, and one past the last unit left
        self.bounds = context.Array("i", [n for share in shares for n in (0, len(share))])

    def take(self, mine: int) -> Unit | None:
        bounds = self.bounds
        with bounds.get_lock():
            front, end = int(bounds[2 * mine]), int(bounds[2 * mine + 1])
            if front < end:
                bounds[2 * mine] = front + 1
                return self.shares[mine][front]
            if not self.steal:
                return None
            other = max(range(len(self.shares)), key=lambda i: int(bounds[2 * i + 1] - bounds[2 * i]))
            front, end = int(bounds[2 * other]), int(bounds[2 * other + 1])
            if end <= front:
                return None
            bounds[2 * other + 1] = end - 1
            return self.shares[other][end - 1]


@contextmanager
def _workers(builder: _Builder, shares: list[list[Unit]], layers: dict[str, PackageIndex]) -> Iterator[list[Connection]]:
    """Start one forked worker per share; yield their pipes. Everything the parent allocated
    is out of the collector's reach while they fork (``gc.freeze``), so that a worker's
    collections do not write to, and so copy, the memory it shares with the parent. On the way
    out every worker is reaped; on an error or Ctrl-C, stopped first."""
    import gc

    context = multiprocessing.get_context("fork")
    queue = _Queue(context, shares, steal=builder.remote is None)
    names = {unit.name for share in shares for unit in share}
    pipes: list[Connection] = []
    processes: list[BaseProcess] = []
    try:
        gc.freeze()
        try:
            with stop_signals_held():  # a Ctrl-C now reaches each worker once its handlers are set
                for mine in range(len(shares)):
                    reader, writer = context.Pipe(duplex=False)
                    process: BaseProcess = context.Process(target=_work, name="lpack-build",
                                                           args=(builder, queue, mine, names, layers, writer, os.getpid()))
                    process.start()
                    writer.close()  # the worker's end: the parent reads EOF once the worker is gone
                    processes.append(process)
                    pipes.append(reader)
        finally:
            gc.unfreeze()  # the parent's own garbage is collected again
        yield pipes
    except BaseException:
        _stop(processes)
        raise
    finally:
        for process in processes:  # done (each has closed its pipe), or stopped
            process.join()
        for reader in pipes:
            reader.close()


def _listen(pipes: list[Connection], pending: set[str], builder: _Builder, on_done: Callable[[Done], None]) -> None:
    from multiprocessing.connection import wait

    open_ = list(pipes)
    while open_:
        for ready in wait(open_):
            reader = cast("Connection", ready)
            try:
                message = reader.recv()
            except EOFError:  # the worker is gone: done, or killed (the others take what it left)
                open_.remove(reader)
                continue
            _heard(message, pending, builder, on_done)
    if pending:
        raise RuntimeError(f"a build worker ended before building {', '.join(sorted(pending))}")


def _heard(message: tuple[Any, ...], pending: set[str], builder: _Builder, on_done: Callable[[Done], None]) -> None:
    kind, *rest = message
    if kind == "say":
        builder.progress(*rest)
    elif kind == "warn":  # e.g. the remote cache is off: each worker finds it, the report says it once
        if rest[0] not in builder.warnings:
            builder.warnings.append(rest[0])
    elif kind == "done":
        done = Done(*rest)
        pending.discard(done.unit)
        on_done(done)
    else:  # "crash": an internal error in the worker stops the run, as it does on one job
        raise rest[0]


def _stop(processes: list[BaseProcess]) -> None:
    """Ask each worker still running to stop (it cleans up as on Ctrl-C); one that has not
    stopped within STOP_GRACE_S is killed."""
    for process in processes:
        if process.is_alive() and process.pid is not None:
            with _gone_already():
                os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        process.join(STOP_GRACE_S)
        if process.is_alive():
            process.kill()


@contextmanager
def _gone_already() -> Iterator[None]:
    try:
        yield
    except ProcessLookupError:  # it ended between is_alive and kill
        pass


# -- in the worker ------------------------------------------------------------------------------

def _work(builder: _Builder, queue: _Queue, mine: int, names: set[str], layers: dict[str, PackageIndex],
          pipe: Connection, parent: int) -> None:
    """A worker's life: build units from ``queue`` one after another, reporting through ``pipe``."""
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    try:
        ready_for_stop_signals()  # a Ctrl-C held since the fork arrives here, and is a stop like any
        _build_share(builder, queue, mine, names, layers, pipe, parent)
        _quiet()  # all reported: a stop the parent sends now finds nothing to stop
    except KeyboardInterrupt:  # stopped: the parent knows, and says so
        _tidy(builder)
        raise SystemExit(130) from None
    except BaseException as exc:  # noqa: BLE001  an internal error: the parent raises it
        _report_crash(pipe, exc)
        raise SystemExit(1) from None
    finally:
        pipe.close()


def _build_share(builder: _Builder, queue: _Queue, mine: int, names: set[str], layers: dict[str, PackageIndex],
                 pipe: Connection, parent: int) -> None:
    from lpack.bundle.builder import _build_one, _Built, silent

    if builder.progress is not silent:  # -q, --format json: nothing to say
        builder.progress = lambda unit, message: pipe.send(("say", unit, message))
    built = _Built(names)  # the run's layers are built: none is waited for
    for name, index in layers.items():
        built.add(name, index)
    with builder.remote_work(queue.shares[mine]):  # the remote cache's transfers, on this worker's own threads
        while (unit := queue.take(mine)) is not None:
            if os.getppid() != parent:  # the parent is gone (killed): nobody reads the rest
                return
            outcome = _with_distributions(_build_one(builder, unit, built, False))
            layer = built.get(unit.name, wait=False) if unit.kind == "layer" else None
            _send_warnings(builder, pipe)
            pipe.send(("done", unit.name, outcome, builder.keys.get(unit.name), layer))
    builder.settle_cache()  # this worker's stamps and input records, written before it ends
    _send_warnings(builder, pipe)  # those of the last uploads


def _with_distributions(outcome: _Outcome) -> _Outcome:
    """The distributions a built zip holds, read here rather than by the parent, one zip after
    another, when it records dist/lpack-manifest.json (a tenth of a cold build of 200 functions)."""
    if isinstance(outcome, tuple) and outcome[0] is not None and not outcome[0].current and outcome[0].installed is None:
        from lpack.bundle.manifest import installed

        try:
            return outcome[0]._replace(installed=installed(outcome[0].path)), outcome[1]
        except Exception:  # noqa: BLE001  the parent reads it then, and says what is wrong as it always did
            return outcome
    return outcome


def _send_warnings(builder: _Builder, pipe: Connection) -> None:
    for warning in builder.warnings:
        pipe.send(("warn", warning))
    builder.warnings.clear()


def _tidy(builder: _Builder) -> None:
    """What the worker was writing when it was stopped, should the stop have come between making
    a temporary file or folder and the block that removes it on an error."""
    import shutil

    pid = os.getpid()
    for folder in (builder.cache.root / "tmp").glob(f"entry-{pid}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    for path in builder.project.dist.glob(f".*.{pid}.*.tmp"):
        path.unlink(missing_ok=True)


def _interrupted(_signum: int, _frame: object) -> None:
    """SIGTERM or SIGINT: stop where the worker is, cleaning up as on Ctrl-C; a second signal
    does not interrupt that cleanup."""
    _quiet()
    raise KeyboardInterrupt


def _quiet() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):  # not SIG_IGN: one already arrived would be
        signal.signal(signum, _ignored)  # reported "ignored due to race condition", with a traceback


def _ignored(_signum: int, _frame: object) -> None:
    """A stop signal after the first (Ctrl-C at a terminal, then the parent's SIGTERM)."""


def _report_crash(pipe: Connection, exc: BaseException) -> None:
    import pickle
    import traceback

    try:
        payload: BaseException = pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001  an exception that does not pickle: its traceback, as text
        payload = RuntimeError("".join(traceback.format_exception(exc)))
    with _pipe_closed():
        pipe.send(("crash", payload))


@contextmanager
def _pipe_closed() -> Iterator[None]:
    try:
        yield
    except (BrokenPipeError, OSError):  # the parent stopped listening
        pass

"""Build plan -> packages: install dependencies for the target (cached), select files, write zips."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.analysis.package import (
    Entry,
    PackageIndex,
    at_source_files,
    display_path,
    largest_top_level,
    read_package,
)
from lpack.analysis.subjects import PackageSubject
from lpack.bundle import pipconfig, zipwriter
from lpack.bundle.cache import CACHE_TIP, DependencyCache
from lpack.core import clock, select
from lpack.core.cache import default_root, make_key
from lpack.core.errors import BuildError, ConfigError, LpackError, UsageError, redact
from lpack.core.files import CacheWrites, atomic_write_text, cannot_write, is_refused_write
from lpack.core.findings import Finding
from lpack.core.targets import Target, lifecycle
from lpack.inputs.config import Project, Unit
from lpack.inputs.requirements_file import INSTALLER_ENV, Requirements, read_requirements, rewrite
from lpack.plan import Plan, is_python_project, plan
from lpack.rules import engine

if TYPE_CHECKING:
    from lpack.bundle.artifacts import Judged, SetFetcher
    from lpack.bundle.installer import Installer
    from lpack.bundle.remote import RemoteCache
    from lpack.bundle.slim import FindPython, Saved, Slimmed
    from lpack.bundle.stamps import StampBook

Progress = Callable[[str, str], None]
LAYER_PREFIX = "python/"
# A package in dist/ is written to a temporary file and renamed into place (never half-written,
# whatever stops the build), but not flushed to disk (fsync) first, as pip, uv and `sam build`
# write theirs: any build remakes it, and a zip a power cut left short or empty fails its stamp
# (size, mtime, inode: the next build remakes it) and `lpack check` (not a readable zip). The flushes were the build's only waits on the disk: 200 of them were ~6%
# of a cold build on one job, more on two (their journal commits queue behind each other).
PACKAGES_DURABLE = False


class BuildOptions(NamedTuple):
    runtime: str | None = None
    architecture: str | None = None
    installer: str | None = None
    as_layer: bool = False  # the functions' dependencies go to a layer, NAME-layer
    layers: tuple[Path, ...] = ()  # layer .zips every function is deployed with, after its configured ones
    functions: tuple[str, ...] = ()
    refresh: bool = False
    cache_dir: Path | None = None
    build_isolation: bool = True
    today: dt.date | None = None  # None: clock.today()
    remote_cache: str | None = None  # s3://BUCKET/PREFIX; None: $LPACK_REMOTE_CACHE; "": none
    remote_endpoint: str | None = None  # an S3-compatible store's address (else AWS_ENDPOINT_URL[_S3])
    remote_read_only: bool = False  # read the remote cache, never write it (also $LPACK_REMOTE_CACHE_READ_ONLY)
    jobs: int = 1  # units built at once (worker processes, or threads for a few: lpack.bundle.workers); see default_jobs
    slim: bool = False  # --slim: every unit slim, as `slim = true` makes one (lpack.bundle.slim)
    find_python: FindPython | None = None  # a Python of the target for --slim's import check (lpack invoke's finder)
    # the caller records dist/lpack-manifest.json (lpack build): the inputs of a zip built into dist/
    # are in it, and are not also written into lpack's cache (`write_inputs_manifest`), 200 files a build
    manifest: bool = False


class Artifact(NamedTuple):
    name: str
    kind: str
    path: Path
    target: Target
    size_zipped: int
    size_unzipped: int
    files: int
    sha256: str
    largest: list[tuple[str, int]]
    dependencies: str  # "none", "cached", "remote" (the shared cache's entry) or "installed"
    seconds: float
    target_defaulted: bool = False
    dependency_source: str = ""  # where the dependencies came from, e.g. "uv.lock (12 packages, hashes)"
    left_out: tuple[str, ...] = ()  # the source's files that do not run on Lambda, left out by default
    target_source: str = ""  # where the runtime came from, e.g. ".python-version"; "" for the default
    target_passed_over: tuple[str, ...] = ()  # the project's Python settings that did not decide it, and why
    packages: int = 0  # the distributions among its dependencies (their .dist-info folders)
    inputs_sha256: str = ""  # `inputs_digest` of what it was built from (dist/lpack-manifest.json records it)
    current: bool = False  # its inputs are as its stamp recorded: dist/'s zip was kept, nothing built (lpack.bundle.stamps)
    fetched: bool = False  # its zip came from the remote cache, built elsewhere from the same inputs (lpack.bundle.artifacts)
    installed: list[dict[str, str]] | None = None  # the distributions in it (manifest.installed), when known unread
    upload: str = "direct"  # how it is deployed: "s3" lifts the 50 MB direct-upload quota
    slimmed: tuple[Saved, ...] = ()  # what --slim left out, by package
    shared: tuple[str, dict[str, Any]] | None = None  # its key and record in the remote cache (lpack.bundle.artifacts)

    @property
    def sha256_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": str(self.path), "kind": self.kind,
            "runtime": self.target.runtime.name, "architecture": self.target.architecture,
            "size_zipped": self.size_zipped, "size_unzipped": self.size_unzipped,
            "files": self.files, "sha256": self.sha256, "sha256_base64": self.sha256_base64,
            "dependencies": self.dependencies, "dependency_source": self.dependency_source,
            "packages": self.packages,
            "target_source": self.target_source or "default",
            "seconds": round(self.seconds, 3),
            "largest": [{"name": n, "size_unzipped": s} for n, s in self.largest],
            **({"current": True} if self.current else {}),
            **({"artifact": "remote"} if self.fetched else {}),
            **({"slim": {"saved_bytes": sum(s.size for s in self.slimmed),
                         "packages": [s.as_dict() for s in self.slimmed]}} if self.slimmed else {}),
        }


class BuildResult:
    def __init__(self, warnings: list[str] | None = None) -> None:
        self.warnings: list[str] = [] if warnings is None else warnings  # e.g. the remote cache's one failure
        self.artifacts: list[Artifact] = []
        self.findings: list[Finding] = []
        self.failures: list[tuple[str, LpackError]] = []  # units that could not be built, and why
        self.skipped: list[tuple[str, str]] = []  # functions whose code is not here (images, S3), and why
        self.unchanged: list[tuple[str, str]] = []  # --changed-since: units kept as dist/ has them, and why
        self.size_report: Path | None = None  # --report: the HTML size map written


def silent(_unit: str, _message: str) -> None:
    """The progress of a build nobody watches (-q, --format json)."""


def build_project(project: Project, options: BuildOptions, progress: Progress = silent, *,
                  set_fetcher: SetFetcher | None = None) -> BuildResult:
    """Build the units, layers first; with ``options.jobs`` > 1, units build at once on that many
    worker processes (or threads, for a few units: lpack.bundle.workers), and the result (its
    lists in unit order) and the zips are the same as one at a time. ``set_fetcher`` is the
    download process `start_set_fetch` started early for the options' remote cache (the caller
    stops it)."""
    from lpack.bundle import workers

    units = sorted(_selected_units(project, options), key=lambda u: (u.kind != "layer", u.name))
    plan_ = [(unit, _not_built(unit, alone=len(units) == 1)) for unit in units]
    building = [unit for unit, why in plan_ if why is None]
    jobs = min(max(options.jobs, 1), len(building))
    builder = _Builder(project, options, progress)
    result = BuildResult(builder.warnings)
    whole = builder.fetch_set(building, set_fetcher)  # one download of the build's packages, when another machine made them
    try:
        # a fresh machine's packages, all downloaded: what is left per unit (records, stamps) is
        # less than forking workers costs
        if not whole and workers.usable(len(building), jobs):
            _on_processes(builder, plan_, jobs, result)
        else:
            try:
                builder.resolve_early(building[:jobs])
                # with the whole build fetched there is nothing to overlap (no install, no download): two
                # threads taking turns for the interpreter took 4-5x as long as one (200 functions)
                _on_threads(builder, plan_, 1 if whole else jobs, result, alone=len(units) == 1)
            finally:
                builder.forget_early()
    finally:
        builder.settle_cache()  # the stamps and input records are there before anything reads them
    result.artifacts = _installs_first(result.artifacts, builder.keys)
    if not whole:
        builder.share_set(building, result.artifacts)
    return result


def _on_threads(builder: _Builder, plan_: list[tuple[Unit, str | None]], jobs: int, result: BuildResult,
                alone: bool) -> None:
    """One unit after another, or on ``jobs`` threads that overlap the installs."""
    runner = _Runner(jobs)
    if jobs > 1:
        builder.progress = _whole_lines(builder.progress, runner.stopped)
    building = [unit for unit, why in plan_ if why is None]
    built = _Built({unit.name for unit in building})
    with builder.remote_work(building), runner:  # the remote's downloads and uploads, in the background
        outcomes = []
        for unit, why in plan_:
            if why is None:
                outcomes.append((unit, runner.submit(_build_one, builder, unit, built, alone)))
            else:
                _not_building(builder.progress, result, unit, why)
        for unit, outcome in outcomes:
            _collect(result, unit.name, outcome.result())


def _on_processes(builder: _Builder, plan_: list[tuple[Unit, str | None]], jobs: int, result: BuildResult) -> None:
    """On ``jobs`` worker processes: the layers, then the functions (judged with those layers)."""
    from lpack.bundle import workers

    outcomes: dict[str, _Outcome] = {}
    layers: dict[str, PackageIndex] = {}

    def done(unit: workers.Done) -> None:
        outcomes[unit.unit] = unit.outcome
        if unit.key is not None:
            builder.keys[unit.unit] = unit.key
        if unit.layer is not None:
            layers[unit.unit] = unit.layer

    for unit, why in plan_:
        if why is not None:
            _not_building(builder.progress, result, unit, why)
    for kind in ("layer", "function"):
        phase = [unit for unit, why in plan_ if why is None and unit.kind == kind]
        if phase:
            workers.build(builder, phase, min(jobs, len(phase)), layers, done)
    for unit, why in plan_:
        if why is None:
            _collect(result, unit.name, outcomes[unit.name])


def _not_building(progress: Progress, result: BuildResult, unit: Unit, why: str) -> None:
    if unit.settings.package is not None:
        progress(unit.name, why)
    else:
        result.skipped.append((unit.name, why))


def _not_built(unit: Unit, alone: bool) -> str | None:
    """Why a unit is not built here (its code is an image or on S3, or a template names its .zip), or None."""
    if (why := unit.settings.features.not_here()) is not None:  # an image, code on S3: nothing to build
        if alone:
            raise BuildError(f"{unit.name}: nothing to build: {why}")
        return why
    if unit.settings.package is not None:  # a template's CodeUri names a .zip: it is the package
        return f"already packaged in {display_path(unit.settings.package)}; nothing to build"
    return None


_Outcome = tuple["Artifact | None", list[Finding]] | LpackError


def _build_one(builder: _Builder, unit: Unit, built: _Built, alone: bool) -> _Outcome:
    try:
        return builder.build(unit, built)
    except LpackError as exc:  # as `make -k`: the other units still build
        if alone:
            raise
        builder.progress(unit.name, f"failed: {exc}")
        return exc
    finally:
        built.done(unit.name)  # a function waiting for this layer goes on, built or not
        builder.cache.release_mine()  # a failed install's key: the next unit or build of it installs it


def _collect(result: BuildResult, name: str, outcome: _Outcome) -> None:
    if isinstance(outcome, LpackError):
        result.failures.append((name, outcome))
        return
    artifact, findings = outcome
    result.findings += findings
    if artifact is not None:
        result.artifacts.append(artifact)


_WORK = {"installed": 0, "remote": 1}  # what a unit that found no local entry did; else "cached"


def _installs_first(artifacts: list[Artifact], keys: dict[str, str]) -> list[Artifact]:
    """Of the units that share a dependency set, the report says the first (in unit order)
    installed it (or fetched it from the remote cache), as a build one unit at a time does,
    whichever of the units building at once got there first: the report is the same whatever --jobs."""
    states: dict[str, list[str]] = {}
    for a in artifacts:
        if a.name in keys:
            states.setdefault(keys[a.name], []).append(a.dependencies)
    for group in states.values():  # installed, then fetched from the remote cache, then cached
        group.sort(key=lambda state: _WORK.get(state, len(_WORK)), reverse=True)  # popped from the end
    return [a._replace(dependencies=states[keys[a.name]].pop()) if a.name in keys else a for a in artifacts]


def default_jobs() -> int:
    """``lpack build``'s --jobs when none is given: LPACK_JOBS, else the CPUs this process may use."""
    value = os.environ.get("LPACK_JOBS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(f"LPACK_JOBS={value!r}: not a number of jobs", tip="set it to 1 or more, or unset it")
        return int(value)
    if hasattr(os, "sched_getaffinity"):  # a container or taskset limits it below the machine's count
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def _whole_lines(progress: Progress, stopped: threading.Event) -> Progress:
    """``progress`` called by one thread at a time, so the lines of units building at once never
    mix; once the run is stopped (Ctrl-C, an internal error), a unit goes no further than its next step."""
    lock = threading.Lock()

    def say(unit: str, message: str) -> None:
        if stopped.is_set():
            raise _Stopped(unit)
        with lock:
            progress(unit, message)
    return say


class _Stopped(Exception):
    """Not an error of the unit's (no LpackError, so not a failure in the report): its run is over."""


class _Built:
    """The packages built so far in this run, by unit name. A function's package is judged with
    its layers: one that uses a layer this run is still building waits for it (layers are
    started first, so the wait is short and never circular)."""

    def __init__(self, building: set[str]) -> None:
        self._indexes: dict[str, PackageIndex] = {}
        self._done = {name: threading.Event() for name in building}

    def add(self, name: str, index: PackageIndex) -> None:
        self._indexes[name] = index

    def done(self, name: str) -> None:
        self._done[name].set()

    def get(self, name: str, wait: bool) -> PackageIndex | None:
        if wait and name in self._done:
            self._done[name].wait()
        return self._indexes.get(name)


class _Runner:
    """Runs builds now (one job) or on a pool of threads; builds run in the order submitted."""

    def __init__(self, jobs: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(jobs, thread_name_prefix="lpack-build") if jobs > 1 else None
        self.stopped = threading.Event()

    def __enter__(self) -> _Runner:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:  # an error or Ctrl-C: the builds not started never start, and
            if exc[0] is not None:  # those running stop at their next step (not one more install)
                self.stopped.set()
            self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)

    def submit(self, func: Callable[..., _Outcome], *args: Any) -> Any:
        from concurrent.futures import Future

        if self._pool is not None:
            return self._pool.submit(func, *args)
        done: Future[_Outcome] = Future()
        done.set_result(func(*args))  # an error that is not a unit's own stops the run, as it always did
        return done


class DependencyKey(NamedTuple):
    unit: str
    kind: str
    target: Target
    key: str | None  # None: the unit installs no dependencies
    source: str  # where its dependencies are declared


def dependency_keys(project: Project, options: BuildOptions) -> list[DependencyKey]:
    """Each selected unit's dependency cache key, as a build computes it, without installing
    (``lpack cache key``); units built elsewhere (images, code on S3, a template's .zip) have none."""
    builder = _Builder(project, options._replace(remote_cache=""), lambda _u, _m: None)
    units = sorted(_selected_units(project, options), key=lambda u: (u.kind != "layer", u.name))
    return [builder.unit_key(unit) for unit in units
            if unit.settings.features.not_here() is None and unit.settings.package is None]


def _remote(options: BuildOptions, warn: Callable[[str], None]) -> RemoteCache | None:
    """The shared cache the options (or $LPACK_REMOTE_CACHE) name, or None."""
    from lpack.bundle.remote import RemoteCache

    if (settings := _remote_settings(options)) is None:
        return None
    url, endpoint, read_only = settings
    return RemoteCache(url, endpoint=endpoint, read_only=read_only, warn=warn)


def _remote_settings(options: BuildOptions) -> tuple[str, str | None, bool] | None:
    """The remote cache's URL, endpoint and whether it is read-only, from the options and the
    environment; None for no remote cache."""
    from lpack.bundle.remote import READ_ONLY_ENV, REMOTE_ENV

    url = (os.environ.get(REMOTE_ENV, "") if options.remote_cache is None else options.remote_cache).strip()
    if not url:
        return None
    read_only = options.remote_read_only or os.environ.get(READ_ONLY_ENV, "").lower() not in ("", "0", "false", "no")
    return url, options.remote_endpoint, read_only


def start_set_fetch(options: BuildOptions) -> SetFetcher | None:
    """The download process of a fresh machine's build (lpack.bundle.artifacts.SetFetcher), started
    now, before the project is even read, for the options' remote cache; None without one (or
    with --refresh, which downloads nothing). Whoever starts it stops it (a `with` block): a build
    that does not use it (dist/ has its zips) costs it only its start."""
    if options.refresh or (settings := _remote_settings(options)) is None:
        return None
    from lpack.bundle.artifacts import SetFetcher, archives

    if not archives():
        return None  # no archive to download (lpack.bundle.artifacts)
    from lpack.bundle.remote import parse_url

    try:
        parse_url(settings[0])
    except LpackError:
        return None  # the builder says what is wrong with it
    return SetFetcher(*settings)


def _selected_units(project: Project, options: BuildOptions) -> list[Unit]:
    units = [project.unit(name) for name in options.functions] if options.functions else list(project.units)
    if options.slim:
        units = [u._replace(slim=True) for u in units]
    if options.as_layer:
        units = [split for u in units for split in (_layer_split(u) if u.kind == "function" else [u])]
    return units


def _layer_split(unit: Unit) -> list[Unit]:
    """--as-layer, as serverless's ``layer: true``: the function's dependencies as the layer
    NAME-layer, and the function using it, built without them (replacing a full dist/NAME.zip)."""
    layer = _as_layer(unit)
    return [layer, unit._replace(layers=(*unit.layers, layer.name))]


def _as_layer(unit: Unit) -> Unit:
    if unit.dependencies is None:
        raise ConfigError(f"{unit.where}: --as-layer packages a function's dependencies, and {unit.name!r} declares none")
    return unit._replace(name=f"{unit.name}-layer", kind="layer", source=None, handler=None, layers=())


class _Builder:
    def __init__(self, project: Project, options: BuildOptions, progress: Progress) -> None:
        self.project = project
        self.options = options
        self.progress = progress
        self.cache = DependencyCache(options.cache_dir or default_root())
        self.today = options.today or clock.today()
        self._installer: Installer | None = None
        self._sources: dict[str, str] = {}  # unit name -> where its dependencies came from
        self.keys: dict[str, str] = {}  # unit name -> its dependencies' cache key
        self._left_out: dict[str, tuple[str, ...]] = {}  # unit name -> its files left out by default
        self._walked: dict[str, list[tuple[str, Path]]] = {}  # unit name -> its source files, walked once
        self.layer_zips = _layer_zips(options.layers)  # read once, before any build
        self._declared: dict[str, tuple[list[Path], list[Path]]] = {}  # unit name -> its requirements' files, local paths
        self._locals: dict[str, bool] = {}  # a local path's recorded stats (as JSON) -> whether they are as now
        self._stamp_parts: dict[str, Any] | None = None  # what every unit's stamp key shares
        self._touched: set[str] = set()  # the dependency cache entries kept zips used, marked once
        self.warnings: list[str] = []
        self.remote = _remote(options, self.warnings.append)
        self._installer_lock = threading.Lock()  # units building at once find the installer once
        # Units building at once overlap their installs (installer processes, downloads) and their
        # waits for another unit's install, not the work in Python (walking, compressing, writing and
        # judging zips): threads doing that take turns for the interpreter, and were measured 1.3x
        # slower than one (a warm 200-function build, 2 CPUs). A unit holds this lock except there.
        self._python_work = threading.Lock()
        self._holding = threading.local()
        self._keys_by_declaration: dict[tuple[Any, ...], str] = {}
        self._artifact_keys: dict[str, tuple[str, str] | None] = {}  # unit name -> its package's remote key, inputs digest
        self._prefetched: dict[str, Any] = {}  # unit name -> the download of its package (a Future)
        self._judgements: dict[str, Judged] = {}  # unit name -> what its zip built here was judged
        self._slimmed: dict[str, tuple[Saved, ...]] = {}  # unit name -> what --slim left out
        self._early = False  # a resolution started before its install needed it (resolve_early)
        self._from_set: dict[str, dict[str, Any]] = {}  # unit name -> its record, its zip fetched with the build's archive
        self.cache_writes = CacheWrites()  # input records, written on threads (settled at the end)
        self._real = functools.lru_cache(maxsize=None)(Path.resolve)  # the project's folders, resolved once a run
        self._requirements_read: dict[Path, Requirements] = {}  # a requirements file -> what it says
        self._local_stat_lists: dict[tuple[Path, ...], list[Any]] = {}  # local paths -> their stats (stamps)
        self._stamp_keys: dict[str, str] = {}  # unit name -> its stamp's key
        self._unit_settings: dict[str, Any] = {}  # unit name -> its settings as canonical JSON (in both its keys)
        self._stamped_inputs: dict[str, dict[str, Any]] = {}  # unit name -> what its stamp records of its inputs
        self._stamp_book: StampBook | None = None  # the stamps of this project's builds (made on first use)
        self._book_lock = threading.Lock()
        self._checked: dict[str, list[Finding]] = {}  # unit name -> its runtime and lock findings, found early
        self._walks_source: dict[Path, bool] = {}  # source folder -> not a Python project built into a wheel
        self._local_fingerprints: dict[Path, str] = {}  # a local path (a --find-links folder) -> its fingerprint
        self._pip: dict[str, list[str]] | None = None  # pip's configuration, read once

    def resolve_early(self, units: list[Unit]) -> None:
        """Start resolving the dependency sets of ``units`` that the cache lacks (issue #23):
        those from one requirements file, nothing to build first and no remote cache to ask, of
        units whose zip dist/ lacks (a rebuild reads nothing it need not: its stamps decide).
        Each unit's install takes its set's answer; it starts the resolution itself for the rest."""
        from lpack.bundle.installer import wheel_copy

        if self.options.refresh or self.remote is not None or not wheel_copy() or \
                self.options.as_layer or self.options.installer not in (None, "uv"):
            return
        for unit in units:
            if unit.requirements is None or (unit.source is not None and is_python_project(unit.source)):
                continue
            try:
                self._resolve_early(unit)
            except (LpackError, OSError):
                continue  # its build says what is wrong

    def _resolve_early(self, unit: Unit) -> None:
        from lpack.bundle import wheelcopy
        from lpack.bundle.install import requirement_args

        assert unit.requirements is not None
        unit_plan = plan(self.project, unit, self.options.runtime, self.options.architecture)
        if unit_plan.artifact.exists():
            return
        target = unit_plan.target
        reqs = read_requirements(unit.requirements)
        if reqs.empty or reqs.local_projects or self.cache.entry(self._dependency_key(reqs, target)).exists():
            return
        self._early = True
        wheelcopy.resolve_early(self.installer, target, requirement_args([unit.requirements], reqs.has_hashes),
                                reqs, unit.requirements.parent)

    def forget_early(self) -> None:
        if self._early:
            from lpack.bundle import wheelcopy

            wheelcopy.forget_early()

    @property
    def installer(self) -> Installer:
        from lpack.bundle.installer import (
            find_installer,  # a rebuild from the cache installs nothing
        )

        with self._installer_lock:
            if self._installer is None:
                self._installer = find_installer(self.options.installer or self.project.installer)
            return self._installer

    def build(self, unit: Unit, built: _Built) -> tuple[Artifact | None, list[Finding]]:
        try:
            with self._python_work:
                self._holding.python = True
                try:
                    return self._build(unit, built)
                finally:
                    self._holding.python = False
        except OSError as exc:  # e.g. the temporary folder's disk: the zips and the cache say so themselves
            if is_refused_write(exc):
                import tempfile

                where = Path(exc.filename) if isinstance(exc.filename, str) else Path(tempfile.gettempdir())
                raise cannot_write(where, exc, tip="free space on that disk, or set TMPDIR to a folder on "
                                                   "another") from exc
            raise

    def _build(self, unit: Unit, built: _Built) -> tuple[Artifact | None, list[Finding]]:
        from lpack.inputs.declared import refuse_unlocked

        refuse_unlocked(unit.unlocked)
        start = time.perf_counter()
        unit_plan = plan(self.project, unit, self.options.runtime, self.options.architecture)
        target = unit_plan.target
        findings = self._checked.pop(unit.name, None)
        if findings is None:
            findings = self._unit_checks(unit_plan)
        if lifecycle(target.runtime, self.today) == "blocked":
            return None, findings
        if (kept := self._current(unit_plan, built, start)) is not None:
            return kept[0], findings + kept[1]
        if (fetched := self._fetched(unit_plan, built, start)) is not None:
            return fetched[0], findings + fetched[1]
        self.progress(unit.name, f"target {target.label}")
        prefix = LAYER_PREFIX if unit.kind == "layer" else ""
        excludes = select.spec(unit.exclude)
        with _Scratch() as scratch:
            source_members, extra_requirements = self._source(unit_plan, scratch)
            if self.options.as_layer and unit.kind == "function":  # its dependencies are in its layer
                deps_members: list[zipwriter.Member] = []
                deps_state = "none"
                self._layered(unit_plan)
            else:
                deps_members, deps_state = self._dependencies(unit, target, extra_requirements, scratch)
        written = self._write(unit, unit_plan, built, start, findings, prefix, excludes, source_members,
                              deps_members, deps_state)
        if (shared := self._share(unit_plan, written[0])) is not None:
            return written[0]._replace(shared=shared), written[1]  # type: ignore[union-attr]
        return written

    def _unit_checks(self, unit_plan: Plan) -> list[Finding]:
        """The findings on the unit's runtime and lock, which need nothing built."""
        unit = unit_plan.unit
        found = engine.check_runtime(unit_plan.target, self.today, display_path(self.project.config_path or self.project.root))
        return [f._replace(function=unit.name) for f in found + engine.check_lockfile(unit.requirements or unit.lock)]

    def _write(self, unit: Unit, unit_plan: Plan, built: _Built, start: float, findings: list[Finding], prefix: str,
               excludes: Any, source_members: list[zipwriter.Member], deps_members: list[zipwriter.Member],
               deps_state: str) -> tuple[Artifact | None, list[Finding]]:
        """The unit's zip from its members, judged as written, and its stamp."""
        where = unit_plan.where
        if unit.slim and deps_members:
            deps_members = self._slim(unit, unit_plan.target, deps_members)
        members: dict[str, zipwriter.Member] = {}
        for member in deps_members + source_members:  # the function's own files win
            if not excludes.match_file(member.name):
                members[prefix + member.name] = member.renamed(prefix + member.name)
        if not members:
            raise BuildError(f"{where}: nothing to package: the source is empty or every file is excluded")
        path = unit_plan.artifact
        self.progress(unit.name, f"writing {display_path(path)}")
        ordered = _with_directories(members)
        digest, size = zipwriter.atomic_write_zip(path, ordered, durable=PACKAGES_DURABLE)
        inputs_sha256 = self._remember_inputs(unit_plan, digest)
        offsets = zipwriter.local_offsets(ordered)
        index = PackageIndex(path, size, tuple(Entry(m.name, m.size, m.compressed_size, m.mode, offset=offset,
                                                     method=m.method, crc=m.crc) for m, offset in zip(ordered, offsets)))
        judged = self._judgements[unit.name] = self._judge(unit_plan, index, built)
        artifact, package_findings = self._judged(unit_plan, judged, digest, deps_state,
                                                  _distributions(deps_members), inputs_sha256, start)
        return artifact, findings + package_findings

    def _remember_inputs(self, unit_plan: Plan, zip_sha256: str, digest: str | None = None) -> str:
        """The digest of the inputs the unit's zip was built from, remembered for `lpack check`
        (`stale_package`) in lpack's cache, unless dist/lpack-manifest.json will hold it."""
        files = self._walked.get(unit_plan.unit.name)
        if self.options.manifest and unit_plan.artifact.is_relative_to(self.project.dist):
            return digest or inputs_digest(unit_plan, files)
        return write_inputs_manifest(unit_plan, zip_sha256, files, digest, writes=self.cache_writes)

    def _slim(self, unit: Unit, target: Target, deps_members: list[zipwriter.Member]) -> list[zipwriter.Member]:
        """The dependencies without what --slim proves unneeded (lpack.bundle.slim)."""
        from lpack.core.units import human_bytes

        with self._waiting():  # strip and the import check run in other processes; another build's wait
            slimmed = self._slimmed_cached(unit, target, deps_members)
        for note in slimmed.kept:
            self.progress(unit.name, f"slim: {note}")
        self._slimmed[unit.name] = slimmed.saved
        self.progress(unit.name, f"slim: left out {human_bytes(sum(s.size for s in slimmed.saved))} unzipped")
        return slimmed.members

    def _slimmed_cached(self, unit: Unit, target: Target, deps_members: list[zipwriter.Member]) -> Slimmed:
        """--slim's result of the unit's dependency entry, from the cache when the same tools made
        it (a source-only edit strips nothing again), else made and kept there."""
        from lpack.bundle import slim
        from lpack.bundle.cache import SLIM

        deps_key = self.keys.get(unit.name)
        if deps_key is None:
            self.progress(unit.name, "slimming the dependencies (--slim)")
            return slim.slim(deps_members, target, self.options.find_python)
        tools = slim.tools(target, self.options.find_python)
        key = make_key({"slim": deps_key, "tools": tools})  # lpack's version too: its slim may change
        cache = DependencyCache(self.cache.root, SLIM)
        entry = None if self.options.refresh else cache.lookup(key)
        if entry is not None:
            cache.used(entry)
            self.progress(unit.name, "slim: dependencies unchanged: reusing the cached slim result")
            return slim.from_entry(entry)
        self.progress(unit.name, "slimming the dependencies (--slim)")
        made = slim.slim(deps_members, target, self.options.find_python)
        staged = cache.staging()
        try:
            slim.write_entry(staged, made, tools)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            cache.release_mine()
            raise
        return slim.from_entry(cache.commit(key, staged))

    def _judge(self, unit_plan: Plan, index: PackageIndex, built: _Built) -> Judged:
        """The package checks on the unit's zip (``index``), which its functions then see."""
        from lpack.bundle.artifacts import Judged

        unit = unit_plan.unit
        built.add(unit.name, index)
        return Judged(index.size_zipped, index.size_unzipped, index.files,
                      largest_top_level(index, strip=LAYER_PREFIX if unit.kind == "layer" else ""),
                      self._package_findings(unit, unit_plan.target, index, built))

    def _judged(self, unit_plan: Plan, judged: Judged, sha256: str, deps_state: str, packages: int,
                inputs_sha256: str, start: float, **more: Any) -> tuple[Artifact, list[Finding]]:
        """The artifact of the unit's zip and its package findings (on the unit's own source files
        where they point into them); its stamp written."""
        unit = unit_plan.unit
        package_findings = at_source_files(judged.findings, unit_plan.packaged_files)
        artifact = Artifact(
            name=unit.name, kind=unit.kind, path=unit_plan.artifact, target=unit_plan.target,
            size_zipped=judged.size_zipped, size_unzipped=judged.size_unzipped, files=judged.files,
            sha256=sha256, largest=judged.largest, dependencies=deps_state, seconds=time.perf_counter() - start,
            target_defaulted=unit_plan.target_defaulted, target_source=unit_plan.target_source,
            target_passed_over=unit_plan.target_passed_over,
            dependency_source=self._sources.get(unit.name, ""), left_out=self._left_out.get(unit.name, ()),
            packages=packages, inputs_sha256=inputs_sha256, upload=unit.upload,
            slimmed=self._slimmed.get(unit.name, ()), **more,
        )
        self._stamp(unit_plan, artifact, package_findings)
        return artifact, package_findings

    # -- finished packages in the remote cache (lpack.bundle.artifacts) ---------------------------

    def _artifact_key(self, unit_plan: Plan) -> tuple[str, str] | None:
        """The key of the unit's package in the remote cache and its inputs digest; None when it
        is not shared there (no remote, a Python project's wheel, a code-only --as-layer function)."""
        unit = unit_plan.unit
        if self.remote is None or not self._stampable(unit) or (self.options.as_layer and unit.kind == "function"):
            return None
        if unit.name not in self._artifact_keys:
            from lpack.bundle.artifacts import artifact_key

            files = self._source_walk(unit_plan)
            deps_key = None
            with _Scratch() as scratch:
                if (found := self._requirements(unit, unit_plan.target, [], scratch)) is not None:
                    self._declared[unit.name] = (list(found[0].files), list(found[0].local_paths))
                    deps_key = self._dependency_key(found[0], unit_plan.target)
            options: dict[str, Any] = {"as_layer": self.options.as_layer,
                                       "installer": self.options.installer or self.project.installer,
                                       "build_isolation": self.options.build_isolation}
            if unit.slim:  # another strip may write other bytes: a zip shared only between the same tools
                from lpack.bundle.slim import tools

                options["slim"] = tools(unit_plan.target, self.options.find_python)
            inputs = inputs_digest(unit_plan, files)
            self._artifact_keys[unit.name] = (artifact_key(unit_plan, files, inputs, deps_key, options,
                                                           self._settings(unit)), inputs)
        return self._artifact_keys[unit.name]

    def _fetched(self, unit_plan: Plan, built: _Built, start: float) -> tuple[Artifact, list[Finding]] | None:
        """The unit's package downloaded from the remote cache (built elsewhere from the same
        inputs) and judged as a built one; None when the remote does not have it."""
        from lpack.bundle import artifacts

        unit = unit_plan.unit
        prefetched = self._prefetched.pop(unit.name, None)
        if self.options.refresh or self.remote is None or (found := self._artifact_key(unit_plan)) is None:
            return None
        record = self._from_set.pop(unit.name, None)
        if record is None:
            with self._waiting():
                record = artifacts.fetch(self.remote, found[0], unit_plan.artifact) if prefetched is None \
                    else prefetched.result()
        if record is None:
            return None
        if self.progress is not silent:  # a path resolved for nobody was a tenth of a fresh machine's unit
            self.progress(unit.name, f"fetched {display_path(unit_plan.artifact)} from the remote cache {self.remote.url}")
        inputs_sha256 = self._remember_inputs(unit_plan, record["sha256"], found[1])
        # what the package checks found on the machine that built it, for a function judged alone
        # (a layer's index serves its functions; layers' contents are not in the key)
        alone = unit.kind == "function" and not unit.layers and not self.layer_zips
        judged = artifacts.judged(record, unit_plan.artifact) if alone else None
        if judged is None:
            judged = self._judge(unit_plan, read_package(unit_plan.artifact), built)
        deps_state = "remote" if unit.name in self._declared else "none"
        installed = artifacts.installed(record)
        return self._judged(unit_plan, judged, record["sha256"], deps_state, int(record.get("packages", 0)),
                            inputs_sha256, start, fetched=True, installed=installed, shared=(found[0], record))

    @contextlib.contextmanager
    def remote_work(self, units: list[Unit]) -> Iterator[None]:
        """The remote cache's downloads of ``units``' packages started, and its transfers waited
        for at the end (those not started are dropped when the build stops on an error or Ctrl-C)."""
        if self.remote is None:
            yield
            return
        try:
            self.prefetch(units)
            yield
        except BaseException:
            self.remote.finish(cancel=True)
            raise
        self.remote.finish()

    def prefetch(self, units: list[Unit]) -> None:
        """Start downloading, on the remote cache's threads, the packages of the units whose zip
        dist/ lacks (a fresh checkout: a zip there is most likely current); each unit's build
        then waits for its own."""
        from lpack.bundle import artifacts

        if self.remote is None or self.options.refresh:
            return
        for unit in units:
            try:
                unit_plan = plan(self.project, unit, self.options.runtime, self.options.architecture)
                if unit_plan.artifact.exists() or lifecycle(unit_plan.target.runtime, self.today) == "blocked":
                    continue
                found = self._artifact_key(unit_plan)
            except LpackError:
                continue  # its build says why
            if found is not None:
                self._prefetched[unit.name] = self.remote.submit(artifacts.fetch, self.remote, found[0],
                                                                 unit_plan.artifact)

    def _share(self, unit_plan: Plan, artifact: Artifact | None) -> tuple[str, dict[str, Any]] | None:
        """Upload a package built here to the remote cache (not read-only; in the background);
        its key and record."""
        if artifact is None or self.remote is None or self.remote.read_only:
            return None
        found = self._artifact_key(unit_plan)
        if found is None or found[1] != artifact.inputs_sha256:  # no key, or its source changed while built
            return None
        from lpack import __version__
        from lpack.bundle import artifacts

        record = {"sha256": artifact.sha256, "size": artifact.size_zipped, "name": artifact.name, "kind": artifact.kind,
                  "packages": artifact.packages, "inputs_sha256": artifact.inputs_sha256, "lpack_version": __version__}
        stored = artifacts.store(self.remote, found[0], artifact.path, record, self._judgements.pop(artifact.name, None))
        return None if stored is None else (found[0], stored)

    def fetch_set(self, units: list[Unit], started: SetFetcher | None = None) -> bool:
        """Every unit's package from the remote cache's one archive of this build (lpack.bundle.
        artifacts), written into dist/ before the units are built (each then takes its own as
        fetched); whether it was there and whole. ``started`` (the download process started
        early) is stopped here, used or not: no worker forked later inherits its pipes."""
        with started if started is not None else contextlib.nullcontext():
            return self._fetch_set(units, started)

    def _fetch_set(self, units: list[Unit], started: SetFetcher | None) -> bool:
        from lpack.bundle import artifacts

        if self.remote is None or self.options.refresh or len(units) < 2 or not artifacts.archives():
            return False
        plans = []
        for unit in units:
            try:
                unit_plan = plan(self.project, unit, self.options.runtime, self.options.architecture)
            except LpackError:
                return False  # its build says why
            if unit_plan.artifact.exists() or lifecycle(unit_plan.target.runtime, self.today) == "blocked":
                return False  # not a fresh checkout (its zips are most likely current), or not all built
            plans.append(unit_plan)
        own = artifacts.SetFetcher.of(self.remote) if started is None else contextlib.nullcontext(started)
        with own as fetcher:  # its client made on another core while the keys are worked out
            if len(folders := {p.artifact.parent for p in plans}) == 1:  # the last archive of these units, meanwhile
                fetcher.expect([(p.unit.name, p.target.label) for p in plans], folders.pop())
            members = []
            for unit_plan in plans:
                try:
                    found = self._artifact_key(unit_plan)
                except LpackError:
                    return False  # its build says why
                if found is None:
                    return False
                members.append(artifacts.SetMember(unit_plan.unit.name, found[0], unit_plan.artifact))
            records = fetcher.fetch(self.remote, members, meanwhile=lambda: self._prepare(plans))
        self._from_set = records or {}
        return records is not None

    def _prepare(self, plans: list[Plan]) -> None:
        """While the build's archive downloads (lpack.bundle.artifacts.SetFetcher): each unit's
        work that needs neither its package nor its record (its runtime and lock checks, its stamp's
        key, whether one is there, and the stats a stamp records), which its build then takes."""

        for unit_plan in plans:
            unit = unit_plan.unit
            try:
                self._checked[unit.name] = self._unit_checks(unit_plan)
                if self._stampable(unit):
                    self._book().get(self._stamp_key(unit_plan))  # the book read now, not after the download
                    self._stamp_inputs(unit_plan)
            except (LpackError, OSError):
                continue  # its build says what is wrong

    def share_set(self, units: list[Unit], built: list[Artifact]) -> None:
        """Upload the build's packages as one archive, when every unit has one in the remote cache."""
        from lpack.bundle import artifacts

        if self.remote is None or self.remote.read_only or self.remote.failed is not None or len(units) < 2 \
                or not artifacts.archives():
            return
        by_name = {a.name: a for a in built}
        members = []
        for unit in units:
            if (a := by_name.get(unit.name)) is None or a.shared is None:
                return
            members.append((artifacts.SetMember(unit.name, a.shared[0], a.path),
                            artifacts.full_record(a.shared[1], a.path, a.installed)))
        artifacts.store_set(self.remote, members, self.cache.root / "tmp",
                            latest=artifacts.latest_key([(unit.name, by_name[unit.name].target.label) for unit in units]))

    # -- stamps: a unit whose inputs' stats are as they were is not built (lpack.bundle.stamps) ---

    def _local_stats(self, local: list[Path]) -> list[Any]:
        """`stamps.local_stats`, once a run for each list of local paths (200 functions sharing
        5 requirements files walk one wheelhouse 5 times, not 200)."""
        from lpack.bundle import stamps

        if (known := self._local_stat_lists.get(tuple(local))) is None:
            known = self._local_stat_lists[tuple(local)] = stamps.local_stats(local)
        return known

    def _stamp_key(self, unit_plan: Plan) -> str:
        """The key of the unit's stamp (worked out once a run: it is asked before the build and after)."""
        if (known := self._stamp_keys.get(unit_plan.unit.name)) is None:
            known = self._stamp_keys[unit_plan.unit.name] = self._work_out_stamp_key(unit_plan)
        return known

    def _work_out_stamp_key(self, unit_plan: Plan) -> str:
        return make_key({**self._shared_stamp_parts(), "unit": self._settings(unit_plan.unit), "target": unit_plan.target.label})

    def _settings(self, unit: Unit) -> Any:
        """The unit's settings as canonical JSON, worked out once for its stamp's key and its package's."""
        from lpack.bundle.stamps import canonical

        if (known := self._unit_settings.get(unit.name)) is None:
            known = self._unit_settings[unit.name] = canonical(unit)
        return known

    def _book(self) -> StampBook:
        """The stamps of this project's builds (lpack.bundle.stamps.StampBook), one per run."""
        from lpack.bundle.stamps import StampBook

        with self._book_lock:
            if self._stamp_book is None:
                self._stamp_book = StampBook(self.cache.root, make_key(self._shared_stamp_parts()))
            return self._stamp_book

    def settle_cache(self) -> None:
        """This process's stamps and input records written, before anything reads them back."""
        try:
            if self._stamp_book is not None:
                self._stamp_book.save()
        finally:
            self.cache_writes.settle()

    def _shared_stamp_parts(self) -> dict[str, Any]:
        """What every unit's stamp key shares (and its book's key is made of), worked out once."""
        from lpack.bundle.stamps import stats

        if self._stamp_parts is None:
            project, options = self.project, self.options
            self._stamp_parts = {
                "stamp": 1, "root": str(project.root), "dist": str(project.dist), "config": str(project.config_path),
                "installer": project.installer, "links": [str(p) for p in project.follow_links], "cwd": os.getcwd(),
                "options": [options.installer, options.as_layer, options.build_isolation],
                "given": stats(options.layers), "env": {k: os.environ[k] for k in INSTALLER_ENV if k in os.environ},
                "pip": self._pip_settings(),
                # the zip's timestamps: another SOURCE_DATE_EPOCH writes other bytes from the same files
                "epoch": os.environ.get("SOURCE_DATE_EPOCH")}
        return self._stamp_parts

    def _stampable(self, unit: Unit) -> bool:
        """A unit whose packaged files are its source walk (not a Python project's wheel)."""
        if unit.source is None:
            return True
        if (known := self._walks_source.get(unit.source)) is None:
            known = self._walks_source[unit.source] = not is_python_project(unit.source)
        return known

    def _declared_files(self, unit: Unit) -> tuple[list[Path], list[Path]]:
        from lpack.inputs.declared import manifest_of

        files, local = self._declared.get(unit.name, ([], []))
        named = [unit.requirements, unit.lock, unit.manifest, manifest_of(unit.lock) if unit.lock else None, *files]
        return [p for p in dict.fromkeys(named) if p is not None and p.exists()], local

    def _stamp(self, unit_plan: Plan, artifact: Artifact, findings: list[Finding]) -> None:
        from lpack.bundle import stamps

        unit = unit_plan.unit
        if not self._stampable(unit) or (unit.source is not None and unit.name not in self._walked):
            return
        layers = [p for name, p in unit_plan.layer_artifacts().items()]
        record = {
            "zip": stamps.stat_of(artifact.path), "layers": stamps.stats(layers), **self._stamp_inputs(unit_plan),
            "inputs_sha256": artifact.inputs_sha256, "sha256": artifact.sha256, "deps_key": self.keys.get(unit.name),
            "artifact": {"size_zipped": artifact.size_zipped, "size_unzipped": artifact.size_unzipped,
                         "files": artifact.files, "largest": artifact.largest, "dependencies": artifact.dependencies,
                         "dependency_source": artifact.dependency_source, "left_out": artifact.left_out,
                         "packages": artifact.packages, "slimmed": [list(s) for s in artifact.slimmed]},
            "findings": [stamps.finding_to_json(f) for f in findings],
        }
        self._book().put(self._stamp_key(unit_plan), record, unit.name, unit_plan.target.label)

    def _stamp_inputs(self, unit_plan: Plan) -> dict[str, Any]:
        """What a stamp records of the unit's inputs by stat (its declaration's files, local paths,
        source files and folders), once a run (taken while a fresh machine's archive downloads)."""
        from lpack.bundle import stamps

        unit = unit_plan.unit
        if (known := self._stamped_inputs.get(unit.name)) is None:
            declared, local = self._declared_files(unit)
            known = self._stamped_inputs[unit.name] = {
                "declared": stamps.stats(declared), "local": self._local_stats(local),
                "files": stamps.stats(p for _rel, p in self._walked.get(unit.name, [])),
                "folders": stamps.folders(unit.source, prune=not unit.include) if unit.source is not None else []}
        return known

    def _current(self, unit_plan: Plan, built: _Built, start: float) -> tuple[Artifact, list[Finding]] | None:
        """The unit's artifact and package findings as its stamp recorded them, when its inputs
        are as they were (by stat; where only the source's stats differ, by content); else None."""
        from lpack.bundle import stamps

        unit = unit_plan.unit
        if self.options.refresh or not self._stampable(unit):
            return None
        for name in unit.layers:  # a project layer this run builds: its zip's stat is the new one's
            with self._waiting():
                built.get(name, wait=unit.kind == "function")
        key = self._stamp_key(unit_plan)
        record = self._book().get(key)
        try:
            if record is None or record["zip"] is None or not stamps.same([record["zip"], *record["layers"], *record["declared"]]):
                return None
            if not self._same_local(record["local"]):
                return None
            if not (stamps.same(record["files"]) and stamps.same_folders(record["folders"])):
                files = list(unit_plan.source_files())
                if inputs_digest(unit_plan, files) != record["inputs_sha256"]:
                    return None
                record["files"] = stamps.stats(p for _rel, p in files)  # touched, not changed: stamped anew
                record["folders"] = stamps.folders(unit.source, prune=not unit.include) if unit.source else []
                self._book().put(key, record, unit.name, unit_plan.target.label)
            kept = record["artifact"]
            findings = [stamps.finding_from_json(f) for f in record["findings"]]
            artifact = Artifact(
                name=unit.name, kind=unit.kind, path=unit_plan.artifact, target=unit_plan.target,
                size_zipped=kept["size_zipped"], size_unzipped=kept["size_unzipped"], files=kept["files"],
                sha256=record["sha256"], largest=[(str(n), int(s)) for n, s in kept["largest"]],
                dependencies="cached" if kept["dependencies"] in _WORK else kept["dependencies"],
                seconds=time.perf_counter() - start, target_defaulted=unit_plan.target_defaulted,
                dependency_source=kept["dependency_source"], left_out=tuple(kept["left_out"]),
                target_source=unit_plan.target_source, target_passed_over=unit_plan.target_passed_over,
                packages=kept["packages"], inputs_sha256=record["inputs_sha256"], current=True,
                upload=unit.upload, slimmed=_saved(kept.get("slimmed", ())))
        except (KeyError, TypeError, ValueError):  # a stamp of another shape: built, and stamped anew
            return None
        self._used(record.get("deps_key"))
        self.progress(unit.name, f"unchanged: kept {display_path(unit_plan.artifact)}")
        return artifact, findings

    def _used(self, key: object) -> None:
        """A kept zip still uses its dependencies' cache entry: `lpack cache prune` keeps it."""
        if isinstance(key, str) and key not in self._touched:
            self._touched.add(key)
            entry = self.cache.entry(key)
            if (entry / "meta.json").is_file():
                self.cache.used(entry)

    def _same_local(self, recorded: list[Any]) -> bool:
        """Whether a declaration's local paths are as recorded; each set is looked at once a run."""
        from lpack.bundle import stamps

        seen = json.dumps(recorded)
        if seen not in self._locals:
            self._locals[seen] = stamps.same(recorded)
        return self._locals[seen]

    def _layered(self, unit_plan: Plan) -> None:
        """Say that --as-layer builds the function without its dependencies, replacing a full zip."""
        unit, path = unit_plan.unit, unit_plan.artifact
        layer = display_path(self.project.dist / f"{unit.layers[-1]}.zip")
        replaced = f", replacing the {display_path(path)} built before" if path.is_file() else ""
        self.progress(unit.name, f"code only: its dependencies are in {layer} (--as-layer){replaced}")
        self._sources[unit.name] = f"its layer {layer} (--as-layer); this zip holds the code only"

    # -- the function's own code -------------------------------------------------------------

    def _source(self, unit_plan: Plan, scratch: _Scratch) -> tuple[list[zipwriter.Member], list[str]]:
        unit, target = unit_plan.unit, unit_plan.target
        if unit.source is None:
            return [], []
        if is_python_project(unit.source):
            members, requires = self._project_wheel(unit, target, scratch.path)
            # a lock, or requirements that pin, are the truth about dependencies, not the wheel's
            # Requires-Dist (a requirements file of options only, e.g. --find-links, adds to it)
            pinned = unit.lock or (unit.requirements and read_requirements(unit.requirements).lines)
            return members, [] if pinned else requires
        files = self._source_walk(unit_plan)
        self.progress(unit.name, f"compressing {len(files)} source files")
        return zipwriter.compress_files(files), []

    def _source_walk(self, unit_plan: Plan) -> list[tuple[str, Path]]:
        """The unit's source files as packaged, walked once a run (and what was left out)."""
        unit = unit_plan.unit
        if unit.name not in self._walked:
            left_out: list[str] = []
            self._walked[unit.name] = list(unit_plan.source_files(left_out, self._real))
            self._left_out[unit.name] = tuple(left_out)
        return self._walked[unit.name]

    def _project_wheel(self, unit: Unit, target: Target, tmp: Path) -> tuple[list[zipwriter.Member], list[str]]:
        """A source folder that is a Python project: build its wheel (PEP 517), install it alone."""
        assert unit.source is not None
        self.progress(unit.name, "building the project's wheel with pypa build")
        wheel = self._build_wheel(unit.source, tmp / "wheel")
        requires = _wheel_requires(wheel)
        installed = tmp / "project"
        reqs = Requirements(lines=[str(wheel)])
        from lpack.bundle.install import install

        install(self.installer, target, installed, ["--no-deps", str(wheel)], reqs, cwd=tmp)
        select.tidy_records(installed, select.DEPENDENCY_EXCLUDES)
        files = select.walk(installed, select.DEPENDENCY_EXCLUDES)
        return zipwriter.compress_files(files), requires

    def _build_wheel(self, project: Path, outdir: Path) -> Path:
        """Build ``project`` into a wheel with pypa build (PEP 517), isolated unless told not to,
        from a copy of it: backends write ``build/`` and ``*.egg-info`` into the folder they build,
        and the user's tree is never written."""
        copy = outdir.parent / f"{outdir.name}-source"
        _copy_tree(project, copy, within=(self.project.root, *self.project.follow_links))
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(copy)]
        if not self.options.build_isolation:
            cmd.append("--no-isolation")
        elif self.installer.name == "uv":
            cmd += ["--installer", "uv"]
        env = {**os.environ, "UV": self.installer.command[0]} if self.installer.name == "uv" else None
        import subprocess

        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wheels = sorted(outdir.glob("*.whl"))
        shutil.rmtree(copy, ignore_errors=True)
        if done.returncode or not wheels:
            tail = _backend_error(done.stderr + done.stdout)
            raise BuildError(f"{project}: building its wheel failed: {redact(tail)}",
                             tip=f"run `python -m build --wheel {project}` to see the whole error")
        return wheels[-1]

    # -- dependencies, through the cache ---------------------------------------------------------

    @contextlib.contextmanager
    def _waiting(self) -> Iterator[None]:
        """Let other units do their Python work while this one waits (a cache key another unit is
        installing, the remote cache) or installs."""
        held = getattr(self._holding, "python", False)
        if held:
            self._holding.python = False
            self._python_work.release()
        try:
            yield
        finally:
            if held:
                self._python_work.acquire()
                self._holding.python = True

    def _dependencies(self, unit: Unit, target: Target, extra: list[str], scratch: _Scratch) -> tuple[list[zipwriter.Member], str]:
        found = self._requirements(unit, target, extra, scratch)
        if found is None:
            return [], "none"
        reqs, files = found
        self._declared[unit.name] = (list(reqs.files), list(reqs.local_paths))
        key = self._dependency_key(reqs, target)
        self.keys[unit.name] = key
        with self._waiting():
            entry, state = None if self.options.refresh else self.cache.lookup(key), "cached"
            if entry is None and self.remote is not None and not self.options.refresh:
                entry, state = self.remote.fetch(key, self.cache), "remote"  # verified, then committed locally
        if entry is not None:
            self.cache.used(entry)
            self.progress(unit.name, "dependencies unchanged: reusing the cached install" if state == "cached"
                          else f"dependencies unchanged: the remote cache's install ({self.remote.url if self.remote else ''})")
            return zipwriter.read_members(entry / "deps.zip"), state
        with self._waiting():
            return self._install(unit, target, reqs, files, key), "installed"

    def _requirements(self, unit: Unit, target: Target, extra: list[str],
                      scratch: _Scratch) -> tuple[Requirements, list[Path]] | None:
        """The unit's requirements (every file read, merged) and their files, or None for none."""
        files = self._requirement_files(unit, target, extra, scratch)
        if not files:
            return None
        reqs = self._declared_requirements(files[0]) if files[0] == unit.requirements else read_requirements(files[0])
        for path in files[1:]:
            more = read_requirements(path)
            reqs.files += more.files
            reqs.lines += more.lines
            reqs.names += more.names
            reqs.local_paths += more.local_paths
            reqs.local_projects += more.local_projects
            reqs.has_hashes |= more.has_hashes
        reqs.no_deps = unit.lock is not None
        reqs.origin = unit.dependencies
        return None if reqs.empty else (reqs, files)

    def _declared_requirements(self, path: Path) -> Requirements:
        """A unit's requirements file, read and parsed once a run (200 functions may share 5), as
        a copy to add to."""
        if (known := self._requirements_read.get(path)) is None:
            known = self._requirements_read[path] = read_requirements(path)
        return known.copy()

    def _dependency_key(self, reqs: Requirements, target: Target) -> str:
        """The dependency cache's key: what shapes the install, nothing of where the project is.
        Worked out once per run for each declaration and target (200 functions sharing 5
        requirements files and a wheelhouse fingerprint them 5 times, not 200)."""
        declaration = (tuple((path, path.read_bytes()) for path in reqs.files), tuple(reqs.local_paths), target.label)
        if (known := self._keys_by_declaration.get(declaration)) is not None:
            return known
        key = self._keys_by_declaration[declaration] = self._work_out_key(reqs, target)
        return key

    def _work_out_key(self, reqs: Requirements, target: Target) -> str:
        return make_key({
            "requirements": reqs.fingerprint((self.project.root, *self.project.follow_links), self._local_fingerprints),
            "runtime": target.runtime.name, "architecture": target.architecture, "tags": target.platform_tags(),
            "installer": [self.installer.name, self.installer.identity, *self._layout()],
            "env": {k: os.environ[k] for k in INSTALLER_ENV if k in os.environ},
            "pip": self._pip_settings(),
        })

    def _pip_settings(self) -> dict[str, list[str]]:
        """pip's configuration (`pipconfig.settings`), read once a run."""
        if self._pip is None:
            self._pip = pipconfig.settings()
        return self._pip

    def _layout(self) -> list[str]:
        """How the entry's members are made, when not installed and compressed: the same contents,
        other bytes, so another key (LPACK_WHEEL_COPY=0 never reuses a copied entry, nor the reverse)."""
        from lpack.bundle.installer import wheel_copy

        return ["wheel-copy"] if self.installer.name == "uv" and wheel_copy() else []

    def _extra_requirements(self, unit: Unit) -> list[str]:
        """What a source folder that is a Python project adds to the unit's requirements (its
        wheel's Requires-Dist, unless a lock or pinning requirements say it), as _source finds."""
        if unit.source is None or not is_python_project(unit.source):
            return []
        if unit.lock or (unit.requirements and read_requirements(unit.requirements).lines):
            return []
        with _Scratch() as scratch:
            return _wheel_requires(self._build_wheel(unit.source, scratch.path / "wheel"))

    def unit_key(self, unit: Unit) -> DependencyKey:
        """The unit's dependency cache key, computed as a build does, without installing."""
        unit_plan = plan(self.project, unit, self.options.runtime, self.options.architecture)
        key = None
        if not (self.options.as_layer and unit.kind == "function"):
            with _Scratch() as scratch:
                found = self._requirements(unit, unit_plan.target, self._extra_requirements(unit), scratch)
                key = None if found is None else self._dependency_key(found[0], unit_plan.target)
        return DependencyKey(unit.name, unit.kind, unit_plan.target, key, self._sources.get(unit.name, ""))

    def _requirement_files(self, unit: Unit, target: Target, extra: list[str], scratch: _Scratch) -> list[Path]:
        """The requirements files that install the unit's declared dependencies: its own file,
        or one written from its lock (exact pins, nothing to resolve) or its [project] table."""
        if unit.requirements is not None:
            self._say_source(unit, display_path(unit.requirements))
            return [unit.requirements, *self._lines_file(extra, scratch)]
        if unit.lock is not None:
            text = self._locked_requirements(unit, target)
            described = text.split("\n", 1)[0].removeprefix("# ")  # e.g. "uv.lock (12 packages, hashes)"
            self._say_source(unit, f"{display_path(unit.lock)[:-len(unit.lock.name)]}{described}")
            path = scratch.path / f"{unit.lock.name}.txt"
            path.write_text(text, encoding="utf-8")
            return [path]
        lines = extra
        if unit.manifest is not None and not extra:
            from lpack.inputs.declared import manifest_requirements

            lines = manifest_requirements(unit.manifest, unit.selection)
        if not lines:
            return []
        what = display_path(unit.manifest) + " [project]" if unit.manifest else "the project's wheel"
        self._say_source(unit, f"{what} ({len(lines)} requirements, not locked)")
        return self._lines_file(lines, scratch)

    @staticmethod
    def _lines_file(lines: list[str], scratch: _Scratch) -> list[Path]:
        if not lines:
            return []
        path = scratch.path / "project-requires.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [path]

    def _locked_requirements(self, unit: Unit, target: Target) -> str:
        """The lock's set for the target as a requirements file; remembered per lock bytes, so a
        rebuild after a source-only edit neither parses the lock nor evaluates its markers."""
        from lpack.core.cache import file_digest, memo
        from lpack.inputs.declared import manifest_of, read_lock
        from lpack.inputs.requirements import from_lock

        assert unit.lock is not None
        parts = {"lock": str(unit.lock), "bytes": file_digest(unit.lock), "manifest": file_digest(manifest_of(unit.lock)),
                 "target": [target.runtime.name, target.architecture], "selection": list(unit.selection),
                 "own": str(unit.source)}
        return memo(self.cache.root, "locked", parts,
                    lambda: from_lock(read_lock(unit.lock, target, unit.selection), own=unit.source))  # type: ignore[arg-type]

    def _say_source(self, unit: Unit, text: str) -> None:
        if unit.dependency_note:
            text += f"; {unit.dependency_note}"
        if self._sources.get(unit.name) == text:
            return  # said already (the remote cache's lookup reads the declaration first)
        self._sources[unit.name] = text
        self.progress(unit.name, f"dependencies: {text}")

    def _install(self, unit: Unit, target: Target, reqs: Requirements, files: list[Path], key: str) -> list[zipwriter.Member]:
        """Install into a staging entry, compress, and commit the entry to the cache. Returns the
        compressed members (in memory: this build need not read them back)."""
        staged = self.cache.staging()
        try:
            tree = staged / "tree"
            count = len(reqs.lines)
            self.progress(unit.name, f"installing {count} requirement{'s' * (count != 1)} with {self.installer.name} for {target.label}")
            if reqs.local_projects:  # binary-only installs cannot build them: build their wheels here
                self.progress(unit.name, f"building {len(reqs.local_projects)} local project(s) with pypa build")
                work = staged / "work"
                wheels = {p: self._build_wheel(p, work / str(i)) for i, p in enumerate(reqs.local_projects)}
                copies = rewrite(reqs, wheels, work, hashed=reqs.has_hashes)
                files = [copies[reqs.files.index(f.resolve())] for f in files]
            from lpack.bundle import wheelcopy
            from lpack.bundle.install import install, requirement_args

            args = requirement_args(files, reqs.has_hashes) + (["--no-deps"] if reqs.no_deps else [])
            on_step = lambda line: self.progress(unit.name, f"{self.installer.name}: {line}")
            # the wheels' members copied as they are (issue #23), else installed and compressed
            copied = wheelcopy.install_members(self.installer, target, args, reqs, files[0].parent,
                                               self.cache.root, staged / "work", on_step)
            members: list[zipwriter.Member] = [] if copied is None else copied
            if copied is None:
                install(self.installer, target, tree, args, reqs, cwd=files[0].parent, on_step=on_step)
            if copied is None and tree.exists():
                select.tidy_records(tree, select.DEPENDENCY_EXCLUDES)
                self.progress(unit.name, "compressing the dependencies")
                members = zipwriter.compress_files(select.walk(tree, select.DEPENDENCY_EXCLUDES))
            zipwriter.atomic_write_zip(staged / "deps.zip", members, durable=False, tip=CACHE_TIP)
            meta = {"requirements": [redact(line) for line in reqs.lines], "target": target.as_dict(),
                    "installer": self.installer.name, "files": len(members)}
            atomic_write_text(staged / "meta.json", json.dumps(meta, indent=2) + "\n", durable=False, tip=CACHE_TIP)
            shutil.rmtree(tree, ignore_errors=True)
            shutil.rmtree(staged / "work", ignore_errors=True)
            entry = self.cache.commit(key, staged)
            if self.remote is not None and not self.remote.read_only:
                self.progress(unit.name, f"sharing the install with the remote cache {self.remote.url}")
                self.remote.store(key, entry)
            # copied members point at the wheels, which need not outlive the build: the entry's instead
            return members if copied is None else zipwriter.read_members(entry / "deps.zip")
        except BaseException as exc:
            shutil.rmtree(staged, ignore_errors=True)  # never a half entry
            if is_refused_write(exc):  # the installer's tree, a RECORD rewritten, a wheel built
                raise cannot_write(self.cache.root, exc, tip=CACHE_TIP) from exc
            raise

    # -- limits ---------------------------------------------------------------------------------

    def _package_findings(self, unit: Unit, target: Target, index: PackageIndex,
                          built: _Built) -> list[Finding]:
        layers = []
        for name in unit.layers:
            with self._waiting():
                layer = built.get(name, wait=unit.kind == "function")
            if layer is not None:
                layers.append(layer)
            elif not name.startswith("arn:") and (self.project.dist / f"{name}.zip").is_file():
                layers.append(read_package(self.project.dist / f"{name}.zip"))
        given = self.layer_zips if unit.kind == "function" else ()
        layers += given
        # The limits from the central directory; the handler and its imports from the entries
        # (a package that cannot start is an error now, not after deployment). The other content
        # rules run in `lpack check`.
        subject = PackageSubject(package=index, kind=unit.kind, layers=tuple(layers),
                                 layer_count=len(unit.layers) + len(given), upload=unit.upload, function=unit.name, target=target, handler=unit.handler,
                                 features=unit.settings.lambda_features)
        return engine.check_package(subject, contents=False)


def _saved(rows: Any) -> tuple[Saved, ...]:
    """What a stamp recorded --slim left out (rows of Saved's fields)."""
    from lpack.bundle.slim import Saved

    return tuple(Saved(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows)


def _distributions(members: list[zipwriter.Member]) -> int:
    return len({m.name.split("/", 1)[0] for m in members if m.name.split("/", 1)[0].endswith(".dist-info")})


def refuse_layer_paths(paths: tuple[Path, ...]) -> None:
    """--layer ZIP names layer .zips: a folder or a missing file stops the build before it starts
    (``lpack build --layer FOLDER`` reads as the switch that is now --as-layer)."""
    for path in paths:
        if path.is_dir():
            raise UsageError(f"{path}: --layer takes a layer .zip the function is deployed with, not a folder",
                             tip="to package the functions' dependencies as a layer, use --as-layer")
        if not path.is_file():
            raise UsageError(f"{path}: no such layer .zip (--layer)")


def _layer_zips(paths: tuple[Path, ...]) -> tuple[PackageIndex, ...]:
    refuse_layer_paths(paths)
    return tuple(read_package(path) for path in paths)


class _Scratch:
    """A temporary folder made on first use (most builds need none) and removed at the end."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def __enter__(self) -> _Scratch:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        if self._path is not None:
            shutil.rmtree(self._path, ignore_errors=True)

    @property
    def path(self) -> Path:
        if self._path is None:
            import tempfile

            self._path = Path(tempfile.mkdtemp(prefix="lpack-build-"))
        return self._path


# what an inputs digest covers, and how: records of another version are not compared (version 3:
# paths relative to the project; before, absolute paths made every checkout folder "changed")
_INPUTS_VERSION = 3


def _portable(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    return Path(os.path.relpath(path, root)).as_posix()


def inputs_digest(unit_plan: Plan, files: list[tuple[str, Path]] | None = None) -> str:
    """sha256 over what a unit's package is built from: its source files (as the build walks
    them), its dependency declaration, the settings that shape the zip, and the target.
    Contents, not modification times: a git checkout rewrites those."""
    import hashlib

    unit = unit_plan.unit
    root = unit_plan.project.root
    # the settings that shape the zip (not memory, environment or which findings to ignore); paths
    # relative to the project, so a checkout in another folder (another CI runner, a CDK app on
    # another machine) has the same digest
    shaping: tuple[object, ...] = (_INPUTS_VERSION, unit_plan.target.label, unit.kind, unit.handler, unit.exclude, unit.layers,
               tuple(unit.selection), _portable(unit.source, root), _portable(unit.dependencies, root))
    if unit.slim:  # another zip from the same files (not added otherwise: earlier digests stay as they were)
        shaping += ("slim",)
    if unit.source_patterns:
        shaping += (unit.source_patterns,)
    digest = hashlib.sha256(repr(shaping).encode())
    if unit.dependencies is not None and unit.dependencies.is_file():
        digest.update(hashlib.sha256(unit.dependencies.read_bytes()).digest())
    for rel, path in unit_plan.source_files() if files is None else files:
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _inputs_record(zip_sha256: str) -> Path:
    """Where the inputs digest of a built zip is remembered: lpack's cache, by the zip's sha256.
    dist/ holds only the zips and dist/lpack-manifest.json (which records it too, for a CI runner
    whose cache is fresh); nothing else goes there, as people upload dist/*.zip as they are."""
    return default_root() / "inputs" / zip_sha256[:2] / zip_sha256


# a zip's bytes can come from several sets of inputs (functions sharing a CodeUri, pure-Python
# dependencies built for two runtimes): each set that produced it is remembered, up to this many
_INPUTS_KEPT = 64
_INPUTS_LOCK = threading.Lock()


def write_inputs_manifest(unit_plan: Plan, zip_sha256: str, files: list[tuple[str, Path]] | None = None,
                          digest: str | None = None, writes: CacheWrites | None = None) -> str:
    """Remember in the cache that the zip with ``zip_sha256`` was built from the unit's inputs
    (now, or on ``writes``' threads); returns their digest (``digest``, when already worked out)."""
    digest = digest or inputs_digest(unit_plan, files)
    if writes is None:
        _record_inputs(zip_sha256, digest)
    else:
        writes.submit(lambda: _record_inputs(zip_sha256, digest))
    return digest


def _record_inputs(zip_sha256: str, digest: str) -> None:
    with _INPUTS_LOCK:  # units of one run with the same bytes (a shared source) each add theirs
        known = [d for d in _recorded_inputs(zip_sha256) or () if d != digest]
        record = {"version": _INPUTS_VERSION, "inputs_sha256": [digest, *known][:_INPUTS_KEPT]}
        try:
            atomic_write_text(_inputs_record(zip_sha256), json.dumps(record) + "\n", durable=False)
        except OSError:
            pass  # a read-only cache: check will take the zip as it is (or as dist/'s manifest says)


def _recorded_inputs(zip_sha256: str) -> list[str] | None:
    """The input digests a zip was built from, or None when lpack has no (readable) record of it."""
    try:
        record = json.loads(_inputs_record(zip_sha256).read_text(encoding="utf-8"))
        recorded = record["inputs_sha256"]
        if record["version"] != _INPUTS_VERSION:  # digests of another kind: not comparable
            return None
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return [d for d in recorded if isinstance(d, str)] if isinstance(recorded, list) else None


def stale_package(unit_plan: Plan, zip_path: Path) -> bool:
    """Whether ``zip_path`` was built by lpack from other inputs than the unit has now: the inputs
    dist/lpack-manifest.json records for the zip's bytes (a CI runner with a restored dist/ and a
    fresh cache), and those lpack's cache remembers. A zip neither records, built by another tool
    or on another machine, is taken as it is."""
    from lpack.bundle.manifest import recorded_inputs
    from lpack.bundle.stamps import file_sha256, stamped_digest

    zip_sha256 = file_sha256(zip_path)  # both remembered by stat: an unchanged zip and source are not read
    if zip_sha256 is None:
        return False
    known = [*(recorded_inputs(zip_path.parent, zip_sha256) or ()), *(_recorded_inputs(zip_sha256) or ())]
    return bool(known) and stamped_digest(unit_plan, inputs_digest) not in known


def _copy_tree(source: Path, dest: Path, within: tuple[Path, ...]) -> None:
    """Copy a project to build it elsewhere: its files, without caches, VCS folders, virtual
    environments or earlier build output; links are followed as far as ``within`` lets them."""
    for rel, path in select.walk(source, select.SOURCE_EXCLUDES, within=within):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _backend_error(output: str) -> str:
    """The build backend's own error, not pypa build's wrapper lines around it."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    noise = ("ERROR Backend subprocess exited", "TIP", "* ", "Traceback", "File \"")
    useful = [ln for ln in lines if not ln.startswith(noise)]
    return redact(" ".join((useful or lines)[-2:]) or "no output")


def _with_directories(members: dict[str, zipwriter.Member]) -> list[zipwriter.Member]:
    folders = {name.rsplit("/", i)[0] + "/" for name in members for i in range(1, name.count("/") + 1)}
    everything = {**{f: zipwriter.directory(f) for f in folders}, **members}
    return [everything[name] for name in sorted(everything)]


def _wheel_requires(wheel: Path) -> list[str]:
    import zipfile
    from email.parser import HeaderParser

    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        metadata = HeaderParser().parsestr(zf.read(name).decode("utf-8"))
    return [value for value in metadata.get_all("Requires-Dist") or []]

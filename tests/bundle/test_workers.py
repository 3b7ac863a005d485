"""`lpack build --jobs N` on worker processes (lpack.bundle.workers): enough units that the build
forks, and what it builds, reports and leaves behind is what one job builds."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lpack.bundle import workers
from lpack.cli import main
from tests.bundle.test_jobs import _comparable, _old_huge_layer, _zips
from tests.factories import make_wheel
from tests.factories.processes import interruptible_python

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
FUNCTIONS = 24  # over workers.PROCESS_THRESHOLD: --jobs 2 forks two workers
SETS = ("a.txt", "b.txt", "c.txt", None)  # round-robin; None: no dependencies of its own


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("workers-wheels")
    for name in ("alpha", "beta", "gamma", "delta"):
        make_wheel(house, name, "1.0", files={f"{name}/__init__.py": f"NAME = {name!r}\n" * 200})
    return house


def _requirements(wheels: Path, *names: str) -> str:
    return "\n".join(["--no-index", f"--find-links {wheels}", *(f"{n}==1.0" for n in names)]) + "\n"


def fn(i: int) -> str:
    return f"fn{i:02d}"


def _project(root: Path, wheels: Path, missing: int | None = None, functions: int = FUNCTIONS) -> Path:
    """``functions`` functions over three dependency sets (and some with none), a layer that every
    third function uses; function ``missing`` asks for a wheel the folder does not have."""
    root.mkdir(parents=True)
    for name, wanted in zip(SETS, (("alpha",), ("alpha", "beta"), ("gamma",))):
        (root / str(name)).write_text(_requirements(wheels, *wanted))
    (root / "layer.txt").write_text(_requirements(wheels, "delta"))
    (root / "missing.txt").write_text(_requirements(wheels, "no-such-wheel"))
    config = 'runtime = "python3.12"\nhandler = "app.lambda_handler"\n[layers.shared]\nrequirements = "layer.txt"\n'
    for i in range(functions):
        (root / fn(i)).mkdir()
        (root / fn(i) / "app.py").write_text(HANDLER + f"# {fn(i)}\n")
        config += f'[functions.{fn(i)}]\nsource = "{fn(i)}"\n'
        reqs = "missing.txt" if i == missing else SETS[i % len(SETS)]
        if reqs is not None:
            config += f'requirements = "{reqs}"\n'
        if i % 3 == 0:
            config += 'layers = ["shared"]\n'
    (root / "lpack.toml").write_text(config)
    return root


def test_enough_units_build_on_processes_only_where_fork_is() -> None:
    assert workers.usable(workers.PROCESS_THRESHOLD, 2) == ("fork" in multiprocessing.get_all_start_methods())
    assert not workers.usable(workers.PROCESS_THRESHOLD - 1, 2)  # a few units: threads
    assert not workers.usable(200, 1)


def test_jobs_2_on_processes_builds_the_zips_manifest_and_report_of_jobs_1(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for jobs in ("1", "2"):
        root = _project(tmp_path / jobs / "proj", wheels)
        code = main(["build", str(root), "--cache-dir", str(tmp_path / f"cache-{jobs}"), "--format", "json",
                     "--jobs", jobs])
        report = json.loads(capsys.readouterr().out)
        manifest = (root / "dist" / "lpack-manifest.json").read_text().replace(str(root), "ROOT")
        outcomes.append((code, _comparable(report).replace(str(root), "ROOT"), _zips(root / "dist"), manifest, report))
    assert outcomes[0][0] == outcomes[1][0] == 0
    assert outcomes[0][1] == outcomes[1][1]  # the report, in unit order
    assert outcomes[0][2] == outcomes[1][2] and len(outcomes[1][2]) == FUNCTIONS + 1
    assert outcomes[0][3] == outcomes[1][3]  # dist/lpack-manifest.json
    states = [a["dependencies"] for a in outcomes[1][4]["artifacts"]]
    assert states.count("installed") == 4  # the layer's set and three functions' sets, each once
    assert states.count("none") == FUNCTIONS // len(SETS)
    assert len(list((tmp_path / "cache-2" / "deps").glob("*/*"))) == 4
    again = main(["build", str(root), "--cache-dir", str(tmp_path / "cache-2"), "--format", "json", "--jobs", "2"])
    # both workers' stamps are in the project's one stamp file: the next build builds nothing
    assert again == 0 and [a.get("current") for a in json.loads(capsys.readouterr().out)["artifacts"]] == [True] * (FUNCTIONS + 1)


def test_the_build_runs_on_worker_processes_and_reports_every_step_as_whole_lines(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.inputs.detect import load

    root = _project(tmp_path / "proj", wheels)
    heard: list[tuple[str, str, int]] = []  # unit, message, the workers alive as the parent hears it

    def progress(unit: str, message: str) -> None:
        heard.append((unit, message, len(multiprocessing.active_children())))

    result = build_project(load(root, None)[0], BuildOptions(jobs=2, cache_dir=tmp_path / "cache"), progress)
    assert not result.failures and len(result.artifacts) == FUNCTIONS + 1
    assert [a.name for a in result.artifacts] == ["shared", *(fn(i) for i in range(FUNCTIONS))]
    assert max(alive for _u, _m, alive in heard) == 2  # two workers, heard while they build
    assert {unit for unit, message, _a in heard if message.startswith("writing ")} == {a.name for a in result.artifacts}
    assert all("\n" not in message for _u, message, _a in heard)
    assert multiprocessing.active_children() == []  # every worker reaped


def test_a_failing_unit_on_processes_leaves_the_others_built_as_one_job_does(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for jobs in ("1", "2"):
        root = _project(tmp_path / jobs / "proj", wheels, missing=5)
        code = main(["build", str(root), "--cache-dir", str(tmp_path / f"cache-{jobs}"), "--jobs", jobs, "-q"])
        err = capsys.readouterr().err
        outcomes.append((code, err.replace(str(root), "ROOT"), _zips(root / "dist")))
    assert outcomes[0][0] == outcomes[1][0] == 2
    assert outcomes[0][1] == outcomes[1][1]
    assert outcomes[1][1].startswith(f"lpack: error: {fn(5)}: ")
    assert outcomes[0][2] == outcomes[1][2]
    assert f"{fn(5)}.zip" not in outcomes[1][2] and len(outcomes[1][2]) == FUNCTIONS


def test_functions_on_processes_are_judged_with_the_layer_this_run_builds(
        tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "proj", wheels)
    _old_huge_layer(root / "dist" / "shared.zip")
    code = main(["build", str(root), "--cache-dir", str(tmp_path / "cache"), "--jobs", "2", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["findings"]
    assert report["findings"] == []


def test_an_internal_error_in_a_worker_stops_the_run_and_every_worker(
        tmp_path: Path, wheels: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in one unit's build (here: planted in the forked workers) is not a unit failure: the
    run stops with it, as one job does, and no worker outlives it."""
    from lpack.bundle import builder
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.inputs.detect import load

    root = _project(tmp_path / "proj", wheels)
    write = builder._Builder._write

    def broken(self: builder._Builder, unit: object, *args: object) -> object:
        if getattr(unit, "name", "") == fn(9):
            raise ZeroDivisionError("planted bug")
        return write(self, unit, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(builder._Builder, "_write", broken)
    with pytest.raises(ZeroDivisionError, match="planted bug"):
        build_project(load(root, None)[0], BuildOptions(jobs=2, cache_dir=tmp_path / "cache"))
    assert multiprocessing.active_children() == []
    assert list((tmp_path / "cache" / "tmp").glob("entry-*")) == []
    assert [p.name for p in (root / "dist").iterdir() if not p.name.endswith(".zip")] == []


def _session(leader: int) -> list[int]:
    """The processes of the session ``leader`` started (it, its workers, their installers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader and fields[0] != "Z":  # field 6 of stat: the session id
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def lpack_env() -> Iterator[dict[str, str]]:
    yield {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
@pytest.mark.parametrize("to", ["parent", "group"], ids=["kill-parent", "ctrl-c-at-a-terminal"])
def test_ctrl_c_stops_every_worker_and_leaves_nothing_half_written(
        tmp_path: Path, wheels: Path, lpack_env: dict[str, str], to: str) -> None:
    """SIGINT to `lpack build -j 2` (to it alone, or to its process group as a terminal's Ctrl-C
    does) while its workers build: exit 130, no process of it left, nothing half-written."""
    # 96 functions, not 24: the workers' functions take long enough that a test process starved of
    # the CPU (two of these tests at once on two cores) still reads a line of theirs while they run
    root = _project(tmp_path / "proj", wheels, functions=96)
    cache = tmp_path / "cache"
    with subprocess.Popen(interruptible_python("-m", "lpack", "build", str(root), "--cache-dir", str(cache),
                                               "--jobs", "2"), stderr=subprocess.PIPE, text=True, env=lpack_env,
                          start_new_session=True) as build:
        assert build.stderr is not None
        for line in build.stderr:  # until both workers are at the functions (the layer is built)
            if line.startswith("fn") and len(_session(build.pid)) >= 3:
                break
        else:
            pytest.fail(f"the build ended before it was interrupted: {build.wait()}")
        os.kill(build.pid, signal.SIGINT) if to == "parent" else os.killpg(build.pid, signal.SIGINT)
        err = build.stderr.read()
        assert build.wait(timeout=60) == 130, err
    assert "Traceback" not in err
    deadline = time.monotonic() + 10
    while _session(build.pid) and time.monotonic() < deadline:  # reaped by now: nothing may linger
        time.sleep(0.1)
    assert _session(build.pid) == []
    assert [p.name for p in (root / "dist").iterdir() if not p.name.endswith(".zip")] == []  # not even the manifest
    for path in (root / "dist").glob("*.zip"):
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
    assert list((cache / "tmp").glob("entry-*")) == []


def test_a_ctrl_c_that_lands_as_a_worker_forks_stops_the_build_quietly(
        tmp_path: Path, wheels: Path, lpack_env: dict[str, str]) -> None:
    """A terminal's Ctrl-C reaches the build and its workers at once, one of them perhaps between
    fork() and its own handlers (here the first worker, from an after-fork hook, signals itself and
    the build): exit 130, no traceback ("Exception ignored in ... after_at_fork"), nothing written."""
    root = _project(tmp_path / "proj", wheels)
    script = ("import os, signal, sys\n"
              "os.register_at_fork(after_in_child=lambda: (os.kill(os.getppid(), signal.SIGINT), "
              "os.kill(os.getpid(), signal.SIGINT)))\n"
              "from lpack._entry import main\n"
              f"sys.argv = ['lpack', 'build', {str(root)!r}, '--cache-dir', {str(tmp_path / 'cache')!r}, '--jobs', '2']\n"
              "sys.exit(main())\n")
    done = subprocess.run(interruptible_python("-c", script), capture_output=True, text=True, env=lpack_env,
                          timeout=120, check=False)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert not (root / "dist").exists() or [p.name for p in (root / "dist").iterdir()] == []


@pytest.mark.parametrize(("counts", "jobs"), [((40, 40, 40, 40, 40), 2), ((150, 30, 20), 2), ((7, 5, 3, 1), 3),
                                               ((3, 3, 3), 2), ((17,), 4), ((), 2)],
                         ids=["even-sets", "one-large-set", "uneven", "small-sets", "one-set", "no-dependencies"])
def test_a_partition_balances_counts_and_keeps_a_set_on_one_worker_where_it_fits(counts: tuple[int, ...],
                                                                                 jobs: int) -> None:
    from lpack.inputs.config import Unit

    def unit(name: str, deps: Path | None) -> Unit:
        return Unit(name=name, kind="function", where="lpack.toml", source=None, handler="app.handler",  # type: ignore[call-arg]
                    requirements=deps)

    units = [unit(f"s{k}-{i:03d}", Path(f"/p/set{k}.txt")) for k, count in enumerate(counts) for i in range(count)]
    units += [unit(f"none-{i}", None) for i in range(5 if counts else 20)]
    shares = workers.partition(units, jobs)
    sizes = sorted(len(share) for share in shares)
    assert sorted(u.name for s in shares for u in s) == sorted(u.name for u in units)
    assert len(shares) == jobs and sizes[-1] - sizes[0] <= 1  # balanced by count
    split = [k for k in range(len(counts)) if sum(any(u.name.startswith(f"s{k}-") for u in s) for s in shares) > 1]
    assert len(split) <= jobs - 1  # a worker that fills up splits one set at most
    for share in shares:  # a set's units a worker did not start with come last in its share
        starts = {u.name.split("-")[0] for u in share if u.name.endswith("-000") or u.name.startswith("none")}
        late = [u.name.split("-")[0] not in starts for u in share]
        assert late == sorted(late)


@pytest.mark.parametrize("steal", [True, False])
def test_a_worker_whose_share_is_done_takes_from_the_back_of_the_fullest_share(steal: bool) -> None:
    """Units are taken one at a time: each worker from the front of its own share, then (without
    a remote cache, whose downloads each worker starts for its own share) from the back of the
    share with the most left, so no worker idles while another's units wait."""
    from lpack.inputs.config import Unit

    def unit(name: str) -> Unit:
        return Unit(name=name, kind="function", where="lpack.toml", source=None, handler="app.handler",  # type: ignore[call-arg]
                    requirements=None)

    shares = [[unit(n) for n in "abcdef"], [unit("g")], [unit(n) for n in "hij"]]
    queue = workers._Queue(multiprocessing.get_context("fork"), shares, steal=steal)
    taken = [(worker, getattr(queue.take(worker), "name", None)) for worker in (1, 1, 1, 2, 0, 1, 2, 2, 2, 0, 1, 1)]
    if steal:
        assert taken == [(1, "g"), (1, "f"), (1, "e"), (2, "h"), (0, "a"), (1, "d"), (2, "i"), (2, "j"),
                         (2, "c"), (0, "b"), (1, None), (1, None)]
    else:
        assert taken == [(1, "g"), (1, None), (1, None), (2, "h"), (0, "a"), (1, None), (2, "i"), (2, "j"),
                         (2, None), (0, "b"), (1, None), (1, None)]


def test_the_parents_garbage_is_collected_again_after_the_workers_fork(tmp_path: Path, wheels: Path) -> None:
    """What the parent had allocated is kept from the collector while the workers fork (their
    collections then copy none of the memory they share with it), and given back after."""
    import gc

    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.inputs.detect import load

    root = _project(tmp_path / "proj", wheels)
    result = build_project(load(root, None)[0], BuildOptions(jobs=2, cache_dir=tmp_path / "cache"))
    assert not result.failures and len(result.artifacts) == FUNCTIONS + 1
    assert gc.get_freeze_count() == 0


def test_a_worker_imports_no_module_of_lpack_that_the_parent_could_have_before_the_fork(
        tmp_path: Path, wheels: Path) -> None:
    """Each worker importing (and compiling the patterns of) what a unit's build uses was ~40 ms
    of every worker's time (`workers._prepare` does it once, before the fork)."""
    root = _project(tmp_path / "proj", wheels)
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import os, sys\n"
        "from lpack.bundle import workers\n"
        "real = workers._build_share\n"
        "def share(*args, **kwargs):\n"
        "    before = set(sys.modules)\n"
        "    try:\n"
        "        return real(*args, **kwargs)\n"
        "    finally:\n"
        "        new = sorted(m for m in set(sys.modules) - before if m.startswith(('lpack', 'tomllib')))\n"
        "        with open(sys.argv[1] + f'-{os.getpid()}', 'w') as out:\n"
        "            out.write(' '.join(new))\n"
        "workers._build_share = share\n"
        "from lpack.cli import main\n"
        "sys.exit(main(sys.argv[2:]))\n")
    done = subprocess.run([sys.executable, str(driver), str(tmp_path / "imported"), "build", str(root), "-q",
                           "--cache-dir", str(tmp_path / "cache"), "--jobs", "2"], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = {p.name: p.read_text() for p in tmp_path.glob("imported-*")}
    assert len(found) == 3 and set(found.values()) == {""}, found  # the layer's worker, then two for the functions

"""`lpack build --jobs N`: units build at once, and what they build is what one at a time builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories import make_wheel

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
# function -> its requirements file (None: no dependencies of its own); "shared" is a layer
FUNCTIONS = {"api": "a.txt", "billing": "a.txt", "cron": "b.txt", "events": "b.txt", "web": None}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("jobs-wheels")
    for name in ("alpha", "beta", "gamma"):
        make_wheel(house, name, "1.0", files={f"{name}/__init__.py": f"NAME = {name!r}\n" * 200})
    return house


def _requirements(wheels: Path, *names: str) -> str:
    return "\n".join(["--no-index", f"--find-links {wheels}", *(f"{n}==1.0" for n in names)]) + "\n"


def _project(root: Path, wheels: Path, missing: str | None = None) -> Path:
    """Five functions over two dependency sets and a layer with a third; ``missing`` names a
    function whose requirements ask for a wheel the folder does not have."""
    (root / "a.txt").parent.mkdir(parents=True)
    (root / "a.txt").write_text(_requirements(wheels, "alpha"))
    (root / "b.txt").write_text(_requirements(wheels, "alpha", "beta"))
    (root / "layer.txt").write_text(_requirements(wheels, "gamma"))
    (root / "missing.txt").write_text(_requirements(wheels, "no-such-wheel"))
    config = 'runtime = "python3.12"\nhandler = "app.lambda_handler"\n[layers.shared]\nrequirements = "layer.txt"\n'
    for name, reqs in FUNCTIONS.items():
        (root / name).mkdir()
        (root / name / "app.py").write_text(HANDLER + f"# {name}\n")
        config += f'[functions.{name}]\nsource = "{name}"\n'
        if name == missing:
            config += 'requirements = "missing.txt"\n'
        elif reqs is not None:
            config += f'requirements = "{reqs}"\n'
        if name in ("web", "cron"):
            config += 'layers = ["shared"]\n'
    (root / "lpack.toml").write_text(config)
    return root


def _build(root: Path, cache: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["build", str(root), "--cache-dir", str(cache), "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def _comparable(report: object) -> str:
    """The report without what a clock decides (how many seconds a build took)."""
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("seconds", "duration_s", "elapsed_s")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return json.dumps(strip(report), sort_keys=True)


def _zips(dist: Path) -> dict[str, bytes]:
    for path in dist.glob("*.zip"):
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None
    return {path.name: path.read_bytes() for path in sorted(dist.glob("*.zip"))}


def test_jobs_4_builds_the_bytes_and_the_report_of_jobs_1(tmp_path: Path, wheels: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    one = _project(tmp_path / "one" / "proj", wheels)
    four = _project(tmp_path / "four" / "proj", wheels)

    code_1, report_1 = _build(one, tmp_path / "cache-1", "--jobs", "1", capsys=capsys)
    code_4, report_4 = _build(four, tmp_path / "cache-4", "-j", "4", capsys=capsys)

    assert (code_1, code_4) == (0, 0)
    assert _zips(one / "dist") == _zips(four / "dist")
    assert sorted(_zips(four / "dist")) == ["api.zip", "billing.zip", "cron.zip", "events.zip", "shared.zip", "web.zip"]
    assert _comparable(report_1).replace(str(one), "ROOT") == _comparable(report_4).replace(str(four), "ROOT")
    states = {a["name"]: a["dependencies"] for a in report_4["artifacts"]}  # type: ignore[attr-defined]
    # each dependency set installed once, by the first unit (in order) that needs it
    assert states == {"shared": "installed", "api": "installed", "billing": "cached", "cron": "installed",
                      "events": "cached", "web": "none"}
    assert len(list((tmp_path / "cache-4" / "deps").glob("*/*"))) == 3


def test_units_sharing_a_dependency_set_run_the_installer_once(tmp_path: Path, wheels: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "proj", wheels)
    assert main(["build", str(root), "--cache-dir", str(tmp_path / "cache"), "--jobs", "4"]) == 0
    lines = capsys.readouterr().err.splitlines()
    installs = [line.split(":", 1)[0] for line in lines if ": installing " in line]
    reused = [line.split(":", 1)[0] for line in lines if ": dependencies unchanged: reusing" in line]
    assert len(installs) == 3 and len(set(installs)) == 3  # one per set: the layer's, a.txt's, b.txt's
    assert sorted(installs + reused) == ["api", "billing", "cron", "events", "shared"]
    for line in lines:  # whole lines, each prefixed with its unit
        assert line.split(":", 1)[0] in (*FUNCTIONS, "shared"), line


def test_a_failed_install_lets_its_key_go(tmp_path: Path, wheels: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two units whose shared set cannot install: each fails as it would one at a time (the second
    is not left waiting for an entry that will never come), and the build holds no key after."""
    from lpack.bundle import cache

    root = _project(tmp_path / "proj", wheels, missing="billing")
    (root / "a.txt").write_text((root / "missing.txt").read_text())  # api shares billing's set now
    assert main(["build", str(root), "--cache-dir", str(tmp_path / "cache"), "--jobs", "4", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lpack: error: api: ") and "lpack: error: billing: " in err
    assert cache._HELD == {}
    assert sorted(_zips(root / "dist")) == ["cron.zip", "events.zip", "shared.zip", "web.zip"]


def test_a_failing_unit_leaves_the_others_built_as_one_at_a_time_does(tmp_path: Path, wheels: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for jobs in ("1", "4"):
        root = _project(tmp_path / jobs / "proj", wheels, missing="billing")
        code = main(["build", str(root), "--cache-dir", str(tmp_path / f"cache-{jobs}"), "--jobs", jobs, "-q"])
        err = capsys.readouterr().err
        outcomes.append((code, err.replace(str(root), "ROOT"), _zips(root / "dist")))
    assert outcomes[0][0] == outcomes[1][0] == 2
    assert outcomes[0][1] == outcomes[1][1]
    assert outcomes[1][1].startswith("lpack: error: billing: ")
    assert outcomes[0][2] == outcomes[1][2]
    assert sorted(outcomes[1][2]) == ["api.zip", "cron.zip", "events.zip", "shared.zip", "web.zip"]


def _old_huge_layer(path: Path) -> None:
    """A layer zip an earlier build left, over the 250 MB limit: a function judged with it fails."""
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("python/huge.bin", "w", force_zip64=True) as big:
        for _ in range(251):
            big.write(bytes(1 << 20))


def test_a_function_waits_for_its_layer_built_in_the_same_run(tmp_path: Path, wheels: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A function is judged with the layer this run builds, not a dist/ zip from an earlier build."""
    root = _project(tmp_path / "proj", wheels)
    _old_huge_layer(root / "dist" / "shared.zip")
    code, report = _build(root, tmp_path / "cache", "--jobs", "8", capsys=capsys)  # all at once
    assert code == 0, report
    with zipfile.ZipFile(root / "dist" / "shared.zip") as zf:
        assert "python/gamma/__init__.py" in zf.namelist()


def test_jobs_must_be_a_positive_number(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["build", str(tmp_path), "--jobs", "0"])
    assert exit_.value.code == 2
    assert "--jobs" in capsys.readouterr().err
    monkeypatch.setenv("LPACK_JOBS", "many")
    (tmp_path / "lambda_function.py").write_text(HANDLER)
    assert main(["build", str(tmp_path), "-q"]) == 2
    assert "LPACK_JOBS='many'" in capsys.readouterr().err


def test_two_concurrent_processes_with_jobs_share_one_entry(tmp_path: Path, wheels: Path) -> None:
    """Two `lpack build -j 4` processes of the same project layout on one cold cache: every set is
    installed once across both, both succeed with the same bytes, and the cache holds whole entries."""
    cache = tmp_path / "cache"
    roots = [_project(tmp_path / f"p{i}" / "proj", wheels) for i in range(2)]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    builds = [subprocess.Popen([sys.executable, "-m", "lpack", "build", str(root), "--cache-dir", str(cache),
                                "--jobs", "4", "--format", "json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
              for root in roots]
    results = [(b.wait(timeout=300), b.communicate()) for b in builds]
    assert [code for code, _ in results] == [0, 0], results
    states = [a["dependencies"] for _, (out, _) in results for a in json.loads(out)["artifacts"]]
    assert states.count("installed") == 3 and states.count("cached") == 7
    assert _zips(roots[0] / "dist") == _zips(roots[1] / "dist")
    entries = list((cache / "deps").glob("*/*"))
    assert len(entries) == 3
    assert all({"deps.zip", "meta.json"} <= {p.name for p in entry.iterdir()} for entry in entries)
    assert list((cache / "tmp").iterdir()) == []
    shutil.rmtree(cache)


def test_an_interrupted_parallel_build_stops_and_leaves_nothing_half_done(tmp_path: Path, wheels: Path) -> None:
    """Ctrl-C (here: raised while one unit installs) ends the run with KeyboardInterrupt; the
    other units stop at their next step, no key stays held and no half entry or zip is left."""
    from lpack.bundle import cache
    from lpack.bundle.builder import BuildOptions, build_project
    from lpack.inputs.detect import load

    root = _project(tmp_path / "proj", wheels)
    cache_dir = tmp_path / "cache"

    interrupted: list[str] = []

    def progress(unit: str, message: str) -> None:
        if message.startswith("installing") and not interrupted:
            interrupted.append(unit)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_project(load(root, None)[0], BuildOptions(jobs=4, cache_dir=cache_dir), progress)
    assert cache._HELD == {}
    assert list((cache_dir / "tmp").glob("entry-*")) == []
    assert not (root / "dist" / f"{interrupted[0]}.zip").exists()
    assert [p.name for p in (root / "dist").glob("*") if not p.name.endswith(".zip")] in ([], ["lpack-manifest.json"])


@pytest.mark.parametrize("finished", [
    ("cached", "installed", "cached"), ("installed", "cached", "cached"), ("cached", "remote", "cached"),
    ("remote", "cached", "cached"), ("installed", "installed", "cached"),  # --refresh, or a failed first try
], ids=["installed-second", "installed-first", "remote-second", "remote-first", "two-installs"])
def test_the_report_names_the_first_unit_of_a_set_as_the_one_that_did_the_work(finished: tuple[str, ...]) -> None:
    from typing import NamedTuple

    from lpack.bundle.builder import _installs_first

    class Built(NamedTuple):
        name: str
        dependencies: str

    units = [Built(name, state) for name, state in zip(("a", "b", "c"), finished)]
    reported = _installs_first(units, dict.fromkeys(("a", "b", "c"), "key"))  # type: ignore[arg-type]
    assert [u.dependencies for u in reported] == sorted(finished, key=["installed", "remote", "cached"].index)

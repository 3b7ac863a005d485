#!/usr/bin/env python3
"""Benchmark `lpack build` against pip + zip and uv + zip, as ratios to a zip-only floor.

Run from the repository root (needs PyPI access; stdlib only, plus lpack, uv and pip):

    python benchmarks/bench_build.py [--runs N] [--out results.json]

For one realistic function (lambda_function.py importing requests, pydantic, yaml and dateutil;
requirements.txt pinning them) and two targets, python3.12 x86_64 and python3.12 arm64, it
measures in ONE run:

  floor        zipfile ZIP_DEFLATED level 6 over an already-installed dependency tree plus the
               source: the work no packager can skip. Every other number is a ratio to it.
  pip cold     `pip install --target --platform ... --only-binary=:all:` with --no-cache-dir, + zip
  pip warm     the same with pip's cache filled, + zip
  uv cold      `uv pip install --target --python-platform ...` with an empty UV_CACHE_DIR, + zip
  uv warm      the same with uv's cache filled and an empty target, + zip
  uv edit      after a source-only edit: what a typical script does (empty the target,
               reinstall from the warm uv cache, rezip everything)
  lpack cold   `lpack build` with an empty --cache-dir and an empty UV_CACHE_DIR
  lpack warm   lpack's cache filled, no previous dist/ zip
  lpack edit   a comment line appended to lambda_function.py, then `lpack build` again

Each row runs --runs times (default 3); the median is reported, and its ratio to the floor's
median on the same target in the same run. Installers run as subprocesses with an explicit
environment: every cache lives in a temporary folder, the machine's pip configuration and
PIP_*/UV_* settings (local find-links, constraints, extra indexes) are switched off
(PIP_CONFIG_FILE=/dev/null, UV_NO_CONFIG=1), so each tool resolves from PyPI alone.
The exit code is 0 whatever the results: the goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Pinned to the newest releases on PyPI when this benchmark was written (2026-11-23); their
# dependencies (pydantic-core, urllib3, certifi, tzdata ...) resolve to whatever is newest.
REQUIREMENTS = (
    "requests==2.34.2",
    "pydantic==2.14.3",
    "PyYAML==6.0.3",
    "python-dateutil==4.0.0",
)

SOURCE = '''\
"""A small but realistic handler: validate an event, fetch a URL, parse YAML, handle dates."""

import json

import requests
import yaml
from dateutil import parser as dateparser
from pydantic import BaseModel, HttpUrl


class Job(BaseModel):
    url: HttpUrl
    since: str
    config: str = ""


def lambda_handler(event, context):
    job = Job.model_validate(event)
    since = dateparser.isoparse(job.since)
    settings = yaml.safe_load(job.config) or {}
    response = requests.get(str(job.url), timeout=settings.get("timeout", 5))
    return {
        "statusCode": response.status_code,
        "body": json.dumps({"since": since.isoformat(), "bytes": len(response.content)}),
    }
'''

EDIT = "# benchmark: a source-only edit\n"
PROJECT_NAME = "bench-fn"
RUNTIME = "python3.12"
PYTHON_VERSION = "3.12"
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> wheel machine name

# (key, label) in the order measured and printed.
ROWS = (
    ("floor", "floor: zipfile deflate-6 of installed tree"),
    ("pip_cold", "pip cold + zip"),
    ("pip_warm", "pip warm + zip"),
    ("uv_cold", "uv cold + zip"),
    ("uv_warm", "uv warm + zip"),
    ("uv_edit", "uv after source edit (reinstall + rezip)"),
    ("lpack_cold", "lpack build cold"),
    ("lpack_warm", "lpack build warm"),
    ("lpack_edit", "lpack build after source edit"),
)

# The goals: (row, description, test on every row's ratio to the floor).
GOALS: tuple[tuple[str, str, Callable[[dict[str, float]], bool]], ...] = (
    ("lpack_edit", "after a source-only edit <= 0.25x floor", lambda r: r["lpack_edit"] <= 0.25),
    ("lpack_warm", "warm <= 0.5x floor", lambda r: r["lpack_warm"] <= 0.5),
    ("lpack_cold", "cold <= uv cold + zip", lambda r: r["lpack_cold"] <= r["uv_cold"]),
)

# Environment variables that would change what pip or uv installs, or where they cache.
# Everything PIP_* / UV_* is dropped except these harmless transport settings.
_KEEP = ("PIP_CERT", "PIP_DEFAULT_TIMEOUT")


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not (k.startswith(("PIP_", "UV_")) and k not in _KEEP)
        and k not in ("LPACK_CACHE_DIR", "SOURCE_DATE_EPOCH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    }
    env.update({
        "PIP_CONFIG_FILE": os.devnull,  # pip reads no configuration file at all
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "UV_NO_CONFIG": "1",
        "UV_NO_PROGRESS": "1",
        "PYTHONWARNINGS": "ignore",
    })
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-15:])
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return done


def timed(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = run(cmd, env, cwd)
    return time.perf_counter() - start, done


def zip_tree(tree: Path, source: Path, out: Path) -> float:
    """The floor's work: walk the tree, deflate every file at level 6, add the handler."""
    start = time.perf_counter()
    out.unlink(missing_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for folder, dirs, files in os.walk(tree):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                zf.write(path, os.path.relpath(path, tree))
        zf.write(source / "lambda_function.py", "lambda_function.py")
    return time.perf_counter() - start


def reset_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zip_facts(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    dists = sorted(i.filename.split("/")[0] for i in infos
                   if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/METADATA"))
    pyc = sum(1 for i in infos if i.filename.endswith(".pyc"))
    return {"zip_bytes": path.stat().st_size, "files": len(infos),
            "unzipped_bytes": sum(i.file_size for i in infos), "pyc_files": pyc, "dists": dists}


class Bench:
    def __init__(self, root: Path, arch: str, pip_cache: Path, uv_warm_cache: Path) -> None:
        self.arch = arch
        self.machine = ARCHITECTURES[arch]
        self.label = f"{RUNTIME} {arch}"
        self.root = reset_dir(root / arch)
        self.project = self.root / PROJECT_NAME
        self.project.mkdir()
        (self.project / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
        self.write_source()
        self.requirements = self.project / "requirements.txt"
        self.out = reset_dir(self.root / "out")
        self.pip_cache = pip_cache
        self.uv_warm_cache = uv_warm_cache
        self.samples: dict[str, list[float]] = {key: [] for key, _ in ROWS}
        self.parts: dict[str, dict[str, list[float]]] = {}
        self.zips: dict[str, Path] = {}
        self.lpack_hashes: list[dict[str, str]] = []
        self.lpack_reported: dict[str, list[float]] = {"lpack_cold": [], "lpack_warm": [], "lpack_edit": []}

    # -- the function's source ---------------------------------------------------------------

    def write_source(self, edited: bool = False) -> None:
        (self.project / "lambda_function.py").write_text(SOURCE + (EDIT if edited else ""))

    # -- commands ----------------------------------------------------------------------------

    def pip_cmd(self, target: Path, cold: bool) -> list[str]:
        cmd = [sys.executable, "-m", "pip", "install", "--target", str(target)]
        for tag in pip_platforms(self.machine):
            cmd += ["--platform", tag]
        cmd += ["--implementation", "cp", "--python-version", PYTHON_VERSION,
                "--only-binary=:all:", "-r", str(self.requirements)]
        return cmd + (["--no-cache-dir"] if cold else [])

    def uv_cmd(self, target: Path) -> list[str]:
        return [uv_binary(), "pip", "install", "--target", str(target),
                "--python-platform", f"{self.machine}-manylinux_2_17",
                "--python-version", PYTHON_VERSION, "--only-binary", ":all:",
                "-r", str(self.requirements)]

    def lpack_cmd(self, cache: Path) -> list[str]:
        return [*lpack_command(), "build", str(self.project), "--runtime", RUNTIME,
                "--arch", self.arch, "--installer", "uv", "--cache-dir", str(cache),
                "--format", "json", "-q"]

    # -- setup (not timed) -------------------------------------------------------------------

    def prepare(self) -> None:
        """Fill pip's and uv's warm caches; install the floor's tree once."""
        self.floor_tree = self.root / "floor-tree"
        run(self.uv_cmd(self.floor_tree), clean_env(UV_CACHE_DIR=str(self.uv_warm_cache)))
        scratch = self.root / "pip-prime"
        run(self.pip_cmd(scratch, cold=False), clean_env(PIP_CACHE_DIR=str(self.pip_cache)))
        shutil.rmtree(scratch, ignore_errors=True)
        zip_tree(self.floor_tree, self.project, self.out / "floor.zip")  # warm the page cache

    # -- one measurement of every row --------------------------------------------------------

    def record(self, key: str, seconds: float, **parts: float) -> None:
        self.samples[key].append(seconds)
        for name, value in parts.items():
            self.parts.setdefault(key, {}).setdefault(name, []).append(value)

    def installer_then_zip(self, key: str, cmd_for: Callable[[Path], list[str]], env: dict[str, str],
                           edited: bool = False) -> None:
        target = self.root / f"target-{key}"
        shutil.rmtree(target, ignore_errors=True)
        self.write_source(edited)
        install_s, _ = timed(cmd_for(target), env)
        zip_s = zip_tree(target, self.project, self.out / f"{key}.zip")
        self.zips[key] = self.out / f"{key}.zip"
        self.record(key, install_s + zip_s, install=install_s, zip=zip_s)

    def lpack(self, key: str, cache: Path, uv_cache: Path) -> str:
        seconds, done = timed(self.lpack_cmd(cache), clean_env(UV_CACHE_DIR=str(uv_cache)))
        report = json.loads(done.stdout)
        artifact = report["artifacts"][0]
        dist = Path(artifact["path"])
        self.zips[key] = self.out / f"{key}.zip"
        shutil.copyfile(dist, self.zips[key])
        self.record(key, seconds)
        self.lpack_reported[key].append(artifact["seconds"])
        return str(artifact["sha256"])

    def measure_once(self, tmp: Path, number: int) -> None:
        self.write_source()
        self.record("floor", zip_tree(self.floor_tree, self.project, self.out / "floor.zip"))
        self.zips["floor"] = self.out / "floor.zip"

        self.installer_then_zip("pip_cold", lambda t: self.pip_cmd(t, cold=True), clean_env())
        self.installer_then_zip("pip_warm", lambda t: self.pip_cmd(t, cold=False),
                                clean_env(PIP_CACHE_DIR=str(self.pip_cache)))

        # The two cold rows download the same wheels: run them back to back and swap their order
        # every run, so network drift (and any cache between here and PyPI) favours neither.
        lpack_cache = reset_dir(tmp / "lpack-cache")
        lpack_uv = reset_dir(tmp / "lpack-uv-cache")
        hashes: dict[str, str] = {}
        for row in (("uv_cold", "lpack_cold") if number % 2 else ("lpack_cold", "uv_cold")):
            if row == "uv_cold":
                cold_uv = reset_dir(tmp / "uv-cold-cache")
                self.installer_then_zip("uv_cold", self.uv_cmd, clean_env(UV_CACHE_DIR=str(cold_uv)))
                shutil.rmtree(cold_uv, ignore_errors=True)
            else:
                shutil.rmtree(self.project / "dist", ignore_errors=True)
                self.write_source()
                hashes["cold"] = self.lpack("lpack_cold", lpack_cache, lpack_uv)

        warm = clean_env(UV_CACHE_DIR=str(self.uv_warm_cache))
        self.installer_then_zip("uv_warm", self.uv_cmd, warm)
        self.installer_then_zip("uv_edit", self.uv_cmd, warm, edited=True)

        self.write_source()
        shutil.rmtree(self.project / "dist", ignore_errors=True)
        hashes["warm"] = self.lpack("lpack_warm", lpack_cache, lpack_uv)
        self.write_source(edited=True)
        hashes["edit"] = self.lpack("lpack_edit", lpack_cache, lpack_uv)
        self.write_source()
        self.lpack_hashes.append(hashes)
        shutil.rmtree(lpack_cache, ignore_errors=True)
        shutil.rmtree(lpack_uv, ignore_errors=True)

    # -- results -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        floor = statistics.median(self.samples["floor"])
        rows: dict[str, Any] = {}
        for key, label in ROWS:
            median = statistics.median(self.samples[key])
            row: dict[str, Any] = {
                "label": label, "seconds": [round(s, 4) for s in self.samples[key]],
                "median_seconds": round(median, 4), "ratio_to_floor": round(median / floor, 3),
            }
            for name, values in self.parts.get(key, {}).items():
                row[f"{name}_median_seconds"] = round(statistics.median(values), 4)
            if key in self.lpack_reported:
                row["lpack_reported_median_seconds"] = round(statistics.median(self.lpack_reported[key]), 4)
            if key in self.zips:
                row.update(zip_facts(self.zips[key]))
            rows[key] = row
        ratios = {key: statistics.median(self.samples[key]) / floor for key, _ in ROWS}
        goals = [{"row": key, "goal": text, "ratio": round(ratios[key], 3),
                  "uv_cold_ratio": round(ratios["uv_cold"], 3) if key == "lpack_cold" else None,
                  "result": "PASS" if test(ratios) else "MISS"} for key, text, test in GOALS]
        return {"target": self.label, "floor_median_seconds": round(floor, 4), "rows": rows,
                "goals": goals, "lpack_sha256": self.lpack_hashes,
                "deterministic": self.deterministic()}

    def deterministic(self) -> bool:
        same_inputs = {h["cold"] for h in self.lpack_hashes} | {h["warm"] for h in self.lpack_hashes}
        edits = {h["edit"] for h in self.lpack_hashes}
        return len(same_inputs) == 1 and len(edits) == 1


# -- tools --------------------------------------------------------------------------------------

def pip_platforms(machine: str) -> list[str]:
    """The tag AWS's Lambda guide passes to pip. Every package here publishes manylinux2014
    wheels; the comparability check below warns if pip ever resolves other distributions.
    (Listing every manylinux_2_17..2_34 tag instead makes pip about 1 s slower, for no gain.)"""
    return [f"manylinux2014_{machine}"]


def uv_binary() -> str:
    found = shutil.which("uv")
    if found:
        return found
    from uv import find_uv_bin

    return str(find_uv_bin())


def lpack_command() -> list[str]:
    found = shutil.which("lpack")
    return [found] if found else [sys.executable, "-m", "lpack"]


def lpack_revision() -> str:
    """The git commit of the lpack being measured, and whether lpack/ has uncommitted changes."""
    import lpack

    repo = Path(lpack.__file__).resolve().parent.parent
    try:
        head = run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], clean_env()).stdout.strip()
        dirty = run(["git", "-C", str(repo), "status", "--porcelain", "--", "lpack"], clean_env()).stdout.strip()
    except (SystemExit, OSError):
        return "unknown"
    return head + (" + uncommitted changes in lpack/" if dirty else "")


def version_of(cmd: list[str]) -> str:
    try:
        return run(cmd, clean_env()).stdout.strip().splitlines()[0]
    except (SystemExit, IndexError, OSError):
        return "unknown"


# -- output -------------------------------------------------------------------------------------

def print_table(result: dict[str, Any]) -> None:
    print(f"\n== {result['target']}  (floor median {result['floor_median_seconds']:.3f} s) ==")
    head = f"{'row':<44} {'median s':>9} {'x floor':>8}  {'install s':>9} {'zip s':>6}  {'runs (s)':<22} {'zip bytes':>10} {'files':>6}"
    print(head)
    print("-" * len(head))
    for key, _ in ROWS:
        row = result["rows"][key]
        install = row.get("install_median_seconds")
        zipped = row.get("zip_median_seconds")
        runs = " ".join(f"{s:.2f}" for s in row["seconds"])
        print(f"{row['label']:<44} {row['median_seconds']:>9.3f} {row['ratio_to_floor']:>7.2f}x  "
              f"{'' if install is None else f'{install:.3f}':>9} {'' if zipped is None else f'{zipped:.3f}':>6}  "
              f"{runs:<22} {row.get('zip_bytes', 0):>10,} {row.get('files', 0):>6}")
    for key, _ in ROWS:
        row = result["rows"][key]
        if row.get("pyc_files"):
            print(f"  note: {key}'s zip holds {row['pyc_files']} .pyc files (pip byte-compiles with the "
                  f"host's Python, {platform.python_version()}; the {RUNTIME} runtime cannot use them)")


def print_goals(results: list[dict[str, Any]]) -> None:
    print("\n== issue goals for lpack (reported, not enforced) ==")
    head = f"{'goal':<46}" + "".join(f" {r['target']:>28}" for r in results)
    print(head)
    print("-" * len(head))
    for index, (_, text, _) in enumerate(GOALS):
        cells = []
        for r in results:
            goal = r["goals"][index]
            extra = f" vs {goal['uv_cold_ratio']:.3f}x" if goal["uv_cold_ratio"] is not None else ""
            cells.append(f"{goal['ratio']:.3f}x{extra} {goal['result']}")
        print(f"{'lpack ' + text:<46}" + "".join(f" {c:>28}" for c in cells))


def comparability_warnings(results: list[dict[str, Any]]) -> list[str]:
    warnings = []
    for r in results:
        dists = {key: tuple(row.get("dists", ())) for key, row in r["rows"].items()}
        reference = dists["lpack_warm"]
        for key, names in dists.items():
            if names != reference:
                warnings.append(f"{r['target']}: {key} installed {len(names)} distributions, "
                                f"lpack {len(reference)}: {sorted(set(names) ^ set(reference))}")
        if not r["deterministic"]:
            warnings.append(f"{r['target']}: lpack's builds of the same inputs differ: {r['lpack_sha256']}")
    return warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="measurements per row (default 3)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    started = time.perf_counter()
    revision = lpack_revision()  # before the run: lpack's code may change while it goes on
    tmp = Path(tempfile.mkdtemp(prefix="lpack-bench-"))
    try:
        pip_cache = reset_dir(tmp / "pip-warm-cache")
        uv_cache = reset_dir(tmp / "uv-warm-cache")
        benches = [Bench(tmp, arch, pip_cache, uv_cache) for arch in ARCHITECTURES]
        for bench in benches:
            print(f"preparing {bench.label}: filling the warm caches, installing the floor's tree",
                  file=sys.stderr, flush=True)
            bench.prepare()
        for number in range(1, args.runs + 1):
            for bench in benches:  # interleave the targets: drift hits both alike
                print(f"run {number}/{args.runs}: {bench.label}", file=sys.stderr, flush=True)
                bench.measure_once(tmp / "scratch", number)
        results = [bench.summary() for bench in benches]
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    machine = {
        "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
        "uv": version_of([uv_binary(), "--version"]),
        "pip": version_of([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
        "lpack": version_of([*lpack_command(), "--version"]), "lpack_revision": revision,
    }
    print(f"\nlpack benchmark {dt.date.today().isoformat()}: {machine['cpus']} CPUs, Python {machine['python']}, "
          f"{machine['uv']}, {machine['pip']}, {machine['lpack']} ({revision}); median of {args.runs} runs")
    print("requirements: " + ", ".join(REQUIREMENTS))
    for result in results:
        print_table(result)
    print("\nlpack's own 'seconds' (from --format json: the build, without interpreter start-up and imports):")
    for result in results:
        own = ", ".join(f"{key.split('_')[1]} {result['rows'][key]['lpack_reported_median_seconds']:.3f} s"
                        f" of {result['rows'][key]['median_seconds']:.3f} s"
                        for key in ("lpack_cold", "lpack_warm", "lpack_edit"))
        print(f"  {result['target']}: {own}")
    print_goals(results)
    warnings = comparability_warnings(results)
    print()
    for result in results:
        state = "same sha256" if result["deterministic"] else "DIFFERENT sha256"
        print(f"lpack reproducibility {result['target']}: cold and warm builds of the same inputs, "
              f"every run: {state} ({result['lpack_sha256'][0]['cold'][:16]}...)")
    for warning in warnings:
        print(f"WARNING: {warning}")
    total = time.perf_counter() - started
    print(f"total benchmark time {total:.0f} s")

    if args.out:
        payload = {
            "date": dt.date.today().isoformat(), "runs": args.runs, "machine": machine,
            "requirements": list(REQUIREMENTS), "total_seconds": round(total, 1),
            "targets": results, "warnings": warnings,
        }
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

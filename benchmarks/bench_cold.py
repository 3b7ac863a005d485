#!/usr/bin/env python3
"""Cold `lpack build` against the hand-written baseline, `uv pip install --target` + zip (issue #23).

Run from the repository root (needs PyPI the first time; stdlib only, plus lpack and uv):

    python benchmarks/bench_cold.py [--runs 5] [--sets medium,large] [--arch x86_64,arm64] [--out FILE]
                                    [--before DIR] [--lock]

For two dependency sets, every distribution pinned,
  medium  requests + pydantic + orjson (11 distributions)
  large   numpy + pandas (5 distributions, ~150 MB unzipped)
and both architectures (python3.12 x86_64 and arm64), it times, --runs times each, interleaved:

  uv + zip     `uv pip install --target DIR --python-platform <x86_64|aarch64>-manylinux_2_28
               --python-version 3.12 --only-binary :all: -r requirements.txt` into an empty DIR,
               then Python's zipfile over DIR (sorted, ZIP_DEFLATED level 6) plus the handler: the
               script most people write by hand.
  lpack cold   `lpack build PROJECT --runtime python3.12 --arch ARCH --installer uv` with an empty
               LPACK_CACHE_DIR (and no dist/) every run.
  lpack cold, LPACK_WHEEL_COPY=0
               the same, forcing the old install path (installed by uv, then every file deflated);
               only when this lpack knows the variable.
  lpack cold, from uv.lock
               with --lock: the same pins as a project's [project] dependencies, locked by `uv lock`
               (once, before the runs), built from uv.lock: the lock names every wheel, so lpack
               runs no resolution at all.
  lpack cold, before
               with --before DIR: the same command with PYTHONPATH=DIR, an older checkout of lpack
               (`git worktree add DIR REV`), so that a change is measured against its parent in
               the same interleaved run.

Each row also reports CPU seconds (the command's and its children's, uv's included; the uv row's
are uv's alone, not the zip's).

uv's own download cache (UV_CACHE_DIR, one shared temporary folder) is filled before the runs and
stays warm for every row: this compares installing and zipping, not downloading. The goal
(cold <= 0.7x uv + zip) is reported per set and architecture, PASS or MISS, never enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import (  # a sibling script
    clean_env,
    lpack_command,
    lpack_revision,
    version_of,
    zip_tree,
)

REPO = Path(__file__).resolve().parent.parent
RUNTIME = "python3.12"
PYTHON_VERSION = "3.12"
ARCHITECTURES = {"x86_64": "x86_64", "arm64": "aarch64"}  # Lambda's name -> wheel machine name
GOAL = 0.7  # issue #23: cold <= 0.7x uv pip install --target + zip
LAST_CPU = 0.0  # CPU seconds of the last `checked` command

# Every distribution pinned (resolved 2026-12-05 for python3.12 manylinux_2_28), so both tools
# install the same files whatever PyPI publishes next.
SETS = {
    "medium": ("requests==2.34.2", "pydantic==2.14.3", "orjson==3.13.0", "annotated-types==0.8.0",
               "certifi==2026.10.19.post1", "charset-normalizer==3.5.3", "idna==3.21", "pydantic-core==2.50.4",
               "typing-extensions==4.16.0", "typing-inspection==0.4.5", "urllib3==2.8.0"),
    "large": ("numpy==2.2.6", "pandas==2.3.3", "python-dateutil==4.0.0", "pytz==2026.6", "tzdata==2026.6"),
}
IMPORTS = {"medium": "import orjson, pydantic, requests", "large": "import numpy, pandas"}


class Row(NamedTuple):
    key: str
    label: str


ROWS = (
    Row("uv", "uv pip install --target + zip"),
    Row("lpack", "lpack build cold"),
    Row("lpack_old", "lpack build cold, LPACK_WHEEL_COPY=0 (old path)"),
    Row("lpack_lock", "lpack build cold, from uv.lock (same pins)"),
    Row("before", "lpack build cold, before (--before)"),
)


def wheel_copy_known() -> bool:
    """Whether this lpack reads LPACK_WHEEL_COPY (the copy-members install path has landed)."""
    for path in (REPO / "lpack").rglob("*.py"):
        if "LPACK_WHEEL_COPY" in path.read_text(encoding="utf-8", errors="replace"):
            return True
    return False


def checked(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    """The command's wall seconds; its CPU seconds (its own and its children's) go to LAST_CPU."""
    global LAST_CPU
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-15:])
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return seconds


def reset(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def zip_facts(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
    dists = sorted(i.filename.split("/")[0].rsplit("-", 1)[0].lower().replace("_", "-") for i in infos
                   if i.filename.count("/") == 1 and i.filename.endswith(".dist-info/METADATA"))
    return {"zip_bytes": path.stat().st_size, "files": len(infos),
            "unzipped_bytes": sum(i.file_size for i in infos), "dists": dists}


class Case:
    """One dependency set on one architecture: its project folder and its samples."""

    def __init__(self, work: Path, name: str, arch: str, uv_cache: Path, before: Path | None = None,
                 lock: bool = False) -> None:
        self.before = before
        self.name, self.arch, self.machine = name, arch, ARCHITECTURES[arch]
        self.root = reset(work / f"{name}-{arch}")
        self.project = self.root / f"cold-{name}"
        self.project.mkdir()
        (self.project / "requirements.txt").write_text("\n".join(SETS[name]) + "\n")
        (self.project / "lambda_function.py").write_text(
            f"{IMPORTS[name]}  # noqa: F401\n\n\ndef lambda_handler(event, context):\n    return {{}}\n")
        self.uv_cache = uv_cache
        self.locked = self.root / f"cold-{name}-lock"
        if lock:
            self.lock()
        self.samples: dict[str, list[float]] = {row.key: [] for row in ROWS}
        self.parts: dict[str, list[float]] = {"install": [], "zip": []}
        self.facts: dict[str, dict[str, Any]] = {}
        self.cpu: dict[str, list[float]] = {}

    def lock(self) -> None:
        """The same pins as a project's dependencies, in a uv.lock (uv resolves them once, here)."""
        self.locked.mkdir()
        shutil.copy(self.project / "lambda_function.py", self.locked)
        deps = ", ".join(f'"{pin}"' for pin in SETS[self.name])
        (self.locked / "pyproject.toml").write_text(f'[project]\nname = "cold-{self.name}-lock"\nversion = "0"\n'
                                                    f'requires-python = ">=3.11"\ndependencies = [{deps}]\n')
        checked([shutil.which("uv") or "uv", "lock", "--no-progress"], self.env(), cwd=self.locked)

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(UV_CACHE_DIR=str(self.uv_cache), UV_PYTHON_DOWNLOADS="never", **extra)

    def uv_zip(self) -> float:
        target = reset(self.root / "target")
        out = self.root / "uv.zip"
        install = checked([shutil.which("uv") or "uv", "pip", "install", "--target", str(target),
                           "--python-platform", f"{self.machine}-manylinux_2_28", "--python-version", PYTHON_VERSION,
                           "--only-binary", ":all:", "-r", str(self.project / "requirements.txt")], self.env())
        zipped = zip_tree(target, self.project, out)
        self.parts["install"].append(install)
        self.parts["zip"].append(zipped)
        self.facts["uv"] = zip_facts(out)
        return install + zipped

    def lpack(self, key: str) -> float:
        cache = reset(self.root / "lpack-cache")
        project = self.locked if key == "lpack_lock" else self.project
        shutil.rmtree(project / "dist", ignore_errors=True)
        extra = {"LPACK_CACHE_DIR": str(cache)}
        if key == "lpack_old":
            extra["LPACK_WHEEL_COPY"] = "0"
        if key == "before" and self.before is not None:
            extra["PYTHONPATH"] = str(self.before)
        seconds = checked([*lpack_command(), "build", str(project), "--runtime", RUNTIME, "--arch", self.arch,
                           "--installer", "uv", "--format", "json", "-q"], self.env(**extra), cwd=project)
        self.facts[key] = zip_facts(project / "dist" / f"{project.name}.zip")
        return seconds

    def measure(self, key: str) -> None:
        self.samples[key].append(self.uv_zip() if key == "uv" else self.lpack(key))
        self.cpu.setdefault(key, []).append(LAST_CPU)  # uv + zip: the zip's share is this process's, not counted


def stats(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def report(cases: list[Case], keys: list[str], meta: dict[str, Any]) -> dict[str, Any]:
    print(f"# Cold build vs uv pip install --target + zip ({meta['date']})\n")
    print(f"- {meta['cpus']} CPUs, {meta['machine']}, Python {meta['python']}, {meta['uv']}, "
          f"lpack {meta['lpack']}, load average at start {meta['load']}")
    print(f"- {meta['runs']} runs per row, interleaved; uv's download cache warm for every row\n")
    print("| set | arch | row | min s | median s | max s | x uv + zip (median) | CPU s (median) | files | zip bytes |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    results: dict[str, Any] = {"meta": meta, "cases": []}
    goals = []
    for case in cases:
        base = statistics.median(case.samples["uv"])
        entry: dict[str, Any] = {"set": case.name, "arch": case.arch, "rows": {}}
        for row in ROWS:
            if row.key not in keys:
                continue
            lo, mid, hi = stats(case.samples[row.key])
            facts = case.facts.get(row.key, {})
            label = row.label.replace("--before", meta.get("before", "--before"))
            cpu = statistics.median(case.cpu[row.key])  # the uv row's: uv's alone, not the zip's
            print(f"| {case.name} | {case.arch} | {label} | {lo:.3f} | {mid:.3f} | {hi:.3f} | {mid / base:.2f}x "
                  f"| {cpu:.3f} | {facts.get('files', '')} | {facts.get('zip_bytes', 0):,} |")
            entry["rows"][row.key] = {"samples": case.samples[row.key], "min": lo, "median": mid, "max": hi,
                                      "ratio": mid / base, "cpu": case.cpu[row.key], **facts}
        install, zipped = statistics.median(case.parts["install"]), statistics.median(case.parts["zip"])
        entry["uv_parts"] = {"install_median": install, "zip_median": zipped}
        paired = [b / a for a, b in zip(case.samples["uv"], case.samples["lpack"])]
        ratio = statistics.median(case.samples["lpack"]) / base
        goals.append((case, ratio, min(paired), max(paired), install, zipped))
        if case.facts["uv"]["dists"] != case.facts["lpack"]["dists"]:
            print(f"| {case.name} | {case.arch} | WARNING: different distributions: uv {case.facts['uv']['dists']} "
                  f"lpack {case.facts['lpack']['dists']} | | | | | | |")
        results["cases"].append(entry)
    print(f"\n| set | arch | uv install s | zip s | lpack cold / (uv + zip) | per-run range | goal <= {GOAL}x |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for case, ratio, lo, hi, install, zipped in goals:
        print(f"| {case.name} | {case.arch} | {install:.3f} | {zipped:.3f} | {ratio:.2f}x | {lo:.2f}-{hi:.2f}x "
              f"| {'PASS' if ratio <= GOAL else 'MISS'} |")
    if "before" in keys:
        print("\nlpack cold / before, per interleaved pair (min / median / max):")
        for case in cases:
            print(f"- {case.name} {case.arch}: wall {_paired(case.samples['lpack'], case.samples['before'])}, "
                  f"CPU {_paired(case.cpu['lpack'], case.cpu['before'])}")
    return results


def _paired(after: list[float], before: list[float]) -> str:
    ratios = sorted(a / b for a, b in zip(after, before))
    return f"{ratios[0]:.2f} / {statistics.median(ratios):.2f} / {ratios[-1]:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sets", default="medium,large")
    parser.add_argument("--arch", default="x86_64,arm64")
    parser.add_argument("--out", type=Path, help="also write every sample as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--before", type=Path, help="also time the lpack checked out in this folder")
    parser.add_argument("--lock", action="store_true", help="also time a build from a uv.lock of the same pins")
    args = parser.parse_args(argv)
    keys = ["uv", "lpack"] + (["lpack_old"] if wheel_copy_known() else []) + (["lpack_lock"] if args.lock else []) \
        + (["before"] if args.before else [])
    work = Path(tempfile.mkdtemp(prefix="lpack-bench-cold-"))
    started = time.perf_counter()
    meta = {"date": dt.date.today().isoformat(), "cpus": os.cpu_count(), "machine": f"{platform.system()} "
            f"{platform.release()} {platform.machine()}", "python": platform.python_version(),
            "uv": version_of([shutil.which("uv") or "uv", "--version"]), "lpack": lpack_revision(),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()), "runs": args.runs, "rows": keys}
    if args.before:
        meta["before"] = version_of(["git", "-C", str(args.before), "rev-parse", "--short", "HEAD"])
    try:
        uv_cache = reset(work / "uv-cache")
        cases = [Case(work, name, arch, uv_cache, args.before, args.lock) for name in args.sets.split(",")
                 for arch in args.arch.split(",")]
        for case in cases:  # fill uv's cache (downloads) and warm the disk; not timed
            print(f"warming {case.name} {case.arch}", file=sys.stderr)
            for key in keys:
                case.measure(key)
                case.samples[key].clear()
            case.parts, case.cpu = {"install": [], "zip": []}, {}
        for i in range(args.runs):
            order = keys if i % 2 == 0 else keys[::-1]  # neither row always runs first
            for case in cases:
                for key in order:
                    case.measure(key)
                print(f"run {i + 1}/{args.runs} {case.name} {case.arch}: "
                      + " ".join(f"{k}={case.samples[k][-1]:.2f}s" for k in keys), file=sys.stderr)
        results = report(cases, keys, meta)
        print(f"\ntotal {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

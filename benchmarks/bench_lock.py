#!/usr/bin/env python3
"""Benchmark `lpack build` from a uv.lock against the same pins in a requirements.txt.

Run from the repository root (needs PyPI access to lock and fill uv's cache once):

    python benchmarks/bench_lock.py [--runs N] [--arch x86_64|arm64] [--out results.json]

One function (bench_build.py's: requests, pydantic, PyYAML, python-dateutil), made twice:
  req   a zero-config folder whose requirements.txt holds the lock's pins with hashes
        (`uv export --no-dev`), as a pip-tools user would have it;
  lock  a uv project (`[project].dependencies`, `uv.lock`, a dev group that must not ship).
Rows, each a median over --runs, as ratios measured in the same run:
  floor       zipfile deflate-6 over the installed tree + the source (bench_build.py's floor)
  req cold    `lpack build` of the requirements project, empty lpack cache, uv's cache warm
  lock cold   the same for the uv.lock project
  lock edit   a source-only edit of the uv.lock project, then `lpack build` (lpack cache warm)
Goals (issues #11/#19): lock cold <= 1.0x req cold; lock edit <= 0.25x floor. Both zips must hold
the same distributions (checked). The exit code is 0 whatever the results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import (  # a sibling script, not a package
    EDIT,
    REQUIREMENTS,
    RUNTIME,
    SOURCE,
    clean_env,
    lpack_command,
    reset_dir,
    run,
    uv_binary,
    zip_facts,
    zip_tree,
)

PYPROJECT = """\
[project]
name = "bench-lock"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [{deps}]

[dependency-groups]
dev = ["pytest"]

[tool.lpack]
handler = "lambda_function.lambda_handler"
runtime = "{runtime}"
"""


def make_projects(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    lock = reset_dir(root / "lock")
    deps = ", ".join(f'"{r}"' for r in REQUIREMENTS)
    (lock / "pyproject.toml").write_text(PYPROJECT.format(deps=deps, runtime=RUNTIME))
    (lock / "lambda_function.py").write_text(SOURCE)
    run([uv_binary(), "lock"], env, cwd=lock)
    exported = run([uv_binary(), "export", "--frozen", "--no-dev", "--no-emit-project",
                    "--format", "requirements-txt"], env, cwd=lock).stdout
    req = reset_dir(root / "req")
    (req / "requirements.txt").write_text(exported)
    (req / "lambda_function.py").write_text(SOURCE)
    return req, lock


def build(project: Path, arch: str, cache: Path, env: dict[str, str]) -> float:
    cmd = [*lpack_command(), "build", str(project), "--runtime", RUNTIME, "--arch", arch,
           "--cache-dir", str(cache), "--format", "json", "-q"]
    start = time.perf_counter()
    run(cmd, env)
    return time.perf_counter() - start


def measure(root: Path, arch: str, runs: int) -> dict[str, object]:
    env = clean_env(UV_CACHE_DIR=str(root / "uv-cache"))
    req, lock = make_projects(root, env)
    build(req, arch, reset_dir(root / "warmup"), env)  # fills uv's cache: cold means lpack's cache
    build(lock, arch, reset_dir(root / "warmup"), env)
    samples: dict[str, list[float]] = {"floor": [], "req_cold": [], "lock_cold": [], "lock_edit": []}
    tree = root / "floor-tree"
    run([uv_binary(), "pip", "install", "--target", str(tree), "--python-version", RUNTIME[6:],
         "--python-platform", f"{'aarch64' if arch == 'arm64' else 'x86_64'}-manylinux_2_34",
         "--only-binary", ":all:", "--no-deps", "-r", str(req / "requirements.txt")], env)
    for i in range(runs):
        samples["floor"].append(zip_tree(tree, lock, root / "floor.zip"))
        samples["req_cold"].append(build(req, arch, reset_dir(root / f"cache-req-{i}"), env))
        cache = reset_dir(root / f"cache-lock-{i}")
        samples["lock_cold"].append(build(lock, arch, cache, env))
        (lock / "lambda_function.py").write_text(SOURCE + EDIT * (i + 1))
        samples["lock_edit"].append(build(lock, arch, cache, env))
    same = zip_facts(req / "dist" / "req.zip")["dists"] == zip_facts(lock / "dist" / "lock.zip")["dists"]
    medians = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "target": f"{RUNTIME} {arch}", "runs": runs, "median_seconds": medians, "samples": samples,
        "lock_cold_over_req_cold": medians["lock_cold"] / medians["req_cold"],
        "lock_edit_over_floor": medians["lock_edit"] / medians["floor"],
        "same_distributions": same, "distributions": zip_facts(lock / "dist" / "lock.zip")["dists"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--arch", choices=("x86_64", "arm64"), default="x86_64")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lock-") as tmp:
        result = measure(Path(tmp), args.arch, args.runs)
    m = result["median_seconds"]
    assert isinstance(m, dict)
    print(f"== {result['target']}, {args.runs} runs (medians) ==")
    for key in ("floor", "req_cold", "lock_cold", "lock_edit"):
        print(f"  {key:<10} {m[key]:8.3f} s")
    print(f"  lock cold / req cold = {result['lock_cold_over_req_cold']:.2f}  (goal <= 1.0)")
    print(f"  lock edit / floor    = {result['lock_edit_over_floor']:.2f}  (goal <= 0.25)")
    print(f"  same distributions in both zips: {result['same_distributions']} ({len(result['distributions'])})")  # type: ignore[arg-type]
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

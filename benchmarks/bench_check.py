#!/usr/bin/env python3
"""How fast `lpack check` is, as ratios to baselines measured in the same run.

1. A project with no build (the pre-commit case): `lpack check PROJECT` against `python -c pass`.
   Goal: within 3x.
2. A large package (~210 MB unzipped: numpy, scipy and pandas for python3.12 x86_64, built
   by lpack once, not timed): `lpack check package.zip --handler ... --runtime ...` against listing
   the same zip with zipfile (`python -c "zipfile.ZipFile(p).infolist()"`). Goal: under a second.

3. The templates of Lambda's 2025-2026 features under tests/data/templates (SnapStart, Managed
   Instances, durable functions, tenant isolation, the Web Adapter): each against `python -c pass`.
   Goal: within 3x, as 1.

Needs PyPI for the large package the first time (cached in --work); --no-big skips it.

Which lpack is timed matters for the ratio: in an editable install (`pip install -e .`, the dev
venv) every interpreter start, `python -c pass` included, imports setuptools' editable finder
(~11 ms, pathlib with it), which lpack imports anyway; a regular install does not, so its baseline
is about half and its ratios about twice. The header says which one ran; --python times another
environment, e.g. a scratch venv with `pip install .`. Usage:
    python benchmarks/bench_check.py [--runs 7] [--work DIR] [--no-big] [--python VENV/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIG_REQUIREMENTS = "numpy==2.2.6\nscipy==1.15.3\npandas==2.3.3\n"
FEATURE_TEMPLATES = ("snapstart", "managed-instances", "durable", "tenancy", "web-adapter-streaming")
HANDLER = "import numpy, scipy, pandas\n\ndef lambda_handler(event, context):\n    return {}\n"


def timed_changed(cmd: list[str], runs: int, env: dict[str, str], changed: Path) -> tuple[float, list[float]]:
    """Each run after an edit of ``changed`` (a new mtime): the check runs whole, and records."""
    times = []
    for i in range(runs):
        os.utime(changed, ns=(time.time_ns(), time.time_ns() + i))
        times += timed(cmd, 1, env)[1]
    return statistics.median(times), times


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, list[float]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def lpack(python: str) -> list[str]:
    """The environment's lpack script (the one a user runs), else ``python -m lpack``."""
    script = Path(python).parent / "lpack"
    if python == sys.executable and not script.is_file():
        script = Path(shutil.which("lpack") or script)
    return [str(script)] if script.is_file() else [python, "-m", "lpack"]


def install_kind(python: str) -> str:
    """"editable" or "regular": how lpack is installed in the environment timed (PEP 610)."""
    probe = ("import importlib.metadata as m, json; d = m.distribution('lpack-lambda').read_text('direct_url.json'); "
             "print(json.dumps(json.loads(d or '{}').get('dir_info', {}).get('editable', False)))")
    out = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=False).stdout.strip()  # -I: not the cwd's egg-info
    return "editable" if out and json.loads(out) else "regular"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lpack-bench-check")
    parser.add_argument("--no-big", dest="big", action="store_false",
                        help="skip the large package (it needs PyPI the first time)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter of the environment to time (default: this one); its lpack script is used")
    args = parser.parse_args()
    python = args.python
    # As installed for a user: bytecode is written (pip compiles it at install), so no
    # PYTHONDONTWRITEBYTECODE, and one untimed run first to fill __pycache__.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_")) and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1", NO_COLOR="1")
    args.work.mkdir(parents=True, exist_ok=True)

    project = args.work / "area"
    if not project.exists():
        shutil.copytree(ROOT / "examples" / "area", project, ignore=shutil.ignore_patterns("dist"))
    env["LPACK_CACHE_DIR"] = str(args.work / "cache")
    timed([*lpack(python), "check", str(project)], 1, env)  # warm-up: writes lpack's bytecode
    base, base_runs = timed([python, "-c", "pass"], args.runs, env)
    command = [*lpack(python), "check", str(project)]
    fresh, fresh_runs = timed_changed(command, args.runs, env, project / "lambda_function.py")
    check, check_runs = timed(command, args.runs, env)
    # The templates of Lambda's 2025-2026 features (issue 13): SnapStart, Managed Instances,
    # durable functions, tenant isolation, the Web Adapter; each checked whole, IAM included.
    features = []
    for name in FEATURE_TEMPLATES:
        folder = args.work / "templates" / name  # a copy: each timed edit touches its template
        if not folder.exists() and (ROOT / "tests" / "data" / "templates" / name).is_dir():
            shutil.copytree(ROOT / "tests" / "data" / "templates" / name, folder)
        if (folder / "template.yaml").is_file():
            command = [*lpack(python), "check", str(folder / "template.yaml"), "-q", "--exit-zero"]
            timed(command, 1, env)
            features.append((name, *timed_changed(command, args.runs, env, folder / "template.yaml"),
                             *timed(command, args.runs, env)))

    def row(name: str, seconds: float, runs: list[float], ratio: str) -> None:
        print(f"{name:<58} {seconds * 1000:8.1f} ms  {ratio:>8}   runs: {' '.join(f'{r * 1000:.0f}' for r in runs)}")

    print(f"lpack check benchmark: median of {args.runs} runs, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"{install_kind(python)} install ({python})")
    row("python -c pass (baseline 1)", base, base_runs, "1.00x")
    print("after an edit (the check runs whole):")
    row("  lpack check examples/area (no build)", fresh, fresh_runs, f"{fresh / base:.2f}x")
    for name, seconds, runs, *_ in features:
        row(f"  lpack check tests/data/templates/{name}", seconds, runs, f"{seconds / base:.2f}x")
    print("unchanged since the last check (replayed):")
    row("  lpack check examples/area (no build)", check, check_runs, f"{check / base:.2f}x")
    for name, *_, seconds, runs in features:
        row(f"  lpack check tests/data/templates/{name}", seconds, runs, f"{seconds / base:.2f}x")
    worst = max([check, *(f[3] for f in features)])
    worst_fresh = max([fresh, *(f[1] for f in features)])
    print(f"goal: a project check within 3x of start-up: unchanged {'PASS' if worst <= 3 * base else 'MISS'} "
          f"(worst {worst / base:.2f}x); after an edit {'PASS' if worst_fresh <= 3 * base else 'MISS'} "
          f"(worst {worst_fresh / base:.2f}x)")
    if not args.big:
        return 0

    big = args.work / "big"
    package = big / "dist" / "big.zip"
    if not package.exists():
        big.mkdir(exist_ok=True)
        (big / "lambda_function.py").write_text(HANDLER)
        (big / "requirements.txt").write_text(BIG_REQUIREMENTS)
        print("building the large package once (not timed)...", file=sys.stderr)
        subprocess.run([*lpack(python), "build", str(big), "-q", "--runtime", "python3.12", "--arch", "x86_64"],
                       env=env, check=False, stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(package) as zf:
        unzipped = sum(i.file_size for i in zf.infolist())
        entries = len(zf.infolist())
    listing, listing_runs = timed(
        [python, "-c", f"import zipfile; zipfile.ZipFile({str(package)!r}).infolist()"], args.runs, env)
    big_check, big_runs = timed(
        [*lpack(python), "check", str(package), "--handler", "lambda_function.lambda_handler",
         "--runtime", "python3.12", "--arch", "x86_64", "-q", "--exit-zero"], args.runs, env)

    print(f"large package: {package.stat().st_size:,} bytes zipped, {unzipped:,} unzipped, {entries:,} entries")
    row("list the zip with zipfile (baseline 2)", listing, listing_runs, "1.00x")
    row("lpack check big.zip --handler ... --runtime python3.12", big_check, big_runs, f"{big_check / listing:.2f}x")
    print(f"goal: large package under 1 s: {'PASS' if big_check < 1 else 'MISS'} ({big_check:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""How `lpack check` and a no-op `lpack build` scale with a monorepo's size: 20, 200, 400 functions (issue #23).

Run from the repository root (offline: the wheels are generated; stdlib only, plus lpack):

    python benchmarks/bench_scale.py [--runs 5] [--sizes 20,200,400] [--out FILE]

For each size it writes a project (lpack.toml; functions/fnNNN/app.py, each function its own
folder; 5 dependency sets of local wheels made by tests/factories/wheels.py, required with
`--no-index --find-links DIR`), builds it once (not timed), then times, --runs times each:

  python -c pass      the interpreter's start-up: the baseline of the ratios
  no-op build         `lpack build -q` with nothing changed since the last build
  check, replayed     `lpack check -q` of the built project, unchanged since the last check (the
                      entry point replays the recorded output without importing lpack)
  check, real         the same with LPACK_CHECK_CACHE=0: every zip in dist/ is checked (what a
                      check costs once anything changed)
  pre-commit, edited  `lpack check -q --files functions/fn000/app.py` just after a distinct
                      comment line was appended to that file (what a commit of an edit runs: never
                      replayed); its old bytes and mtime are put back afterwards, so the other rows
                      stay no-ops
  pre-commit, touched the same check just after the file got a new mtime with its content
                      unchanged (pre-commit's stash/unstash and git checkout rewrite files that way),
                      once the check of that content was recorded (an untimed run first): replayed

Each row is timed by the wall clock and by the CPU time (user + system) the command used: the
goals are read on the wall clock; on a machine shared with other work the CPU time is the steadier
figure. Goals (issue #23), reported PASS/MISS, never enforced: no-op over 200 functions <= 0.5 s; check of
a built 200-function project <= 0.5 s (the real check, and the replay); pre-commit on one changed
file <= 3x `python -c pass` at every size. `benchmarks/bench_monorepo.py` (issue #16) covers cold,
one-changed and remote builds of one 200-function repository; this one is about size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO))

from bench_build import clean_env, lpack_command, lpack_revision  # sibling scripts, not a package
from bench_check import install_kind

RUNTIME = "python3.12"
SETS = 5
# per set: (wheel, modules) -- small, so that building 400 functions once stays under a minute or two
WHEELS = (("core", 12), ("extra", 6))
CHANGED = "functions/fn000/app.py"


class Row(NamedTuple):
    key: str
    label: str


ROWS = (
    Row("pass", "python -c pass"),
    Row("noop", "no-op lpack build"),
    Row("check_replay", "lpack check, replayed (unchanged)"),
    Row("check_real", "lpack check, LPACK_CHECK_CACHE=0"),
    Row("precommit", "pre-commit: check --files one edited file"),
    Row("precommit_touch", "pre-commit: check --files one touched file (same content)"),
)


def make_wheels(house: Path) -> list[list[str]]:
    """5 dependency sets of local wheels (each also requires shared-util); returns each set's pins."""
    from tests.factories.wheels import make_wheel

    def wheel(name: str, modules: int) -> str:
        pkg = name.replace("-", "_")
        files = {f"{pkg}/__init__.py": '__version__ = "1.0"\n'}
        files.update({f"{pkg}/mod_{i:02d}.py": f'"""{pkg}.mod_{i:02d}."""\n\nVALUE = {i}\n\n\ndef f(x):\n    return x * {i}\n'
                      for i in range(modules)})
        make_wheel(house, name, "1.0", files=files)
        return f"{name}==1.0"

    shared = wheel("shared-util", 10)
    return [[shared, *(wheel(f"s{k}-{name}", n) for name, n in WHEELS)] for k in range(SETS)]


def write_project(root: Path, functions: int, house: Path, pins: list[list[str]]) -> None:
    (root / "requirements").mkdir(parents=True)
    for k, lines in enumerate(pins):
        (root / "requirements" / f"set{k}.txt").write_text("\n".join(["--no-index", f"--find-links {house}", *lines]) + "\n")
    toml = [f'runtime = "{RUNTIME}"', 'architecture = "x86_64"', 'handler = "app.handler"', ""]
    for i in range(functions):
        name, k = f"fn{i:03d}", i % SETS
        src = root / "functions" / name
        src.mkdir(parents=True)
        imports = "".join(f"import {p.split('==')[0].replace('-', '_')}  # noqa: F401\n" for p in pins[k])
        (src / "app.py").write_text(f'"""Function {name} (dependency set {k})."""\n\n{imports}\n\n'
                                    f"def handler(event, context):\n    return {{'fn': '{name}', 'set': {k}}}\n")
        toml += [f"[functions.{name}]", f'source = "functions/{name}"', f'requirements = "requirements/set{k}.txt"', ""]
    (root / "lpack.toml").write_text("\n".join(toml))


def timed(cmd: list[str], env: dict[str, str], cwd: Path, codes: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """Wall seconds, and the CPU seconds (user + system) the command used: on a machine shared
    with other work the CPU time moves much less than the wall time."""
    cpu = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu
    if done.returncode not in codes:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-15:])
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return seconds, cpu


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Size:
    """One generated project of N functions, with its own lpack cache."""

    def __init__(self, work: Path, functions: int, house: Path, pins: list[list[str]]) -> None:
        self.functions = functions
        self.root = work / f"repo-{functions}"
        write_project(self.root, functions, house, pins)
        self.cache = work / f"cache-{functions}"
        self.cache.mkdir()
        self.samples: dict[str, list[float]] = {row.key: [] for row in ROWS}
        self.cpu: dict[str, list[float]] = {row.key: [] for row in ROWS}
        self.tick = 0

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(LPACK_CACHE_DIR=str(self.cache), UV_CACHE_DIR=str(self.cache / "uv"), **extra)

    def command(self, key: str) -> tuple[list[str], dict[str, str], tuple[int, ...]]:
        lpack = lpack_command()
        return {
            "pass": ([sys.executable, "-c", "pass"], self.env(), (0,)),
            "noop": ([*lpack, "build", "-q"], self.env(), (0,)),
            "check_replay": ([*lpack, "check", "-q"], self.env(), (0, 1)),
            "check_real": ([*lpack, "check", "-q"], self.env(LPACK_CHECK_CACHE="0"), (0, 1)),
            "precommit": ([*lpack, "check", "-q", "--files", CHANGED], self.env(), (0, 1)),
            "precommit_touch": ([*lpack, "check", "-q", "--files", CHANGED], self.env(), (0, 1)),
        }[key]

    def prepare(self) -> float:
        """The one cold build, then one of each row (records the check replay), not timed."""
        start = time.perf_counter()
        cmd, env, codes = self.command("noop")
        timed(cmd, env, self.root, codes)
        seconds = time.perf_counter() - start
        for row in ROWS:
            self.measure(row.key)
            self.samples[row.key].clear()
            self.cpu[row.key].clear()
        return seconds

    def measure(self, key: str) -> None:
        cmd, env, codes = self.command(key)
        if key not in ("precommit", "precommit_touch"):
            self.record(key, timed(cmd, env, self.root, codes))
            return
        changed = self.root / CHANGED
        before, content = changed.stat(), changed.read_bytes()
        self.tick += 1
        if key == "precommit_touch":
            timed(cmd, env, self.root, codes)  # not timed: the check of this content is recorded
            os.utime(changed, ns=(before.st_atime_ns, time.time_ns() + self.tick))  # a new mtime, same bytes
        else:
            with open(changed, "ab") as handle:  # an edit: new bytes, never seen before
                handle.write(f"# pre-commit benchmark edit {self.tick} {time.time_ns()}\n".encode())
        try:
            self.record(key, timed(cmd, env, self.root, codes))
        finally:
            with open(changed, "r+b") as handle:  # the same inode, so the other rows' inputs are unchanged
                handle.write(content)
                handle.truncate()
            os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))

    def record(self, key: str, seconds: tuple[float, float]) -> None:
        self.samples[key].append(seconds[0])
        self.cpu[key].append(seconds[1])


def stats(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def report(sizes: list[Size], meta: dict[str, Any]) -> dict[str, Any]:
    print(f"# Scale: check and no-op at {'/'.join(str(s.functions) for s in sizes)} functions ({meta['date']})\n")
    print(f"- {meta['cpus']} CPUs, {meta['machine']}, Python {meta['python']}, lpack {meta['lpack']}, "
          f"{meta['install']} install, load average at start {meta['load']}")
    print(f"- {meta['runs']} runs per row, rows interleaved; cold build once per size (not timed): "
          + ", ".join(f"{s.functions}: {meta['cold'][str(s.functions)]:.1f} s" for s in sizes) + "\n")
    print("| functions | row | min s | median s | max s | x python -c pass | CPU median s | CPU x python -c pass |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    out: dict[str, Any] = {"meta": meta, "sizes": {}}
    for size in sizes:
        base = statistics.median(size.samples["pass"])
        cpu_base = statistics.median(size.cpu["pass"])
        out["sizes"][size.functions] = {}
        for row in ROWS:
            lo, mid, hi = stats(size.samples[row.key])
            cpu = statistics.median(size.cpu[row.key])
            print(f"| {size.functions} | {row.label} | {lo:.3f} | {mid:.3f} | {hi:.3f} | {mid / base:.1f}x "
                  f"| {cpu:.3f} | {cpu / cpu_base:.1f}x |")
            out["sizes"][size.functions][row.key] = {"samples": size.samples[row.key], "min": lo, "median": mid,
                                                     "max": hi, "x_pass": mid / base, "cpu": size.cpu[row.key],
                                                     "cpu_x_pass": cpu / cpu_base}
    first, last = sizes[0], sizes[-1]
    print(f"\nGrowth from {first.functions} to {last.functions} functions (median / median):")
    for row in ROWS[1:]:
        grow = statistics.median(last.samples[row.key]) / statistics.median(first.samples[row.key])
        print(f"- {row.label}: {grow:.1f}x for {last.functions / first.functions:.0f}x the functions")
    print("\n| goal | result |\n| --- | --- |")
    by = {s.functions: s for s in sizes}
    if 200 in by:
        goals = (("noop", "no-op over 200 functions"),
                 ("check_real", "check of a built 200-function project, real (LPACK_CHECK_CACHE=0)"),
                 ("check_replay", "check of a built 200-function project, replayed"))
        for key, what in goals:
            mid = statistics.median(by[200].samples[key])
            print(f"| {what} <= 0.5 s | {mid:.3f} s {'PASS' if mid <= 0.5 else 'MISS'} |")
    for size in sizes:
        ratio = statistics.median(size.samples["precommit"]) / statistics.median(size.samples["pass"])
        cpu_ratio = statistics.median(size.cpu["precommit"]) / statistics.median(size.cpu["pass"])
        print(f"| pre-commit on one edited file <= 3x python -c pass, {size.functions} functions | "
              f"wall {ratio:.2f}x {'PASS' if ratio <= 3 else 'MISS'}; CPU time {cpu_ratio:.2f}x "
              f"{'PASS' if cpu_ratio <= 3 else 'MISS'} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="20,200,400")
    parser.add_argument("--out", type=Path, help="also write every sample as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lpack-bench-scale-"))
    meta: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "cpus": os.cpu_count(), "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}", "lpack": lpack_revision(),
        "install": install_kind(sys.executable), "load": " ".join(f"{x:.2f}" for x in os.getloadavg()), "runs": args.runs,
        "cold": {}}
    started = time.perf_counter()
    try:
        house = work / "wheels"
        house.mkdir()
        pins = make_wheels(house)
        sizes = [Size(work, int(n), house, pins) for n in args.sizes.split(",")]
        for size in sizes:
            print(f"building {size.functions} functions", file=sys.stderr)
            meta["cold"][str(size.functions)] = size.prepare()
        for i in range(args.runs):
            for size in sizes:
                for row in ROWS if i % 2 == 0 else ROWS[::-1]:
                    size.measure(row.key)
                print(f"run {i + 1}/{args.runs} {size.functions}: "
                      + " ".join(f"{k}={v[-1]:.3f}" for k, v in size.samples.items()), file=sys.stderr)
        results = report(sizes, meta)
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

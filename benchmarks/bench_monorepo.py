#!/usr/bin/env python3
"""Benchmark `lpack build` on a generated monorepo (issue #16), as ratios in one run.

Run from the repository root (hermetic by default; the venv must have boto3 and moto):

    python benchmarks/bench_monorepo.py [--functions 200] [--sets 5] [--runs 3] [--wheels local|pypi]
                                        [--cold-runs 1] [--sam] [--sam-functions 20] [--work DIR] [--out FILE]

It writes one lpack project of --functions functions (lpack.toml with [functions.fnNNN], each its
own folder functions/fnNNN/app.py) spread round-robin over --sets dependency sets
(requirements/setK.txt), commits it to a fresh git repository, and times in ONE run:

  cold j1        `lpack build --jobs 1`, empty LPACK_CACHE_DIR and UV_CACHE_DIR, no dist/
  cold j2        the same with --jobs 2
  no-op          nothing changed: `lpack build --changed-since HEAD`, and plain `lpack build`
  single warm    `lpack build -f fn000`: one function's warm build, the baseline for "one changed"
  one changed    a line appended to one function's app.py (fn007): `--changed-since HEAD`, and plain
  set changed    one pin of set 1 bumped (1.0 -> 1.1): `--changed-since HEAD` (installs once)
  remote cold    a fresh clone and fresh caches, no remote: the baseline of the two rows below,
                 measured beside them in each of --runs rounds (interleaved, a new bucket each)
  remote A       machine A: cold, with --remote-cache on an empty bucket (installs, writes back
                 its dependency sets and every finished package)
  remote B       machine B: a fresh clone, fresh caches and dist/, the same --remote-cache:
                 every zip must come from the remote ("artifact": "remote"), byte-identical to
                 A's and to the local cold build's

The S3 server is moto's (`python -m moto.server`) on 127.0.0.1 and a free port, started here and
stopped at the end, also on Ctrl-C, SIGTERM or an error. `--wheels local` (default) builds pure
wheels with tests/factories/wheels.py and points the requirements at them with `--no-index
--find-links`; `--wheels pypi` uses real pinned PyPI releases (needs network). `--sam` also times
`sam build` (no Docker) on the same kind of project with --sam-functions functions, if `sam` is
found (PATH, $LPACK_SAM, /tmp/sam-venv/bin/sam) along with a python3.12. The cold pair runs
--cold-runs times, interleaved (median, and each pair's ratio min/median/max); the others --runs
times (median). `--only-remote` runs the remote rows alone. The exit code is 0 whatever the
results: the goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO))

from bench_build import clean_env, lpack_command, run  # a sibling script, not a package

RUNTIME = "python3.12"
BUMPED_SET = 1

# --wheels local: per set, (package, files) for wheels s{K}-pkg{J}; every set also pins shared-util.
LOCAL_SIZES = (200, 80, 40, 20)

# --wheels pypi: real pure-Python (or manylinux) releases, every dependency pinned; the bump
# for "set changed" is applied to set 1's first pin.
PYPI_SETS = (
    ("requests==2.31.0", "urllib3==2.0.7", "idna==3.4", "certifi==2023.7.22", "charset-normalizer==3.3.2"),
    ("attrs==23.1.0", "cattrs==23.1.2"),
    ("python-dateutil==2.8.2", "six==1.16.0", "pytz==2023.3"),
    ("PyYAML==6.0.1", "jmespath==1.0.1"),
    ("click==8.1.7", "itsdangerous==2.1.2", "MarkupSafe==2.1.5", "Jinja2==3.1.2"),
)
PYPI_IMPORTS = {"python-dateutil": "dateutil", "PyYAML": "yaml", "charset-normalizer": "charset_normalizer",
                "MarkupSafe": "markupsafe", "Jinja2": "jinja2"}
PYPI_BUMP = ("attrs==23.1.0", "attrs==23.2.0")


class Row(NamedTuple):
    key: str
    label: str
    ref: str  # the row its ratio is to ("" for none)


ROWS = (
    Row("cold_j1", "cold build --jobs 1", ""),
    Row("cold_j2", "cold build --jobs 2", "cold_j1"),
    Row("noop_since", "no-op: --changed-since HEAD", ""),
    Row("noop_plain", "no-op: plain build", ""),
    Row("single", "single function warm (-f fn000)", ""),
    Row("one_since", "one function's source changed: --changed-since HEAD", "single"),
    Row("one_plain", "one function's source changed: plain build", "single"),
    Row("set_since", "one dependency set changed: --changed-since HEAD", "cold_j2"),
    Row("remote_cold", "remote rounds' baseline: cold, no remote (--jobs 2)", ""),
    Row("remote_a", "machine A: cold, remote write-back (--jobs 2)", "remote_cold"),
    Row("remote_b", "machine B: cold machine, warm remote (--jobs 2)", "remote_cold"),
)

GOALS = (
    ("no-op <= 2 s (--changed-since HEAD)", "noop_since", lambda s, r: s["noop_since"] <= 2.0),
    ("no-op <= 2 s (plain build)", "noop_plain", lambda s, r: s["noop_plain"] <= 2.0),
    ("one-changed <= 3x a single function's warm build (--changed-since)", "one_since",
     lambda s, r: r["one_since"] <= 3.0),
    ("one-changed <= 3x a single function's warm build (plain build)", "one_plain",
     lambda s, r: r["one_plain"] <= 3.0),
    ("cold with --jobs 2 <= 0.6x cold with --jobs 1", "cold_j2", lambda s, r: r["cold_j2"] <= 0.6),
    ("remote-warm cold machine <= 0.2x a cold build (--jobs 2, interleaved)", "remote_b", lambda s, r: r["remote_b"] <= 0.2),
)


# ---------------------------------------------------------------- generating the monorepo

def module_source(rng: random.Random, name: str) -> str:
    """A plausible module of ~2-4 KB: constants, a class and a few functions."""
    lines = [f'"""{name}: generated for the monorepo benchmark."""', "", "import json", ""]
    lines += [f"LIMIT_{i} = {rng.randint(1, 10_000)}" for i in range(rng.randint(3, 8))]
    for f in range(rng.randint(4, 9)):
        lines += ["", "", f"def step_{f}(items, factor={rng.randint(2, 9)}):",
                  f'    """Scale and filter items (variant {rng.random():.6f})."""',
                  "    out = []", "    for item in items:",
                  f"        if item % {rng.randint(2, 7)} == 0:", "            out.append(item * factor)",
                  "    return json.dumps(out)"]
    lines += ["", "", "class Handler:", "    def __init__(self, config):", "        self.config = config", "",
              "    def run(self, event):", "        return {'ok': True, 'n': len(event)}", ""]
    return "\n".join(lines)


def make_local_wheel(house: Path, name: str, version: str, files: int, seed: str) -> str:
    from tests.factories.wheels import make_wheel, normalize

    rng = random.Random(seed)
    pkg = normalize(name)
    payload = {f"{pkg}/__init__.py": f'__version__ = "{version}"\n'}
    for i in range(files - 1):
        payload[f"{pkg}/mod_{i:03d}.py"] = module_source(rng, f"{pkg}.mod_{i:03d}")
    make_wheel(house, name, version, files=payload)
    return pkg


class DepSet(NamedTuple):
    lines: tuple[str, ...]     # requirement lines (options first)
    imports: tuple[str, ...]   # top-level modules the handler imports


def local_sets(house: Path, sets: int) -> tuple[list[DepSet], tuple[str, str]]:
    shared = make_local_wheel(house, "shared-util", "1.0", 30, "shared")
    head = ("--no-index", f"--find-links {house}")
    out = []
    for k in range(sets):
        pins, imports = ["shared-util==1.0"], [shared]
        for j, size in enumerate(LOCAL_SIZES):
            imports.append(make_local_wheel(house, f"s{k}-pkg{j}", "1.0", size, f"s{k}-{j}"))
            pins.append(f"s{k}-pkg{j}==1.0")
        out.append(DepSet((*head, *pins), tuple(imports)))
    make_local_wheel(house, f"s{BUMPED_SET}-pkg1", "1.1", LOCAL_SIZES[1], f"s{BUMPED_SET}-1-bumped")
    return out, (f"s{BUMPED_SET}-pkg1==1.0", f"s{BUMPED_SET}-pkg1==1.1")


def pypi_sets(sets: int) -> tuple[list[DepSet], tuple[str, str]]:
    out = []
    for k in range(sets):
        pins = PYPI_SETS[k % len(PYPI_SETS)]
        names = [p.split("==")[0] for p in pins]
        imports = tuple(PYPI_IMPORTS.get(n, n.replace("-", "_").lower()) for n in names[:2])
        out.append(DepSet(pins, imports))
    return out, PYPI_BUMP


def fn_name(i: int) -> str:
    return f"fn{i:03d}"


def write_project(root: Path, functions: int, sets: list[DepSet]) -> dict[str, int]:
    """lpack.toml, functions/fnNNN/app.py, requirements/setK.txt; returns function -> set."""
    which = {fn_name(i): i % len(sets) for i in range(functions)}
    (root / "requirements").mkdir(parents=True)
    for k, dep in enumerate(sets):
        (root / "requirements" / f"set{k}.txt").write_text("\n".join(dep.lines) + "\n")
    toml = [f'runtime = "{RUNTIME}"', 'architecture = "x86_64"', 'handler = "app.handler"', ""]
    for name, k in which.items():
        src = root / "functions" / name
        src.mkdir(parents=True)
        imports = "".join(f"import {m}  # noqa: F401\n" for m in sets[k].imports)
        (src / "app.py").write_text(f'"""Function {name} (dependency set {k})."""\n\n{imports}\n\n'
                                    f"def handler(event, context):\n    return {{'fn': '{name}', 'set': {k}}}\n")
        toml += [f"[functions.{name}]", f'source = "functions/{name}"', f'requirements = "requirements/set{k}.txt"', ""]
    (root / "lpack.toml").write_text("\n".join(toml))
    (root / ".gitignore").write_text("dist/\n.aws-sam/\n")
    return which


def git(root: Path, *args: str) -> str:
    env = clean_env(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
                    GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid",
                    GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return run(["git", "-C", str(root), *args], env).stdout


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "monorepo")


# ---------------------------------------------------------------- running lpack

class Machine:
    """One machine: its own dependency cache, uv cache and environment."""

    def __init__(self, home: Path, extra_env: dict[str, str]) -> None:
        self.home = home
        self.extra_env = extra_env
        self.reset()

    def reset(self) -> None:
        for sub in ("lpack-cache", "uv-cache"):
            shutil.rmtree(self.home / sub, ignore_errors=True)
            (self.home / sub).mkdir(parents=True)

    def env(self) -> dict[str, str]:
        return clean_env(LPACK_CACHE_DIR=str(self.home / "lpack-cache"), UV_CACHE_DIR=str(self.home / "uv-cache"),
                         **self.extra_env)


class Result(NamedTuple):
    seconds: float
    report: dict[str, Any]
    cpu_s: float = 0.0  # user + system CPU of lpack and what it ran (its workers, installers)


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(machine: Machine, root: Path, *args: str) -> Result:
    cmd = [*lpack_command(), "build", str(root), "--format", "json", "-q", *args]
    # what the runs before wrote (lpack does not wait for its zips to reach the disk, as pip and
    # uv do not) is written now, not by the kernel while this run is timed
    os.sync()
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, env=machine.env(), cwd=root, capture_output=True, text=True, check=False)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        report = {}
    if done.returncode != 0 or not report:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-20:])
        raise SystemExit(f"lpack build failed ({done.returncode}): {' '.join(cmd)}\n{tail}")
    return Result(seconds, report, cpu)


def built(report: dict[str, Any]) -> list[str]:
    return sorted(a["name"] for a in report.get("artifacts", []))


def unchanged(report: dict[str, Any]) -> list[str]:
    return sorted(u["name"] for u in report.get("unchanged", []))


def deps(report: dict[str, Any]) -> dict[str, int]:
    count: dict[str, int] = {}
    for a in report.get("artifacts", []):
        count[a.get("dependencies", "?")] = count.get(a.get("dependencies", "?"), 0) + 1
    return dict(sorted(count.items()))


def origins(report: dict[str, Any]) -> dict[str, int]:
    """Where each zip came from: "remote" (the remote cache's package) or "built"."""
    count: dict[str, int] = {}
    for a in report.get("artifacts", []):
        count[a.get("artifact", "built")] = count.get(a.get("artifact", "built"), 0) + 1
    return dict(sorted(count.items()))


def dist_digests(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "dist").glob("*.zip"))}


# ---------------------------------------------------------------- the S3 server

AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}


@contextmanager
def s3_server(logdir: Path) -> Iterator[str]:
    """moto's server on 127.0.0.1 and a free port; its URL. Always stopped and waited for."""
    from tests.factories.s3 import moto_server

    with moto_server(logdir / "moto.log", AWS_ENV) as url:
        yield url


def create_bucket(endpoint: str, aws_env: dict[str, str]) -> str:
    import boto3

    name = f"lpack-bench-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------- the scenarios

class Bench:
    def __init__(self, work: Path, functions: int, sets: list[DepSet], bump: tuple[str, str], runs: int,
                 pypi: bool, cold_runs: int = 1) -> None:
        self.work = work
        self.root = work / "repo"
        self.which = write_project(self.root, functions, sets)
        init_repo(self.root)
        self.bump = bump
        self.changed = fn_name(min(7, functions - 1))
        self.runs = runs
        self.cold_runs = cold_runs
        self.pypi = pypi
        aws_files = {"AWS_CONFIG_FILE": str(work / "no-aws-config"),
                     "AWS_SHARED_CREDENTIALS_FILE": str(work / "no-aws-credentials")}
        self.aws_env = {**AWS_ENV, **aws_files}
        self.local = Machine(work / "machine-local", {})
        self.samples: dict[str, list[float]] = {r.key: [] for r in ROWS}
        self.notes: dict[str, str] = {}
        self.bugs: dict[str, str] = {}
        self.checks: list[str] = []
        self.cpu: dict[str, list[float]] = {}  # the cold rows' CPU seconds (user + system), run by run

    def log(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def bug(self, key: str, what: str) -> None:
        self.bugs[key] = what
        self.log(f"BUG in {key}: {what}")

    def expect(self, key: str, report: dict[str, Any], rebuilt: Sequence[str]) -> None:
        names = set(self.which)
        if built(report) != sorted(rebuilt) or unchanged(report) != sorted(names - set(rebuilt)):
            self.bug(key, f"rebuilt {len(built(report))} {built(report)[:6]}..., unchanged {len(unchanged(report))}; "
                     f"expected rebuilt {sorted(rebuilt)[:6]} ({len(rebuilt)})")

    def cold(self, key: str, jobs: int) -> dict[str, str]:
        self.local.reset()
        shutil.rmtree(self.root / "dist", ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = build(self.local, self.root, "--jobs", str(jobs))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # lpack, its workers and installers
        self.cpu.setdefault(key, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        self.samples[key].append(res.seconds)
        self.notes[key] = f"{len(built(res.report))} zips, deps {deps(res.report)}"
        self.log(f"{key}: {res.seconds:.2f} s ({self.notes[key]})")
        if len(built(res.report)) != len(self.which):
            self.bug(key, f"built {len(built(res.report))} of {len(self.which)}")
        return dist_digests(self.root)

    def repeat(self, key: str, *args: str, before: Any = None, check: Any = None) -> None:
        for _ in range(self.runs):
            if before:
                before()
            res = build(self.local, self.root, *args)
            self.samples[key].append(res.seconds)
            if check:
                check(res.report)
        self.notes[key] = f"rebuilt {len(built(res.report))}, unchanged {len(unchanged(res.report))}, deps {deps(res.report)}"
        self.log(f"{key}: median {statistics.median(self.samples[key]):.2f} s ({self.notes[key]})")

    def edit(self) -> None:
        app = self.root / "functions" / self.changed / "app.py"
        with app.open("a") as fh:
            fh.write(f"# edit {time.time_ns()}\n")

    def run_local(self) -> dict[str, str]:
        for _ in range(self.cold_runs):  # the pair interleaved: both see the same machine load
            j1 = self.cold("cold_j1", 1)
            reference = self.cold("cold_j2", 2)
            if j1 != reference:
                self.bug("cold_j2", f"{sum(j1.get(n) != d for n, d in reference.items())} zips differ from --jobs 1's")
        pairs = sorted(j2 / j1 for j1, j2 in zip(self.samples["cold_j1"], self.samples["cold_j2"]))
        self.checks.append(f"cold --jobs 2 / --jobs 1, each pair of {len(pairs)}: min {pairs[0]:.2f}x, "
                           f"median {statistics.median(pairs):.2f}x, max {pairs[-1]:.2f}x")
        for key in ("cold_j1", "cold_j2"):  # wall time on a busy machine is the scheduler's; CPU time is ours
            cpu = sorted(self.cpu[key])
            self.checks.append(f"{key} CPU seconds (lpack, workers, installers): min {cpu[0]:.2f}, "
                               f"median {statistics.median(cpu):.2f}, max {cpu[-1]:.2f}")
        all_fns = list(self.which)
        self.repeat("noop_since", "--changed-since", "HEAD", check=lambda r: self.expect("noop_since", r, []))
        self.repeat("noop_plain")
        self.repeat("single", "-f", "fn000")
        self.repeat("one_since", "--changed-since", "HEAD", before=self.edit,
                    check=lambda r: self.expect("one_since", r, [self.changed]))
        self.repeat("one_plain", before=self.edit)
        git(self.root, "checkout", "-q", "--", f"functions/{self.changed}/app.py")
        build(self.local, self.root)  # dist/ back to HEAD's sources
        if dist_digests(self.root) != reference:
            self.bug("noop_plain", "after restoring the edited source, the zips differ from the cold build's")
        self.set_changed(all_fns)
        git(self.root, "checkout", "-q", "--", f"requirements/set{BUMPED_SET}.txt")
        return reference

    def set_changed(self, all_fns: list[str]) -> None:
        req = self.root / "requirements" / f"set{BUMPED_SET}.txt"
        req.write_text(req.read_text().replace(self.bump[0], self.bump[1]))
        expected = [n for n in all_fns if self.which[n] == BUMPED_SET]
        res = build(self.local, self.root, "--changed-since", "HEAD")
        self.samples["set_since"].append(res.seconds)
        self.expect("set_since", res.report, expected)
        self.notes["set_since"] = (f"rebuilt {len(built(res.report))}, unchanged {len(unchanged(res.report))}, "
                                   f"deps {deps(res.report)}")
        self.log(f"set_since: {res.seconds:.2f} s ({self.notes['set_since']})")

    def run_remote(self, reference: dict[str, str] | None) -> None:
        """--runs rounds of: a cold build without the remote, machine A, machine B (fresh clones,
        fresh caches, a new bucket each round), so B's ratio is to a cold build of the same moment."""
        ratios: list[float] = []
        cpu: dict[str, list[float]] = {"cold": [], "a": [], "b": []}
        with s3_server(self.work) as endpoint:
            for round_ in range(self.runs):
                seconds, cpu_s = self.remote_round(endpoint, round_, reference)
                ratios.append(seconds["b"] / seconds["cold"])
                for who, spent in cpu.items():
                    spent.append(cpu_s[who])
        b_cpu = [b / cold for b, cold in zip(cpu["b"], cpu["cold"])]
        self.notes["remote_b"] += (f"; B / cold per round: min {min(ratios):.2f}x, median "
                                   f"{statistics.median(ratios):.2f}x, max {max(ratios):.2f}x; in CPU s (lpack and "
                                   f"its children) cold {_spread(cpu['cold'])}, A {_spread(cpu['a'])}, "
                                   f"B {_spread(cpu['b'])}, B / cold per round {_spread(b_cpu, 'x')}")

    def remote_round(self, endpoint: str, round_: int,
                     reference: dict[str, str] | None) -> tuple[dict[str, float], dict[str, float]]:
        bucket = create_bucket(endpoint, self.aws_env)
        remote = ["--remote-cache", f"s3://{bucket}/team/lpack", "--remote-cache-endpoint", endpoint, "--jobs", "2"]
        clones = {who: self.work / f"round{round_}" / f"machine-{who}-repo" for who in ("cold", "a", "b")}
        for clone in clones.values():
            run(["git", "clone", "-q", str(self.root), str(clone)], clean_env())
        machines = {who: Machine(self.work / f"round{round_}" / f"machine-{who}", self.aws_env) for who in clones}
        seconds, cpu = {}, {}
        for who, key, args in (("cold", "remote_cold", ["--jobs", "2"]), ("a", "remote_a", remote),
                               ("b", "remote_b", remote)):
            res = build(machines[who], clones[who], *args)
            seconds[who], cpu[who] = res.seconds, res.cpu_s
            self.samples[key].append(res.seconds)
            self.notes[key] = f"deps {deps(res.report)}, artifact {origins(res.report)}"
            self.log(f"{key} (round {round_ + 1}): {res.seconds:.2f} s, {res.cpu_s:.2f} CPU s ({self.notes[key]})")
        self.compare_remote(res.report, dist_digests(clones["a"]), dist_digests(clones["b"]),
                            reference or dist_digests(clones["cold"]))
        shutil.rmtree(self.work / f"round{round_}", ignore_errors=True)
        return seconds, cpu

    def compare_remote(self, report_b: dict[str, Any], a: dict[str, str], b: dict[str, str],
                       reference: dict[str, str]) -> None:
        fetched = origins(report_b).get("remote", 0)
        if fetched != len(b):
            self.bug("remote_b", f"machine B fetched {fetched} of {len(b)} zips from the remote (deps {deps(report_b)})")
        differ = sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))
        differ_local = sorted(n for n in set(reference) | set(b) if reference.get(n) != b.get(n))
        if differ or differ_local:
            self.bug("remote_b", f"zips differ: B vs A {differ[:5]} ({len(differ)}), "
                     f"B vs local cold {differ_local[:5]} ({len(differ_local)})")
        line = (f"machine B: {fetched} of {len(b)} zips from the remote, {len(b) - len(differ)} byte-identical "
                f"to machine A's, {len(b) - len(differ_local)} to the local cold build's")
        if line not in self.checks:  # the same in every round: said once
            self.checks.append(line)

    def medians(self) -> dict[str, float]:
        return {k: statistics.median(v) for k, v in self.samples.items() if v}


# ---------------------------------------------------------------- SAM, for comparison

def _spread(values: list[float], unit: str = "") -> str:
    """min / median / max."""
    return " / ".join(f"{v:.2f}{unit}" for v in (min(values), statistics.median(values), max(values)))


def find_sam() -> str | None:
    for cand in (os.environ.get("LPACK_SAM"), shutil.which("sam"), "/tmp/sam-venv/bin/sam"):
        if cand and Path(cand).exists():
            return cand
    return None


def find_python(version: str) -> Path | None:
    """A real pythonX.Y's folder: pyenv's installs first (its shims fail unless that version is selected)."""
    for cand in sorted((Path.home() / ".pyenv" / "versions").glob(f"{version}.*"), reverse=True):
        if (cand / "bin" / f"python{version}").exists():
            return cand / "bin"
    found = shutil.which(f"python{version}")
    return Path(found).parent if found and "shims" not in found else None


def write_sam_project(root: Path, functions: int, sets: list[DepSet]) -> None:
    res = ["AWSTemplateFormatVersion: '2010-09-09'", "Transform: AWS::Serverless-2016-10-31", "Resources:"]
    for i in range(functions):
        name, k = fn_name(i), i % len(sets)
        src = root / "functions" / name
        src.mkdir(parents=True)
        imports = "".join(f"import {m}  # noqa: F401\n" for m in sets[k].imports)
        (src / "app.py").write_text(f"{imports}\n\ndef handler(event, context):\n    return {{'fn': '{name}'}}\n")
        (src / "requirements.txt").write_text("\n".join(sets[k].lines) + "\n")
        res += [f"  Fn{i:03d}:", "    Type: AWS::Serverless::Function", "    Properties:",
                f"      CodeUri: functions/{name}/", "      Handler: app.handler", f"      Runtime: {RUNTIME}",
                "      Architectures: [x86_64]"]
    (root / "template.yaml").write_text("\n".join(res) + "\n")


def run_sam(work: Path, functions: int, sets: list[DepSet], log: Any) -> dict[str, Any]:
    sam = find_sam()
    py = find_python(RUNTIME.removeprefix("python"))
    if not sam:
        return {"skipped": "sam not found (PATH, $LPACK_SAM, /tmp/sam-venv/bin/sam)"}
    if not py:
        return {"skipped": f"no {RUNTIME} on PATH or in ~/.pyenv (sam build without Docker needs it)"}
    root = work / "sam"
    write_sam_project(root, functions, sets)
    env = clean_env(PATH=f"{py}{os.pathsep}{os.environ['PATH']}", SAM_CLI_TELEMETRY="0",
                    AWS_DEFAULT_REGION="us-east-1", HOME=str(work / "sam-home"))
    (work / "sam-home").mkdir(exist_ok=True)
    out: dict[str, Any] = {"functions": functions}
    steps = (("sam build (serial, cold)", ["build"]),
             ("sam build --parallel --cached (cold)", ["build", "--parallel", "--cached"]),
             ("sam build --parallel --cached (no-op)", ["build", "--parallel", "--cached"]))
    for label, args in steps:
        if "cold" in label:
            shutil.rmtree(root / ".aws-sam", ignore_errors=True)
        start = time.perf_counter()
        done = subprocess.run([sam, *args], cwd=root, env=env, capture_output=True, text=True, check=False)
        out[label] = round(time.perf_counter() - start, 3)
        log(f"SAM {label}: {out[label]:.2f} s (exit {done.returncode})")
        if done.returncode != 0:
            out["error"] = "\n".join((done.stderr + done.stdout).strip().splitlines()[-12:])
            return out
    lpack_machine = Machine(work / "sam-lpack-machine", {})
    lroot = work / "sam-lpack"
    write_project(lroot, functions, sets)
    out["lpack build --jobs 2 (cold), same functions"] = round(build(lpack_machine, lroot, "--jobs", "2").seconds, 3)
    out["lpack build (no-op), same functions"] = round(build(lpack_machine, lroot).seconds, 3)
    return out


# ---------------------------------------------------------------- report

def print_report(bench: Bench, meta: dict[str, Any], sam: dict[str, Any] | None) -> dict[str, Any]:
    med = bench.medians()
    ratio = {r.key: med[r.key] / med[r.ref] for r in ROWS if r.ref and r.key in med and r.ref in med}
    print(f"\n## Monorepo benchmark: {meta['functions']} functions, {meta['sets']} dependency sets "
          f"({meta['wheels']} wheels), {RUNTIME} x86_64")
    print(f"{meta['date']}, {meta['cpus']} CPUs, load {meta['load_before']} -> {meta['load_after']}, "
          f"Python {meta['python']}, lpack {meta['lpack']}, runs {meta['runs']}, cold runs {meta['cold_runs']}\n")
    print("| row | median s | ratio | runs (s) | notes |\n| --- | ---: | --- | --- | --- |")
    for r in ROWS:
        if r.key not in med:
            continue
        rat = f"{ratio[r.key]:.2f}x {r.ref}" if r.key in ratio else ""
        runs = " ".join(f"{s:.2f}" for s in bench.samples[r.key])
        note = ("BUG: " + bench.bugs[r.key] + "; ") if r.key in bench.bugs else ""
        print(f"| {r.label} | {med[r.key]:.2f} | {rat} | {runs} | {note}{bench.notes.get(r.key, '')} |")
    print("\n| goal (issue #16) | result |\n| --- | --- |")
    goals = {}
    for text, key, test in GOALS:
        if key not in med:
            continue
        ok = test(med, ratio)
        shown = f"{med[key]:.2f} s" if key.startswith("noop") else f"{ratio[key]:.2f}x"
        verdict = "BUG" if key in bench.bugs else ("PASS" if ok else "MISS")
        goals[text] = verdict
        print(f"| {text} | {shown} {verdict} |")
    for line in bench.checks:
        print(f"\n{line}")
    if sam is not None:
        print(f"\n### SAM, for comparison (a smaller monorepo: {sam.get('functions', '?')} functions)\n")
        for k, v in sam.items():
            print(f"- {k}: {v}")
    return {"meta": meta, "samples": bench.samples, "medians": med, "ratios": ratio, "notes": bench.notes,
            "bugs": bench.bugs, "goals": goals, "checks": bench.checks, "cpu": bench.cpu, "sam": sam}


def lpack_revision() -> str:
    try:
        rev = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], clean_env()).stdout.strip()
        dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "--", "lpack"], clean_env()).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except SystemExit:
        return "unknown"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--functions", type=int, default=200)
    p.add_argument("--sets", type=int, default=5)
    p.add_argument("--runs", type=int, default=3, help="runs of the cheap rows (median)")
    p.add_argument("--cold-runs", type=int, default=1,
                   help="cold --jobs 1/--jobs 2 pairs, interleaved (median; each pair's ratio min/median/max)")
    p.add_argument("--wheels", choices=("local", "pypi"), default="local",
                   help="local: hermetic wheels from tests/factories; pypi: real pinned releases (needs network)")
    p.add_argument("--sam", action="store_true", help="also time sam build (no Docker) on --sam-functions functions")
    p.add_argument("--sam-functions", type=int, default=20)
    p.add_argument("--no-remote", action="store_true", help="skip the remote-cache rows")
    p.add_argument("--only-remote", action="store_true", help="run the remote-cache rows alone")
    p.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    p.add_argument("--out", type=Path, help="also write every sample as JSON")
    return p.parse_args(argv)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds through the finally blocks that stop the S3 server


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    work = args.work or Path(tempfile.mkdtemp(prefix="lpack-monorepo-"))
    if args.work and args.work.exists() and any(args.work.iterdir()):
        raise SystemExit(f"--work {args.work}: not empty (the benchmark generates everything in it)")
    work.mkdir(parents=True, exist_ok=True)
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpus": os.cpu_count(),
            "python": platform.python_version(), "lpack": lpack_revision(), "functions": args.functions,
            "sets": args.sets, "wheels": args.wheels, "runs": args.runs, "cold_runs": args.cold_runs,
            "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    try:
        if args.wheels == "local":
            sets, bump = local_sets(work / "wheels", args.sets)
        else:
            sets, bump = pypi_sets(args.sets)
        bench = Bench(work, args.functions, sets, bump, args.runs, args.wheels == "pypi", args.cold_runs)
        bench.log(f"project in {bench.root}: {args.functions} functions, {args.sets} sets")
        reference = None if args.only_remote else bench.run_local()
        if not args.no_remote:
            bench.run_remote(reference)
        sam = run_sam(work, args.sam_functions, sets, bench.log) if args.sam else None
        meta["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        result = print_report(bench, meta, sam)
        if args.out:
            args.out.write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""How fast lpack lints IAM policies: 100 Lambda-style policies in one `lpack check` run, against
parliament (duo-labs) over the same files, in the same run; reported per policy and as a ratio.
Then IAM from the code (issue #15): 50 functions (handlers and roles from tests/data/iam_code) in
one project, the call analysis and the LP570-LP572 rules timed in-process, and `lpack check` of
the project with and without them (`--ignore` does not skip work: the without run sets
LPACK_BENCH_NO_CODE, which makes check skip the analysis) interleaved.

parliament is installed into its own virtual environment under --work (PyPI needed once).
Usage: python benchmarks/bench_iam.py [--work DIR] [--runs 3] [--code-only]
Goals: 100 policies in under one second (issue #5); 50 handlers + roles in under one second (#15).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ACTIONS = [
    "s3:GetObject", "s3:PutObject", "s3:ListBucket", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:Query", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sns:Publish",
    "kms:Decrypt", "secretsmanager:GetSecretValue", "ssm:GetParameter", "logs:CreateLogStream",
    "logs:PutLogEvents", "xray:PutTraceSegments", "events:PutEvents", "lambda:InvokeFunction",
    "s3:Get*", "dynamodb:*", "iam:PassRole", "sts:AssumeRole", "ec2:DescribeInstances",
]


def policy(rng: random.Random, i: int) -> dict[str, object]:
    statements = []
    for j in range(rng.randint(1, 5)):
        actions = rng.sample(ACTIONS, rng.randint(1, 4))
        resource = rng.choice(["*", f"arn:aws:s3:::bucket-{i}/*", f"arn:aws:dynamodb:us-east-1:123456789012:table/t{i}",
                               f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn-{i}:*"])
        statements.append({"Sid": f"S{j}", "Effect": "Allow", "Action": actions, "Resource": resource})
    return {"Version": "2012-10-17", "Statement": statements}


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, list[float]]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "iam_code"


def code_project(work: Path, count: int = 50) -> Path:
    """One lpack project of ``count`` functions, each a corpus case's handler and role (cycled)."""
    root = work / "code-project"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    cases = sorted(p for p in CORPUS.iterdir() if (p / "lpack.toml").is_file())
    config = ['runtime = "python3.12"\n']
    for i in range(count):
        case = cases[i % len(cases)]
        shutil.copytree(case / "src", root / f"fn{i:02}")
        shutil.copy(case / "role.json", root / f"role{i:02}.json")
        env = case.joinpath("lpack.toml").read_text().partition("[functions.fn.environment]")[2]
        config.append(f'\n[functions.fn{i:02}]\nsource = "fn{i:02}"\nhandler = "app.handler"\n'
                      f'policies = ["role{i:02}.json"]\n')
        if env.strip():
            config.append(f"\n[functions.fn{i:02}.environment]\n{env.strip()}\n")
    (root / "lpack.toml").write_text("".join(config))
    return root


def code_in_process(root: Path, runs: int) -> tuple[float, float, float, int]:
    """Seconds for the call analysis of every function, and for the LP570-LP579 rules on their
    roles (median of ``runs``), the CPU seconds of both together (what a loaded machine moves
    least), and the number of calls followed."""
    sys.path.insert(0, str(CORPUS.parent.parent.parent))
    from lpack import rules
    from lpack.analysis.subjects import RoleSubject
    from lpack.commands.policy import code_use
    from lpack.iam.policy import read_policy
    from lpack.inputs.config import load_project
    from lpack.plan import plan

    project = load_project(root, None)
    plans = [plan(project, unit, None, None) for unit in project.units]
    roles = [tuple(read_policy(root / p, "identity") for p in unit.settings.policies) for unit in project.units]
    analysis, judging, cpu, calls = [], [], [], 0
    for _ in range(runs):
        cpu_start = time.process_time()
        start = time.perf_counter()
        uses = [code_use(p) for p in plans]
        analysis.append(time.perf_counter() - start)
        code_rules = [r for r in rules.rules_for(RoleSubject) if r.code.startswith("LP57")]
        start = time.perf_counter()
        for use, role, p in zip(uses, roles, plans):
            subject = RoleSubject(policies=role, where="role.json", function=p.unit.name, code=use)
            for r in code_rules:
                list(r.func(r, subject))
        judging.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        calls = sum(len(u.calls) for u in uses if u is not None)
    return statistics.median(analysis), statistics.median(judging), statistics.median(cpu), calls


def bench_code(work: Path, runs: int, cmd: list[str], env: dict[str, str]) -> None:
    root = code_project(work)
    analysis, judging, cpu, calls = code_in_process(root, max(runs, 5))
    print(f"IAM from the code: 50 functions, {calls} AWS calls followed, median of {max(runs, 5)} runs")
    print(f"call analysis (50 handlers):           {analysis:7.3f} s   {analysis * 20:6.1f} ms/function")
    print(f"LP570-LP572 on the 50 roles:           {judging:7.3f} s")
    print(f"both, CPU time:                        {cpu:7.3f} s")
    print(f"goal 50 handlers + roles < 1 s: wall {'PASS' if analysis + judging < 1 else 'MISS'}, "
          f"CPU {'PASS' if cpu < 1 else 'MISS'}")
    check = [*cmd, "check", "--exit-zero", "-q", str(root)]
    env = {**env, "LPACK_CHECK_CACHE": "0"}  # a fresh check each run, not a replay of the last one
    without = {**env, "LPACK_BENCH_NO_CODE": "1"}
    subprocess.run(check, env=env, capture_output=True, check=False)  # bytecode
    pairs = []
    for _ in range(max(runs, 5)):  # interleaved, so load changes hit both
        a, _ = timed(check, 1, env)
        b, _ = timed(check, 1, without)
        pairs.append((a, b))
    ratios = sorted(a / b for a, b in pairs)
    print(f"lpack check of the project, with / without the code analysis: min {ratios[0]:.2f}x "
          f"median {statistics.median(ratios):.2f}x max {ratios[-1]:.2f}x; with: median "
          f"{statistics.median(a for a, _ in pairs):.3f} s, without: {statistics.median(b for _, b in pairs):.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lpack-bench-iam")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code-only", action="store_true", help="only the code analysis benchmark (no PyPI)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    lpack = shutil.which("lpack")
    if args.code_only:
        bench_code(args.work, args.runs, [lpack] if lpack else [sys.executable, "-m", "lpack"], env)
        return 0
    policies = args.work / "policies"
    shutil.rmtree(policies, ignore_errors=True)
    policies.mkdir(parents=True)
    rng = random.Random(0)
    files = []
    for i in range(100):
        path = policies / f"policy-{i:03}.json"
        path.write_text(json.dumps(policy(rng, i), indent=2))
        files.append(str(path))
    lpack = shutil.which("lpack")
    cmd = [lpack] if lpack else [sys.executable, "-m", "lpack"]
    subprocess.run([*cmd, "check", files[0]], env=env, capture_output=True, check=False)  # bytecode
    ours, our_runs = timed([*cmd, "check", "--exit-zero", "-q", *files], args.runs, env)

    park = args.work / "parliament-venv"
    if not (park / "bin" / "parliament").exists():
        venv.create(park, with_pip=True)
        subprocess.run([str(park / "bin" / "pip"), "install", "-q", "parliament"], check=True)
    theirs, their_runs = timed([str(park / "bin" / "parliament"), "--directory", str(policies)], args.runs, env)
    one, _ = timed([str(park / "bin" / "parliament"), "--file", files[0]], args.runs, env)

    print(f"IAM lint benchmark: 100 policies, median of {args.runs} runs, {os.cpu_count()} CPUs")
    print(f"lpack check (one run, 100 files):      {ours:7.3f} s   {ours * 10:6.1f} ms/policy   runs " + " ".join(f"{r:.3f}" for r in our_runs))
    print(f"parliament --directory (100 files):    {theirs:7.3f} s   {theirs * 10:6.1f} ms/policy   runs " + " ".join(f"{r:.3f}" for r in their_runs))
    print(f"parliament --file (1 file):            {one:7.3f} s")
    print(f"ratio lpack / parliament: {ours / theirs:.2f}x; goal 100 policies < 1 s: {'PASS' if ours < 1 else 'MISS'}")
    bench_code(args.work, args.runs, cmd, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

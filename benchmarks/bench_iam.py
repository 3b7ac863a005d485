#!/usr/bin/env python3
"""How fast lpack lints IAM policies: 100 Lambda-style policies in one `lpack check` run, against
parliament (duo-labs) over the same files, in the same run; reported per policy and as a ratio.

parliament is installed into its own virtual environment under --work (PyPI needed once).
Usage: python benchmarks/bench_iam.py [--work DIR] [--runs 3]
Goal (issue #5): 100 policies in under one second.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lpack-bench-iam")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

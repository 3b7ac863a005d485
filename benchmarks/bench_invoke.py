#!/usr/bin/env python3
"""What `lpack invoke` costs over running the handler by hand, as ratios measured in the same run.

Baseline: a fresh `python -I -S` that puts the extracted package on sys.path, imports the
handler module and calls it once (what a hand-written "run it locally" script does, with no
context, no timeout, no isolation, no report).

1. One event, cold: `lpack invoke app.zip --handler ... --payload {}` against the baseline.
2. Many events: N events in one `lpack invoke` (one warm environment) against N baseline
   processes (each a cold start, as a script run per event is). Also the marginal cost of one
   more warm event.

Hermetic: the package is written here with zipfile. Usage:
    python benchmarks/bench_invoke.py [--runs 7] [--events 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

APP = "import json\n\ndef handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "LPACK_CACHE_DIR": str(work / "cache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        package = work / "app.zip"
        with zipfile.ZipFile(package, "w") as out:
            out.writestr("app.py", APP)
        task = work / "task"
        zipfile.ZipFile(package).extractall(task)
        events = work / "events"
        events.mkdir()
        for i in range(args.events):
            (events / f"{i:04d}.json").write_text(json.dumps({"n": i}))

        lpack = [sys.executable, "-m", "lpack", "invoke", str(package), "--handler", "app.handler",
                 "--runtime", runtime, "--python", sys.executable, "--format", "json"]
        baseline = [sys.executable, "-I", "-S", "-c",
                    f"import sys; sys.path.insert(0, {str(task)!r}); import app; app.handler({{'n': 1}}, None)"]
        subprocess.run([*lpack, "--payload", "{}"], env=env, capture_output=True, check=True)  # warm the cache

        cold_base = timed(baseline, args.runs, env)
        cold_lpack = timed([*lpack, "--payload", "{}"], args.runs, env)
        many_lpack = timed([*lpack, "--event", str(events)], max(3, args.runs // 2), env)
        many_base = cold_base * args.events
        per_event_ms = (many_lpack - cold_lpack) / (args.events - 1) * 1000

    print(f"Python {sys.version.split()[0]}, {args.runs} runs, medians")
    print(f"one event:  lpack invoke {cold_lpack:.3f} s, hand-run script {cold_base:.3f} s -> "
          f"{cold_lpack / cold_base:.1f}x")
    print(f"{args.events} events: lpack invoke (one warm environment) {many_lpack:.3f} s, "
          f"{args.events} script runs {many_base:.3f} s -> {many_lpack / many_base:.2f}x")
    print(f"each further warm event: {per_event_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

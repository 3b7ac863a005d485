#!/usr/bin/env python3
"""How fast `lpack sbom` is on a large package, as a ratio to listing the same zip in the same run.

The package is synthetic and hermetic (no network): ~200 MB unzipped, DISTS distributions each
with FILES files, a METADATA and a RECORD with every file's sha256 (as an installer writes them),
a handler beside them; made once in --work and reused. Timed, interleaved, --runs times each:

- baseline: `python -c "import zipfile; zipfile.ZipFile(p).namelist()"` (an interpreter start and
  the central directory read: what any tool pays to look inside the zip);
- `lpack sbom ZIP` (CycloneDX 1.6 through cyclonedx-python-lib, every file a component);
- `lpack sbom ZIP --format spdx`.

Goal (issue #17): `lpack sbom` on a 200 MB package in under a second. Wall and CPU time (user +
system of the child) are both reported: on a shared machine the wall clock moves with the load.
--zip PATH adds a real package (e.g. numpy+pandas+pyarrow built by lpack for arm64, 227 MB
unzipped: tests/sbom/test_network.py builds one), timed the same way against its own listing.
Usage:
    python benchmarks/bench_sbom.py [--runs 7] [--work DIR] [--zip PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

DISTS = 120
FILES = 80
FILE_BYTES = 21_000  # ~200 MB unzipped in all
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _content(rng: random.Random, size: int) -> bytes:
    """Half random bytes, half repeated text: compresses about as site-packages does (~2.5x)."""
    half = size // 2
    text = (b"def function_%d(value):\n    return value * 2\n" % rng.randrange(1000)) * (half // 40 + 1)
    return rng.randbytes(half) + text[: size - half]


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data, compresslevel=1)


def make_package(path: Path) -> Path:
    rng = random.Random(17)
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        _write(zf, "lambda_function.py", b"import boto3\nimport pkg000\n\ndef lambda_handler(event, context):\n    return {}\n")
        for d in range(DISTS):
            name, folder = f"pkg{d:03d}", f"pkg{d:03d}-1.{d}.0.dist-info"
            record = []
            for f in range(FILES):
                data = _content(rng, FILE_BYTES)
                entry = f"{name}/module_{f:03d}.py"
                _write(zf, entry, data)
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record.append(f"{entry},sha256={digest},{len(data)}")
            requires = f"Requires-Dist: pkg{d + 1:03d}>=1\n" if d + 1 < DISTS and d % 3 == 0 else ""
            metadata = (f"Metadata-Version: 2.4\nName: {name}\nVersion: 1.{d}.0\nLicense-Expression: MIT\n"
                        f"{requires}\n").encode()
            _write(zf, f"{folder}/METADATA", metadata)
            digest = base64.urlsafe_b64encode(hashlib.sha256(metadata).digest()).rstrip(b"=").decode()
            record += [f"{folder}/METADATA,sha256={digest},{len(metadata)}", f"{folder}/RECORD,,"]
            _write(zf, f"{folder}/RECORD", ("\n".join(record) + "\n").encode())
    os.replace(tmp, path)
    return path


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lpack-bench-sbom")
    parser.add_argument("--zip", type=Path, action="append", default=[], help="a real package to time as well")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    package = args.work / "big.zip"
    if not package.exists():
        print("making the package (once) ...", file=sys.stderr)
        make_package(package)
    rows: dict[str, list[str]] = {}
    for label, path in [("synthetic", package), *((p.stem, p) for p in args.zip)]:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        dists = len({i.filename.split("/")[0] for i in infos if ".dist-info/" in i.filename})
        print(f"{label}: {path.stat().st_size / 1e6:.1f} MB zipped, {sum(i.file_size for i in infos) / 1e6:.1f} MB "
              f"unzipped, {len(infos)} files, {dists} distributions")
        rows[f"{label}: zipfile namelist"] = [sys.executable, "-c",
                                             f"import zipfile; zipfile.ZipFile({str(path)!r}).namelist()"]
        rows[f"{label}: lpack sbom"] = [sys.executable, "-m", "lpack", "sbom", str(path), "--runtime", "python3.12"]
        rows[f"{label}: lpack sbom --format spdx"] = [*rows[f"{label}: lpack sbom"], "--format", "spdx"]
    print(f"load {os.getloadavg()[0]:.1f}; {args.runs} runs, interleaved")
    for cmd in rows.values():  # warm the page cache and the bytecode
        timed(cmd)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in rows}
    for _ in range(args.runs):
        for name, cmd in rows.items():  # interleaved: drift in the machine's load hits every row alike
            samples[name].append(timed(cmd))
    print(f"{'':42} {'wall min/median/max s':>24} {'x listing':>10} {'cpu median s':>13} {'x listing':>10}")
    for name, found in samples.items():
        base = samples[name.split(":")[0] + ": zipfile namelist"]
        base_wall, base_cpu = statistics.median(w for w, _ in base), statistics.median(c for _, c in base)
        walls, cpus = sorted(w for w, _ in found), sorted(c for _, c in found)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"{name:42} {walls[0]:7.3f} {wall:7.3f} {walls[-1]:7.3f}   {wall / base_wall:9.2f}x "
              f"{cpu:12.3f} {cpu / base_cpu:9.2f}x")
    goal = statistics.median(w for w, _ in samples["synthetic: lpack sbom"])
    print(f"goal: lpack sbom under 1 s on this package: {'PASS' if goal < 1 else 'MISS'} ({goal:.3f} s median wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

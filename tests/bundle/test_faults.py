"""Builds killed with SIGKILL at seeded random moments (installing, compressing, writing the zip,
committing the cache entry): the next build still succeeds with the same bytes as a build from a
clean cache, and leaves no litter of the killed ones — no ``dist/.NAME.zip.*.tmp``, no
``cache/tmp/entry-*``, no half cache entry that a later build would trust.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
SEED = 21
KILLS = 10


def _project(root: Path, wheelhouse: Path) -> Path:
    root.mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheelhouse}\ndemo-pure==1.0\n")
    (root / "data.bin").write_bytes(random.Random(SEED).randbytes(2 * 1024 * 1024))  # a zip that takes a while
    return root


def _start(root: Path, cache_dir: Path, *more: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen([sys.executable, "-m", "lpack", "build", "-q", str(root), "--runtime", "python3.12",
                             "--cache-dir", str(cache_dir), *more],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)  # its own group: the kill takes uv with it, as a CI cancel does


def _kill_at(build: subprocess.Popen[bytes], delay_s: float) -> None:
    try:
        build.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=60)


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "deps").glob("*/*"))


def test_builds_killed_at_random_moments_leave_nothing_the_next_build_trips_on(
        tmp_path: Path, wheelhouse: Path) -> None:
    root = _project(tmp_path / "fn", wheelhouse)
    zip_path = root / "dist" / "fn.zip"
    started = time.monotonic()
    assert _start(root, tmp_path / "clean").wait(timeout=120) == 0  # the reference, from a clean cache
    span_s = time.monotonic() - started  # how long a build that installs takes here: kills land all over it
    reference = zip_path.read_bytes()
    zip_path.unlink()

    cache_dir = tmp_path / "cache"
    rng = random.Random(SEED)
    killed = 0
    for kill in range(KILLS):
        (root / "lambda_function.py").write_text(HANDLER + f"# edit {kill}\n")  # the zip is written again
        refresh = ("--refresh",) if kill % 2 else ()  # and every other build installs again
        build = _start(root, cache_dir, *refresh)
        _kill_at(build, rng.uniform(0, span_s))
        killed += build.returncode == -signal.SIGKILL
    assert killed >= 3  # else the test tested nothing

    (root / "lambda_function.py").write_text(HANDLER)
    for _ in range(2):  # the next build, and one after it from what that build left in the cache
        build = _start(root, cache_dir)
        assert build.wait(timeout=120) == 0
        assert zip_path.read_bytes() == reference
        assert sorted(p.name for p in zip_path.parent.iterdir()) == ["fn.zip", "lpack-manifest.json"]
        assert list((cache_dir / "tmp").iterdir()) == []
        [entry] = _entries(cache_dir)
        assert sorted(p.name for p in entry.iterdir()) in (["deps.zip", "meta.json"], ["deps.zip", "meta.json", "used"])
        with zipfile.ZipFile(entry / "deps.zip") as deps:
            assert deps.testzip() is None

"""`Max Memory Used` and `--enforce-memory`: the function's own memory, in a real child Python.

lpack's own process can be large when it starts the function (a cold build, an install of boto3):
the function's figure must not be lpack's. A spike between two looks at the child's memory still
counts, as Lambda's limit stops it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.invoke.test_runner import APP, invoke_zip, make_zip

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="memory is read from /proc")

SPIKE = '''\
def handler(event, context):
    data = b"\\1" * (event["mb"] * 1024 * 1024)
    size = len(data)
    del data
    return size
'''


def _touched(mb: int) -> bytearray:
    """Resident memory in this (lpack's) process: every page written."""
    block = bytearray(mb * 1024 * 1024)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    return block


def test_max_memory_used_is_the_functions_not_lpacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Linux keeps getrusage's ru_maxrss across execve: a child started by a 300 MB lpack would
    report 300 MB for a function that used 20."""
    ballast = _touched(300)
    package = make_zip(tmp_path / "app.zip", {"app.py": APP})
    code, report, _ = invoke_zip(capsys, package, {})
    assert len(ballast) == 300 * 1024 * 1024
    assert code == 0
    assert report["invocations"][0]["max_memory_used_mb"] < 150


def test_a_spike_over_the_memory_size_is_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Allocated and freed between two looks at its memory: the high-water mark still shows it."""
    package = make_zip(tmp_path / "app.zip", {"app.py": SPIKE})
    code, report, _ = invoke_zip(capsys, package, {"mb": 200}, {"mb": 1},
                                 extra=("--memory", "128", "--enforce-memory"))
    assert code == 1
    killed, after = report["invocations"]
    assert killed["error"]["errorType"] == "Runtime.OutOfMemory"
    assert killed["max_memory_used_mb"] > 128
    assert after["status"] == "succeeded" and after["init_duration_ms"] is not None  # a new environment


def test_a_function_under_its_memory_size_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ballast = _touched(300)  # lpack's size is not the function's
    package = make_zip(tmp_path / "app.zip", {"app.py": SPIKE})
    code, report, _ = invoke_zip(capsys, package, {"mb": 40}, extra=("--memory", "128", "--enforce-memory"))
    assert len(ballast) and code == 0
    (invocation,) = report["invocations"]
    assert invocation["response"] == 40 * 1024 * 1024
    assert 40 <= invocation["max_memory_used_mb"] < 128


@pytest.mark.network
def test_a_cold_cache_boto3_install_is_not_the_functions_memory(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The case seen on real projects: the first run installs boto3 from PyPI into an empty cache, in
    a large lpack process, then runs the function again; its Max Memory Used is the warm run's."""
    import json
    import subprocess
    import sys

    from tests.invoke.test_runner import RUNTIME, invoke

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    package = make_zip(tmp_path / "app.zip", {
        "app.py": "import boto3\nS3 = boto3.client('s3', region_name='us-east-1')\n\n"
                  "def handler(event, context):\n    return boto3.__version__\n"})
    args = (str(package), "--handler", "app.handler", "--runtime", RUNTIME, "--python", str(venv / "bin" / "python"),
            "--payload", "{}", "--format", "json", "--cache-dir", str(tmp_path / "cache"))
    ballast = _touched(300)
    used, notes = [], []
    for _ in ("cold", "warm"):
        code, out, err = invoke(capsys, *args)
        assert code == 0, out + err
        used.append(json.loads(out)["invocations"][0]["max_memory_used_mb"])
        notes.append("installed boto3" in err)
    assert len(ballast) and notes == [True, False]
    cold, warm = used
    assert cold < 150 and abs(cold - warm) <= 20

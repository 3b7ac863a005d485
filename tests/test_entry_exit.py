"""A check's process ends right after its exit functions, without tearing Python down
(lpack._entry._leave_at_exit): what users rely on is that nothing is lost on the way out: every
byte of the output through a pipe, the exit code, other exit functions, and what the calling
code does after ``main()`` returns. Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"


def run(code: str, args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LPACK_")}
    env.update({"LPACK_CACHE_DIR": str(cache), "LPACK_CHECK_CACHE": "0"})
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "lpack.toml").write_text('handler = "lambda_function.lambda_handler"\nmemory = 1\n')
    return root


ENTRY = "import sys; from lpack._entry import main; "


def test_a_large_output_through_a_pipe_arrives_whole(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    (root / "lambda_function.py").write_text(HANDLER)
    # 400 functions whose memory is below Lambda's minimum: ~120 KB of JSON, many times a pipe's buffer
    (root / "lpack.toml").write_text("".join(f"[functions.f{i:03d}]\nmemory = 1\n\n" for i in range(400)))
    piped = run(ENTRY + "raise SystemExit(main())", ["check", "--format", "json"], root, tmp_path / "cache")
    written = run(ENTRY + "raise SystemExit(main())", ["check", "--format", "json", "-o", "out.json"], root,
                  tmp_path / "cache")
    assert (piped.returncode, written.returncode) == (1, 1), piped.stderr
    assert len(piped.stdout) > 100_000
    assert piped.stdout == (root / "out.json").read_text()
    assert piped.stdout.count('"LP') >= 400


def test_what_the_caller_does_after_main_still_happens(project: Path, tmp_path: Path) -> None:
    done = run(ENTRY + "code = main(); print('after main', code); sys.stdout.write('unflushed'); raise SystemExit(code)",
               ["check", "-q"], project, tmp_path / "cache")
    assert done.returncode == 1
    assert done.stdout.endswith("after main 1\nunflushed")


def test_an_error_after_main_exits_as_python_does(project: Path, tmp_path: Path) -> None:
    done = run(ENTRY + "main(); raise RuntimeError('boom')", ["check", "-q"], project, tmp_path / "cache")
    assert done.returncode == 1  # the traceback's status, not the check's own
    assert "RuntimeError: boom" in done.stderr


def test_an_exit_function_registered_before_main_still_runs(project: Path, tmp_path: Path) -> None:
    # what coverage does when it measures the process: registered before lpack runs, it would
    # run after the early end, so the check ends the ordinary way
    done = run("import atexit, sys; atexit.register(lambda: print('saved', flush=True)); "
               "from lpack._entry import main; raise SystemExit(main())", ["check", "-q"], project, tmp_path / "cache")
    assert (done.returncode, done.stdout.splitlines()[-1]) == (1, "saved")


def test_an_exit_function_registered_during_the_run_still_runs(project: Path, tmp_path: Path) -> None:
    done = run(ENTRY + "code = main(); import atexit; atexit.register(lambda: print('saved', flush=True)); "
               "raise SystemExit(code)", ["check", "-q"], project, tmp_path / "cache")
    assert (done.returncode, done.stdout.splitlines()[-1]) == (1, "saved")


def test_a_running_thread_is_waited_for(project: Path, tmp_path: Path) -> None:
    done = run(ENTRY + "import threading, time; code = main(); "
               "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done', flush=True))).start(); "
               "raise SystemExit(code)", ["check", "-q"], project, tmp_path / "cache")
    assert (done.returncode, done.stdout.splitlines()[-1]) == (1, "thread done")


def test_the_teardown_is_skipped(project: Path, tmp_path: Path) -> None:
    # an object collected only when Python tears its modules down says so: not after a check
    probe = ("class Late:\n    def __del__(self):\n        print('torn down', flush=True)\n"
             "late = Late()\nimport sys\nfrom lpack._entry import main\nraise SystemExit(main())\n")
    ordinary = run(probe, ["rules"], project, tmp_path / "cache")
    checked = run(probe, ["check", "-q"], project, tmp_path / "cache")
    assert ordinary.stdout.endswith("torn down\n")
    assert checked.returncode == 1 and "torn down" not in checked.stdout


def test_a_build_that_skips_the_teardown_leaves_every_file_and_byte_of_its_report(project: Path, tmp_path: Path) -> None:
    """`lpack build` ends as a check does: its report through the pipe, its zip, the manifest,
    the stamps, and the exit code, all there."""
    import json
    import zipfile

    done = run(ENTRY + "raise SystemExit(main())", ["build", "--format", "json", "--runtime", "python3.12"], project,
               tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [artifact] = report["artifacts"]
    with zipfile.ZipFile(artifact["path"]) as zf:
        assert zf.testzip() is None and "lambda_function.py" in zf.namelist()
    manifest = json.loads((project / "dist" / "lpack-manifest.json").read_text())
    assert [a["sha256"] for a in manifest["artifacts"]] == [artifact["sha256"]]
    assert list((tmp_path / "cache" / "stamps" / "books").glob("*.json"))
    assert len(manifest["artifacts"][0]["inputs_sha256"]) == 64  # what `lpack check` compares
    again = run(ENTRY + "raise SystemExit(main())", ["build", "--format", "json", "--runtime", "python3.12"], project,
                tmp_path / "cache")
    assert [a.get("current") for a in json.loads(again.stdout)["artifacts"]] == [True]  # its stamp was whole

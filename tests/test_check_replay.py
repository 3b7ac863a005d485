"""`lpack check` replays the output of an identical check of unchanged inputs, and never a stale
one: after every kind of change a user makes, the replayed run must print exactly what a fresh
run (LPACK_CHECK_CACHE=0) prints, with the same exit code. Real `python -m lpack` processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
# runs the entry point as the `lpack` command does, then says on the last line of stderr whether
# lpack itself was imported (a replay does not import it)
PROBE = ("import sys; from lpack._entry import main; code = main(); "
         "sys.stderr.write('imported=%s\\n' % ('lpack.cli' in sys.modules)); raise SystemExit(code)")


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out = code, out
        lines = err.splitlines(keepends=True)
        self.imported = lines[-1].strip() == "imported=True"
        self.why = "".join(line for line in lines[:-1] if line.startswith("lpack: check cache: "))
        self.err = "".join(line for line in lines[:-1] if not line.startswith("lpack: check cache: "))

    def shown(self) -> tuple[int, str, str]:
        return self.code, self.out, self.err


def lpack(args: list[str], cwd: Path, cache: Path, **env: str) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LPACK_")}
    environment.update({"LPACK_CACHE_DIR": str(cache), "PYTHONDONTWRITEBYTECODE": "1", "LPACK_CHECK_CACHE_DEBUG": "1",
                        **env})
    if not environment["PYTHONDONTWRITEBYTECODE"]:
        del environment["PYTHONDONTWRITEBYTECODE"]
    # lpack's cache folder exists, as it does after any build: the first check creating it inside
    # the working folder would change that folder (an input) after the check recorded it
    cache.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=60, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    (root / "data").mkdir(parents=True)
    (root / "lambda_function.py").write_text(HANDLER)
    (root / "data" / "table.csv").write_text("a,b\n")
    (root / "policy.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}))
    (root / "lpack.toml").write_text('handler = "lambda_function.lambda_handler"\npolicies = ["policy.json"]\n')
    return root


def _grow(path: Path, size: int) -> None:
    with open(path, "ab") as handle:
        handle.truncate(size)


CHANGES: list[tuple[str, Callable[[Path], None]]] = [
    ("handler renamed", lambda r: (r / "lambda_function.py").write_text(HANDLER.replace("lambda_handler", "handle"))),
    ("handler back", lambda r: (r / "lambda_function.py").write_text(HANDLER)),
    ("a data file grows past 250 MB", lambda r: _grow(r / "data" / "table.csv", 251 * 1024 * 1024)),
    ("the data file shrinks", lambda r: _grow(r / "data" / "table.csv", 10)),
    ("a file appears", lambda r: (r / "data" / "more.json").write_text("{}")),
    ("the policy grants s3:*", lambda r: (r / "policy.json").write_text(
        (r / "policy.json").read_text().replace("s3:GetObject", "s3:*"))),
    ("the config changes the runtime", lambda r: (r / "lpack.toml").write_text(
        (r / "lpack.toml").read_text() + 'runtime = "python3.9"\n')),
    ("a requirements file appears", lambda r: (r / "requirements.txt").write_text("boto3==1.26.0\n")),
    ("a stale dist/ zip appears", lambda r: _zip(r)),
]


def _zip(root: Path) -> None:
    import zipfile

    (root / "dist").mkdir(exist_ok=True)
    with zipfile.ZipFile(root / "dist" / "fn.zip", "w") as zf:
        zf.writestr("other.py", "x = 1\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_replay_is_what_a_fresh_check_prints_after_every_change(project: Path, tmp_path: Path, fmt: str) -> None:
    cache = tmp_path / "cache"
    args = ["check", str(project), "--format", fmt]
    first = lpack(args, tmp_path, cache)
    assert first.imported and first.code in (0, 1)
    again = lpack(args, tmp_path, cache)
    assert not again.imported, f"an unchanged check is replayed, without importing lpack: {again.why}"
    assert again.shown() == first.shown()
    for label, change in CHANGES:
        change(project)
        fresh = lpack(args, tmp_path, tmp_path / "no-cache", LPACK_CHECK_CACHE="0")
        cached = lpack(args, tmp_path, cache)
        assert cached.imported, f"{label}: the change must make the check run again"
        assert cached.shown() == fresh.shown(), label
        replayed = lpack(args, tmp_path, cache)
        assert not replayed.imported, f"{label}: {replayed.why}"
        assert replayed.shown() == fresh.shown(), label


def test_a_shared_folder_outside_the_project_is_an_input_too(project: Path, tmp_path: Path) -> None:
    iam = tmp_path / "iam"
    iam.mkdir()
    shutil.move(project / "policy.json", iam / "app.json")
    (project / "lpack.toml").write_text('handler = "lambda_function.lambda_handler"\npolicies = ["../iam/app.json"]\n')
    cache = tmp_path / "cache"
    first = lpack(["check", str(project)], project, cache)
    replayed = lpack(["check", str(project)], project, cache)
    assert not replayed.imported, replayed.why
    (iam / "app.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [  # logs granted: LP560 goes
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/fn:*"}]}))
    changed = lpack(["check", str(project)], project, cache)
    fresh = lpack(["check", str(project)], project, tmp_path / "no-cache", LPACK_CHECK_CACHE="0")
    assert changed.imported and changed.shown() == fresh.shown() != first.shown()


@pytest.mark.parametrize(("args", "env"), [
    (["check", "{p}", "-o", "{t}/report.txt"], {}),  # writes a file
    (["check", "{p}/missing"], {}),  # exit 2
    (["check", "{p}"], {"LPACK_CHECK_CACHE": "0"}),  # turned off
    (["build", "{p}", "-q"], {}),  # not a check
], ids=["output-file", "error", "off", "build"])
def test_what_is_never_replayed(project: Path, tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    cache = tmp_path / "cache"
    args = [a.format(p=project, t=tmp_path) for a in args]
    for _ in range(2):
        assert lpack(args, tmp_path, cache, **env).imported
    assert not (cache / "check").exists() or not any((cache / "check").iterdir())


def test_the_environment_and_the_command_line_are_part_of_the_key(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    secret = "planted-" + "s3cr3t-value"
    lpack(["check", str(project)], tmp_path, cache, AWS_SECRET_ACCESS_KEY=secret)
    replayed = lpack(["check", str(project)], tmp_path, cache, AWS_SECRET_ACCESS_KEY=secret)
    assert not replayed.imported, replayed.why
    assert lpack(["check", str(project)], tmp_path, cache, AWS_SECRET_ACCESS_KEY=secret + "2").imported
    assert lpack(["check", str(project), "--strict"], tmp_path, cache, AWS_SECRET_ACCESS_KEY=secret).imported
    assert lpack(["check", str(project)], project, cache, AWS_SECRET_ACCESS_KEY=secret).imported  # another cwd
    for entry in (cache / "check").iterdir():
        assert secret not in entry.read_text()  # the environment is stored only as a digest


def test_the_date_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runtime lifecycles (LP401/LP402) change with the day: a replay is only for the same date."""
    from lpack import _entry

    today = _entry._key(["check"])
    monkeypatch.setattr(_entry.time, "strftime", lambda _fmt: "2099-01-01")
    assert _entry._key(["check"]) != today


def test_lpacks_own_code_is_an_input(project: Path, tmp_path: Path) -> None:
    """An upgraded (or edited) lpack must not replay what the old one printed: the modules the
    recorded check imported are among its inputs, compiled or not, and lpack's version is in the key."""
    import lpack as package

    rules = Path(package.__file__).parent / "rules"
    cache = tmp_path / "cache"
    # without bytecode imports open the .py files; with it, the .pyc files, which a fresh cache
    # folder makes every import write first (as on a fresh install): writing bytecode is no output
    for bytecode in ("1", ""):
        fresh = {"PYTHONPYCACHEPREFIX": str(tmp_path / "bytecode")} if not bytecode else {}
        assert lpack(["check", str(project)], tmp_path, cache, PYTHONDONTWRITEBYTECODE=bytecode, **fresh).imported
        (entry,) = (cache / "check").iterdir()
        recorded = json.loads(entry.read_text())
        assert any(Path(p).is_relative_to(rules) for p in recorded["files"]), "no lpack.rules module recorded"
        assert json.loads(recorded["key"])["lpack"] == package.__version__
        shutil.rmtree(cache)


def _touched(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def _recreated(path: Path) -> None:
    """What git checkout and pre-commit's unstash do: a new file (new inode; its folder's mtime
    changes) with the same bytes."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)


def _checked_out(path: Path) -> None:
    path.unlink()
    subprocess.run(["git", "checkout", "--", path.name], cwd=path.parent, check=True, capture_output=True)


@pytest.mark.parametrize("rewrite", [_touched, _recreated, _checked_out], ids=["touched", "recreated", "git-checkout"])
def test_a_file_rewritten_with_the_same_bytes_is_still_replayed(project: Path, tmp_path: Path,
                                                                 rewrite: Callable[[Path], None]) -> None:
    """A file whose mtime or inode changed but not its bytes changes nothing a check says: the
    pre-commit hook's check is replayed after pre-commit's stash/unstash or a git checkout."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    cache = tmp_path / "cache"
    args = ["check", "--files", "lambda_function.py", "lpack.toml", "policy.json"]
    first = lpack(args, project, cache)
    assert first.imported and first.code in (0, 1)
    for name in ("lambda_function.py", "lpack.toml", "policy.json"):
        rewrite(project / name)
        replayed = lpack(args, project, cache)
        assert not replayed.imported, f"{name}: {replayed.why}"
        assert replayed.shown() == first.shown()
    assert not lpack(args, project, cache).imported  # and again, from the stamps the replay recorded


def test_other_bytes_of_the_same_size_are_not_replayed(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["check", "--files", "lambda_function.py", "--format", "json"]
    first = lpack(args, project, cache)
    handler = project / "lambda_function.py"
    handler.write_text(HANDLER.replace("lambda_handler", "lambda_handlex"))  # LP2xx: the handler is gone
    _touched(handler)
    cached = lpack(args, project, cache)
    fresh = lpack(args, project, tmp_path / "no-cache", LPACK_CHECK_CACHE="0")
    assert cached.imported and cached.shown() == fresh.shown() != first.shown()


def test_a_changed_mode_is_not_replayed(project: Path, tmp_path: Path) -> None:
    """chmod changes no size or mtime, but a source's execute bits are what LP213 reads."""
    wrapper = project / "wrapper.sh"
    wrapper.write_text('#!/bin/bash\nexec "$@"\n')
    wrapper.chmod(0o755)
    with open(project / "lpack.toml", "a") as config:
        config.write('[environment]\nAWS_LAMBDA_EXEC_WRAPPER = "/var/task/wrapper.sh"\n')
    cache = tmp_path / "cache"
    args = ["check", "--files", "wrapper.sh"]
    first = lpack(args, project, cache)
    wrapper.chmod(0o644)
    cached = lpack(args, project, cache)
    fresh = lpack(args, project, tmp_path / "no-cache", LPACK_CHECK_CACHE="0")
    assert cached.imported, "the execute bit is an input"
    assert cached.shown() == fresh.shown() != first.shown()
    assert "LP213" in fresh.out


def test_a_folder_listed_with_few_frames_above_the_hook_is_not_an_error() -> None:
    """The recorder asks which frame listed a folder (the import system's are not recorded): with
    fewer frames than that above it, the answer is 'not the import system', not an exception."""
    done = subprocess.run([sys.executable, "-c", "from lpack import _entry; print(_entry._importing())"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "False\n"), done.stderr

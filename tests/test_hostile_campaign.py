"""The hostile-input campaign of issue 21, as properties: hypothesis generates malformed configs, templates,
requirements, events, IAM policies and zips, and each goes through the real CLI.

For every example: the exit code is 0, 1 or 2 (never 3, never a traceback), the run ends within TIMEOUT_S,
templates and zips are read under a MEMORY_BYTES address-space limit, nothing is written outside the project's
dist folder and the cache (a sibling ``outside`` folder included), no temporary file is left behind, and the
planted secrets (an index URL's password, an AWS secret key) appear in no output and no file lpack wrote,
zip entries included. Examples are derandomized, so CI runs the same ones every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomllib

from lpack.cli import main
from tests.factories import hostile
from tests.factories.hostile import HANDLER, INDEX_URL, SECRETS

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

TIMEOUT_S = 20  # per command: generous, a hang is what it catches
MEMORY_BYTES = 1 << 30  # address space of a child reading a template or a zip


class Hang(BaseException):
    """Raised by the alarm in a run that took longer than TIMEOUT_S (not an Exception: main must not catch it)."""


@dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Sandbox:
    """One example's folders: the project, an ``outside`` sibling, the cache and the temporary folder."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self) -> dict[str, str]:
        return {"LPACK_CACHE_DIR": str(self.cache), "TMPDIR": str(self.tmp), "PIP_INDEX_URL": INDEX_URL,
                "UV_OFFLINE": "1", "PIP_NO_INDEX": "1", "AWS_SECRET_ACCESS_KEY": hostile.AWS_SECRET}


def new_sandbox(base: Path) -> Sandbox:
    box = Sandbox(Path(tempfile.mkdtemp(dir=base)))
    for folder in ("project", "outside", "cache", "tmp"):
        (box.root / folder).mkdir()
    (box.root / "outside" / "keep.txt").write_text("keep\n")
    (box.project / "lambda_function.py").write_bytes(HANDLER)
    return box


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root and what it is: a folder, a link and its target, or a file's sha256."""
    seen: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            key = str(path.relative_to(root))
            if path.is_symlink():
                seen[key] = "link:" + os.readlink(path)
            elif path.is_dir():
                seen[key] = "dir"
            else:
                seen[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return seen


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, values["TMPDIR"]
    try:
        yield
    finally:
        tempfile.tempdir = saved_tempdir
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"no result after {TIMEOUT_S} s")


def run_here(box: Sandbox, *argv: str) -> Outcome:
    """``lpack ARGV`` in this process, under an alarm."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        with environment(box.env()), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(argv, code, out.getvalue(), err.getvalue())


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_child(box: Sandbox, *argv: str) -> Outcome:
    """``python -m lpack ARGV`` in a child limited to MEMORY_BYTES of address space and TIMEOUT_S."""
    try:
        done = subprocess.run([sys.executable, "-m", "lpack", *argv], capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT_S, env=os.environ | box.env(), cwd=box.project,
                              preexec_fn=_limit_memory, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"lpack {argv!r} hung: no result after {TIMEOUT_S} s") from exc
    return Outcome(argv, done.returncode, done.stdout, done.stderr)


def written_texts(path: Path) -> Iterator[bytes]:
    """A written file's bytes, and each entry's bytes when it is a zip lpack can be asked to hand out."""
    data = path.read_bytes()
    yield data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with contextlib.suppress(Exception):
                    yield archive.read(info)


def assert_safe(box: Sandbox, before: dict[str, str], outcome: Outcome, allowed: tuple[Path, ...] = ()) -> None:
    """The campaign's properties for one run (see the module's docstring)."""
    told = f"lpack {' '.join(a[:80] for a in outcome.argv)}\n--- stdout\n{outcome.out[:2000]}\n--- stderr\n{outcome.err[:2000]}"
    assert outcome.code in (0, 1, 2), told
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err, told
    after = snapshot(box.root)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    places = tuple(str(p.relative_to(box.root)) for p in (box.project / "dist", box.cache, *allowed))
    outside = sorted(key for key in changed if not _inside(key, places) and not _inside(key, ("tmp",))
                     and not (after.get(key) == "dir" and any(place.startswith(key + "/") for place in places)))
    assert outside == [], f"written outside dist/ and the cache: {outside}\n{told}"
    assert not any(box.tmp.iterdir()), f"left in the temporary folder: {list(box.tmp.iterdir())}\n{told}"
    for secret in SECRETS:
        assert secret not in outcome.out + outcome.err, f"secret printed\n{told}"
        for key in sorted(changed):
            path = box.root / key
            if key in after and not after[key].startswith(("dir", "link:")):
                assert not any(secret.encode() in text for text in written_texts(path)), f"secret in {key}\n{told}"


def _inside(key: str, places: tuple[str, ...]) -> bool:
    return any(key == place or key.startswith(place + "/") for place in places)


def run_all(box: Sandbox, run: Callable[..., Outcome], commands: list[list[str]],
            allowed: tuple[Path, ...] = ()) -> None:
    for argv in commands:
        before = snapshot(box.root)
        assert_safe(box, before, run(box, *argv), allowed)


@pytest.fixture
def campaign(tmp_path: Path) -> Iterator[Callable[[int], Any]]:
    """Hypothesis settings for max_examples, with hypothesis's home in tmp_path (nothing written in the repo)."""
    configuration = pytest.importorskip("hypothesis.configuration")
    home = configuration.storage_directory(intent_to_write=False).home_directory
    configuration.set_hypothesis_home_dir(tmp_path / ".hypothesis")

    def settings(max_examples: int) -> Any:
        return hypothesis.settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                                   suppress_health_check=list(hypothesis.HealthCheck), print_blob=False)

    try:
        yield settings
    finally:
        configuration.set_hypothesis_home_dir(home)


# -- configs -------------------------------------------------------------------------------------

def configured_dist(box: Sandbox, config: hostile.Config) -> tuple[Path, ...]:
    """The dist folder the config names, when lpack could read it: writing there is what was asked."""
    try:
        table = tomllib.loads(config.data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    table = table.get("tool", {}).get("lpack", {}) if config.name == "pyproject.toml" else table
    dist = table.get("dist") if isinstance(table, dict) else None
    if not isinstance(dist, str) or "\x00" in dist or dist.startswith("/"):
        return ()
    return ((box.project / dist).resolve(),) if (box.project / dist).resolve().is_relative_to(box.root) else ()


def test_hostile_configs(tmp_path: Path, campaign: Callable[[int], Any]) -> None:
    @campaign(60)
    @hypothesis.given(hostile.configs())
    def run(config: hostile.Config) -> None:
        box = new_sandbox(tmp_path)
        (box.project / config.name).write_bytes(config.data)
        (box.project / "requirements.txt").write_text(f"--index-url {INDEX_URL}\n")
        dist = configured_dist(box, config)
        project = str(box.project)
        run_all(box, run_here, [["validate-config", project], ["check", project], ["build", "-q", project]], dist)

    run()


# -- requirements --------------------------------------------------------------------------------

def test_hostile_requirements(tmp_path: Path, campaign: Callable[[int], Any]) -> None:
    @campaign(60)
    @hypothesis.given(hostile.requirement_files())
    def run(files: dict[str, bytes]) -> None:
        box = new_sandbox(tmp_path)
        for name, data in files.items():
            (box.project / name).write_bytes(data)
        run_all(box, run_here, [["check", str(box.project)], ["check", "--format", "json", str(box.project)]])

    run()


# -- templates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["check"], ["build", "-q", "--template"]], ids=["check", "build"])
def test_hostile_templates(tmp_path: Path, campaign: Callable[[int], Any], command: list[str]) -> None:
    @campaign(25)
    @hypothesis.given(hostile.templates())
    @hypothesis.example(("template.yaml", b"\x1fResources: {}\n"))  # was exit 3: PyYAML's ReaderError
    def run(template: tuple[str, bytes]) -> None:
        name, data = template
        box = new_sandbox(tmp_path)
        (box.project / "src").mkdir()
        (box.project / "src" / "app.py").write_bytes(HANDLER.replace(b"lambda_handler", b"handler"))
        (box.project / name).write_bytes(data)
        run_all(box, run_child, [[*command, str(box.project / name)]])

    run()


@pytest.mark.parametrize("command", [["check"], ["build", "-q"]], ids=["check", "build"])
def test_hostile_services(tmp_path: Path, campaign: Callable[[int], Any], command: list[str]) -> None:
    """serverless.yml (lpack.inputs.template.serverless): its variables included."""
    @campaign(25)
    @hypothesis.given(hostile.services())
    def run(service: tuple[str, bytes]) -> None:
        name, data = service
        box = new_sandbox(tmp_path)
        (box.project / "lambda_function.py").rename(box.project / "handler.py")  # not a zero-config project
        (box.project / "src").mkdir()
        (box.project / "src" / "app.py").write_bytes(HANDLER.replace(b"lambda_handler", b"handler"))
        (box.project / name).write_bytes(data)
        run_all(box, run_child, [[*command, str(box.project)]])

    run()


# -- events, --env and policies ------------------------------------------------------------------

def test_hostile_events(tmp_path: Path, campaign: Callable[[int], Any]) -> None:
    @campaign(60)
    @hypothesis.given(hostile.events(), st.sampled_from(["--event", "--async-event", "--env"]))
    def run(data: bytes, option: str) -> None:
        box = new_sandbox(tmp_path)
        (box.project / "e.json").write_bytes(data)
        run_all(box, run_here, [["check", str(box.project), option, str(box.project / "e.json")]])

    run()


def test_hostile_events_invoked(tmp_path: Path, campaign: Callable[[int], Any]) -> None:
    @campaign(10)
    @hypothesis.given(hostile.events())
    def run(data: bytes) -> None:
        box = new_sandbox(tmp_path)
        (box.project / "e.json").write_bytes(data)
        run_all(box, run_here, [["invoke", str(box.project), "-q", "--event", str(box.project / "e.json")]])

    run()


def test_hostile_policies(tmp_path: Path, campaign: Callable[[int], Any]) -> None:
    @campaign(60)
    @hypothesis.given(hostile.policies(), st.sampled_from([None, "identity", "resource", "trust"]))
    @hypothesis.example(b"[" * 5000, None)  # was exit 3 in `check --files`: RecursionError
    def run(data: bytes, kind: str | None) -> None:
        box = new_sandbox(tmp_path)
        policy = box.project / "policy.json"
        policy.write_bytes(data)
        kind_args = ["--policy-kind", kind] if kind else []
        run_all(box, run_here, [["check", "--files", str(policy)], ["check", *kind_args, str(policy)]])

    run()


# -- zips ----------------------------------------------------------------------------------------

HANDLER_ARGS = ["--handler", "lambda_function.lambda_handler"]


@pytest.mark.parametrize(("examples", "command"), [
    (30, ["check", *HANDLER_ARGS]), (8, ["invoke", "-q", *HANDLER_ARGS, "--payload", "{}"]),
], ids=["check", "invoke"])
def test_hostile_zips(tmp_path: Path, campaign: Callable[[int], Any], examples: int, command: list[str]) -> None:
    @campaign(examples)
    @hypothesis.given(hostile.zips())
    def run(data: bytes) -> None:
        box = new_sandbox(tmp_path)
        (box.project / "fn.zip").write_bytes(data)
        run_all(box, run_child, [[command[0], str(box.project / "fn.zip"), *command[1:]]])

    run()


# -- what the campaign found, and that its properties can fail -------------------------------------

@pytest.mark.parametrize(("text", "code", "said"), [
    pytest.param('{"Statement":' * 5000, 1, "LP501 error the policy is not valid JSON: nested too deeply", id="policy"),
    pytest.param("[" * 5000, 0, "no Lambda project or IAM policy among these files", id="not-a-policy"),
])
def test_changed_json_too_deep_to_read(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, code: int,
                                       said: str) -> None:
    """`check --files` looked for a Statement with json.loads and crashed (RecursionError, exit 3)."""
    path = tmp_path / "policy.json"
    path.write_text(text)
    assert main(["check", "--files", str(path)]) == code
    captured = capsys.readouterr()
    assert said in captured.out + captured.err


@pytest.mark.parametrize(("where", "content", "message"), [
    pytest.param("outside/pwn.zip", b"PK", "written outside dist/ and the cache: ['outside/pwn.zip']", id="outside"),
    pytest.param("project/dist/fn.zip", INDEX_URL.encode(), "secret in project/dist/fn.zip", id="secret-in-dist"),
    pytest.param("tmp/litter", b"", "left in the temporary folder", id="litter"),
])
def test_the_properties_catch_what_they_are_for(tmp_path: Path, where: str, content: bytes, message: str) -> None:
    box = new_sandbox(tmp_path)
    before = snapshot(box.root)
    (box.root / where).parent.mkdir(exist_ok=True)
    (box.root / where).write_bytes(content)
    with pytest.raises(AssertionError, match=re.escape(message)):
        assert_safe(box, before, Outcome(("build",), 0, "", ""))


@pytest.mark.parametrize("outcome", [
    pytest.param(Outcome(("check",), 3, "", "lpack: internal error: X"), id="exit-3"),
    pytest.param(Outcome(("check",), 2, "", "Traceback (most recent call last):"), id="traceback"),
    pytest.param(Outcome(("check",), 0, f"{hostile.AWS_SECRET}\n", ""), id="secret-printed"),
])
def test_the_properties_catch_bad_outcomes(tmp_path: Path, outcome: Outcome) -> None:
    box = new_sandbox(tmp_path)
    with pytest.raises(AssertionError):
        assert_safe(box, snapshot(box.root), outcome)

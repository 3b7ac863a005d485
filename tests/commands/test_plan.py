"""`lpack plan` and `lpack build --changed-since REF`: real git repositories made here, real
builds from local wheels; which units rebuild, and that the others' zips are left untouched."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories import make_wheel

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
runtime = "python3.12"
requirements = "requirements.txt"

[functions.a]
source = "a"
handler = "app.handler"

[functions.b]
source = "b"
handler = "app.handler"
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                           "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def requirements(wheels: Path, version: str) -> str:
    wheel = next(wheels.glob(f"demo_dep-{version}-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"--no-index\n--find-links {wheels}\ndemo-dep=={version} --hash=sha256:{digest}\n"


def repo(tmp_path: Path) -> Path:
    """Two functions with their own sources and a shared requirements file, committed, built."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "demo-dep", "1.0")
    make_wheel(wheels, "demo-dep", "2.0")
    root = tmp_path / "repo"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
    (root / "requirements.txt").write_text(requirements(wheels, "1.0"))
    (root / "lpack.toml").write_text(CONFIG)
    (root / ".gitignore").write_text("dist/\n")
    (root / "README.md").write_text("not an input\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    assert main(["build", str(root), "-q"]) == 0
    return root


def plan(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["plan", str(root), "--format", "json", *args]) == 0
    document = json.loads(capsys.readouterr().out)
    import jsonschema

    jsonschema.validate(document, json.loads((ROOT / "schemas" / "plan.schema.json").read_text()))
    return {u["name"]: u for u in document["units"]}


def stamps(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted((root / "dist").glob("*.zip"))}


def build_changed(capsys: pytest.CaptureFixture[str], root: Path, ref: str = "HEAD") -> dict[str, object]:
    capsys.readouterr()
    assert main(["build", str(root), "-q", "--format", "json", "--changed-since", ref]) == 0
    report: dict[str, object] = json.loads(capsys.readouterr().out)
    import jsonschema

    jsonschema.validate(report, json.loads((ROOT / "schemas" / "report.schema.json").read_text()))
    return report


def built(report: dict[str, object]) -> list[str]:
    return [a["name"] for a in report["artifacts"]]  # type: ignore[attr-defined]


def kept(report: dict[str, object]) -> list[str]:
    return [u["name"] for u in report.get("unchanged", [])]  # type: ignore[attr-defined]


def test_plan_says_current_after_a_build(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    units = plan(capsys, root)
    assert {n: (u["current"], u["changed"], u["artifact"]) for n, u in units.items()} == {
        "a": (True, None, "dist/a.zip"), "b": (True, None, "dist/b.zip")}
    manifest = json.loads((root / "dist" / "lpack-manifest.json").read_text())
    assert {e["name"]: e["inputs_sha256"] for e in manifest["artifacts"]} == {
        n: u["inputs_sha256"] for n, u in units.items()}


def test_one_source_edit_rebuilds_that_function_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    before = stamps(root)
    (root / "a" / "app.py").write_text("def handler(event, context):\n    return 'A'\n")  # uncommitted
    (root / "README.md").write_text("edited, still not an input\n")
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert (units["a"]["changed"], units["a"]["current"], units["a"]["why"]) == (
        True, False, ["its inputs changed: a/app.py"])
    assert (units["b"]["changed"], units["b"]["current"], units["b"]["why"]) == (False, True, [])

    report = build_changed(capsys, root)
    assert (built(report), kept(report)) == (["a"], ["b"])
    after = stamps(root)
    assert after["b.zip"] == before["b.zip"]  # same bytes, same mtime: not rewritten
    assert after["a.zip"][0] != before["a.zip"][0]
    assert plan(capsys, root)["a"]["current"] is True  # the manifest has a's new entry


def test_committed_changes_on_a_branch_count_from_the_merge_base(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    root = repo(tmp_path)
    git(root, "checkout", "-qb", "feature")
    (root / "b" / "helper.py").write_text("X = 1\n")  # a new file in b's source
    git(root, "add", "-A")
    git(root, "commit", "-qm", "b helper")
    git(root, "checkout", "-q", "main")
    (root / "CHANGES").write_text("main moved on\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "main")
    git(root, "checkout", "-q", "feature")
    units = plan(capsys, root, "--changed-since", "main")
    assert {n: u["changed"] for n, u in units.items()} == {"a": False, "b": True}
    assert units["b"]["why"] == ["its inputs changed: b/helper.py"]


def test_a_shared_lock_change_rebuilds_every_function(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "requirements.txt").write_text(requirements(tmp_path / "wheels", "2.0"))
    report = build_changed(capsys, root)
    assert (built(report), kept(report)) == (["a", "b"], [])
    manifest = json.loads((root / "dist" / "lpack-manifest.json").read_text())
    assert {e["name"]: [d["version"] for d in e["dependencies"]] for e in manifest["artifacts"]} == {
        "a": ["2.0"], "b": ["2.0"]}


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda text: text + "\n# a comment: the file changed, its settings did not\n", {"a": [], "b": []}),
    (lambda text: text.replace('[functions.b]\nsource = "b"', '[functions.b]\nsource = "b"\nmemory = 512'),
     {"a": [], "b": ["its settings in lpack.toml changed"]}),
    (lambda text: text.replace('runtime = "python3.12"', 'runtime = "python3.13"'),
     {"a": ["its settings in lpack.toml changed"], "b": ["its settings in lpack.toml changed"]}),
    (lambda text: text + '\n[functions.c]\nsource = "a"\nhandler = "app.handler"\n',
     {"a": [], "b": [], "c": ["its settings in lpack.toml changed"]}),
    (lambda text: text + "\nthis is not TOML [\n", None),
], ids=["comment-only", "one-section", "top-level", "new-function", "unreadable-now"])
def test_a_config_change_counts_for_the_units_whose_settings_changed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, edit: object, expected: dict[str, list[str]] | None) -> None:
    root = repo(tmp_path)
    config = root / "lpack.toml"
    config.write_text(edit(config.read_text()))  # type: ignore[operator]
    if expected is None:  # the configuration as it is now is an error, as in every command
        capsys.readouterr()
        assert main(["plan", str(root), "--changed-since", "HEAD"]) == 2
        assert "lpack.toml: invalid TOML" in capsys.readouterr().err
        return
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert {n: u["why"] for n, u in units.items()} == expected
    assert {n: u["changed"] for n, u in units.items()} == {n: bool(why) for n, why in expected.items()}


SAM = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 5
Resources:
  A:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: a
      Handler: app.handler
      Events:
        Api: {Type: HttpApi}
  B:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: b
      Handler: app.handler
      MemorySize: 256
"""
SLS = """\
service: s
provider: {name: aws, runtime: python3.12, timeout: 5}
functions:
  a: {handler: app.handler, module: a, events: [{httpApi: '*'}]}
  b: {handler: app.handler, module: b, memorySize: 256}
"""


@pytest.mark.parametrize(("kind", "edit", "expected"), [
    ("sam", lambda t: "# a comment above: every line moves\n" + t, {"A": [], "B": []}),
    ("sam", lambda t: t.replace("MemorySize: 256", "MemorySize: 512"), {"A": [], "B": ["settings"]}),
    ("sam", lambda t: t.replace("Timeout: 5", "Timeout: 9"), {"A": ["settings"], "B": ["settings"]}),  # Globals
    ("sam", lambda t: t.replace("Resources:", "Resources: [", 1), None),
    ("sls", lambda t: "# a comment above\n" + t, {"a": [], "b": []}),
    ("sls", lambda t: t.replace("memorySize: 256", "memorySize: 512"), {"a": [], "b": ["settings"]}),
    ("sls", lambda t: t.replace("timeout: 5", "timeout: 9"), {"a": ["settings"], "b": ["settings"]}),  # the provider's
], ids=["sam-comment", "sam-one-function", "sam-globals", "sam-unreadable-now", "sls-comment", "sls-one-function",
        "sls-provider"])
def test_a_template_or_serverless_yml_change_counts_for_the_functions_it_changed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str, edit: object,
        expected: dict[str, list[str]] | None) -> None:
    root = tmp_path / "repo"
    for name in "ab":
        (root / name).mkdir(parents=True)
        (root / name / "app.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
    config = root / ("template.yaml" if kind == "sam" else "serverless.yml")
    config.write_text(SAM if kind == "sam" else SLS)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "functions")
    assert main(["build", str(root), "-q"]) == 0
    config.write_text(edit(config.read_text()))  # type: ignore[operator]
    if expected is None:
        capsys.readouterr()
        assert main(["plan", str(root), "--changed-since", "HEAD"]) == 2  # as every command says of it now
        return
    units = plan(capsys, root, "--changed-since", "HEAD")
    said = {name: [f"its settings in {config.name} changed"] if why == ["settings"] else why
            for name, why in expected.items()}
    assert {n: u["why"] for n, u in units.items()} == said


def test_a_template_lpack_cannot_read_at_ref_counts_for_every_function(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "a").mkdir(parents=True)
    (root / "a" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "serverless.yml").write_text("functions: [\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "broken")
    (root / "serverless.yml").write_text(SLS.replace("  b: {handler: app.handler, module: b, memorySize: 256}\n", ""))
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert {n: u["why"] for n, u in units.items()} == {"a": ["its configuration changed: serverless.yml"]}


def test_a_config_lpack_cannot_read_at_ref_counts_for_every_unit(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "lpack.toml").write_text("this is not TOML [\n")
    git(root, "commit", "-qam", "broken")
    (root / "lpack.toml").write_text(CONFIG)
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert {n: u["why"] for n, u in units.items()} == {n: ["its configuration changed: lpack.toml"] for n in "ab"}


def test_a_deleted_source_file_changes_its_function(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "a" / "extra.py").write_text("Y = 2\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "extra")
    (root / "a" / "extra.py").unlink()
    assert {n: u["changed"] for n, u in plan(capsys, root, "--changed-since", "HEAD").items()} == {
        "a": True, "b": False}


def test_unchanged_without_a_zip_is_built_and_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "dist" / "b.zip").unlink()
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert (units["b"]["changed"], units["b"]["why"]) == (False, ["unchanged, but dist/ has no b.zip"])
    report = build_changed(capsys, root)
    assert (built(report), kept(report)) == (["b"], ["a"])
    manifest = json.loads((root / "dist" / "lpack-manifest.json").read_text())
    assert [e["name"] for e in manifest["artifacts"]] == ["a", "b"]


def test_nothing_changed_builds_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path)
    monkeypatch.chdir(root)
    before = stamps(root)
    manifest = (root / "dist" / "lpack-manifest.json").read_bytes()
    capsys.readouterr()
    assert main(["build", str(root), "--changed-since", "HEAD"]) == 0
    err = capsys.readouterr().err
    assert "lpack: note: a: unchanged since HEAD: kept dist/a.zip" in err
    assert "lpack: note: b: unchanged since HEAD: kept dist/b.zip" in err
    assert stamps(root) == before
    assert (root / "dist" / "lpack-manifest.json").read_bytes() == manifest


def test_another_lpack_version_rebuilds(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    path = root / "dist" / "lpack-manifest.json"
    manifest = json.loads(path.read_text())
    manifest["artifacts"][0]["lpack_version"] = "0.0.1"  # a
    path.write_text(json.dumps(manifest))
    units = plan(capsys, root, "--changed-since", "HEAD")
    assert units["a"]["changed"] is True and units["a"]["why"][0].startswith("built by lpack 0.0.1")
    assert units["b"]["changed"] is False


@pytest.mark.parametrize(("make_repo", "ref", "message"), [
    (False, "HEAD", "not in a git repository"),
    (True, "no-such-ref", "--changed-since no-such-ref: git knows no such commit"),
], ids=["not-a-repo", "unknown-ref"])
def test_git_errors_exit_2_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, make_repo: bool, ref: str, message: str) -> None:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git looks for no repository above
    if make_repo:
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "init")
    for command in (["plan", str(root)], ["build", str(root), "-q"]):
        capsys.readouterr()
        assert main([*command, "--changed-since", ref]) == 2
        err = capsys.readouterr().err
        assert message in err.splitlines()[0] and "Traceback" not in err


def test_plan_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = repo(tmp_path)
    (root / "b" / "app.py").write_text("def handler(event, context):\n    return 'B'\n")
    capsys.readouterr()
    assert main(["plan", str(root), "--changed-since", "HEAD"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "a (function, python3.12 x86_64): dist/a.zip current; unchanged since HEAD"
    assert lines[2] == "b (function, python3.12 x86_64): dist/b.zip built, not current; changed since HEAD"
    assert lines[4] == "  its inputs changed: b/app.py"

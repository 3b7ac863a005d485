"""The pre-commit hooks, run by the real pre-commit in a real git repository.

The default run uses the hooks' own definitions from .pre-commit-hooks.yaml as `repo: local`
hooks with language `system` (lpack is installed here; nothing is downloaded). The `network`
test goes through `pre-commit try-repo`, which installs lpack into a fresh environment from PyPI.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lpack.cli import main

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / ".pre-commit-hooks.yaml"
GOOD_HANDLER = "def lambda_handler(event, context):\n    return {'ok': True}\n"
BAD_HANDLER = "def handler(event, context):\n    return {'ok': True}\n"  # not the configured name


def manifest() -> list[dict[str, object]]:
    hooks: list[dict[str, object]] = yaml.safe_load(MANIFEST.read_text())
    return hooks


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


def make_repo(root: Path, *, handler: str, environment_bytes: int) -> Path:
    function = root / "functions" / "orders"
    function.mkdir(parents=True)
    (function / "lambda_function.py").write_text(handler)
    big = "x" * environment_bytes
    (function / "pyproject.toml").write_text(
        f'[tool.lpack]\nruntime = "python3.12"\n\n[tool.lpack.environment]\nTABLE = "orders"\nBLOB = "{big}"\n')
    (root / "README.md").write_text("not lpack's business\n")
    (root / "package.json").write_text('{"name": "web"}\n')
    git(root, "init", "-q")
    return root


def local_config(repo: Path) -> None:
    """The manifest's hooks as local system hooks that run this lpack."""
    hooks = []
    for hook in manifest():
        entry = str(hook["entry"]).replace("lpack", f"{shlex.quote(sys.executable)} -m lpack", 1)
        hooks.append({**hook, "entry": entry, "language": "system"})
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], check=False, cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_manifest_is_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}
    assert set(hooks) == {"lpack-check", "lpack-validate-config", "lpack-build"}
    assert hooks["lpack-build"]["stages"] == ["manual"]
    assert hooks["lpack-check"]["pass_filenames"] is True
    assert "build" not in str(hooks["lpack-check"]["entry"])  # static checks only


@pytest.mark.parametrize(("path", "runs"), [
    ("svc/serverless.yml", True), ("serverless.yaml", True), ("sam/template.yml", True), ("app/handler.py", True),
    ("svc/serverless.yml.bak", False), ("README.md", False), ("package.json", True),  # a .json may be a policy
    ("uv.lock", True), ("fn/poetry.lock", True), ("Pipfile.lock", True), ("pylock.toml", True), ("Cargo.lock", False),
])
def test_the_check_hook_runs_on_the_files_lpack_reads(path: str, runs: bool) -> None:
    """pre-commit passes lpack-check only the files its `files` pattern matches."""
    import re

    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}
    assert bool(re.search(hooks["lpack-check"]["files"], path)) is runs


def test_hooks_pass_on_a_clean_project(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", handler=GOOD_HANDLER, environment_bytes=100)
    local_config(repo)
    git(repo, "add", "-A")
    result = pre_commit(repo, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lpack check" in result.stdout and "Passed" in result.stdout


def test_hooks_fail_on_a_bad_handler_and_a_too_large_environment(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", handler=BAD_HANDLER, environment_bytes=5000)
    local_config(repo)
    git(repo, "add", "-A")
    result = pre_commit(repo, "run", "--all-files")
    assert result.returncode == 1
    output = result.stdout
    assert "lpack check" in output and "Failed" in output
    assert "lambda_handler" in output  # the handler finding names what is missing
    assert "4,096" in output or "4 KB" in output  # the environment finding
    assert "functions/orders" in output


def test_the_check_hook_skips_files_that_are_not_lpacks(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", handler=BAD_HANDLER, environment_bytes=5000)
    local_config(repo)
    git(repo, "add", "-A")
    result = pre_commit(repo, "run", "lpack-check", "--files", "README.md", "package.json")
    assert result.returncode == 0, result.stdout
    assert "no files to check" in result.stdout.lower() or "Passed" in result.stdout


def test_validate_config_hook_rejects_an_unknown_key(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", handler=GOOD_HANDLER, environment_bytes=10)
    config = repo / "functions" / "orders" / "pyproject.toml"
    config.write_text(config.read_text().replace("runtime =", "runtim ="))
    (repo / "pyproject.toml").write_text('[project]\nname = "web"\nversion = "1"\n')  # not an lpack config
    local_config(repo)
    git(repo, "add", "-A")
    result = pre_commit(repo, "run", "lpack-validate-config", "--all-files")
    assert result.returncode == 1
    assert "tool.lpack.runtim: unknown key; did you mean 'runtime'?" in result.stdout


def test_check_files_maps_changed_files_to_projects_and_policies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo", handler=GOOD_HANDLER, environment_bytes=10)
    policy = repo / "iam" / "role.json"
    policy.parent.mkdir()
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    (repo / "events").mkdir()
    (repo / "events" / "e.json").write_text('{"length": 1}')
    monkeypatch.chdir(repo)
    dist = repo / "functions" / "orders" / "dist"
    dist.mkdir()
    (dist / "orders.zip").write_bytes(b"not a zip: a stale or broken build must not matter to the hook")
    code = main(["check", "--files", "functions/orders/lambda_function.py", "iam/role.json", "events/e.json",
                 "README.md", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    paths = {f["path"] for f in report["findings"]}
    assert code == 1
    assert any(p.endswith("role.json") for p in paths)  # the policy was checked
    assert not any(p.endswith("events/e.json") for p in paths)
    assert main(["check", "--files", "README.md", "events/e.json"]) == 0
    assert "no Lambda project or IAM policy" in capsys.readouterr().out


@pytest.mark.network
def test_try_repo_installs_and_runs_the_hook(tmp_path: Path) -> None:
    """`pre-commit try-repo` builds lpack from this checkout into its own environment (PyPI)."""
    repo = make_repo(tmp_path / "repo", handler=BAD_HANDLER, environment_bytes=5000)
    git(repo, "add", "-A")
    result = pre_commit(repo, "try-repo", str(REPO), "lpack-check", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lambda_handler" in result.stdout
    (repo / "functions" / "orders" / "lambda_function.py").write_text(GOOD_HANDLER)
    config = repo / "functions" / "orders" / "pyproject.toml"
    config.write_text(config.read_text().replace("x" * 5000, "x"))
    git(repo, "add", "-A")
    result = pre_commit(repo, "try-repo", str(REPO), "lpack-check", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_hook_runs_when_a_template_changes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sam" / "src").mkdir(parents=True)
    (repo / "sam" / "src" / "app.py").write_text(GOOD_HANDLER)
    (repo / "sam" / "template.yml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Orders:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: app.lambda_handler\n      Runtime: python3.12\n"
        "      MemorySize: 64\n")
    git(repo, "init", "-q")
    local_config(repo)
    git(repo, "add", "-A")
    result = pre_commit(repo, "run", "lpack-check", "--files", "sam/template.yml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "sam/template.yml" in result.stdout and "LP321" in result.stdout


def test_the_check_hook_checks_a_serverless_service_when_its_handler_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed file under a folder with serverless.yml (and no lpack configuration): that service
    is checked, as a SAM project's is."""
    repo = tmp_path / "repo"
    (repo / "svc" / "src").mkdir(parents=True)
    (repo / "svc" / "src" / "handler.py").write_text(GOOD_HANDLER)
    (repo / "svc" / "serverless.yml").write_text("service: s\nprovider: {name: aws, runtime: python3.12}\n"
                                                 "functions:\n  orders: {handler: handler.main, module: src}\n")
    monkeypatch.chdir(repo)
    assert main(["check", "--files", "svc/src/handler.py", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in report["findings"]] == ["LP206"]  # the module has lambda_handler, not main

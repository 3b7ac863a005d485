"""examples/ci/github-actions.yml: its steps run as written on a real monorepo, find every
project and template, annotate source files (never a dist/*.zip), and give what the later
steps consume (annotations, SARIF, build reports); actionlint passes it when installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"  # vendored, MIT
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      MemorySize: {memory}
"""


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = workflow()["jobs"]["package"]["steps"]
    return steps


def test_the_workflow_can_upload_sarif_and_runs_on_pull_requests() -> None:
    data = workflow()
    assert "pull_request" in data[True]  # YAML 1.1 reads the key `on` as True
    assert data["permissions"]["security-events"] == "write"
    uses = [step.get("uses", "") for step in steps()]
    assert all(re.search(r"@v\d+$", u) for u in uses if u)  # pinned actions
    assert "github/codeql-action/upload-sarif@v4" in uses  # v3 is deprecated
    assert any(u.startswith("actions/cache@") for u in uses)


def test_the_cache_holds_lpacks_cache_folder_keyed_on_locks_and_requirements() -> None:
    cache = next(step for step in steps() if step.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "${{ env.LPACK_CACHE_DIR }}"
    assert "${{ steps.cache-key.outputs.key }}" in cache["with"]["key"]  # `lpack cache key`: run below
    assert any(step.get("id") == "cache-key" and "lpack cache key" in step["run"] for step in steps())


def make_monorepo(root: Path, *, memory: int) -> Path:
    """A repository with a pyproject project, a zero-config folder, a SAM template whose CodeUri
    holds a lambda_function.py of its own, a template without Python and a web app."""
    orders = root / "functions" / "orders"
    orders.mkdir(parents=True)
    (orders / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (orders / "pyproject.toml").write_text(f'[tool.lpack]\nruntime = "python3.12"\nmemory = {memory}\n')
    shutil.copytree(REPO / "examples" / "area", root / "area", ignore=shutil.ignore_patterns("dist"))
    (root / "sam" / "src").mkdir(parents=True)
    (root / "sam" / "template.yaml").write_text(TEMPLATE.format(memory=memory))
    (root / "sam" / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (root / "sam" / "src" / "lambda_function.py").write_text("HELPER = 1\n")  # part of the template's code
    (root / "infra").mkdir()
    (root / "infra" / "template.yml").write_text("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n")
    (root / "web").mkdir()
    (root / "web" / "pyproject.toml").write_text('[project]\nname = "web"\nversion = "1"\n')
    (root / ".gitignore").write_text("dist/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def run_steps(repo: Path, tmp_path: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each `run:` step but the install, in bash as the runner runs it, with this lpack on PATH."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    github_env = runner_temp / "github-env"
    github_env.touch()
    (runner_temp / "github-output").write_text("")
    env = {**os.environ, "RUNNER_TEMP": str(runner_temp), "GITHUB_ENV": str(github_env), "NO_COLOR": "1",
           "GITHUB_OUTPUT": str(runner_temp / "github-output"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    results = {}
    for step in steps():
        if "run" not in step or step["name"] == "Install lpack":
            continue
        results[step["name"]] = subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], cwd=repo, env=env,
                                               capture_output=True, text=True, check=False, timeout=300)
        for line in github_env.read_text().splitlines():  # what the runner does with $GITHUB_ENV
            key, _, value = line.partition("=")
            env[key] = value
    return results


def test_the_steps_find_every_project_and_annotate_source_files(tmp_path: Path) -> None:
    repo = make_monorepo(tmp_path / "repo", memory=64)
    results = run_steps(repo, tmp_path)
    projects = (tmp_path / "runner-temp" / "lpack-projects.txt").read_text().split()
    assert projects == ["area", "infra", "sam", "functions/orders"]  # not web, not sam/src

    check = results["Check (annotations on the pull request's lines)"]
    assert check.returncode == 1  # 64 MB is below Lambda's minimum: the job fails, with annotations
    files = re.findall(r"^::error file=([^,]+),line=\d+,", check.stdout, re.MULTILINE)
    assert sorted(files) == ["functions/orders/pyproject.toml", "sam/template.yaml"], check.stdout

    sarif = results["Check (SARIF for code scanning)"]
    assert sarif.returncode == 0, sarif.stderr  # --exit-zero: the upload step still runs
    log = json.loads((repo / "lpack.sarif").read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"functions/orders/pyproject.toml", "sam/template.yaml"}

    build = results["Build byte-reproducible packages for the target runtime and architecture"]
    assert build.returncode == 0, build.stdout + build.stderr  # settings are `lpack check`'s business
    for name, zip_path in [("area", "area/dist/area.zip"), ("functions_orders", "functions/orders/dist/orders.zip"),
                           ("sam", "sam/dist/HelloFunction.zip")]:
        report = json.loads((repo / "lpack-build" / f"{name}.json").read_text())
        jsonschema.validate(report, json.loads((REPO / "schemas" / "report.schema.json").read_text()))
        assert report["artifacts"][0]["path"].endswith(zip_path)
        assert (repo / zip_path).is_file()

    keys = (tmp_path / "runner-temp" / "github-output").read_text()
    assert re.fullmatch(r"key=[0-9a-f]{40}\n", keys)  # the cache key: the projects' `lpack cache key`s
    assert results["Prune lpack's dependency cache before it is saved"].returncode == 0
    run_steps(repo, tmp_path)  # a second run (everything cached) keys the cache the same
    assert (tmp_path / "runner-temp" / "github-output").read_text() == keys


def test_after_a_build_annotations_still_name_source_files(tmp_path: Path) -> None:
    """A checkout that has a dist/ (a self-hosted runner, a repeated run) is checked from source."""
    repo = make_monorepo(tmp_path / "repo", memory=128)
    assert all(r.returncode == 0 for r in run_steps(repo, tmp_path).values())
    (repo / "functions" / "orders" / "lambda_function.py").write_text(
        "import requests\n\ndef lambda_handler(event, context):\n    return 1\n")
    check = run_steps(repo, tmp_path)["Check (annotations on the pull request's lines)"]
    assert check.returncode == 1
    assert "::error file=functions/orders/lambda_function.py,line=1," in check.stdout
    assert ".zip" not in check.stdout


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed")
def test_actionlint_passes_the_workflow() -> None:
    result = subprocess.run(["actionlint", "-no-color", str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

"""examples/ci/github-actions.yml: its lpack steps are valid commands, and run as written on a
real project they give what the later steps consume (annotations, SARIF, a build report)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from lpack.cli import _parser, main

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"  # vendored, MIT


def workflow() -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return data


def lpack_steps() -> list[list[str]]:
    """Each `lpack ...` command of the workflow, without its shell redirection."""
    commands = []
    for step in workflow()["jobs"]["package"]["steps"]:
        run = step.get("run", "")
        if run.startswith("lpack "):
            commands.append(shlex.split(run.split(">")[0])[1:])
    return commands


def test_the_workflow_can_upload_sarif_and_runs_on_pull_requests() -> None:
    data = workflow()
    assert "pull_request" in data[True]  # YAML 1.1 reads the key `on` as True
    assert data["permissions"]["security-events"] == "write"
    uses = [step.get("uses", "") for step in data["jobs"]["package"]["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert all(re.search(r"@v\d+$", u) for u in uses if u)  # pinned actions


def test_every_lpack_step_is_a_valid_command() -> None:
    steps = lpack_steps()
    assert [s[:3] for s in steps] == [["check", "--format", "github"], ["check", "--format", "sarif"],
                                      ["build", "--format", "json"]]
    for args in steps:
        _parser().parse_args(args)  # SystemExit here would fail the test


def test_the_steps_run_as_written_on_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    project = shutil.copytree(REPO / "examples" / "area", tmp_path / "area", ignore=shutil.ignore_patterns("dist"))
    (project / "pyproject.toml").write_text('[tool.lpack]\nruntime = "python3.12"\nmemory = 64\n')
    monkeypatch.chdir(project)
    github, sarif, build = lpack_steps()

    assert main(github) == 1  # memory 64 MB is below Lambda's minimum: the job fails, with an annotation
    annotations = capsys.readouterr().out
    assert re.search(r"^::error file=pyproject\.toml,line=3,", annotations, re.MULTILINE)

    assert main(sarif) == 0  # --exit-zero: the upload step still runs
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0" and log["runs"][0]["results"]
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))

    assert main(build) == 0  # the package itself is fine: settings are `lpack check`'s business
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, json.loads((REPO / "schemas" / "report.schema.json").read_text()))
    assert report["artifacts"][0]["path"].endswith("dist/area.zip")
    assert (project / "dist" / "area.zip").is_file()

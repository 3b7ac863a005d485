"""action.yml (the composite action `uses: OWNER/lpack@REV` runs) and examples/github-actions/.

actionlint lints workflows, not action metadata: it reads a local action's action.yml only to
check what a workflow passes to it (inputs, `runs.using`). So action.yml's structure is checked
here (every run step has a shell, every input it reads exists and every input is read, outputs
come from steps that set them, no input is pasted into a script), actionlint runs on the example
workflow and on a workflow that uses the action from a local checkout, and the action's own
check and build scripts run as written, in bash, against a real project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factories.wheels import make_wheel

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "action.yml"
EXAMPLES = sorted((REPO / "examples" / "github-actions").glob("*.yml"))
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
actionlint = pytest.mark.skipif(shutil.which("actionlint") is None,
                                reason="actionlint is not installed (pip install -e '.[test]' installs it on Linux)")


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def steps() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = action()["runs"]["steps"]
    return found


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in steps() if s.get("id") == step_id)


def test_the_metadata_github_requires() -> None:
    data = action()
    assert {"name", "description", "runs"} <= set(data)
    assert data["runs"]["using"] == "composite"
    for name, spec in data["inputs"].items():
        assert spec["description"] and "default" in spec and isinstance(spec["default"], str), name
    for name, spec in data["outputs"].items():
        assert spec["description"] and spec["value"].startswith("${{ steps."), name  # composite outputs need a value


def test_every_run_step_names_its_shell_and_reads_inputs_through_env() -> None:
    for s in steps():
        assert ("run" in s) != ("uses" in s), s
        if "run" in s:
            assert s["shell"] == "bash", s.get("name")  # required on every run step of a composite action
            assert "${{" not in s["run"], s.get("name")  # an input pasted into a script is script injection


def test_inputs_read_exist_and_every_input_is_read() -> None:
    text = ACTION.read_text(encoding="utf-8")
    declared = set(action()["inputs"])
    read = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert read == declared


def test_outputs_come_from_steps_that_set_them() -> None:
    for name, spec in action()["outputs"].items():
        step_id, output = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", spec["value"]).groups()  # type: ignore[union-attr]
        assert re.search(rf'echo "{re.escape(output)}(=|<<)', step(step_id)["run"]), name


def test_actions_are_pinned_to_current_majors() -> None:
    uses = [s["uses"] for s in steps() if "uses" in s]
    assert all(re.search(r"@v\d+$", u) for u in uses), uses
    assert {u.split("@")[0] for u in uses} == {"actions/setup-python", "actions/cache",
                                                "github/codeql-action/upload-sarif", "actions/upload-artifact"}
    assert "github/codeql-action/upload-sarif@v4" in uses  # v3 is deprecated


def test_lpack_installs_from_the_actions_own_checkout() -> None:
    install = next(s for s in steps() if s.get("name", "").startswith("Install lpack"))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install --quiet "$ACTION_PATH"' in install["run"]


def test_the_cache_is_keyed_on_locks_and_target() -> None:
    cache = next(s for s in steps() if s.get("uses", "").startswith("actions/cache@"))
    key = cache["with"]["key"]
    for part in ("inputs.runtime", "inputs.architecture", "github.action_ref", "steps.cache-key.outputs.key"):
        assert part in key  # the locks through `lpack cache key` (run as written below)
    assert cache["with"]["path"] == "${{ runner.temp }}/lpack-cache"


@actionlint
@pytest.mark.parametrize("workflow", [*EXAMPLES, *WORKFLOWS], ids=lambda p: p.name)
def test_actionlint_passes_the_workflows(workflow: Path) -> None:
    run = subprocess.run(["actionlint", "-no-color", str(workflow)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


@actionlint
def test_actionlint_passes_a_workflow_using_the_action_from_a_checkout(tmp_path: Path) -> None:
    """`uses: ./`: actionlint reads action.yml and checks the inputs the example passes."""
    shutil.copy(ACTION, tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    for example in EXAMPLES:
        text = re.sub(r"uses: YOUR-ORG/lpack@\S+", "uses: ./", example.read_text(encoding="utf-8"))
        assert "uses: ./" in text
        (tmp_path / ".github" / "workflows" / example.name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    run = subprocess.run(["actionlint", "-no-color"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    bad = tmp_path / ".github" / "workflows" / "bad.yml"  # and it would catch a misspelt input
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n"
                   "        with:\n          pth: .\n", encoding="utf-8")
    run = subprocess.run(["actionlint", "-no-color"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert run.returncode == 1 and 'input "pth" is not defined' in run.stdout


def run_step(step_id: str, inputs: dict[str, str], workspace: Path, temp: Path) -> tuple[int, dict[str, str]]:
    """One run step as the runner runs it: bash -e, its env with the inputs, GITHUB_OUTPUT a file."""
    s = step(step_id)
    output = temp / f"{step_id}.out"
    output.write_text("")
    env_values = {k: re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)], v)
                  for k, v in s["env"].items()}
    env = {**os.environ, **env_values, "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(output),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "LPACK_CACHE_DIR": str(temp / "lpack-cache"), "PYTHONPATH": str(REPO)}
    shim = temp / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "lpack").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lpack "$@"\n')
    (shim / "lpack").chmod(0o755)
    env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", s["run"]], cwd=workspace,
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    return done.returncode, _outputs(output.read_text())


def _outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's format: name=value lines, and name<<DELIMITER ... DELIMITER blocks."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            found[name] = "\n".join(iter(lambda: next(lines), delimiter))
        else:
            name, _, value = line.partition("=")
            found[name] = value
    return found


@pytest.mark.parametrize("broken", [False, True], ids=["clean", "handler-missing"])
def test_the_check_and_build_scripts_run_as_written(broken: bool, tmp_path: Path) -> None:
    workspace, temp, wheels = tmp_path / "repo", tmp_path / "temp", tmp_path / "wheels"
    for folder in (workspace / "services" / "orders", temp, wheels):
        folder.mkdir(parents=True)
    make_wheel(wheels, "six", "1.10.0")
    fn = workspace / "services" / "orders"
    handler = "lambda_handler" if not broken else "other"
    (fn / "lambda_function.py").write_text(f"def {handler}(event, context):\n    return 1\n", encoding="utf-8")
    (fn / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\nsix==1.10.0\n", encoding="utf-8")
    inputs = {name: spec["default"] for name, spec in action()["inputs"].items()}
    inputs.update(path="services/orders", runtime="python3.12", architecture="arm64")

    code, check = run_step("check", inputs, workspace, temp)
    assert code == 0  # findings do not stop the step: the SARIF is uploaded first
    assert check["exit-code"] == ("1" if broken else "0")
    sarif = json.loads(Path(check["sarif"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert bool(sarif["runs"][0]["results"]) is broken

    code, keyed = run_step("cache-key", inputs, workspace, temp)
    assert code == 0 and re.fullmatch(r"lpack-deps-[0-9a-f]{40}", keyed["key"])

    code, build = run_step("build", inputs, workspace, temp)
    assert code == (1 if broken else 0)
    assert run_step("cache-key", inputs, workspace, temp)[1] == keyed  # the build's install did not change it
    packages = build["packages"].splitlines()
    assert [Path(p).resolve() for p in packages] == [(fn / "dist" / "orders.zip").resolve()]
    with zipfile.ZipFile(packages[0]) as zf:
        assert {"lambda_function.py", "six/__init__.py"} <= set(zf.namelist())
    report = json.loads(Path(build["report"]).read_text())
    assert [(a["runtime"], a["architecture"]) for a in report["artifacts"]] == [("python3.12", "arm64")]


def test_a_config_error_stops_the_build_step_with_lpacks_message(tmp_path: Path) -> None:
    workspace, temp = tmp_path / "repo", tmp_path / "temp"
    workspace.mkdir()
    temp.mkdir()
    inputs = {name: spec["default"] for name, spec in action()["inputs"].items()}
    inputs.update(path="no-such-folder")
    code, build = run_step("build", inputs, workspace, temp)
    assert code == 2 and "packages" not in build

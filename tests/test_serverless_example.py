"""examples/serverless: every function of serverless.yml deploys the zip lpack builds for it, for
the target serverless.yml declares, with the handler serverless.yml names; built from a copy whose
lock installs from local wheels of the same pins (no network). The Serverless CLI is not run."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from lpack.cli import main
from tests.factories.wheels import make_wheel

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "serverless"


def serverless() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLE / "serverless.yml").read_text(encoding="utf-8"))
    return data


def test_each_function_names_its_lpack_artifact() -> None:
    data = serverless()
    assert data["frameworkVersion"] == "4"
    assert data["package"]["individually"] is True
    for name, fn in data["functions"].items():
        assert fn["package"] == {"artifact": f"dist/{name}.zip"}, name


def test_npm_runs_lpack_build_before_deploy_and_package() -> None:
    scripts = json.loads((EXAMPLE / "package.json").read_text(encoding="utf-8"))["scripts"]
    assert scripts["predeploy"] == scripts["prepackage"] == "lpack build"
    assert (scripts["deploy"], scripts["package"]) == ("serverless deploy", "serverless package")


def test_lpack_builds_what_serverless_deploys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(shutil.copytree(EXAMPLE, tmp_path / "serverless", ignore=shutil.ignore_patterns("dist")))
    pins = re.findall(r"^([A-Za-z0-9_.-]+==[^\s\\]+)", (root / "requirements.txt").read_text(), flags=re.MULTILINE)
    assert pins == ["attrs==23.2.0"]
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "attrs", "23.2.0")
    (root / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\n{pins[0]}\n", encoding="utf-8")
    assert main(["build", str(root), "-q", "--format", "json"]) == 0
    built = {a["name"]: a for a in json.loads(capsys.readouterr().out)["artifacts"]}
    data = serverless()
    assert set(built) == set(data["functions"])
    provider = data["provider"]
    for name, fn in data["functions"].items():
        artifact = built[name]
        assert Path(artifact["path"]).resolve() == (root / fn["package"]["artifact"]).resolve()
        assert (artifact["runtime"], artifact["architecture"]) == (provider["runtime"], provider["architecture"])
        module = fn["handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        with zipfile.ZipFile(root / fn["package"]["artifact"]) as zf:
            names = set(zf.namelist())
        assert {module, "attrs/__init__.py"} <= names
        assert not names & {"serverless.yml", "package.json", "lpack.toml", "README.md", "requirements.txt"}

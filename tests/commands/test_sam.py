"""lpack inside SAM: `lpack build --out DIR` (a package's files, unzipped), `lpack sam-makefile`
(the Makefile `sam build` runs for BuildMethod: makefile) and `lpack build --sam-build-dir` (what
`sam build` writes, for `sam deploy`). Real wheels, a real template, real builds; the real `sam`
is in tests/test_network_sam.py."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

from lpack.cli import main
from tests.factories.wheels import make_wheel

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Environment:
        Variables:
          TABLE: !Ref Table
  Worker:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: makefile
    Properties:
      CodeUri: src/
      Handler: app.other
      Architectures: [arm64]
  Table:
    Type: AWS::Serverless::SimpleTable
  Docs:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: api/openapi.yaml
Outputs:
  ApiArn:
    Value: !GetAtt Api.Arn
"""


def sam_project(tmp_path: Path) -> Path:
    """template.yaml with two Python functions sharing src/ (its requirements.txt pins a local
    wheel with an executable script) and an API whose definition is a local file."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinylib", "1.2.0", files={"tinylib/__init__.py": "VALUE = 42\n",
                                                   "tinylib/data.bin": bytes(range(256))})
    root = tmp_path / "proj"
    src = root / "src"
    src.mkdir(parents=True)
    (src / "app.py").write_text("import tinylib\n\n\ndef handler(event, context):\n    return tinylib.VALUE\n\n\n"
                                "def other(event, context):\n    return 2\n", encoding="utf-8")
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    (src / "run.sh").chmod(0o755)
    (src / "requirements.txt").write_text(f"--no-index\n--find-links {wheels}\ntinylib==1.2.0\n", encoding="utf-8")
    (root / "api").mkdir()
    (root / "api" / "openapi.yaml").write_text("openapi: 3.0.1\n", encoding="utf-8")
    (root / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    return root


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_files(path: Path) -> dict[str, tuple[bytes, int]]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: (zf.read(i), (i.external_attr >> 16) & 0o777) for i in zf.infolist() if not i.is_dir()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project, built once with --out for Api alone (the cache then makes later builds fast)."""
    root = sam_project(tmp_path_factory.mktemp("sam"))
    assert main(["build", str(root / "template.yaml"), "-q", "--function", "Api", "--out", str(root / "out")]) == 0
    return root


# -- --out ------------------------------------------------------------------------------------------

def test_out_with_one_function_holds_its_files_byte_for_byte(built: Path) -> None:
    files = tree(built / "out")
    assert files == zip_files(built / "dist" / "Api.zip")
    assert files["app.py"][0].startswith(b"import tinylib") and files["run.sh"][1] == 0o755
    assert "tinylib/data.bin" in files and "requirements.txt" not in files


def test_out_replaces_the_old_contents_whole(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.py").write_text("x = 1\n", encoding="utf-8")
    assert main(["build", str(built / "template.yaml"), "-q", "-f", "Api", "--out", str(out)]) == 0
    assert tree(out) == zip_files(built / "dist" / "Api.zip")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary folder left beside it


def test_out_without_one_function_writes_a_folder_per_package(built: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    (out / "keep.txt").parent.mkdir()
    (out / "keep.txt").write_text("mine\n", encoding="utf-8")
    assert main(["build", str(built / "template.yaml"), "-q", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["Api", "Worker", "keep.txt"]
    for name in ("Api", "Worker"):
        assert tree(out / name) == zip_files(built / "dist" / f"{name}.zip")
    assert main(["build", str(built / "template.yaml"), "-f", "Worker", "--out", str(out / "Worker"),
                 "--format", "json"]) == 0
    assert f"lpack: wrote {out / 'Worker'} (" in capsys.readouterr().err


@pytest.mark.parametrize("where", [".", "src", "dist", ".."])
def test_out_refuses_a_folder_it_would_destroy(built: Path, where: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in built.iterdir())
    assert main(["build", str(built / "template.yaml"), "-q", "-f", "Api", "--out", str(built / where)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lpack: error: --out {built / where}: would replace ") and "Traceback" not in err
    assert "lpack: tip: name a folder of its own" in err
    assert sorted(p.name for p in built.iterdir()) == before


def test_out_refuses_a_folder_the_next_build_would_ship(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(built / "template.yaml"), "-q", "-f", "Api", "--out", str(built / "src" / "x")]) == 2
    assert "so the next build would ship it" in capsys.readouterr().err
    assert not (built / "src" / "x").exists()
    # a folder lpack leaves out of the source is fine: `sam build` with CodeUri: . writes .aws-sam/build/NAME
    assert main(["build", str(built / "template.yaml"), "-q", "-f", "Api",
                 "--out", str(built / "src" / ".aws-sam" / "build" / "Api")]) == 0
    shutil.rmtree(built / "src" / ".aws-sam")


def test_out_refuses_a_file_in_the_way(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out").write_text("not a folder\n", encoding="utf-8")
    assert main(["build", str(built / "template.yaml"), "-q", "-f", "Api", "--out", str(tmp_path / "out")]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text(encoding="utf-8") == "not a folder\n"


# -- --sam-build-dir --------------------------------------------------------------------------------

def test_sam_build_dir_writes_folders_and_the_template_sam_deploy_reads(built: Path) -> None:
    build_dir = built / ".aws-sam" / "build"
    assert main(["build", str(built / "template.yaml"), "-q", "--sam-build-dir", str(build_dir)]) == 0
    for name in ("Api", "Worker"):
        assert tree(build_dir / name) == zip_files(built / "dist" / f"{name}.zip")
    written = yaml.safe_load((build_dir / "template.yaml").read_text(encoding="utf-8"))
    resources = written["Resources"]
    assert resources["Api"]["Properties"]["CodeUri"] == "Api"
    assert resources["Worker"]["Properties"]["CodeUri"] == "Worker"
    assert resources["Worker"]["Metadata"] == {"BuildMethod": "makefile", "SamResourceId": "Worker"}
    assert resources["Api"]["Metadata"] == {"SamResourceId": "Api"}
    assert resources["Docs"]["Properties"]["DefinitionUri"] == "../../api/openapi.yaml"  # as sam build re-points it
    assert resources["Api"]["Properties"]["Environment"]["Variables"]["TABLE"] == {"Ref": "Table"}
    assert written["Outputs"]["ApiArn"]["Value"] == {"Fn::GetAtt": ["Api", "Arn"]}
    assert written["Globals"] == {"Function": {"Runtime": "python3.12"}}
    assert (built / "template.yaml").read_text(encoding="utf-8") == TEMPLATE  # the source is not touched
    # lpack reads its own output as `sam build`'s: the folders are the packages
    assert main(["check", str(build_dir / "template.yaml"), "-q", "--select", "LP2"]) == 0


def test_sam_build_dir_needs_a_template(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(built / "src"), "-q", "--sam-build-dir", str(built / "b")]) == 2
    assert "--sam-build-dir needs a SAM/CloudFormation template" in capsys.readouterr().err
    assert main(["build", str(built / "template.yaml"), "-q", "--sam-build-dir", "b", "--out", "c"]) == 2
    assert "give one" in capsys.readouterr().err


# -- sam-makefile -----------------------------------------------------------------------------------

def test_sam_makefile_writes_targets_and_says_what_the_template_needs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = sam_project(tmp_path)
    assert main(["sam-makefile", str(root / "template.yaml")]) == 0
    out = capsys.readouterr().out
    makefile = root / "src" / "Makefile"
    assert f"lpack: wrote {makefile} (build-Api, build-Worker)" in out
    assert f"{root / 'template.yaml'}:7: Resources.Api: add beside its Type and Properties:\n" \
           "    Metadata:\n      BuildMethod: makefile\n" in out
    assert "Resources.Worker" not in out  # already has it
    text = makefile.read_text(encoding="utf-8")
    assert "LPACK_SAM_TEMPLATE := $(abspath $(dir $(firstword $(MAKEFILE_LIST)))../template.yaml)" in text
    assert '\t$(LPACK) build "$(LPACK_SAM_TEMPLATE)" --function Api --out "$(ARTIFACTS_DIR)"\n' in text
    assert main(["sam-makefile", str(root / "template.yaml")]) == 0  # idempotent
    assert "up to date:" in capsys.readouterr().out and makefile.read_text(encoding="utf-8") == text


def test_sam_makefile_keeps_a_users_makefile_and_refuses_to_clobber(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = sam_project(tmp_path)
    makefile = root / "src" / "Makefile"
    makefile.write_text("test:\n\tpytest\n", encoding="utf-8")
    assert main(["sam-makefile", str(root / "template.yaml"), "-q", "-f", "Worker"]) == 0
    text = makefile.read_text(encoding="utf-8")
    assert text.startswith("test:\n\tpytest\n\n# >>> lpack sam-makefile >>>") and "build-Api" not in text
    makefile.write_text(text + "\nbuild-Api:\n\techo mine\n", encoding="utf-8")
    assert main(["sam-makefile", str(root / "template.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lpack: error: {makefile}: already has a build-Api target that lpack did not write")
    assert makefile.read_text(encoding="utf-8").endswith("echo mine\n")


def test_sam_makefile_target_builds_what_lpack_build_builds(built: Path, tmp_path: Path) -> None:
    """`make build-Api` run as `sam build` runs it: from a scratch copy, with --makefile naming the
    original and ARTIFACTS_DIR set; the folder holds dist/Api.zip's files."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    assert main(["sam-makefile", str(built / "template.yaml"), "-q"]) == 0
    scratch = tmp_path / "scratch"
    shutil.copytree(built / "src", scratch)
    artifacts = tmp_path / "artifacts" / "Api"
    artifacts.mkdir(parents=True)
    lpack = f"{sys.executable} -m lpack"
    env = {**os.environ, "ARTIFACTS_DIR": str(artifacts), "LPACK": lpack}
    done = subprocess.run(["make", "--makefile", str(built / "src" / "Makefile"), "build-Api"], cwd=scratch,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert tree(artifacts) == zip_files(built / "dist" / "Api.zip")
    assert not (scratch / "dist").exists()  # lpack built the project, not the copy


def test_sam_makefile_needs_a_python_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              PackageType: Image
              ImageUri: repo:latest
        """), encoding="utf-8")
    assert main(["sam-makefile", str(tmp_path / "template.yaml")]) == 2
    assert "no Python function with a local CodeUri folder" in capsys.readouterr().err

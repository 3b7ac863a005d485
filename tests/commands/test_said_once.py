"""Findings about what several functions share are said once, naming them all: a runtime's
lifecycle (LP401/LP402) once per runtime, the AWS SDK in the package (LP142) once per CodeUri, with
a fix that names what brought the SDK in. Real wheels, a real SAM template, a real build."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lpack.cli import main
from tests.factories.wheels import make_wheel


def findings(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict[str, object]]:
    capsys.readouterr()
    main(["check", str(path), "--format", "json"])
    return list(json.loads(capsys.readouterr().out)["findings"])


def project(tmp_path: Path, requirements: list[str], functions: str) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "botocore", "1.29.165")
    make_wheel(wheels, "boto3", "1.26.0", requires=["botocore>=1.29"])
    make_wheel(wheels, "aiobotocore", "2.5.0", requires=["botocore>=1.29,<1.30", "aiohttp>=3; extra == 'never'"])
    make_wheel(wheels, "s3fs", "2023.6.0", requires=["aiobotocore~=2.5.0", "boto3; extra == 'boto3'"])
    make_wheel(wheels, "moto", "4.0.0", requires=["boto3>=1.9; extra == 'all'"])
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(event, context):\n    return 1\n\n\ndef other(event, context):\n"
                                "    return 2\n", encoding="utf-8")
    (src / "requirements.txt").write_text(
        "\n".join(["--no-index", f"--find-links {wheels}", *requirements]) + "\n", encoding="utf-8")
    template = tmp_path / "template.yaml"
    template.write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Globals:
          Function:
            Runtime: python3.9
            CodeUri: src/
        Resources:
        """) + textwrap.indent(textwrap.dedent(functions), "  "), encoding="utf-8")
    return template


THREE = """\
    A:
      Type: AWS::Serverless::Function
      Properties:
        Handler: app.handler
    B:
      Type: AWS::Serverless::Function
      Properties:
        Handler: app.other
    C:
      Type: AWS::Serverless::Function
      Properties:
        Handler: app.other
        Runtime: python3.12
"""


def test_shared_code_and_runtime_are_reported_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    template = project(tmp_path, ["boto3==1.26.0"], THREE)
    found = findings(capsys, template)  # from source: no SDK yet, the runtime once for A and B
    assert [(f["code"], f["function"], f["line"]) for f in found] == [("LP401", "A, B", 4)]
    assert str(found[0]["message"]).endswith("(2 functions use this runtime: A, B)")

    assert main(["build", str(template), "-q", "--format", "json"]) == 0
    capsys.readouterr()
    # the three zips are byte-identical (pure-Python wheels): each function's inputs are remembered
    # for those bytes, so none of them reads as "older than its inputs" after the build
    main(["check", str(template)])
    assert "older than its inputs" not in capsys.readouterr().err
    found = findings(capsys, template)
    assert sorted((f["code"], f["function"]) for f in found) == [("LP142", "A, B, C"), ("LP401", "A, B")]
    sdk = next(f for f in found if f["code"] == "LP142")
    assert str(sdk["message"]).startswith("boto3 1.26.0 and botocore 1.29.165 are in the package")
    assert "3 functions are built from this code: A, B, C" in str(sdk["message"])
    assert sdk["fix"] == "unless you need a specific version, drop boto3 from the function's requirements"


def test_each_runtime_and_each_code_folder_keeps_its_own_finding(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    template = project(tmp_path, ["boto3==1.26.0"], THREE + """\
    D:
      Type: AWS::Serverless::Function
      Properties:
        Handler: app.handler
        Runtime: python3.8
    E:
      Type: AWS::Serverless::Function
      Properties:
        Handler: app.handler
        CodeUri: other/
    """)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "app.py").write_text("def handler(event, context):\n    return 1\n", encoding="utf-8")
    found = findings(capsys, template)
    # python3.8 is deprecated too, with its own dates: a finding of its own, at D's Runtime line;
    # E shares python3.9 from Globals but not the CodeUri
    assert sorted((f["code"], f["function"], f["line"]) for f in found) == [
        ("LP401", "A, B, E", 4), ("LP401", "D", 24)]

    (tmp_path / "other" / "requirements.txt").write_text((tmp_path / "src" / "requirements.txt").read_text())
    assert main(["build", str(template), "-q", "--format", "json"]) == 0
    sdk = sorted(str(f["function"]) for f in findings(capsys, template) if f["code"] == "LP142")
    assert sdk == ["A, B, C, D", "E"]
    assert not any("functions use this runtime" in str(f["message"]) for f in found if f["code"] == "LP402")


def test_the_fix_names_the_requirement_that_brought_botocore(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    template = project(tmp_path, ["s3fs==2023.6.0", "moto==4.0.0"], THREE)
    assert main(["build", str(template), "-q", "--format", "json"]) == 0
    sdk = [f for f in findings(capsys, template) if f["code"] == "LP142"]
    assert len(sdk) == 1 and str(sdk[0]["message"]).startswith("botocore 1.29.165 is in the package")
    # s3fs needs botocore through aiobotocore: dropping "boto3" is not the fix; moto's boto3 is an extra's
    assert sdk[0]["fix"] == ("botocore comes in with s3fs (through aiobotocore), which needs it: keep it "
                             "(ignore LP142 for this function), or drop that requirement")

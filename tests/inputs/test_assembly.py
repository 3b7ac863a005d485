"""A CDK cloud assembly (cdk.out) and a CDK app's folder read as the stack template they hold:
one stack is read, several are named for the user to pick, and a manifest that points outside the
assembly or is not JSON is an error naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lpack.cli import main

CDK_APP = Path(__file__).resolve().parent.parent / "data" / "cdk" / "app"


def app(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CDK_APP, tmp_path / "app"))


def test_a_stage_nests_its_stacks_in_an_assembly_of_their_own(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """`cdk synth` of an app with a Stage writes the stage's stacks into assembly-NAME/, listed in
    the outer manifest as a cdk:cloud-assembly artifact."""
    root = app(tmp_path)
    out = root / "cdk.out"
    stage = out / "assembly-Prod"
    stage.mkdir()
    for name in ("manifest.json", "OrdersStack.template.json"):
        shutil.move(out / name, stage / name)
    for asset in out.glob("asset.*"):
        shutil.move(asset, stage / asset.name)
    (out / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {
        "assembly-Prod": {"type": "cdk:cloud-assembly",
                          "properties": {"directoryName": "assembly-Prod", "displayName": "Prod"}}}}))
    assert main(["check", str(root), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # the CDK orders handler only puts items: grantReadWriteData's other actions are unused (info)
    assert [f["code"] for f in report["findings"]] == ["LP571"]
    assert main(["build", str(out), "-q"]) == 0
    assert sorted(p.name for p in (stage / "dist").glob("*.zip")) == ["OrdersFunctionC129706A.zip",
                                                                   "ReportsFunctionA1118E46.zip"]


def test_several_stacks_are_named_for_the_user_to_pick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = app(tmp_path) / "cdk.out"
    manifest = json.loads((out / "manifest.json").read_text())
    twin = dict(manifest["artifacts"]["OrdersStack"], displayName="OrdersStackEu")
    twin["properties"] = dict(twin["properties"], templateFile="OrdersStackEu.template.json")
    manifest["artifacts"]["OrdersStackEu"] = twin
    (out / "manifest.json").write_text(json.dumps(manifest))
    shutil.copy(out / "OrdersStack.template.json", out / "OrdersStackEu.template.json")
    assert main(["check", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"lpack: error: {out / 'manifest.json'}: 2 of the cloud assembly's stacks have Python "
                          "Lambda functions: ")
    assert "OrdersStack (" in err and "OrdersStackEu (" in err and "pass the template of the one to use" in err
    assert main(["check", str(out / "OrdersStackEu.template.json")]) == 0  # the one picked


def _add_stack(out: Path, name: str, resources: dict[str, object]) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["artifacts"][name] = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                                   "properties": {"templateFile": f"{name}.template.json"}, "displayName": name}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))


def test_the_one_stack_with_python_functions_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-patterns' apigw-canary-deployment-cdk: a canary stack beside the application's."""
    out = app(tmp_path) / "cdk.out"
    _add_stack(out, "NetworkStack", {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}})
    _add_stack(out, "EdgeStack", {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs22.x"}}})
    assert main(["build", str(out), "-q"]) == 0
    assert sorted(p.name for p in (out / "dist").glob("*.zip")) == ["OrdersFunctionC129706A.zip",
                                                                 "ReportsFunctionA1118E46.zip"]


def test_an_assembly_without_python_functions_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serverless-patterns' cloudfront-agentcore-runtime-cdk: AgentCore, no Lambda function."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {}}))
    for name in ("AgentsStack", "FrontStack"):
        _add_stack(out, name, {"Bucket": {"Type": "AWS::S3::Bucket"}})
    assert main(["check", str(out)]) == 2
    assert capsys.readouterr().err == (f"lpack: error: {out / 'manifest.json'}: none of the cloud assembly's 2 stacks "
                                       "has a Python Lambda function; lpack builds and checks those\n")


@pytest.mark.parametrize(("manifest", "message"), [
    ("{not json", "not readable as JSON"),
    ('{"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "../../x.json"}}}}',
     "'../../x.json' points outside the cloud assembly"),
    ('{"artifacts": {"T": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}',
     "the cloud assembly holds no CloudFormation stack"),
], ids=["not-json", "outside", "no-stack"])
def test_a_broken_manifest_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 manifest: str, message: str) -> None:
    out = app(tmp_path) / "cdk.out"
    (out / "manifest.json").write_text(manifest)
    for command in ("check", "build"):
        assert main([command, str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"lpack: error: {out / 'manifest.json'}: ") and message in err
        assert err.count("\n") == 1 and not (out / "dist").exists()


def test_an_app_not_synthesized_yet_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = app(tmp_path)
    shutil.rmtree(root / "cdk.out")
    assert main(["check", str(root)]) == 2
    assert capsys.readouterr().err == (f"lpack: error: {root / 'cdk.json'}: a CDK app with no synthesized output "
                                       f"in cdk.out/; run `cdk synth` first, then lpack on {root / 'cdk.out'}\n")


def test_cdk_json_output_names_the_assembly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = app(tmp_path)
    (root / "cdk.out").rename(root / "build-out")
    settings = json.loads((root / "cdk.json").read_text())
    (root / "cdk.json").write_text(json.dumps({**settings, "output": "build-out"}))
    assert main(["check", str(root)]) == 0
    assert "checked 2 functions" in capsys.readouterr().out

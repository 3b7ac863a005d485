"""A function URL's resource-policy statements read from a template: those SAM writes for
``FunctionUrlConfig: {AuthType: NONE}`` (``lambda:InvokeFunctionUrl`` with
``lambda:FunctionUrlAuthType`` NONE and, since October 2025, ``lambda:InvokeFunction`` with
``lambda:InvokedViaFunctionUrl`` true), and ``AWS::Lambda::Permission``'s ``InvokedViaFunctionUrl``,
as LP550 sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpack.cli import main

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
{globals}Resources:
  WebhookFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
{url}"""
OWN_URL = """\
      FunctionUrlConfig:
        AuthType: {auth}
        InvokeMode: BUFFERED
"""
GLOBAL_URL = """\
Globals:
  Function:
    FunctionUrlConfig:
      AuthType: {auth}
"""
CFN = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Code: src/
      Handler: app.handler
      MemorySize: 256
      Role: arn:aws:iam::123456789012:role/webhook
      Runtime: python3.13
  FnUrl:
    Type: AWS::Lambda::Url
    Properties:
      AuthType: NONE
      TargetFunctionArn: !GetAtt Fn.Arn
  FnUrlPublic:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunctionUrl
      Principal: "*"
      FunctionUrlAuthType: NONE
  FnUrlInvoke:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: "*"
{invoked}"""
URL_WARNING = "a function URL with AuthType NONE"


def _lp550(tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str) -> list[tuple[str, int, str]]:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "template.yaml").write_text(template)
    main(["check", str(tmp_path / "template.yaml"), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return [(f["severity"], f["line"], f["message"]) for f in findings if f["code"] == "LP550"]


def test_sam_function_url_auth_none_is_the_two_statements_sam_writes(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    found = _lp550(tmp_path, capsys, SAM.format(globals="", url=OWN_URL.format(auth="NONE")))
    assert [(severity, line) for severity, line, _m in found] == [("warning", 11), ("warning", 11)]  # AuthType's line
    assert all(URL_WARNING in message for _s, _l, message in found)
    assert "WebhookFunctionUrlPublicPermissions" in found[0][2]
    assert "WebhookFunctionURLInvokeAllowPublicAccess" in found[1][2]


def test_a_url_config_from_globals_counts_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _lp550(tmp_path, capsys, SAM.format(globals=GLOBAL_URL.format(auth="NONE"), url=""))
    assert [severity for severity, _l, message in found if URL_WARNING in message] == ["warning", "warning"]


@pytest.mark.parametrize("template", [
    SAM.format(globals="", url=OWN_URL.format(auth="AWS_IAM")),  # callers sign: SAM writes no permission
    SAM.format(globals=GLOBAL_URL.format(auth="AWS_IAM"), url=""),
    SAM.format(globals="", url=""),  # no URL at all
    SAM.format(globals="", url="      FunctionUrlConfig: !If [Public, {AuthType: NONE}, !Ref AWS::NoValue]\n"),
], ids=["aws-iam", "aws-iam-globals", "no-url", "intrinsic-config"])
def test_near_misses_stay_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str) -> None:
    assert _lp550(tmp_path, capsys, template) == []


def test_cloudformation_url_permissions_with_invoked_via_function_url(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    found = _lp550(tmp_path, capsys, CFN.format(invoked="      InvokedViaFunctionUrl: true\n"))
    assert [(severity, line, URL_WARNING in message) for severity, line, message in found] == [
        ("warning", 16, True), ("warning", 23, True)]


@pytest.mark.parametrize("invoked", ["", "      InvokedViaFunctionUrl: false\n"], ids=["absent", "false"])
def test_invoke_function_to_everyone_without_the_url_condition_is_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], invoked: str) -> None:
    found = _lp550(tmp_path, capsys, CFN.format(invoked=invoked))
    assert [(severity, line) for severity, line, _m in found] == [("warning", 16), ("error", 23)]
    assert 'any principal ("*")' in found[1][2]

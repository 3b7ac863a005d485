"""Rules over an execution role's complete set of policies: `lpack check --role ...` and a
function's `policies` in the configuration (files or AWS managed policy ARNs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpack.cli import main

BASIC_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def allow(actions: list[str] | str, resource: str | list[str] = "*", effect: str = "Allow",
          key: str = "Action") -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": effect, key: actions, "Resource": resource}]})


APP = allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/orders")
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/orders"


def check_role(tmp_path: Path, capsys: pytest.CaptureFixture[str], *documents: str) -> list[str]:
    paths = []
    for i, text in enumerate(documents):
        paths.append(tmp_path / f"p{i}.json")
        paths[-1].write_text(text)
    main(["check", "--format", "json", "--role", *map(str, paths)])
    return [f["code"] for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] >= "LP560"]


@pytest.mark.parametrize("documents", [
    [APP, allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])],
    [APP, allow("logs:*", "arn:aws:logs:*:*:*")],
    [APP, allow(["logs:CreateLogStream", "logs:PutLogEvents"], f"{GROUP}:*")],
    [APP, allow(["logs:CreateLogStream", "logs:PutLogEvents"], f"{GROUP}:log-stream:*")],
    [APP, allow("logs:Put*", "*"), allow("logs:CreateLog*", "*")],  # across two policies
    [allow("iam:*", "*", key="NotAction")],  # everything but IAM: logs included
], ids=["basic-execution", "logs-star", "group-with-star", "streams", "split", "not-action"])
def test_role_that_can_write_its_logs_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               documents: list[str]) -> None:
    assert check_role(tmp_path, capsys, *documents) == []


@pytest.mark.parametrize("documents", [
    [APP],
    [APP, allow(["logs:CreateLogStream", "logs:PutLogEvents"], GROUP)],  # the group ARN without :*
    [APP, allow("logs:CreateLogStream")],  # half of it
    [allow("*"), allow("logs:*", effect="Deny")],  # granted, then denied outright
    [allow("logs:*", key="NotAction")],
], ids=["no-logs", "group-without-star", "half", "denied", "not-action-excludes"])
def test_role_that_cannot_write_its_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         documents: list[str]) -> None:
    assert check_role(tmp_path, capsys, *documents) == ["LP560"]


def test_too_many_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    basic = allow(["logs:CreateLogStream", "logs:PutLogEvents"])
    assert check_role(tmp_path, capsys, *[basic] * 10) == []
    assert check_role(tmp_path, capsys, *[basic] * 11) == ["LP561"]
    paths = [tmp_path / f"p{i}.json" for i in range(21)]
    for path in paths:
        path.write_text(basic)
    main(["check", "--format", "json", "--role", *map(str, paths)])
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["code"], finding["severity"]) == ("LP561", "error")


def project(tmp_path: Path, policies: list[str], function: str = "orders") -> Path:
    root = tmp_path / "proj"
    (root / "iam").mkdir(parents=True)
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "iam" / "app.json").write_text(APP)
    (root / "iam" / "other-logs.json").write_text(
        allow(["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:*:*:log-group:/aws/lambda/billing:*"))
    listed = ", ".join(json.dumps(p) for p in policies)
    (root / "pyproject.toml").write_text(
        f'[tool.lpack]\n[tool.lpack.functions.{function}]\nhandler = "lambda_function.lambda_handler"\n'
        f"policies = [{listed}]\n")
    return root


@pytest.mark.parametrize(("policies", "codes"), [
    (["iam/app.json", BASIC_ARN], []),
    (["iam/app.json", "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"], []),
    (["iam/app.json"], ["LP560"]),
    (["iam/app.json", "iam/other-logs.json"], ["LP560"]),  # another function's log group
    (["iam/app.json", "arn:aws:iam::123456789012:policy/team-logging"], []),  # unreadable: quiet
], ids=["managed-basic", "managed-vpc", "no-logs", "wrong-group", "unknown-managed-arn"])
def test_function_policies_in_config_are_one_role(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  policies: list[str], codes: list[str]) -> None:
    main(["check", str(project(tmp_path, policies)), "--format", "json"])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["code"] for f in findings if f["code"] >= "LP560"] == codes
    assert all(f.get("function") == "orders" for f in findings if f["code"] >= "LP560")


def big_policy(statements: int) -> str:
    """An inline policy of many scoped statements (each ~150 non-whitespace characters)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": f"Read{i}", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:us-east-1:123456789012:table/orders-{i:04}"} for i in range(statements)]})


def test_inline_policies_share_the_role_quota(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lpack.iam.policy import size_chars

    basic = tmp_path / "basic.json"
    basic.write_text(allow(["logs:CreateLogStream", "logs:PutLogEvents"]))
    one = tmp_path / "inline-1.json"
    one.write_text(big_policy(45))
    two = tmp_path / "inline-2.json"
    two.write_text(big_policy(45))
    total = size_chars(one.read_text()) + size_chars(two.read_text())
    assert 6_144 < size_chars(one.read_text()) and total > 10_240  # each over the managed quota
    main(["check", "--format", "json", "--role", str(basic), "--role-inline", str(one), str(two)])
    findings = json.loads(capsys.readouterr().out)["findings"]
    # no LP518 for each (inline policies have no 6,144 quota), one LP562 for the role
    assert [(f["code"], f["severity"]) for f in findings] == [("LP562", "error")]
    assert f"{total:,}" in findings[0]["message"]
    main(["check", "--format", "json", "--role", str(basic), "--role-inline", str(one)])
    assert json.loads(capsys.readouterr().out)["findings"] == []  # one of them alone fits
    main(["check", "--format", "json", "--role", str(basic), str(one)])  # as a managed policy: too big
    assert [f["code"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["LP518"]


def test_inline_policies_in_config_grant_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, ["iam/app.json"])
    (root / "iam" / "logs.json").write_text(allow(["logs:CreateLogStream", "logs:PutLogEvents"]))
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text + 'inline-policies = ["iam/logs.json"]\n')
    main(["check", str(root), "--format", "json"])
    assert json.loads(capsys.readouterr().out)["findings"] == []

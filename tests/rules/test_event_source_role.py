"""LP595: the execution role must allow what an SQS or DynamoDB event source mapping needs, through
`lpack check` on real templates -- and the near misses that must stay quiet."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from lpack.cli import main

TENANCY = Path(__file__).resolve().parent.parent / "data" / "templates" / "tenancy"


def lp595(capsys: pytest.CaptureFixture[str], path: Path) -> list[tuple[str | None, int | None, str, str]]:
    main(["check", str(path), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    return [(f.get("function"), f.get("line"), f["message"], f.get("fix") or "")
            for f in out["findings"] if f["code"] == "LP595"]


ROLE = """\
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
"""
BASIC = """\
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
"""
SQS_EVENT = """\
Events:
  Queue:
    Type: SQS
    Properties:
      Queue: !GetAtt Queue.Arn
"""


def template(tmp_path: Path, function: str, role: str | None = ROLE + BASIC, events: str = SQS_EVENT) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "app.py").write_text("def handler(event, context):\n    return {}\n", encoding="utf-8")
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Queue:
            Type: AWS::SQS::Queue
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.13
        """) + textwrap.indent(textwrap.dedent(function) + events, " " * 6) + (role or ""), encoding="utf-8")
    return path


def test_the_tenancy_template_ingest_function_cannot_read_its_queue(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    """The motivating case: IngestFunction's own ExecutionRole has only AWSLambdaBasicExecutionRole."""
    shutil.copytree(TENANCY, tmp_path / "tenancy")
    assert lp595(capsys, tmp_path / "tenancy" / "template.yaml") == [(
        "IngestFunction", 53,
        ("the execution role of IngestFunction does not allow sqs:ReceiveMessage, sqs:DeleteMessage, "
         "sqs:GetQueueAttributes: Lambda cannot create its SQS event source mapping"),
        ("attach AWSLambdaSQSQueueExecutionRole to the role, or allow sqs:ReceiveMessage, sqs:DeleteMessage, "
         "sqs:GetQueueAttributes on the source's ARN"),
    )]


def test_an_explicit_role_without_sqs_permissions_is_flagged_at_the_event(capsys: pytest.CaptureFixture[str],
                                                                          tmp_path: Path) -> None:
    path = template(tmp_path, "Role: !GetAtt Role.Arn\n")
    [(function, line, message, _fix)] = lp595(capsys, path)
    assert function == "Fn"
    assert path.read_text().splitlines()[line - 1].strip() == "Queue:"  # the Events entry
    assert "does not allow sqs:ReceiveMessage" in message


def test_a_missing_action_is_named_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inline = ROLE + BASIC + """\
      Policies:
        - PolicyName: queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:GetQueueAttributes]
                Resource: !GetAtt Queue.Arn
"""
    [(_function, _line, message, _fix)] = lp595(capsys, template(tmp_path, "Role: !GetAtt Role.Arn\n", inline))
    assert "does not allow sqs:DeleteMessage:" in message


def test_an_unconditional_deny_takes_the_grant_away(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inline = ROLE + BASIC + """\
      Policies:
        - PolicyName: queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: sqs:*
                Resource: '*'
              - Effect: Deny
                Action: sqs:DeleteMessage
                Resource: '*'
"""
    [(_function, _line, message, _fix)] = lp595(capsys, template(tmp_path, "Role: !GetAtt Role.Arn\n", inline))
    assert "does not allow sqs:DeleteMessage:" in message


def test_an_event_source_mapping_resource_on_a_dynamodb_stream(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    mapping = ROLE + BASIC + """\
  Table:
    Type: AWS::DynamoDB::Table
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Table.StreamArn
      StartingPosition: LATEST
"""
    path = template(tmp_path, "Role: !GetAtt Role.Arn\n", mapping, events="")
    [(function, line, message, fix)] = lp595(capsys, path)
    assert function == "Fn"
    assert path.read_text().splitlines()[line - 1].strip() == "Type: AWS::Lambda::EventSourceMapping"  # the resource
    assert "dynamodb:DescribeStream, dynamodb:GetRecords, dynamodb:GetShardIterator, dynamodb:ListStreams" in message
    assert "DynamoDB event source mapping" in message
    assert fix.startswith("attach AWSLambdaDynamoDBExecutionRole")


@pytest.mark.parametrize(("function", "role", "events"), [
    # SAM adds AWSLambdaSQSQueueExecutionRole to the role it makes for an SQS event
    pytest.param("", None, SQS_EVENT, id="sam-generated-role"),
    pytest.param("Role: !GetAtt Role.Arn\n",
                 ROLE + "      ManagedPolicyArns:\n"
                        "        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole\n"
                        "        - arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole\n",
                 SQS_EVENT, id="managed-sqs-policy"),
    pytest.param("Role: !GetAtt Role.Arn\n", ROLE + BASIC + """\
      Policies:
        - PolicyName: queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: sqs:*
                Resource: !GetAtt Queue.Arn
""", SQS_EVENT, id="inline-sqs-wildcard"),
    pytest.param("Role: arn:aws:iam::123456789012:role/elsewhere\n", None, SQS_EVENT, id="role-outside-template"),
    pytest.param("Role: !GetAtt Role.Arn\n",
                 ROLE + BASIC + "        - arn:aws:iam::123456789012:policy/queue-reader\n",
                 SQS_EVENT, id="unknown-managed-policy"),
    pytest.param("Role: !GetAtt Role.Arn\n", ROLE + BASIC + """\
      Policies:
        - PolicyName: queue
          PolicyDocument: !Sub '{"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}'
""", SQS_EVENT, id="document-made-at-deployment"),
    # push sources invoke the function through its resource-based policy: nothing needed from the role
    pytest.param("Role: !GetAtt Role.Arn\n", ROLE + BASIC, """\
Events:
  Topic:
    Type: SNS
    Properties:
      Topic: arn:aws:sns:us-east-1:123456789012:topic
""", id="sns-event"),
    pytest.param("Role: !GetAtt Role.Arn\n", ROLE + BASIC + """\
  Bucket:
    Type: AWS::S3::Bucket
""", """\
Events:
  Upload:
    Type: S3
    Properties:
      Bucket: !Ref Bucket
      Events: s3:ObjectCreated:*
""", id="s3-event"),
])
def test_near_misses_stay_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                function: str, role: str | None, events: str) -> None:
    assert lp595(capsys, template(tmp_path, function, role, events)) == []


def test_the_sam_generated_role_gets_the_event_policy(tmp_path: Path) -> None:
    """The model of SAM's role carries AWSLambdaSQSQueueExecutionRole, read from the managed-policy
    snapshot (it was opaque before lpack shipped one)."""
    from lpack.inputs.template import load_template

    iam = load_template(template(tmp_path, "", None)).iam["Fn"]
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" in [p.path for p in iam.managed]
    assert iam.opaque == ()


@pytest.mark.parametrize(("policy", "flagged"), [
    ("AWSLambdaDynamoDBExecutionRole", False),  # grants the four stream actions: quiet, and now known to be right
    ("AWSLambdaKinesisExecutionRole", True),  # readable now: a Kinesis policy does not cover a DynamoDB stream
])
def test_the_event_source_managed_policies_are_read(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                    policy: str, flagged: bool) -> None:
    mapping = ROLE + BASIC + f"""\
        - arn:aws:iam::aws:policy/service-role/{policy}
  Table:
    Type: AWS::DynamoDB::Table
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Table.StreamArn
      StartingPosition: LATEST
"""
    found = lp595(capsys, template(tmp_path, "Role: !GetAtt Role.Arn\n", mapping, events=""))
    assert [function for function, *_ in found] == (["Fn"] if flagged else [])


SQS_MAPPING = """\
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !GetAtt Fn.Arn
      EventSourceArn: !GetAtt Queue.Arn
"""


@pytest.mark.parametrize(("policies", "flagged"), [
    # serverless-patterns/sqs-lambda-lmi-esm-provisioned-sam: SAM's role with SQSPollerPolicy reads the queue
    ("- SQSPollerPolicy:\n    QueueName: !GetAtt Queue.QueueName\n", False),
    ("- SQSPollerPolicy:\n    QueueName: orders\n", False),
    # near misses: a template that grants no receive, and one lpack cannot expand (its parameter)
    ("- SQSSendMessagePolicy:\n    QueueName: !GetAtt Queue.QueueName\n", True),
    ("- SQSPollerPolicy:\n    QueueName: !Join ['', [a, b]]\n", False),
])
def test_a_sam_role_s_policy_templates_count_as_sam_expands_them(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, policies: str, flagged: bool) -> None:
    """A mapping resource (not a SAM event): SAM adds no managed policy for it, so what reads the
    queue is the function's policy templates."""
    function = "Policies:\n" + textwrap.indent(policies, "  ")
    found = lp595(capsys, template(tmp_path, function, SQS_MAPPING, events=""))
    assert bool(found) == flagged, found
    if flagged:
        assert "does not allow sqs:ReceiveMessage, sqs:DeleteMessage" in found[0][2]

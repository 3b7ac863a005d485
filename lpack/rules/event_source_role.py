"""The execution role of a function that event source mappings invoke (LP595-LP599): the permissions
Lambda needs to read the queue or stream with it."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import RoleSubject
from lpack.core.facts import event_sources
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules.iam_role import _allowed_anywhere, _denied, _statements


def _allowed(s: RoleSubject, action: str) -> bool:
    """Some Allow grants the action (resources not judged) and no unconditional Deny takes it away."""
    return not any(_denied(st, action) for st in _statements(s, "Deny")) and _allowed_anywhere(s, action)


@rule("LP595", "event-source-role-cannot-read", Severity.ERROR, subject=RoleSubject, source=event_sources.SQS_URL)
def event_source_role_cannot_read(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    For a function with an SQS queue or a DynamoDB stream as its event source (a SAM `SQS` or
    `DynamoDB` event, or an `AWS::Lambda::EventSourceMapping`), checks that the execution role's
    policies, taken together, allow what Lambda needs to read it: `sqs:ReceiveMessage`,
    `sqs:DeleteMessage` and `sqs:GetQueueAttributes` for a queue; `dynamodb:DescribeStream`,
    `dynamodb:GetRecords`, `dynamodb:GetShardIterator` and `dynamodb:ListStreams` for a stream.
    Wildcards such as `sqs:*` count; an unconditional Deny takes a grant away. Resources are not
    judged: a template usually builds the queue's ARN at deployment.

    The role SAM generates for a function without `Role:` gets the source's AWS managed policy
    from SAM itself for a SAM event, so it is not flagged; its policy templates
    (`SQSPollerPolicy`, `DynamoDBStreamReadPolicy`) count as the statements SAM makes of them. A
    role from outside the template is not judged, nor is one with policies lpack cannot read
    (managed policies it does not know, such as `AWSLambdaSQSQueueExecutionRole`, or documents
    made at deployment): the rule stays quiet.
    Kinesis, Amazon MQ, MSK, self-managed Kafka and DocumentDB sources are not judged yet.
    Push sources (API Gateway, SNS, S3, EventBridge) need nothing from the role: those services
    invoke the function through its resource-based policy.

    ## Why is this bad?
    Lambda polls the queue or stream with the execution role. CloudFormation's create of the
    event source mapping fails ("The provided execution role does not have permissions to call
    ReceiveMessage on SQS"), and the stack rolls back.

    ## How to fix
    Attach the source's AWS managed policy to the role
    (`arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole` or
    `.../AWSLambdaDynamoDBExecutionRole`), or allow the actions on the queue's or stream's ARN.
    """
    if s.opaque or s.unreadable or not (s.policies or s.inline or s.templates):
        return
    for kind in dict.fromkeys(s.features.event_sources):
        needed = event_sources.ROLE_ACTIONS.get(kind)
        missing = [action for action in needed or () if not _allowed(s, action)]
        if not missing:
            continue
        policy = event_sources.MANAGED_POLICY[kind].rsplit("/", 1)[1]
        yield r.finding(
            f"the execution role of {s.function or 'the function'} does not allow {', '.join(missing)}: "
            f"Lambda cannot create its {kind} event source mapping",
            s.where, function=s.function, line=s.features.lines.get(kind),
            fix=f"attach {policy} to the role, or allow {', '.join(needed or ())} on the source's ARN",
        )

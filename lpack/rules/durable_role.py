"""The execution role of a durable function (LP590-LP594): the checkpoint permissions it needs."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import RoleSubject
from lpack.core.facts import compute
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule
from lpack.rules.iam_role import _allowed_anywhere


@rule("LP590", "durable-role-no-checkpoint", Severity.ERROR, subject=RoleSubject,
      source=compute.DURABLE_SECURITY_URL)
def durable_role_cannot_checkpoint(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    On a durable function (`DurableConfig`), checks that the execution role's policies, taken
    together, allow `lambda:CheckpointDurableExecution` and `lambda:GetDurableExecutionState`
    (wildcards such as `lambda:*` count). The AWS managed policy
    `AWSLambdaBasicDurableExecutionRolePolicy` grants both. Resources are not judged: the grant
    must name the function's versions (`arn:aws:lambda:REGION:ACCOUNT:function:NAME:*`), and a
    template usually builds that ARN at deployment. When the role has policies lpack cannot read
    (managed policies it does not know, documents made at deployment), the rule stays quiet.

    ## Why is this bad?
    The SDK cannot save or read its checkpoints: every durable execution fails on its first step.
    The console adds these permissions; the CLI, CloudFormation and CDK do not.

    ## How to fix
    Attach `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy`, or
    allow both actions on `arn:aws:lambda:REGION:ACCOUNT:function:NAME:*`.
    """
    if s.features.durable is None or s.opaque or s.unreadable or not (s.policies or s.inline or s.templates):
        return
    missing = [action for action in compute.DURABLE_ACTIONS if not _allowed_anywhere(s, action)]
    if missing:
        yield r.finding(
            f"the execution role of durable function {s.function or ''} does not allow {' and '.join(missing)}: "
            "its durable executions cannot checkpoint",
            s.where, function=s.function,
            fix="attach AWSLambdaBasicDurableExecutionRolePolicy, or allow lambda:CheckpointDurableExecution "
            "and lambda:GetDurableExecutionState on the function's ARN ending in :*",
        )

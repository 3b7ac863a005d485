"""IAM rules over an execution role's complete set of permission policies (subject "iam-role"):
what no single policy shows, such as whether the function can write its logs at all."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import RoleSubject
from lpack.core.findings import Finding, Severity
from lpack.iam.policy import Statement
from lpack.iam.tables import (
    EXECUTION_ROLE_URL,
    IAM_QUOTAS_URL,
    INLINE_PER_ROLE,
    LOG_ACTIONS,
    MANAGED_PER_ROLE,
)
from lpack.rules import Rule, rule


def _log_stream_pattern(function: str | None) -> str:
    group = f"/aws/lambda/{function}" if function else "${LogGroupName}"
    return f"arn:${{Partition}}:logs:${{Region}}:${{Account}}:log-group:{group}:log-stream:${{LogStreamName}}"


def _covers_action(patterns: tuple[str, ...], action: str) -> bool:
    from lpack.iam.actions import action_matches

    return any(action_matches(p, action) for p in patterns)


def _covers_resource(patterns: tuple[str, ...], type_pattern: str) -> bool:
    from lpack.iam.actions import arn_matches

    return any(p == "*" or arn_matches(type_pattern, p) for p in patterns)


def _names_action(statement: Statement, action: str) -> bool:
    """Whether the statement's Action (or NotAction) takes in ``action``."""
    if statement.actions:
        return _covers_action(statement.actions, action)
    return bool(statement.not_actions) and not _covers_action(statement.not_actions, action)


def _allowed_anywhere(s: RoleSubject, action: str) -> bool:
    """Some Allow statement of the role's policies grants the action, on whatever resources."""
    return any(_names_action(statement, action) for statement in _statements(s, "Allow"))


def _grants(statement: Statement, action: str, type_pattern: str) -> bool:
    """Whether an Allow statement can grant ``action`` on the log stream (conditions are taken as
    satisfiable: only a sure gap is reported)."""
    if not _names_action(statement, action):
        return False
    if statement.resources:
        return _covers_resource(statement.resources, type_pattern)
    return bool(statement.not_resources) and not _covers_resource(statement.not_resources, type_pattern)


def _denied(statement: Statement, action: str) -> bool:
    """An unconditional Deny of the action on everything."""
    return (not statement.conditions and _covers_action(statement.actions, action)
            and "*" in statement.resources)


def _statements(s: RoleSubject, effect: str) -> Iterator[Statement]:
    for parsed in (*s.policies, *s.inline, *s.templates):
        if parsed.policy is not None:
            yield from (st for st in parsed.policy.statements if st.effect == effect)


@rule("LP560", "role-cannot-write-logs", Severity.WARNING, subject=RoleSubject, source=EXECUTION_ROLE_URL)
def role_cannot_write_logs(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Looks at every permission policy of the execution role together and checks that some Allow
    grants `logs:CreateLogStream` and `logs:PutLogEvents` on the function's log group
    (`/aws/lambda/NAME`, any region and account), and that no unconditional Deny takes them away.
    The AWS managed policy `AWSLambdaBasicExecutionRole` grants both.

    ## Why is this bad?
    Lambda runs the function, but every `print` and log line is lost: the runtime cannot create its
    log stream or put events, and nothing says so until someone needs the logs. (A function whose
    logging config sends logs elsewhere, or that deliberately keeps no logs, can ignore this.)

    ## How to fix
    Attach `arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`, or allow
    `logs:CreateLogStream` and `logs:PutLogEvents` on
    `arn:aws:logs:REGION:ACCOUNT:log-group:/aws/lambda/NAME:*`. If the role has policies lpack cannot
    read (managed policies given by ARN, or a template's documents made at deployment), this rule
    stays quiet.
    """
    if s.opaque or s.unreadable or not (s.policies or s.inline or s.templates):
        return
    target = _log_stream_pattern(s.function)
    missing = [action for action in LOG_ACTIONS
               if not any(_grants(st, action, target) for st in _statements(s, "Allow"))
               or any(_denied(st, action) for st in _statements(s, "Deny"))]
    if missing:
        group = f"/aws/lambda/{s.function}" if s.function else "its log group"
        count = len(s.policies) + len(s.inline)
        policies = "policy does" if count == 1 else f"{count} policies do"
        yield r.finding(
            f"the execution role's {policies} not let the function write to {group}: "
            f"no grant of {', '.join(missing)}",
            s.where, function=s.function,
            fix="attach AWSLambdaBasicExecutionRole, or allow logs:CreateLogStream and "
            "logs:PutLogEvents on the log group's ARN ending in :*",
        )


@rule("LP561", "role-too-many-policies", Severity.WARNING, subject=RoleSubject, source=IAM_QUOTAS_URL)
def role_too_many_policies(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Counts the managed policies attached to the execution role: IAM allows 10 by default, and at
    most 20 after a quota increase.

    ## Why is this bad?
    `AttachRolePolicy` fails with `LimitExceeded` past the account's quota, in the middle of a
    deployment.

    ## How to fix
    Merge policies (mind the 6,144-character size of each managed policy), or request a quota
    increase up to 20.
    """
    count = len(s.policies) + s.opaque
    default, most = MANAGED_PER_ROLE
    if count > default:
        severity = Severity.ERROR if count > most else Severity.WARNING
        yield r.finding(
            f"the role has {count} policies; IAM attaches at most {default} managed policies to a role "
            f"by default, {most} after a quota increase", s.where, function=s.function, severity=severity,
            fix="merge policies, or raise the quota (at most 20)",
        )


@rule("LP562", "role-inline-policies-too-large", Severity.ERROR, subject=RoleSubject, source=IAM_QUOTAS_URL)
def role_inline_policies_too_large(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Adds up the size of the role's inline policies as IAM counts it (characters other than white
    space) and compares the total with the 10,240 characters IAM allows per role; warns within 10%.

    ## Why is this bad?
    `PutRolePolicy` fails with `LimitExceeded` ("Maximum policy size of 10240 bytes exceeded for
    role"), and the deployment that adds the next statement breaks.

    ## How to fix
    Move some statements into customer managed policies (6,144 characters each, 10 per role), or
    merge statements that share effect, actions and conditions.
    """
    from lpack.iam.policy import size_chars

    if not s.inline:
        return
    total = sum(size_chars(p.text) for p in s.inline)
    if total > INLINE_PER_ROLE * 0.9:
        severity = Severity.ERROR if total > INLINE_PER_ROLE else Severity.WARNING
        yield r.finding(
            f"the role's {len(s.inline)} inline policies measure {total:,} non-whitespace characters "
            f"together; IAM allows {INLINE_PER_ROLE:,} per role", s.where, function=s.function,
            severity=severity, fix="move statements into customer managed policies",
        )

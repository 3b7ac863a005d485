"""The execution role against what the function's code calls (LP570-LP579): an action the code
needs that the role does not grant fails with AccessDenied at run time; a grant no code path uses
is more than the function needs. The calls come from ``lpack.analysis.aws_calls``; whether the role
lets an action through, from ``lpack.iam.policy.decide``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from lpack.analysis.aws_calls import Call, CodeUse
from lpack.analysis.package import display_path
from lpack.analysis.subjects import RoleSubject
from lpack.core.findings import Finding, Location, Severity
from lpack.iam.policy import Statement
from lpack.iam.tables import EXECUTION_ROLE_URL
from lpack.rules import Rule, rule

LEAST_PRIVILEGE_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege"
_AWS_MANAGED = "arn:aws:iam::aws:policy/"
_COPIES = frozenset({"CopyObject", "UploadPartCopy", "copy"})


def _statements(s: RoleSubject) -> list[Statement]:
    """Every statement of the role: its policies, inline policies and SAM policy templates."""
    extra = s.code.grants if s.code is not None else ()
    return [st for parsed in (*s.policies, *s.inline, *extra) if parsed.policy is not None
            for st in parsed.policy.statements]


def needed(code: CodeUse) -> dict[tuple[str, str | None], list[Call]]:
    """(action, resource ARN or None) -> the calls that need it, in the order the code has them."""
    from lpack.iam.operations import resource_arn

    found: dict[tuple[str, str | None], list[Call]] = {}
    for call in code.calls:
        for action in call.actions:
            # a copy reads its source object, which the call's Bucket and Key do not name
            target = None if call.operation in _COPIES and action == "s3:GetObject" else call.target
            arn = resource_arn(action, target.arn, dict(target.parts)) if target is not None else None
            found.setdefault((action, arn), []).append(call)
    return found


def statement_for(action: str, arn: str | None) -> str:
    from lpack.iam.operations import policy_resource

    return json.dumps({"Effect": "Allow", "Action": action, "Resource": policy_resource(arn)})


def _why_not_judged(s: RoleSubject, code: CodeUse) -> str | None:
    if s.opaque:
        return f"{s.opaque} attached managed {'policy' if s.opaque == 1 else 'policies'} lpack does not know"
    if s.unreadable:
        return "grants made at deployment (intrinsic functions, variables or plugins lpack cannot read)"
    if code.role_gaps:
        return f"grants lpack cannot read ({', '.join(code.role_gaps)})"
    return None


@rule("LP570", "code-call-not-granted", Severity.ERROR, subject=RoleSubject, source=EXECUTION_ROLE_URL)
def code_call_not_granted(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Follows the AWS SDK calls of the handler and the package modules it imports (`boto3.client`,
    `boto3.resource`, sessions, helpers, `self.` attributes, paginators, waiters, resource actions
    such as `Table(name).put_item` and S3's `upload_file`), maps each operation to the IAM actions
    it needs (botocore's service models, plus the documented exceptions: `list_objects_v2` needs
    `s3:ListBucket`, `head_object` `s3:GetObject`, ...), and checks that the execution role's
    policies, taken together, allow each one on the resource the code names (a literal name or
    ARN, or an environment variable the configuration or template sets). Allow wildcards,
    `NotAction`, `NotResource` and explicit Denies count as IAM evaluates them.

    ## Why is this bad?
    The call fails at run time with `AccessDenied` (`... is not authorized to perform: s3:PutObject
    on resource ...`), often only on the code path a test event did not take.

    ## How to fix
    Add the statement the message gives to the role (scoped to the resource when the code names
    it), or remove the call. Calls lpack cannot follow (a service name from a variable, `getattr`)
    are never reported; a role lpack cannot read in full (a managed policy it does not know, a
    role given only by ARN) is not judged (LP572 says so). If lpack is wrong, silence the finding
    at the call with `# lpack: ignore[LP570] reason`.
    """
    code = s.code
    if code is None or not code.calls or _why_not_judged(s, code) or not (s.policies or s.inline or code.grants):
        return
    from lpack.iam.operations import policy_resource
    from lpack.iam.policy import DENIED, MISSING, decide

    statements = _statements(s)
    for (action, arn), calls in needed(code).items():
        verdict = decide(statements, action, arn)
        if verdict not in (DENIED, MISSING):
            continue
        first = calls[0]
        on = f" on {policy_resource(arn)}" if arn else ""
        site = f"{code.where}/{first.entry}" if code.where else first.entry
        also = f" (and {len(calls) - 1} more calls)" if len(calls) > 1 else ""
        why = "an explicit Deny in the role takes it away" if verdict == DENIED else "the execution role does not grant it"
        note = f"; {first.note}" if first.note else ""
        yield r.finding(
            f"{first.service} {first.operation} at {site}:{first.line} needs {action}{on}{also}, and {why}: "
            f"AccessDenied at run time{note}",
            Location(site, line=first.line),
            function=s.function,
            fix=f"add to the role: {statement_for(action, arn)}" if verdict == MISSING
            else f"remove the Deny of {action} or narrow it",
        )


def _lambda_own(s: RoleSubject, code: CodeUse) -> tuple[str, ...]:
    """What Lambda itself does with the role: logs, and what the function's configuration adds
    (a durable function's SDK saves and reads its checkpoints with it, calls the handler's code
    does not show)."""
    from lpack.core.facts import compute, event_sources

    own = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", *code.lambda_own]
    if s.features.durable is not None:
        own += compute.DURABLE_ACTIONS
    for kind in s.features.event_sources:
        own += event_sources.ROLE_ACTIONS.get(kind, ())
        if kind in ("Kinesis", "DynamoDB"):
            own += [f"{kind.lower()}:*"]
    return tuple(own)


def _unused(patterns: tuple[str, ...], used: set[str], own: tuple[str, ...], quiet: set[str]) -> list[str]:
    from lpack.iam.actions import action_matches

    out = []
    for pattern in patterns:
        service = pattern.partition(":")[0].lower()
        if service in quiet or "*" in service or "?" in service:
            continue
        if any(action_matches(pattern, a) or action_matches(a, pattern) for a in (*used, *own)):
            continue
        out.append(pattern)
    return out


@rule("LP571", "grant-unused-by-code", Severity.INFO, subject=RoleSubject, source=LEAST_PRIVILEGE_URL)
def grant_unused_by_code(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Lists the actions an Allow statement of the role's own policies (files, inline policies,
    documents in the template: not AWS managed policies, which cannot be trimmed) grants that no
    code path of the handler calls, and that Lambda does not use itself: the log actions, the
    event source mapping's reads (SQS, Kinesis, DynamoDB streams), and what the template
    configures (VPC network interfaces, X-Ray tracing, a dead-letter queue or destinations, a KMS
    key for the environment, a durable function's checkpoints). `iam:PassRole` counts as used when
    the code calls an operation that can hand a role to its service (`scheduler.create_schedule`'s
    `Target.RoleArn`, `ecs.run_task`, `lambda.create_function`: botocore's models say which), and
    so do what a service then does with the function's own permissions: Rekognition, Textract
    and Transcribe read (and write) the S3 objects a call names, Polly writes a synthesis task's
    output, Athena reads the Glue catalog and the data and writes the results
    (`lpack.iam.operations.FORWARDED`). A role several functions share (a Serverless service's)
    is judged by what all their code calls, and said once, at its first function.

    ## Why is this bad?
    Least privilege: a grant nobody uses is what an attacker who runs code in the function (a
    dependency, an injection) gets for free, and it hides which permissions the function needs.

    ## How to fix
    Remove the actions from the statement, or, if a code path lpack cannot see uses them (a
    library that calls AWS, code loaded at run time), keep them and silence this rule for the
    role. It stays quiet when lpack follows no AWS call at all in the code (a stub handler, or
    calls made where lpack does not look), when the code makes calls lpack cannot follow (a
    service name from a variable), and when it imports a library known to call AWS itself.
    """
    code = s.code
    if len(s.shared) > 1:  # the role of several functions: what none of them calls, said at the first
        if s.function != s.shared[0]:
            return
        code = s.shared_code
    if code is None or not code.calls or code.opaque_libraries or None in code.unresolved_services():
        return
    from lpack.iam.operations import forwarded, passes_role, prefix

    used = {a for call in code.calls for a in call.actions}
    if any(passes_role(call.service, call.operation) for call in code.calls):
        used.add("iam:PassRole")  # handed to the service with the call (a RoleArn lpack does not follow)
    used.update(a for call in code.calls for a in forwarded(call.service, call.operation))
    quiet = {prefix(u.service) or u.service for u in code.unresolved if u.service}
    own = _lambda_own(s, code)
    for parsed in (*s.policies, *s.inline):
        if parsed.policy is None or parsed.path.startswith(_AWS_MANAGED):
            continue
        for st in parsed.policy.statements:
            if st.effect != "Allow" or not st.actions:
                continue
            unused = _unused(st.actions, used, own, quiet)
            if unused:
                whose = (f"the {len(s.shared)} functions that share the role ({', '.join(s.shared)})"
                         if len(s.shared) > 1 else "the handler")
                yield r.finding(
                    f"{st.path} grants {', '.join(unused)}, which no code path of {whose} calls "
                    f"(lpack followed {len(code.calls)} AWS calls)",
                    Location(display_path(Path(parsed.path)), line=st.line), function=s.function,
                    fix=f"remove {', '.join(unused)} from {st.path}",
                )


@rule("LP572", "role-not-judged-against-code", Severity.INFO, subject=RoleSubject, source=EXECUTION_ROLE_URL)
def role_not_judged_against_code(r: Rule, s: RoleSubject) -> Iterator[Finding]:
    """## What it does
    Says when the code makes AWS calls but lpack cannot compare them with the execution role
    (LP570), because it cannot read all the role grants: an attached managed policy it does not
    know, documents made at deployment, or a SAM policy template it cannot expand (one of the
    two that use conditions, or a parameter made at deployment such as `!Join`).

    ## Why is this bad?
    It is not: it says why LP570 is quiet, so that silence is not read as "the role grants
    everything the code needs".

    ## How to fix
    Give the role's documents as files (`policies = [...]`), or let the check run where lpack knows
    the managed policies.
    """
    code = s.code
    if code is None or not code.calls:
        return
    why = _why_not_judged(s, code)
    if why is not None:
        yield r.finding(f"the code makes {len(code.calls)} AWS calls, but the execution role has {why}: "
                        "lpack does not say whether it grants them", s.where, function=s.function)

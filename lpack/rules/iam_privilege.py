"""IAM least-privilege rules (LP520-LP559): what a policy grants beyond what a function needs, read
against the offline action database (lpack.iam.actions). Precision first: `Deny` statements never
trigger these rules, and a condition that narrows a grant quiets the rules about broad grants.
Each finding names the statement (its `Sid`, else its JSON path) and the action or resource."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from lpack.analysis.subjects import PolicySubject
from lpack.core.findings import Finding, Severity
from lpack.iam.policy import Condition, Statement
from lpack.iam.tables import (
    ACCOUNT_KEYS,
    AUTHORIZED_BY,
    BULK_READ_ACTIONS,
    CREDENTIAL_ACTIONS,
    ESCALATION_ACTIONS,
    EXECUTION_ROLE_URL,
    EXPOSURE_ACTIONS,
    FUNCTION_WRITERS,
    PERMISSIONS_URL,
    RESOURCE_POLICY_URL,
    SELF_SERVICE_ACTIONS,
    SENSITIVE_READS,
    SENSITIVE_SERVICES,
    SINGLE_VALUED_KEYS,
    SOURCE_KEYS,
    STAR_IS_NORMAL,
)
from lpack.rules import Rule, rule

SUBJECT = PolicySubject
_LIST_NAMES = 5  # actions named in a message before "and N more"

# IAM's documented "users manage their own credentials" pattern (SELF_SERVICE_ACTIONS on it).
_OWN_USER = re.compile(r":user/(.*/)?\$\{aws:username\}$", re.IGNORECASE)

_EVERYTHING = ("*", "*:*")
_NEGATED = ("StringNot", "ArnNot", "NumericNot", "DateNot", "NotIp")


# -- statements, actions and conditions ---------------------------------------------------------


def _allows(s: PolicySubject) -> Iterator[Statement]:
    """The `Allow` statements: Deny statements never trigger these rules."""
    p = s.policy.policy
    for st in p.statements if p is not None else ():
        if st.effect == "Allow":
            yield st


def _label(st: Statement) -> str:
    return f'statement "{st.sid}"' if st.sid else (st.path or f"Statement[{st.index}]")


@lru_cache(maxsize=4096)
def _expand(pattern: str) -> tuple[tuple[str, str], ...]:
    """(lower-cased full name, access level) of each action a pattern grants."""
    from lpack.iam import actions

    return tuple((a.full_name.lower(), a.access_level) for a in actions.expand(pattern))


def _granted(st: Statement) -> set[str]:
    """The actions a statement names, wildcards expanded; `*` is LP520's alone."""
    return {name for pattern in st.actions if pattern not in _EVERYTHING
            for name, _ in _expand(pattern)}


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _matches_anything(value: str) -> bool:
    """A condition value that matches every value of its key: only wildcards (``*``), or an ARN
    whose account and resource are only wildcards (``arn:aws:s3:::*``, ``arn:aws:sns:*:*:*``): any
    resource of the service in any account. An account or a name in it narrows."""
    if set(value) <= {"*", "?"}:
        return True
    fields = value.split(":", 5)
    return (len(fields) == 6 and fields[0].lower() == "arn"
            and set(fields[4]) <= {"*", "?"} and set(fields[5]) <= {"*", "?"})


def _wildcard_only(values: Iterable[str]) -> bool:
    return all(_matches_anything(v) for v in values)


def _narrows(c: Condition) -> bool:
    """A condition that really narrows a grant: in doubt (negated operators, IfExists), yes."""
    if not c.known or c.operator == "Null" or not c.values or _wildcard_only(c.values):
        return False
    return not (c.qualifier == "ForAllValues" and c.key in SINGLE_VALUED_KEYS)


def _limits(c: Condition, keys: frozenset[str]) -> bool:
    """A condition on one of ``keys`` that every caller must satisfy (no IfExists, not negated)."""
    return (c.key in keys and _narrows(c) and not c.if_exists
            and not c.operator.startswith(_NEGATED))


def _narrowed(st: Statement) -> bool:
    return any(_narrows(c) for c in st.conditions)


def _on_star(st: Statement) -> bool:
    return "*" in st.resources


def _names(found: list[str]) -> str:
    shown = ", ".join(found[:_LIST_NAMES])
    return shown + (f" and {len(found) - _LIST_NAMES} more" if len(found) > _LIST_NAMES else "")


# -- broad grants --------------------------------------------------------------------------------


@rule("LP520", "full-admin", Severity.ERROR, subject=SUBJECT, source=PERMISSIONS_URL)
def full_admin(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` statement with `Action: "*"` (or `"*:*"`) on `Resource: "*"`: every action
    of every service on everything.

    ## Why is this bad?
    The function (or whoever the policy trusts) is an administrator of the account: a bug or an
    injected dependency can read every secret, delete every resource and create new users.
    Conditions do not change this: the grant is still administrator within them.

    ## How to fix
    List the actions the function calls on the resources it uses; IAM Access Analyzer can
    generate a policy from CloudTrail activity.
    """
    for st in _allows(s):
        if any(a in _EVERYTHING for a in st.actions) and _on_star(st):
            yield r.finding(f'{_label(st)}: allows every action ("*") on every resource ("*"): '
                            "full administrator access", s.where, line=st.line,
                            fix="name the actions the function calls and the resources it uses")


@rule("LP521", "service-wide-wildcard", Severity.WARNING, subject=SUBJECT, source=PERMISSIONS_URL)
def service_wide_wildcard(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of every action of a service (`s3:*`, `dynamodb:*`). It is an error for
    services that hand over identities, keys, code or all data (`iam`, `sts`, `kms`, `lambda`,
    `s3`, `secretsmanager`, `organizations`) on `Resource: "*"`; a warning otherwise.

    ## Why is this bad?
    `svc:*` includes the service's permissions-management actions (`s3:PutBucketPolicy`,
    `lambda:AddPermission`, `kms:PutKeyPolicy`) and every action AWS adds later.

    ## How to fix
    List the actions the function calls (`s3:GetObject`, `s3:PutObject`, ...).
    """
    for st in _allows(s):
        for pattern in st.actions:
            service, sep, name = pattern.partition(":")
            if not sep or name != "*" or _has_wildcard(service):
                continue
            count = len(_expand(pattern))
            sensitive = service.lower() in SENSITIVE_SERVICES and _on_star(st)
            yield r.finding(
                f'{_label(st)}: "{pattern}" allows all {count} {service.lower()} actions'
                + (' on every resource ("*")' if _on_star(st) else ""),
                s.where, line=st.line, severity=Severity.ERROR if sensitive else r.severity,
                fix=f"list the {service} actions the function calls",
            )


@rule("LP522", "allow-with-not-element", Severity.WARNING, subject=SUBJECT, source=PERMISSIONS_URL)
def allow_with_not_element(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` statement that uses `NotAction` or `NotResource`.

    ## Why is this bad?
    `Allow` + `NotAction` grants every action not listed, of every service, including those AWS
    adds later; `Allow` + `NotResource` grants on every resource not listed. Both are almost
    always broader than meant. (`Deny` + `NotAction` is a normal guard and is not flagged.)

    ## How to fix
    Use `Action` and `Resource` with the actions and resources the function needs; keep
    `NotAction`/`NotResource` for `Deny` statements.
    """
    for st in _allows(s):
        for key, values, what in (("NotAction", st.not_actions, "every action"),
                                  ("NotResource", st.not_resources, "on every resource")):
            if key in st.elements:
                yield r.finding(f'{_label(st)}: "Allow" with "{key}" grants {what} except '
                                f"{', '.join(values) or 'none'}", s.where, line=st.line,
                                fix=f'list what is allowed with "{key[3:]}" instead')


# -- actions the database does not know ---------------------------------------------------------


def _unknown(pattern: str) -> tuple[str, str] | None:
    """(what is wrong, did-you-mean) for an action pattern that grants nothing, else None."""
    from lpack.iam import actions

    service, sep, _ = pattern.partition(":")
    if pattern == "*" or not sep or _has_wildcard(service) and _expand(pattern):
        return None
    if not _has_wildcard(service) and actions.service(service) is None:
        return "service", actions.suggest(pattern) or ""
    if _expand(pattern):
        return None
    return ("pattern", "") if _has_wildcard(pattern) else ("action", actions.suggest(pattern) or "")


def _unknowns(s: PolicySubject, kind: str) -> Iterator[tuple[Statement, str, str]]:
    p = s.policy.policy
    for st in p.statements if p is not None else ():
        for pattern in (*st.actions, *st.not_actions):
            found = _unknown(pattern)
            if found is not None and found[0] == kind:
                yield st, pattern, found[1]


def _did_you_mean(suggestion: str) -> str:
    return f'; did you mean "{suggestion}"?' if suggestion else ""


@rule("LP525", "unknown-service", Severity.ERROR, subject=SUBJECT, source=PERMISSIONS_URL)
def unknown_service(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an action whose service prefix is not in lpack's IAM action database (`s33:GetObject`,
    `lamda:InvokeFunction`), with the closest known prefix. Checks `Allow` and `Deny`.

    ## Why is this bad?
    IAM accepts the policy but the statement grants (or denies) nothing: the function fails with
    `AccessDenied`, or a guard you rely on does not exist.

    ## How to fix
    Use the service prefix from the Service Authorization Reference. If AWS launched the service
    after lpack's data snapshot (`lpack --version` shows its date), ignore LP525 for this file.
    """
    for st, pattern, suggestion in _unknowns(s, "service"):
        yield r.finding(f'{_label(st)}: "{pattern}": no AWS service has the prefix '
                        f'"{pattern.partition(":")[0]}"{_did_you_mean(suggestion)}',
                        s.where, line=st.line, fix="use the prefix the service's IAM reference gives")


@rule("LP526", "unknown-action", Severity.ERROR, subject=SUBJECT, source=PERMISSIONS_URL)
def unknown_action(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an action the service does not have (`s3:GetObjects`), with a did-you-mean. Action
    names are compared case-insensitively, as IAM does. Checks `Allow` and `Deny`.

    An API operation that IAM authorizes with another action (`sqs:SendMessageBatch`,
    `sqs:DeleteMessageBatch`, `sqs:ChangeMessageVisibilityBatch` with the single-message
    actions; `s3:HeadObject` with `s3:GetObject`; `s3:HeadBucket`, `s3:ListObjectsV2` with
    `s3:ListBucket`) is named with that action: a warning when the statement grants it too (the
    name is only dead weight, as in SAM's `SQSPollerPolicy`), an error when it does not.

    ## Why is this bad?
    IAM accepts the policy but the action grants nothing: the call fails with `AccessDenied`.

    ## How to fix
    Use the action suggested, or the name from the Service Authorization Reference. If AWS
    added the action after lpack's data snapshot (`lpack --version`), ignore LP526 for this file.
    """
    for st, pattern, suggestion in _unknowns(s, "action"):
        action = AUTHORIZED_BY.get(pattern.lower())
        if action is None:
            yield r.finding(f'{_label(st)}: "{pattern}" is not an action of '
                            f'{pattern.partition(":")[0]}{_did_you_mean(suggestion)}',
                            s.where, line=st.line, fix="use the action name AWS documents")
            continue
        granted = action.lower() in _granted(st)
        yield r.finding(f'{_label(st)}: "{pattern}" is an API operation, not an IAM action: IAM '
                        f"authorizes it with {action}"
                        + (", which the statement grants" if granted else ", which the statement does not grant"),
                        s.where, line=st.line, severity=Severity.WARNING if granted else r.severity,
                        fix=f"remove {pattern}" if granted else f"grant {action} instead of {pattern}")


@rule("LP527", "action-pattern-matches-nothing", Severity.ERROR, subject=SUBJECT, source=PERMISSIONS_URL)
def action_pattern_matches_nothing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an action pattern with `*` or `?` that matches no action (`s3:Gett*`,
    `dynamodb:*Items`). Checks `Allow` and `Deny`.

    ## Why is this bad?
    The statement grants (or denies) nothing through this pattern; it is usually a typo.

    ## How to fix
    Correct the pattern; `lpack` expands patterns against its action database, as IAM does.
    """
    for st, pattern, _ in _unknowns(s, "pattern"):
        yield r.finding(f'{_label(st)}: "{pattern}" matches no action', s.where, line=st.line,
                        fix="correct the pattern or list the actions")


# -- wildcards and resources ---------------------------------------------------------------------


@rule("LP530", "wildcard-reaches-write", Severity.WARNING, subject=SUBJECT, source=PERMISSIONS_URL)
def wildcard_reaches_write(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of an action pattern with a wildcard inside the name (`s3:Put*`,
    `iam:*Policy`, `dynamodb:*Item`) that matches Write or Permissions-management actions, and
    names them. `svc:*` and `*` are LP521 and LP520; patterns that reach only Read and List
    actions (`s3:Get*`, `ec2:Describe*`) are not flagged.

    ## Why is this bad?
    The pattern grants more than the author read in it (`s3:Put*` includes
    `s3:PutBucketPolicy`), and every matching action AWS adds later.

    ## How to fix
    List the actions the function calls.
    """
    for st, pattern in _name_wildcards(s):
        expanded = _expand(pattern)
        perms_first = sorted(expanded, key=lambda item: item[1] != "Permissions management")
        write_set = _writes(pattern)
        if write_set:
            writes = [n for n, _ in perms_first if n in write_set]
            perms = sum(1 for _, level in expanded if level == "Permissions management")
            yield r.finding(
                f'{_label(st)}: "{pattern}" matches {len(expanded)} actions, {len(writes)} of '
                f"them Write or Permissions management ({perms} permissions management): "
                f"{_names(_spelled(writes))}", s.where, line=st.line,
                fix="list the actions the function calls instead of the pattern")


def _name_wildcards(s: PolicySubject) -> Iterator[tuple[Statement, str]]:
    """(statement, pattern) for each Allow'd action pattern with a wildcard inside the action name
    (``s3:Get*``); ``svc:*`` and ``*`` are LP521's and LP520's."""
    for st in _allows(s):
        for pattern in st.actions:
            service, _, name = pattern.partition(":")
            if _has_wildcard(name) and name != "*" and not _has_wildcard(service) and not _as_named(pattern):
                yield st, pattern


def _as_named(pattern: str) -> bool:
    """``sqs:SendMessage*`` matches only ``sqs:SendMessage``: no wider than the name it spells."""
    expanded = _expand(pattern)
    return len(expanded) == 1 and expanded[0][0] == pattern.rstrip("*").lower()


def _writes(pattern: str) -> set[str]:
    return {n for n, level in _expand(pattern) if level in ("Write", "Permissions management")}


@rule("LP531", "wildcard-reaches-sensitive-read", Severity.WARNING, subject=SUBJECT, source=PERMISSIONS_URL)
def wildcard_reaches_sensitive_read(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of an action pattern with a wildcard inside the name that reaches no Write
    action (LP530 reports those) but does reach reads of sensitive data, and names them:
    `s3:Get*` (`s3:GetObject`, `s3:GetObjectVersion`), `s3:List*` (`s3:ListBucket`,
    `s3:ListBucketVersions`: every object key), `secretsmanager:Get*`
    (`secretsmanager:GetSecretValue`), `ssm:Get*` (`ssm:GetParameter*`), `dynamodb:*Item`... The
    sensitive reads are LP544's bulk data reads, LP543's secret and credential reads, and the
    two S3 listings of object keys. Patterns reaching only other reads (`ec2:Describe*`,
    `lambda:List*`, `cloudwatch:Get*`) are quiet, whatever the resource.

    ## Why is this bad?
    A read-only pattern looks harmless, but `s3:Get*` hands over every object version the
    function can reach (deleted ones included) and `ssm:Get*` the parameter history; the
    pattern also grants every matching action AWS adds later.

    ## How to fix
    List the actions the function calls (`s3:GetObject`, `secretsmanager:GetSecretValue`).
    """
    for st, pattern in _name_wildcards(s):
        reads = sorted(n for n, _ in _expand(pattern) if n in SENSITIVE_READS)
        if reads and not _writes(pattern):
            yield r.finding(f'{_label(st)}: "{pattern}" matches {len(_expand(pattern))} actions, '
                            f"among them reads of stored data or secrets: {_names(_spelled(reads))}",
                            s.where, line=st.line, fix="list the actions the function calls instead of the pattern")


def _spelled(names: list[str]) -> list[str]:
    from lpack.iam import actions

    return [found.full_name if (found := actions.action(n)) else n for n in names]


def _resource_level(pattern: str) -> list[str]:
    """The actions of ``pattern`` that support resource-level permissions and are not normal on
    "*" (STAR_IS_NORMAL)."""
    from lpack.iam import actions

    expanded = actions.expand(pattern)
    found = [a for a in expanded if not a.only_star]
    if _has_wildcard(pattern) and 2 * len(found) <= len(expanded):
        return []  # mostly "*"-only actions, as ec2:Describe*: "*" is what the pattern needs
    return [a.full_name for a in found if a.full_name.lower() not in STAR_IS_NORMAL]


@rule("LP532", "resource-star-scopable", Severity.WARNING, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def resource_star_scopable(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags `Resource: "*"` in an `Allow` statement whose actions support resource-level
    permissions (`s3:GetObject`, `dynamodb:PutItem`). Quiet for actions that accept only `"*"`
    (`xray:PutTraceSegments`, `ec2:Describe*`), for `cloudwatch:PutMetricData` (its one resource
    type is optional), for patterns whose matches mostly accept only `"*"` (`ec2:Describe*`),
    for the actions AWS's managed policies `AWSLambdaBasicExecutionRole`
    (`logs:CreateLogGroup`, `logs:CreateLogStream`, `logs:PutLogEvents`) and
    `AWSLambdaVPCAccessExecutionRole` grant on `"*"`, and for statements with a condition that
    narrows the grant (`aws:ResourceTag/...`, `aws:SourceArn`, ...). `svc:*` and `*` are LP521
    and LP520. An action that a more specific rule also reports on `"*"` (`iam:PassRole` LP540,
    escalation LP541, secrets LP543, bulk reads LP544, resource exposure LP545) is reported here
    too: that rule says what the grant allows, this one that a resource ARN would scope it, and
    the fixes differ (remove the action, or name its resources).

    ## Why is this bad?
    The function can act on every resource of that type in the account, not only its own.

    ## How to fix
    Name the ARNs the function uses (`arn:aws:s3:::my-bucket/*`,
    `arn:aws:dynamodb:REGION:ACCOUNT:table/orders`), or add a condition such as
    `aws:ResourceTag/app`. If the function really works on any resource, ignore LP532 here.
    """
    for st in _allows(s):
        for pattern, scopable in _scopable(st).items():
            yield r.finding(f'{_label(st)}: "{pattern}" on Resource "*", but '
                            f"{_names(scopable)} can be limited to named resources",
                            s.where, line=st.line, fix="name the resource ARNs the function uses")


def _scopable(st: Statement) -> dict[str, list[str]]:
    """LP532's findings for an Allow statement: pattern -> the actions it reports."""
    if not _on_star(st) or _narrowed(st) or any(a in _EVERYTHING for a in st.actions):
        return {}
    found = {}
    for pattern in st.actions:
        if pattern in _EVERYTHING or pattern.endswith(":*"):
            continue
        scopable = _resource_level(pattern)
        if scopable:
            found[pattern] = scopable
    return found


def _grants_nothing(action_name: str, resources: tuple[str, ...]) -> bool:
    from lpack.iam import actions
    from lpack.iam.actions import arn_matches

    found = actions.action(action_name)
    if found is None or found.only_star:
        return False
    patterns = [rt.arn_pattern for rt in found.resource_types]
    if not all(patterns):  # a resource type without an ARN pattern: cannot tell
        return False
    return not any(arn_matches(p, arn) for p in patterns for arn in resources)


@rule("LP535", "action-resource-mismatch", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def action_resource_mismatch(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of an action paired only with ARNs of resource types it does not apply to:
    `s3:GetObject` on a bucket ARN (`arn:aws:s3:::bucket`, objects are `bucket/*`),
    `s3:ListBucket` on `bucket/*`, `logs:PutLogEvents` on a log-group ARN without `:*`. An ARN
    counts as a match when any of the action's resource types could match it, wildcards and
    policy variables included. Quiet for `Resource: "*"` and for actions that accept only `"*"`.

    ## Why is this bad?
    The statement grants nothing for that action: the call fails with `AccessDenied` although
    the policy seems to allow it.

    ## How to fix
    Use the ARN form of the resource type the action applies to (the Service Authorization
    Reference lists them): `arn:aws:s3:::bucket/*` for objects, `...:log-group:NAME:*` for log
    streams.
    """
    for st in _allows(s):
        if not st.resources or _on_star(st):
            continue
        for pattern in st.actions:
            if _has_wildcard(pattern):
                names = [n for n, _ in _expand(pattern)]
                if names and all(_grants_nothing(n, st.resources) for n in names):
                    yield _mismatch(r, s, st, pattern)
            elif _grants_nothing(pattern, st.resources):
                yield _mismatch(r, s, st, pattern)


def _mismatch(r: Rule, s: PolicySubject, st: Statement, pattern: str) -> Finding:
    from lpack.iam import actions

    found = actions.expand(pattern)
    types = sorted({rt.name for a in found for rt in a.resource_types})
    return r.finding(
        f'{_label(st)}: "{pattern}" applies to {", ".join(types)} resources, and none of '
        f"{', '.join(st.resources)} is one: the statement grants nothing for it", s.where,
        line=st.line, fix="use the ARN of the resource type the action applies to",
    )


# -- privilege escalation and credentials --------------------------------------------------------

_BROAD_ROLE = re.compile(r"arn:[^:]*:iam::[^:]*:(role/)?\*", re.IGNORECASE)


def _broad(resources: tuple[str, ...]) -> bool:
    return any(res == "*" or _BROAD_ROLE.fullmatch(res) for res in resources)


@rule("LP540", "pass-role-unrestricted", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def pass_role_unrestricted(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of `iam:PassRole` (directly or through a wildcard) on `"*"` or every role
    (`arn:aws:iam::*:role/*`) without an `iam:PassedToService` (or `iam:AssociatedResourceArn`)
    condition.

    ## Why is this bad?
    The function can hand any role in the account, an administrator role included, to a service
    it controls (a new Lambda function, an EC2 instance) and act with that role's permissions.

    ## How to fix
    Name the role ARNs the function passes, and add
    `"Condition": {"StringEquals": {"iam:PassedToService": "SERVICE.amazonaws.com"}}`.
    """
    keys = frozenset({"iam:passedtoservice", "iam:associatedresourcearn"})
    for st in _allows(s):
        if ("iam:passrole" in _granted(st) and _broad(st.resources)
                and not any(_limits(c, keys) for c in st.conditions)):
            yield r.finding(f'{_label(st)}: allows "iam:PassRole" on '
                            f"{', '.join(st.resources)} without an iam:PassedToService "
                            "condition", s.where, line=st.line,
                            fix="name the roles and add an iam:PassedToService condition")


@rule("LP541", "privilege-escalation", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def privilege_escalation(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` of IAM actions that let an identity raise its own privileges, on any
    resource: `iam:CreatePolicyVersion`, `iam:SetDefaultPolicyVersion`, `iam:Attach*Policy`,
    `iam:Put*Policy`, `iam:UpdateAssumeRolePolicy`, `iam:CreateAccessKey`,
    `iam:CreateLoginProfile`, `iam:UpdateLoginProfile`, `iam:AddUserToGroup`; and
    `sts:AssumeRole` on `"*"` or every role. Wildcards are expanded (`iam:Put*` counts). The
    credential actions are quiet on `arn:aws:iam::ACCOUNT:user/${aws:username}` only: IAM's
    documented pattern for users managing their own credentials.

    ## Why is this bad?
    A bug or injected dependency in the function can give itself (or a user it controls)
    administrator access.

    ## How to fix
    Remove the actions from the execution role; a function that manages IAM should use a
    separate, tightly scoped role and a permissions boundary. For `sts:AssumeRole`, name the
    role ARNs.
    """
    for st in _allows(s):
        granted = _granted(st)
        found = sorted(granted & ESCALATION_ACTIONS)
        if st.resources and all(_OWN_USER.search(res) for res in st.resources):
            found = [name for name in found if name not in SELF_SERVICE_ACTIONS]
        if "sts:assumerole" in granted and _broad(st.resources):
            found.append("sts:assumerole")
        if found:
            yield r.finding(f"{_label(st)}: allows {_names(_spelled(found))}, which let the "
                            "role raise its own privileges", s.where, line=st.line,
                            fix="remove these actions, or scope them to named resources "
                            "under a permissions boundary")


@rule("LP542", "function-with-pass-role", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def function_with_pass_role(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a policy that allows both `lambda:CreateFunction` or `lambda:UpdateFunctionCode` and
    `iam:PassRole` (in any of its `Allow` statements), unless every statement granting
    `iam:PassRole` limits `iam:PassedToService` to services other than Lambda.

    ## Why is this bad?
    The role can create (or rewrite) a function that runs with another, more privileged role
    and so gain that role's permissions.

    ## How to fix
    Split deployment permissions from the function's execution role; if both are needed, limit
    `iam:PassRole` to the one role the deployed functions use.
    """
    statements = list(_allows(s))
    passing = [st for st in statements if "iam:passrole" in _granted(st)]
    if not passing or all(_passes_elsewhere(st) for st in passing):
        return
    for st in statements:
        writers = sorted(_granted(st) & FUNCTION_WRITERS)
        if writers:
            yield r.finding(f"{_label(st)}: allows {_names(_spelled(writers))} and the policy "
                            f"allows iam:PassRole ({_label(passing[0])}): the role can run code "
                            "with another role's permissions", s.where, line=st.line,
                            fix="move deployment permissions to a separate role")


def _passes_elsewhere(st: Statement) -> bool:
    """iam:PassRole limited by iam:PassedToService to services other than Lambda."""
    for c in st.conditions:
        if _limits(c, frozenset({"iam:passedtoservice"})):
            return not any("lambda" in v.lower() or _has_wildcard(v) for v in c.values)
    return False


@rule("LP543", "credentials-exposure", Severity.WARNING, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def credentials_exposure(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` on `Resource: "*"` or a whole-service wildcard ARN
    (`arn:aws:secretsmanager:*:*:secret:*`, `arn:aws:ssm:*:*:parameter/*`,
    `arn:aws:kms:*:*:key/*`), without a narrowing condition, of actions that read secrets or
    mint credentials: `secretsmanager:GetSecretValue`, `ssm:GetParameter*`, `kms:Decrypt`,
    `sts:GetFederationToken`. `ecr:GetAuthorizationToken` is not flagged: it accepts only `"*"`
    and every image pull needs it.

    ## Why is this bad?
    The function can read every secret, parameter or encrypted value in the account, not only
    its own; a bug or injected dependency can exfiltrate them all.

    ## How to fix
    Name the secret, parameter or key ARNs the function reads, or add a condition such as
    `kms:ViaService` or `aws:ResourceTag/app`.
    """
    for st in _allows(s):
        if _narrowed(st):
            continue
        found = sorted(name for name in _granted(st) & CREDENTIAL_ACTIONS if _broad_for(name, st.resources))
        if found:
            where = ", ".join(f'Resource "{res}"' if res == "*" else res for res in st.resources
                              if any(_broad_for(name, (res,)) for name in found))
            yield r.finding(f"{_label(st)}: allows {_names(_spelled(found))} on {where}: "
                            "every secret or key in the account", s.where, line=st.line,
                            fix="name the secrets, parameters or keys the function reads")


# -- data exfiltration and resource exposure -----------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def _whole_service(arn: str, action_name: str) -> bool:
    """Is the policy Resource ``arn`` "*", or a wildcard ARN naming every resource of one of the
    action's resource types (``arn:aws:s3:::*``, ``arn:aws:s3:::*/*``,
    ``arn:aws:dynamodb:*:*:table/*``, ``arn:aws:logs:*:*:log-group:*``)? Region and account are
    not looked at: every table of one account is still every table."""
    from lpack.iam import actions

    if arn == "*":
        return True
    found = actions.action(action_name)
    fields = arn.split(":", 5)
    if found is None or len(fields) < 6 or fields[2] not in ("*", found.service.lower()):
        return False
    part = fields[5].lower()
    for rt in found.resource_types:
        type_fields = rt.arn_pattern.split(":", 5)
        if len(type_fields) < 6:
            continue
        every = _PLACEHOLDER.sub("*", type_fields[5]).lower()  # table/${TableName} -> table/*
        if part == every or (part.endswith("*") and every.startswith(part[:-1])):
            return True
    return False


def _broad_for(action_name: str, resources: tuple[str, ...]) -> bool:
    return any(_whole_service(res.lower() if res != "*" else res, action_name) for res in resources)


@rule("LP544", "data-exfiltration", Severity.WARNING, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def data_exfiltration(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow`, without a narrowing condition, of bulk data reads on every resource of
    their type: `Resource: "*"` or a whole-service wildcard ARN (`arn:aws:s3:::*/*`,
    `arn:aws:dynamodb:*:*:table/*`, `arn:aws:logs:*:*:log-group:*`). The bulk reads are the
    Read-level data-plane actions that return stored data: `s3:GetObject`,
    `s3:GetObjectVersion`, `dynamodb:GetItem`, `dynamodb:BatchGetItem`, `dynamodb:Query`,
    `dynamodb:Scan`, `dynamodb:PartiQLSelect`, `dynamodb:GetRecords`, `kinesis:GetRecords`,
    `kinesis:SubscribeToShard`, `sqs:ReceiveMessage`, `logs:GetLogEvents`,
    `logs:FilterLogEvents`, `logs:StartQuery`, `athena:GetQueryResults`, `timestream:Select`,
    `es:ESHttpGet`, `glacier:GetJobOutput`, `ebs:GetSnapshotBlock`, `codecommit:GitPull` (each
    Read in the Service Authorization Reference). Wildcards are expanded (`s3:Get*`, `s3:*`
    count). Quiet for a named bucket, table, queue or log group, and for `Deny`. Secrets,
    parameters and keys (`secretsmanager:GetSecretValue`, `ssm:GetParameter*`, `kms:Decrypt`)
    are LP543's. On `Resource: "*"` LP532 also reports these actions: LP532's fix is to name
    resources, LP544 says what the grant exposes. Write-level copies
    (`dynamodb:ExportTableToPointInTime`, `rds:CopyDBSnapshot`, `ec2:CreateSnapshot`) are not
    reads; sharing a copy is LP545.

    ## Why is this bad?
    The function can read every object, item, record, message or log event of that type in the
    account, not only its own; a bug or injected dependency can copy all of it out.

    ## How to fix
    Name the buckets (`arn:aws:s3:::my-bucket/*`), tables, streams, queues or log groups the
    function reads, or add a condition such as `aws:ResourceTag/app` or `s3:prefix`.
    """
    for st in _allows(s):
        if _narrowed(st) or any(a in _EVERYTHING for a in st.actions):
            continue
        found = sorted(name for name in _granted(st) & BULK_READ_ACTIONS
                       if _broad_for(name, st.resources))
        if found:
            where = ", ".join(f'Resource "{res}"' if res == "*" else res for res in st.resources
                              if any(_broad_for(name, (res,)) for name in found))
            yield r.finding(f"{_label(st)}: allows {_names(_spelled(found))} on {where}: "
                            "every resource of that type can be read in bulk (data exfiltration)",
                            s.where, line=st.line,
                            fix="name the buckets, tables, streams, queues or log groups it reads")


@rule("LP545", "resource-exposure", Severity.ERROR, subject=SUBJECT, source=RESOURCE_POLICY_URL)
def resource_exposure(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow`, without a narrowing condition, of actions that change a resource policy,
    ACL or sharing: `s3:PutBucketPolicy`, `s3:DeleteBucketPolicy`, `s3:PutBucketAcl`,
    `s3:PutObjectAcl`, `s3:PutObjectVersionAcl`, `s3:PutAccessPointPolicy`,
    `s3:PutBucketPublicAccessBlock`, `lambda:AddPermission`, `lambda:AddLayerVersionPermission`,
    `lambda:CreateFunctionUrlConfig`, `lambda:UpdateFunctionUrlConfig`, `sqs:SetQueueAttributes`,
    `sqs:AddPermission`, `sns:SetTopicAttributes`, `sns:AddPermission`, `kms:PutKeyPolicy`,
    `kms:CreateGrant`, `secretsmanager:PutResourcePolicy`, `ecr:SetRepositoryPolicy`,
    `glacier:SetVaultAccessPolicy`, `ram:CreateResourceShare`, `ec2:ModifySnapshotAttribute`,
    `ec2:ModifyImageAttribute`, `rds:ModifyDBSnapshotAttribute`,
    `rds:ModifyDBClusterSnapshotAttribute`. Wildcards are expanded (`s3:Put*` counts). An error
    on `Resource: "*"` or a whole-service wildcard ARN, a warning on named resources; an action
    is counted only where one of the statement's resources is of a type it applies to.
    `iam:UpdateAssumeRolePolicy` is LP541. A narrowing condition (`lambda:Principal`,
    `kms:GrantIsForAWSResource`, `ram:RequestedAllowsExternalPrincipals`, ...) quiets it.

    ## Why is this bad?
    The function can make a bucket, function, queue, topic, key, secret, image or snapshot
    readable or invocable by another account or by everyone: one call exposes the data.

    ## How to fix
    Remove these actions from the execution role; resource policies belong in the deployment
    (CloudFormation, SAM, Terraform). If the function must share, name the resources and add a
    condition that limits with whom (`lambda:Principal`, `kms:GrantIsForAWSResource`).
    """
    for st in _allows(s):
        if _narrowed(st) or any(a in _EVERYTHING for a in st.actions):
            continue
        found = sorted(name for name in _granted(st) & EXPOSURE_ACTIONS if _applies(name, st))
        if not found:
            continue
        broad = [name for name in found if _broad_for(name, st.resources)]
        yield r.finding(
            f"{_label(st)}: allows {_names(_spelled(found))}"
            + (f' on {"every resource" if broad else "named resources"}' if st.resources else "")
            + ", which change who can access a resource (resource exposure)", s.where,
            line=st.line, severity=r.severity if broad else Severity.WARNING,
            fix="remove these actions, or name the resources and limit the principals with a condition",
        )


def _applies(action_name: str, st: Statement) -> bool:
    """Does the action take effect on one of the statement's resources?"""
    from lpack.iam import actions

    found = actions.action(action_name)
    if found is None:
        return False
    if found.only_star:  # the request's resource is "*": only Resource "*" reaches it
        return "*" in st.resources
    return "*" in st.resources or not _grants_nothing(action_name, st.resources)

# -- resource and trust policies -----------------------------------------------------------------


def _principal_values(st: Statement, kind: str) -> tuple[str, ...]:
    principal = st.principal
    if principal is None or isinstance(principal, str):
        return ("*",) if principal == "*" and kind == "AWS" else ()
    return principal.get(kind, ())


def _public_url(st: Statement) -> bool:
    """The statements Lambda writes for a function URL with AuthType NONE: ``InvokeFunctionUrl``
    with ``lambda:FunctionUrlAuthType`` NONE, and (since October 2025) ``InvokeFunction`` with
    ``lambda:InvokedViaFunctionUrl`` true. With AWS_IAM, callers sign their requests."""
    names = {a.lower() for a in st.actions}
    if not names or not names <= {"lambda:invokefunctionurl", "lambda:invokefunction"}:
        return False
    for c in st.conditions:
        values = {v.upper() for v in c.values}
        if (c.key == "lambda:functionurlauthtype" and values == {"NONE"}) or (
                c.key == "lambda:invokedviafunctionurl" and values == {"TRUE"}):
            return True
    return False


@rule("LP550", "public-principal", Severity.ERROR, subject=SUBJECT, source=RESOURCE_POLICY_URL)
def public_principal(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` to `Principal: "*"` (or `{"AWS": "*"}`) in a resource or trust policy
    without a condition that limits callers to an account, organization or source
    (`aws:SourceAccount`, `aws:SourceArn`, `aws:PrincipalOrgID`, `aws:PrincipalAccount`,
    `aws:SourceOwner`, ...) that every caller must meet (`...IfExists`, negated operators and
    wildcard-only values do not count). A function URL with `AuthType: NONE` (the statements
    Lambda writes for it: `lambda:InvokeFunctionUrl` with `lambda:FunctionUrlAuthType` `NONE`,
    and `lambda:InvokeFunction` with `lambda:InvokedViaFunctionUrl` `true`) is a warning: it is
    public on purpose more often than not, but anyone on the internet can call it, unsigned. With
    `lambda:FunctionUrlAuthType` `AWS_IAM` and `Principal: "*"`, any AWS account's signed request
    is allowed: an error like any other. A layer shared with everyone (only
    `lambda:GetLayerVersion`) is a warning, as public layers are a published pattern.

    ## Why is this bad?
    Anyone with an AWS account can invoke the function (or assume the role); through a URL with
    `AuthType: NONE`, anyone at all, and every call is billed to you.

    ## How to fix
    Name the principal, or add `"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-..."}}`
    or `aws:SourceAccount`. For a function URL, use `AuthType: AWS_IAM` with a named principal,
    or put it behind CloudFront with origin access control; if it is public on purpose (a
    webhook that checks its own signature, a public API), ignore LP550 for this policy.
    """
    if s.kind == "identity":
        return
    for st in _allows(s):
        if "*" not in _principal_values(st, "AWS") or any(_limits(c, ACCOUNT_KEYS) for c in st.conditions):
            continue
        if _public_url(st):
            yield r.finding(f"{_label(st)}: a function URL with AuthType NONE: anyone on the internet can "
                            "invoke the function without signing the request", s.where, line=st.line,
                            severity=Severity.WARNING,
                            fix="use AuthType AWS_IAM with a named principal, or ignore LP550 here "
                            "if the URL is public on purpose")
            continue
        layer = {a.lower() for a in st.actions} == {"lambda:getlayerversion"}
        yield r.finding(f'{_label(st)}: allows any principal ("*") without a condition that '
                        "limits callers to an account or organization", s.where, line=st.line,
                        severity=Severity.WARNING if layer else r.severity,
                        fix="name the principal or add an aws:PrincipalOrgID or "
                        "aws:SourceAccount condition")


@rule("LP551", "service-principal-confused-deputy", Severity.WARNING, subject=SUBJECT,
      source=RESOURCE_POLICY_URL)
def service_principal_confused_deputy(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Allow` to a service principal (`s3.amazonaws.com`, `sns.amazonaws.com`,
    `events.amazonaws.com`, `apigateway.amazonaws.com`, ...) in a resource policy without an
    `aws:SourceArn` or `aws:SourceAccount` condition that every caller must meet (keys compared
    case-insensitively, as IAM does). A condition that does not limit counts as none:
    `...IfExists`, `ForAllValues:` (true when the key is absent), and values made only of
    wildcards, ARNs included (`arn:aws:s3:::*` is any bucket of any account: S3 ARNs name no
    account). Trust policies are not checked: the standard Lambda trust policy names
    `lambda.amazonaws.com` alone.

    ## Why is this bad?
    Any resource of that service, in any account, can make the service call your function: the
    confused-deputy problem. Lambda's own resource-policy example adds both conditions.

    ## How to fix
    Add `"ArnLike": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}` and
    `"StringEquals": {"aws:SourceAccount": "123456789012"}`.
    """
    if s.kind != "resource":
        return
    for st in _allows(s):
        services = _principal_values(st, "Service")
        if services and not any(_limits(c, SOURCE_KEYS) for c in st.conditions):
            weak = [c.raw_key or c.key for c in st.conditions if c.key in SOURCE_KEYS]
            why = (f"but its {', '.join(weak)} condition does not limit the source" if weak
                   else "without an aws:SourceArn or aws:SourceAccount condition")
            yield r.finding(f"{_label(st)}: allows service principal {', '.join(services)}{',' if weak else ''} {why}",
                            s.where, line=st.line,
                            fix="add aws:SourceArn (a named resource) and aws:SourceAccount conditions")


@rule("LP552", "condition-not-restrictive", Severity.WARNING, subject=SUBJECT, source=RESOURCE_POLICY_URL)
def condition_not_restrictive(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a condition in an `Allow` statement that looks restrictive but is not: values that
    are only wildcards (`"aws:SourceArn": "*"`), ARNs whose account and resource are only
    wildcards (`arn:aws:s3:::*`, `arn:aws:sns:*:*:*`: any resource of the service in any
    account), and `ForAllValues:` on a single-valued key such as `aws:SourceArn` or
    `aws:SourceAccount`. Multivalued keys (`aws:PrincipalOrgPaths`, `aws:TagKeys`,
    `aws:CalledVia`, ...) take set operators and are not flagged for them.

    ## Why is this bad?
    The statement grants as if the condition were not there. IAM documents that `ForAllValues`
    returns true when the request has no value for the key (an empty set), and says not to use
    set operators with single-valued keys.

    ## How to fix
    Give real values, and use the plain operator (`StringEquals`, `ArnLike`) for single-valued
    keys; `ForAllValues:`/`ForAnyValue:` are for multi-valued keys such as `aws:TagKeys`.
    """
    for st in _allows(s):
        for c in st.conditions:
            if not c.known or c.operator == "Null" or c.operator.startswith(_NEGATED):
                continue
            if c.values and _wildcard_only(c.values):
                what = "any resource in any account" if any(":" in v for v in c.values) else "anything"
                why = f"its only value is {', '.join(c.values)}, which matches {what}"
            elif c.qualifier == "ForAllValues" and c.key in SINGLE_VALUED_KEYS:
                why = "ForAllValues on a single-valued key is true when the key is absent or empty"
            else:
                continue
            yield r.finding(f"{_label(st)}: condition {c.raw_operator or c.operator} "
                            f"{c.raw_key or c.key} does not restrict: {why}", s.where,
                            line=st.line, fix="give real values with a plain operator")

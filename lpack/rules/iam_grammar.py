"""IAM policy grammar rules (LP501-LP519): what IAM (or Lambda, for a function's resource policy)
would reject or read differently from what the author meant. Each finding names the JSON path and
line. The grammar itself lives in lpack.iam.policy; these rules only report it."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lpack.analysis.subjects import PolicySubject
from lpack.core.findings import Finding, Severity
from lpack.core.limits import NEAR_LIMIT_FRACTION, QUOTAS_URL
from lpack.iam import policy as grammar
from lpack.iam.tables import EXECUTION_ROLE_URL, RESOURCE_POLICY_URL, SIZE_QUOTAS, SizeQuota
from lpack.rules import Rule, rule

SUBJECT = PolicySubject


def _report(r: Rule, s: PolicySubject, kind: str) -> Iterator[Finding]:
    for problem in s.policy.problems:
        if problem.kind == kind:
            yield r.finding(problem.message, s.where, line=problem.line)


def _uses_variables(s: PolicySubject) -> bool:
    return "${" in s.policy.text


@rule("LP501", "policy-invalid-json", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_invalid_json(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a policy file that is not JSON (or not UTF-8 text), with the line and column where
    reading stopped.

    ## Why is this bad?
    IAM and Lambda reject the document (`MalformedPolicyDocument`), and no other IAM rule can
    look at it.

    ## How to fix
    Fix the JSON at the line and column given: trailing commas, comments, single quotes and
    unquoted keys are not JSON.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    """
    error = s.policy.json_error
    if error is None:
        return
    where = f" at line {error.line}, column {error.column}" if error.line is not None else ""
    yield r.finding(f"the policy is not valid JSON{where}: {error.message}", s.where, line=error.line)


@rule("LP502", "policy-element-malformed", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_element_malformed(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an element of the wrong JSON type (a number for `Action`, an object for `Resource`,
    a string other than `"*"` for `Principal`, a list for `Condition`, ...), a document that is
    not a JSON object, and a policy without `Statement`.

    ## Why is this bad?
    IAM rejects the document with `MalformedPolicyDocument`.

    ## How to fix
    Follow the grammar: `Action`/`Resource` are a string or a list of strings, `Principal` is
    `"*"` or an object such as `{"Service": "lambda.amazonaws.com"}`, `Condition` maps operators to
    keys to values. `schemas/iam-policy.schema.json` describes it for editors.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    """
    yield from _report(r, s, grammar.MALFORMED)


@rule("LP503", "policy-element-unknown", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_element_unknown(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a key IAM does not know: at the top level (`Version`, `Id`, `Statement`), in a statement
    (`Sid`, `Effect`, `Principal`, `NotPrincipal`, `Action`, `NotAction`, `Resource`,
    `NotResource`, `Condition`) or in a `Principal` (`AWS`, `Service`, `Federated`,
    `CanonicalUser`), with the closest known name. Element names are case-sensitive.

    ## Why is this bad?
    IAM rejects the document (`MalformedPolicyDocument`, "Syntax errors in policy"); a misspelt
    `Conditon` would otherwise be a grant without its condition.

    ## How to fix
    Use the element name suggested, spelt and capitalized as IAM spells it.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
    """
    yield from _report(r, s, grammar.UNKNOWN_KEY)


@rule("LP504", "policy-version-unknown", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_version_unknown(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a `Version` other than `"2012-10-17"` or `"2008-10-17"` (a date of your own, or the
    current date, is a common mistake).

    ## Why is this bad?
    `Version` is the policy language version, not the policy's own version: IAM rejects any other
    value.

    ## How to fix
    Set `"Version": "2012-10-17"`.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    """
    yield from _report(r, s, grammar.VERSION_UNKNOWN)


@rule("LP505", "policy-version-missing", Severity.WARNING, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_version_missing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a policy without `Version`. It is an error when the policy uses policy variables
    (`${aws:username}`, `${aws:PrincipalTag/team}`, ...).

    ## Why is this bad?
    Without `Version` IAM reads the policy with the 2008-10-17 language, in which policy variables
    are not substituted: `${aws:username}` is matched as those literal characters, so the statement
    silently grants (or denies) something else.

    ## How to fix
    Add `"Version": "2012-10-17"` at the top of the policy.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    """
    p = s.policy.policy
    if p is None or "Version" in _top_keys(s):
        return
    if _uses_variables(s):
        yield r.finding('the policy has no "Version", so IAM reads it as 2008-10-17 and does not '
                        "substitute its policy variables (${...}); add \"Version\": \"2012-10-17\"",
                        s.where, line=1, severity=Severity.ERROR)
    else:
        yield r.finding('the policy has no "Version"; IAM then uses the 2008-10-17 language, without '
                        'policy variables and newer features; add "Version": "2012-10-17"',
                        s.where, line=1)


def _top_keys(s: PolicySubject) -> tuple[str, ...]:
    document = s.policy.document
    return tuple(document) if isinstance(document, dict) else ()


@rule("LP506", "policy-version-outdated", Severity.WARNING, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_version_outdated(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags `"Version": "2008-10-17"`. It is an error when the policy uses policy variables.

    ## Why is this bad?
    The 2008-10-17 language is an older version kept for existing policies: it does not substitute
    policy variables (`${aws:username}` is matched literally) and lacks later features.

    ## How to fix
    Set `"Version": "2012-10-17"` and re-read any `${...}` strings, which will now be substituted.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    """
    p = s.policy.policy
    if p is None or p.version != "2008-10-17":
        return
    line = s.policy.line_of("Version")
    if _uses_variables(s):
        yield r.finding('Version: "2008-10-17" does not substitute policy variables, so the ${...} '
                        'strings in this policy are matched literally; use "2012-10-17"',
                        s.where, line=line, severity=Severity.ERROR)
    else:
        yield r.finding('Version: "2008-10-17" is the old policy language; use "2012-10-17"',
                        s.where, line=line)


@rule("LP507", "statement-effect-missing", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_effect_missing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a statement without `Effect`.

    ## Why is this bad?
    `Effect` is required: IAM rejects the document.

    ## How to fix
    Add `"Effect": "Allow"` or `"Effect": "Deny"` to the statement.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
    """
    yield from _report(r, s, grammar.EFFECT_MISSING)


@rule("LP508", "statement-effect-invalid", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_effect_invalid(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an `Effect` other than `"Allow"` or `"Deny"`, spelt and capitalized exactly so.

    ## Why is this bad?
    IAM rejects the document.

    ## How to fix
    Use `"Allow"` or `"Deny"`.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
    """
    yield from _report(r, s, grammar.EFFECT_INVALID)


@rule("LP509", "statement-action-missing", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_action_missing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a statement with neither `Action` nor `NotAction`.

    ## Why is this bad?
    Every statement needs one of them: IAM rejects the document ("Policy statement must contain
    actions").

    ## How to fix
    Add the actions the statement is about, e.g. `"Action": "logs:PutLogEvents"`.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    """
    yield from _report(r, s, grammar.ACTION_MISSING)


@rule("LP510", "statement-element-conflict", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_element_conflict(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a statement with both `Action` and `NotAction`, both `Resource` and `NotResource`, or
    both `Principal` and `NotPrincipal`.

    ## Why is this bad?
    The grammar allows one of each pair: IAM rejects the document.

    ## How to fix
    Keep one of the two, or split the statement in two.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    """
    yield from _report(r, s, grammar.CONFLICT)


@rule("LP511", "statement-element-empty", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_element_empty(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags an empty list where IAM needs at least one value: `Statement`, `Action`, `NotAction`,
    `Resource`, `NotResource`, a `Principal` or one of its lists, a condition's values.

    ## Why is this bad?
    IAM rejects the document. A template that fills a list from a variable often produces `[]`
    when the variable is empty: the deployment fails late.

    ## How to fix
    Give at least one value, or remove the element (or the statement).

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    """
    yield from _report(r, s, grammar.EMPTY)


@rule("LP512", "statement-resource-missing", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def statement_resource_missing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a statement without `Resource` or `NotResource` in an identity policy (an execution
    role's permissions) or a resource policy. Trust policies take no `Resource` (see LP513).

    ## Why is this bad?
    IAM rejects the document: "Policy statement must contain resources".

    ## How to fix
    Name the resources the actions apply to, e.g. the function's log group ARN, or `"*"` for
    actions that support no resource-level permissions.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    """
    p = s.policy.policy
    if p is None or s.kind == "trust":
        return
    for st in p.statements:
        if not st.elements & {"Resource", "NotResource"}:
            yield r.finding(f'{st.path}: has neither "Resource" nor "NotResource"; an {s.kind} '
                            "policy statement must name its resources", s.where, line=st.line)


@rule("LP513", "policy-element-prohibited", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_element_prohibited(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a `Principal` or `NotPrincipal` in an identity policy (the permissions of an execution
    role), and a `Resource` or `NotResource` in a trust policy.

    ## Why is this bad?
    IAM rejects the document: "Has prohibited field Principal" (an identity policy applies to
    the identity it is attached to), "Has prohibited field Resource" (a trust policy's resource is
    the role itself). A `Principal` in a policy lpack treats as identity may also mean the file is
    a resource or trust policy named in the wrong place.

    ## How to fix
    Remove the element; or, if the file is a resource or trust policy, say so in the config
    (`resource-policy`, `trust-policy`) or with `--policy-kind`.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    """
    p = s.policy.policy
    if p is None:
        return
    prohibited = {"identity": ("Principal", "NotPrincipal"), "trust": ("Resource", "NotResource")}
    for st in p.statements:
        for key in prohibited.get(s.kind, ()):
            if key in st.elements:
                path = st.element_path(key)
                yield r.finding(f"{path}: {s.kind} policies cannot have {key}; IAM rejects the "
                                f"policy (\"Has prohibited field {key}\")", s.where,
                                line=s.policy.line_of(path))


@rule("LP514", "statement-principal-missing", Severity.ERROR, subject=SUBJECT, source=RESOURCE_POLICY_URL)
def statement_principal_missing(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a statement without `Principal` or `NotPrincipal` in a resource policy (who may invoke
    the function) or a trust policy (who may assume the role).

    ## Why is this bad?
    A resource-based policy must say whom it grants to: IAM and Lambda reject the statement.

    ## How to fix
    Add the principal, e.g. `{"Service": "s3.amazonaws.com"}` with an `aws:SourceArn` condition,
    or `{"Service": "lambda.amazonaws.com"}` in an execution role's trust policy.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    """
    p = s.policy.policy
    if p is None or s.kind == "identity":
        return
    for st in p.statements:
        if not st.elements & {"Principal", "NotPrincipal"}:
            yield r.finding(f'{st.path}: has no "Principal"; a {s.kind} policy statement must name '
                            "who it applies to", s.where, line=st.line)


@rule("LP515", "statement-sid-duplicate", Severity.ERROR, subject=SUBJECT, source=RESOURCE_POLICY_URL)
def statement_sid_duplicate(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags two statements with the same `Sid` in one policy.

    ## Why is this bad?
    IAM rejects managed and inline identity policies and role trust policies with "Statement IDs
    (SID) in a single policy must be unique". In a function's resource policy the `Sid` is the
    permission's `StatementId`, and `AddPermission` refuses one that already exists
    (`ResourceConflictException`). (Some other services' resource policies, e.g. S3's, are more
    lenient; the rule applies the IAM and Lambda behaviour.)

    ## How to fix
    Give each statement its own `Sid`, or drop the `Sid`s: they are optional.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
    """
    p = s.policy.policy
    if p is None:
        return
    first: dict[str, str] = {}
    for st in p.statements:
        if not st.sid:
            continue
        if st.sid in first:
            path = st.element_path("Sid")
            yield r.finding(f"{path}: Sid {json.dumps(st.sid)} is also the Sid of {first[st.sid]}; "
                            "Sids must be unique within a policy", s.where, line=s.policy.line_of(path))
        else:
            first[st.sid] = st.path


@rule("LP516", "policy-invalid-character", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def policy_invalid_character(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags characters IAM does not accept in identity and trust policy documents: anything but tab,
    line feed, carriage return and U+0020 to U+00FF. Typographic quotes and dashes pasted from a
    word processor are the usual culprits.

    ## Why is this bad?
    IAM rejects the document.

    ## How to fix
    Replace the character (e.g. `’` by `'`, `–` by `-`), or remove it.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    """
    if s.kind == "resource" or s.policy.json_error is not None:
        return
    bad = [i for i, char in enumerate(s.policy.text) if not _allowed(char)]
    if not bad:
        return
    text, offset = s.policy.text, bad[0]
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    yield r.finding(f"line {line}, column {column}: character U+{ord(text[offset]):04X} "
                    f"({text[offset]!r}){more} is not allowed in an IAM policy, which accepts tab, "
                    "line feed, carriage return and U+0020 to U+00FF", s.where, line=line)


def _allowed(char: str) -> bool:
    return char in "\t\n\r" or "\u0020" <= char <= "\u00ff"


def _measure(s: PolicySubject) -> tuple[int, SizeQuota] | None:
    quota = SIZE_QUOTAS.get(s.kind)
    if s.inline:
        return None  # inline policies share the role's 10,240 characters: LP562 measures them together
    if quota is None or s.policy.json_error is not None or s.policy.policy is None:
        return None
    if quota.unit == "bytes":
        return grammar.compact_bytes(s.policy.document), quota
    return grammar.size_chars(s.policy.text), quota


@rule("LP517", "condition-operator-unknown", Severity.ERROR, subject=SUBJECT, source=EXECUTION_ROLE_URL)
def condition_operator_unknown(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Flags a condition operator IAM does not have, with the closest one: IAM's operators are the
    `String*`, `Numeric*`, `Date*`, `Arn*` families, `Bool`, `BinaryEquals`, `IpAddress`,
    `NotIpAddress` and `Null`, each (but `Null`) with an optional `IfExists` suffix, and an
    optional `ForAnyValue:` or `ForAllValues:` qualifier.

    ## Why is this bad?
    IAM rejects the document; a tool that ignores unknown operators reads the statement as
    unconditional.

    ## How to fix
    Use the operator suggested (e.g. `StringEquals`, not `StringEqual`). lpack matches operator
    names without regard to case, so it never flags a capitalization IAM may accept.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    """
    yield from _report(r, s, grammar.OPERATOR_UNKNOWN)


@rule("LP518", "policy-size-exceeded", Severity.ERROR, subject=SUBJECT, source=QUOTAS_URL)
def policy_size_exceeded(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Measures the policy as AWS does and flags one over its quota: an identity (managed) policy
    over 6,144 characters and a trust policy over 2,048, both counted without white space; a
    function's resource-based policy over 20,480 bytes (20 KB) of compact JSON.

    ## Why is this bad?
    IAM rejects the policy (`LimitExceeded`, "Cannot exceed quota for PolicySize"); Lambda's
    `AddPermission` fails with `PolicyLengthExceededException`.

    ## How to fix
    Merge statements with the same effect and conditions, use wildcards for long families of
    resources you do grant, or split permissions across several managed policies (10 per role by
    default). An inline role policy may be larger: inline policies share 10,240 characters per
    role. A trust policy's quota can be raised to 4,096 through Service Quotas.

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    """
    measured = _measure(s)
    if measured is None:
        return
    size, quota = measured
    if size > quota.value:
        yield r.finding(f"the {s.kind} policy measures {size:,} {quota.unit}, over the quota of "
                        f"{quota.value:,}; counted as {quota.counted}", s.where, line=1)


@rule("LP519", "policy-size-near-limit", Severity.WARNING, subject=SUBJECT, source=QUOTAS_URL)
def policy_size_near_limit(r: Rule, s: PolicySubject) -> Iterator[Finding]:
    """## What it does
    Warns when the policy, measured as in LP518, is within 10% of its quota.

    ## Why is this bad?
    The next statement (or, for a resource policy, the next `AddPermission`) makes it fail.

    ## How to fix
    Consolidate statements now (see LP518).

    ## References
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    """
    measured = _measure(s)
    if measured is None:
        return
    size, quota = measured
    if quota.value * NEAR_LIMIT_FRACTION < size <= quota.value:
        yield r.finding(f"the {s.kind} policy measures {size:,} {quota.unit}, {size / quota.value:.0%} "
                        f"of the quota of {quota.value:,}; counted as {quota.counted}", s.where, line=1)

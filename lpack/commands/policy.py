"""`lpack policy`: the least-privilege identity policy a function's code needs, plus what Lambda
itself needs with the role, from the code's AWS calls (``lpack.analysis.aws_calls``); and, for
``lpack check``, what a function's code calls, to compare with its execution role (LP570-LP579).

A command of its own rather than ``check --suggest-policy``: its output is a policy document to
save or paste (JSON on stdout), not findings, and it takes a function where check takes paths.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lpack.analysis.package import display_path, index_directory
from lpack.analysis.subjects import PackageSubject
from lpack.core.errors import LpackError, UsageError

if TYPE_CHECKING:
    from lpack.analysis.aws_calls import CodeUse
    from lpack.iam.policy import ParsedPolicy
    from lpack.inputs.template import Template
    from lpack.plan import Plan

BASIC_LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
# What Lambda does with the execution role when the function's configuration asks for it
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html):
# AWSLambdaVPCAccessExecutionRole's network interface actions for VpcConfig
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
# AWSXRayDaemonWriteAccess's for Tracing: Active (https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html),
# the dead-letter queue's send (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html),
# kms:Decrypt with a customer managed key for the environment
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html).
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries")
DESTINATION_ACTIONS = {"SQS": "sqs:SendMessage", "SNS": "sns:Publish", "Lambda": "lambda:InvokeFunction",
                       "EventBridge": "events:PutEvents", "S3": "s3:PutObject"}


class _Props(NamedTuple):
    resources: Mapping[str, Any]
    merged: Mapping[str, Any]  # the function's Properties over the template's Globals.Function


def _props(template: Template, function: str) -> _Props:
    from lpack.inputs.template.loader import read_template

    data = read_template(template.path)
    resources = data.get("Resources") if data is not None else None
    resources = resources if isinstance(resources, Mapping) else {}
    resource = resources.get(function)
    props = resource.get("Properties") if isinstance(resource, Mapping) else None
    globals_ = data.get("Globals") if data is not None else None
    shared = globals_.get("Function") if isinstance(globals_, Mapping) else None
    return _Props(resources, {**(shared if isinstance(shared, Mapping) else {}),
                              **(props if isinstance(props, Mapping) else {})})


def lambda_own(template: Template | None, function: str) -> tuple[str, ...]:
    """The actions the template's configuration of ``function`` has Lambda use with its role."""
    if template is None:
        return ()
    resources, merged = _props(template, function)
    own: list[str] = []
    if merged.get("VpcConfig"):
        own += VPC_ACTIONS
    tracing = merged.get("Tracing") or (merged.get("TracingConfig") or {}).get("Mode") \
        if isinstance(merged.get("TracingConfig", {}), Mapping) else None
    if tracing in ("Active", "PassThrough"):
        own += XRAY_ACTIONS
    if merged.get("DeadLetterQueue") or merged.get("DeadLetterConfig"):
        own += ["sqs:SendMessage", "sns:Publish"]
    if merged.get("EventInvokeConfig") or _has_invoke_config(resources, function):
        own += DESTINATION_ACTIONS.values()
    if merged.get("KmsKeyArn"):
        own += ["kms:Decrypt"]
    return tuple(own)


def _has_invoke_config(resources: object, function: str) -> bool:
    if not isinstance(resources, Mapping):
        return False
    for resource in resources.values():
        if isinstance(resource, Mapping) and resource.get("Type") == "AWS::Lambda::EventInvokeConfig":
            props = resource.get("Properties")
            if isinstance(props, Mapping) and function in json.dumps(props.get("FunctionName"), default=str):
                return True
    return False


# The logical IDs of the functions the AWS CDK adds for its own constructs, whose Python code is
# the CDK's (BucketDeployment's handler: it copies with the AWS CLI, which lpack cannot follow, and
# invalidates CloudFront only when given a distribution): their role is the CDK's to grant, so the
# rules that compare code with role do not judge them. CDK names each singleton after a fixed
# UUID, then a hash.
CDK_INTERNAL_FUNCTIONS = ("CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C",)


def cdk_internal(name: str) -> bool:
    """Whether the function is one the AWS CDK adds for its own constructs (`CDK_INTERNAL_FUNCTIONS`)."""
    return name.startswith(CDK_INTERNAL_FUNCTIONS)


def code_use(unit_plan: Plan, template: Template | None = None) -> CodeUse | None:
    """What the unit's function code calls, read from its source folder as it will be packaged
    (the user's excludes applied); None when there is no source or the handler cannot be read."""
    from lpack.analysis.aws_calls import analyse
    from lpack.analysis.package import PackageReader
    from lpack.core import select
    from lpack.plan import packaged_root

    unit = unit_plan.unit
    if unit.source is None or not unit.handler or unit.kind != "function" or cdk_internal(unit.name):
        return None
    user = select.spec(unit.exclude)
    files = [(rel, path) for rel, path in unit_plan.packaged_files() if not user.match_file(rel)]
    root = packaged_root(unit.source)
    index = index_directory(root, files)
    reader = PackageReader(index)
    try:
        subject = PackageSubject(package=index, kind="function", target=unit_plan.target, handler=unit.handler,
                                 reader=reader, is_source=True)
        environment = unit.settings.environment
        found = analyse(subject, environment if isinstance(environment, Mapping) else None)
    finally:
        reader.close()
    if found is None:
        return None
    grants: tuple[ParsedPolicy, ...] = ()
    gaps: tuple[str, ...] = ()
    if template is not None and unit.name in template.iam and template.iam[unit.name].templates:
        grants, gaps = sam_policy_templates(template, unit.name)
    return found._replace(where=display_path(root), lambda_own=lambda_own(template, unit.name),
                          role_gaps=gaps, grants=grants)


def _parameter(value: object) -> str | None:
    """A policy template parameter as text: ``!Ref X`` as ``${X}``, ``!GetAtt X.Arn`` as ``${X.Arn}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return "${" + arg + "}"
        if key == "Fn::GetAtt":
            return "${" + (".".join(map(str, arg)) if isinstance(arg, list) else str(arg)) + "}"
        if key == "Fn::Sub" and isinstance(arg, str):
            return arg
    return None


def sam_policy_templates(template: Template, function: str) -> tuple[tuple[ParsedPolicy, ...], tuple[str, ...]]:
    """The function's SAM policy templates (``- DynamoDBCrudPolicy: {TableName: !Ref T}``) as the
    statements SAM makes of them (lpack/iam/data/sam_policy_templates.json), and the names of those
    lpack cannot expand (unknown, or a parameter it cannot read)."""
    import re

    from lpack.iam.policy import parse_document

    known = _sam_templates()
    policies = _props(template, function).merged.get("Policies")
    items = policies if isinstance(policies, list) else [policies]
    grants, gaps = [], []
    for item in items:
        if not isinstance(item, Mapping) or len(item) != 1 or "Statement" in item:
            continue
        (name, given), = item.items()
        spec = known.get(str(name))
        values = {k: _parameter(v) for k, v in given.items()} if isinstance(given, Mapping) else {}
        if spec is None or any(values.get(p) is None for p in spec["parameters"]):
            gaps.append(str(name))
            continue

        def fill(text: str, values: Mapping[str, str | None] = values) -> str:
            text = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1)) or m.group(0), text)
            return text.replace("${AWS::", "${AWS.")  # as the template reader writes pseudo parameters

        statements = [{**st, "Resource": [fill(r) for r in st["Resource"]]} for st in spec["statements"]]
        document = {"Version": "2012-10-17", "Statement": statements}
        grants.append(parse_document(document, f"{display_path(template.path)}: {name}", "identity", {}))
    return tuple(grants), tuple(gaps)


@lru_cache(maxsize=1)
def _sam_templates() -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "iam" / "data" / "sam_policy_templates.json"
    templates: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["templates"]
    return templates


# -- the policy ----------------------------------------------------------------------------------

class Suggested(NamedTuple):
    function: str
    document: dict[str, Any]
    unresolved: int  # calls lpack could not follow: the policy may miss what they need
    code: CodeUse | None = None
    unscoped: tuple[str, ...] = ()  # Sids of statements on every resource of a type: the code names none


def render(suggested: Suggested, form: str) -> str:
    """``text``: the policy document itself; ``json``: a versioned envelope with the call sites."""
    if form == "text":
        return json.dumps(suggested.document, indent=2) + "\n"
    code = suggested.code
    where = f"{code.where}/" if code is not None and code.where else ""
    calls = [{"file": where + c.entry, "line": c.line, "service": c.service, "operation": c.operation,
              "actions": list(c.actions)} for c in (code.calls if code else ())]
    unresolved = [{"file": where + u.entry, "line": u.line, "why": u.why} for u in (code.unresolved if code else ())]
    return json.dumps({"version": 1, "function": suggested.function, "policy": suggested.document,
                       "calls": calls, "unresolved": unresolved, "unscoped": list(suggested.unscoped)}, indent=2) + "\n"


def suggest(code: CodeUse, function: str, event_sources: tuple[str, ...] = ()) -> Suggested:
    """The least-privilege policy: one statement per resource (or ``*``) with its actions, sorted,
    then Lambda's own needs (logs on the function's log group, the event source's reads)."""
    from lpack.core.facts import event_sources as facts
    from lpack.iam.operations import any_resource, policy_resource
    from lpack.rules.iam_code import needed

    by_resource: dict[str, set[str]] = {}
    named: set[str] = set()  # resources the code names (not a type's wildcard)
    for action, arn in needed(code):
        resource = policy_resource(arn or any_resource(action))
        by_resource.setdefault(resource, set()).add(action)
        if arn:
            named.add(resource)
    own = set(code.lambda_own)
    for kind in event_sources:
        own.update(facts.ROLE_ACTIONS.get(kind, ()))
    statements: list[dict[str, Any]] = [
        # CreateLogGroup too: Lambda makes the function's log group on its first run when the role
        # allows it, and without it (and no log group made by the template) the logs are lost
        # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html)
        {"Sid": "Logs", "Effect": "Allow", "Action": list(BASIC_LOGS),
         "Resource": f"arn:aws:logs:*:*:log-group:/aws/lambda/{function}:*"},
    ]
    unscoped: list[str] = []
    for i, (resource, actions) in enumerate(sorted(by_resource.items())):
        statements.append({"Sid": f"Code{i + 1}", "Effect": "Allow", "Action": sorted(actions, key=str.lower),
                           "Resource": resource})
        if resource not in named:
            unscoped.append(f"Code{i + 1}")
    if own:
        statements.append({"Sid": "Lambda", "Effect": "Allow", "Action": sorted(own, key=str.lower), "Resource": "*"})
    document = {"Version": "2012-10-17", "Statement": statements}
    return Suggested(function, document, len(code.unresolved), code, tuple(unscoped))


def policy(target: Path, function: str | None, config: Path | None = None) -> Suggested:
    """The suggested policy of one function of the project or template at ``target``."""
    from lpack.inputs.detect import template_path
    from lpack.inputs.template.loader import looks_like_template
    from lpack.plan import plan

    template: Template | None = None
    found = template_path(target, config) if target.is_dir() else target if looks_like_template(target) else None
    if found is not None:
        from lpack.inputs.template import load_template

        template = load_template(found)
        project = template.project
    else:
        from lpack.inputs.config import load_project

        project = load_project(target, config)
    functions = [u for u in project.units if u.kind == "function"]
    if function is not None:
        functions = [u for u in functions if u.name == function]
        if not functions:
            names = ", ".join(u.name for u in project.units if u.kind == "function") or "none"
            raise UsageError(f"{target}: no function {function!r}; the functions are: {names}")
    elif len(functions) != 1:
        names = ", ".join(u.name for u in functions) or "none"
        raise UsageError(f"{target}: {len(functions)} functions ({names}); name one with -f FUNCTION")
    unit = functions[0]
    code = code_use(plan(project, unit, None, None), template)
    if code is None:
        raise LpackError(f"{target}: {unit.name}: lpack cannot read the handler {unit.handler!r} in its source "
                         "folder; check it with `lpack check`")
    return suggest(code, unit.name, unit.settings.features.event_sources)

"""A function's IAM documents in a template, parsed into the model of policy files.

The execution role: SAM's ``Policies`` (managed policy names and ARNs, inline documents, policy
templates) on the role SAM makes, or the ``AWS::IAM::Role`` the function names with its inline
policies, its ``ManagedPolicyArns`` and the ``AWS::IAM::Policy``/``ManagedPolicy`` resources attached
to it, and its trust policy; ``AWS::Lambda::Permission`` resources become the resource-based policy
``AddPermission`` writes, with those SAM adds for a ``FunctionUrlConfig`` with ``AuthType: NONE``.
Each element carries its template line. A policy document CloudFormation
makes (``AWS::Include``, a ``!Sub`` of JSON text, ``Statement: !If``) is unreadable, like an unknown
managed policy.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, NamedTuple

from lpack.core.facts.compute import DURABLE_POLICY_ARN
from lpack.core.facts.event_sources import SAM_EVENT_POLICY
from lpack.inputs.template.intrinsics import (
    SAM_FUNCTION,
    Resolver,
    has_intrinsic,
    is_intrinsic,
    ref_target,
)
from lpack.inputs.template.loader import Located, LocatedList

if TYPE_CHECKING:
    from lpack.iam.policy import ParsedPolicy

BASIC_EXECUTION_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# SAM's short names of AWS managed policies that live under a path
_MANAGED_PATHS = {"AWSLambdaBasicExecutionRole": "service-role/", "AWSLambdaVPCAccessExecutionRole": "service-role/",
                  "AWSLambdaRole": "service-role/", "AWSLambdaDynamoDBExecutionRole": "service-role/",
                  "AWSLambdaKinesisExecutionRole": "service-role/", "AWSLambdaSQSQueueExecutionRole": "service-role/",
                  "AWSLambdaMSKExecutionRole": "service-role/", "AWSXrayWriteOnlyAccess": ""}
_PLACEHOLDER = re.compile(r"\$\{([^}:*?$]+)\}")  # ours; IAM policy variables have a colon
# AWS::Lambda::Permission's properties that AddPermission writes as conditions: (property, operator, key)
_CONDITIONS = (("SourceArn", "ArnLike", "AWS:SourceArn"), ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
               ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
               ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
               ("InvokedViaFunctionUrl", "Bool", "lambda:InvokedViaFunctionUrl"))


class FunctionIam(NamedTuple):
    """One function's IAM documents from the template, parsed with their template lines."""

    managed: tuple[ParsedPolicy, ...] = ()  # attached managed policies lpack can read
    customer: tuple[ParsedPolicy, ...] = ()  # customer managed policies defined in the template
    inline: tuple[ParsedPolicy, ...] = ()
    opaque: tuple[str, ...] = ()  # attached managed policies lpack cannot read (unknown ARNs)
    trust: ParsedPolicy | None = None
    resource: ParsedPolicy | None = None
    role_known: bool = False  # False for a role ARN from outside the template: nothing to check
    # SAM policy templates (and inline documents lpack cannot read) in the role SAM makes: SAM writes
    # them as the role's inline policies, so they do not count toward its managed policy quota (LP561)
    templates: tuple[str, ...] = ()
    # documents lpack cannot read all of (made at deployment): role-wide rules that need every grant
    # stay quiet; they are inline, or already counted as managed, so LP561 does not count them again
    unreadable: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()  # the functions that share this role (a Serverless service's), when several


class Policies:
    """Reads the IAM documents of the template's functions; ``display`` names the template in them."""

    def __init__(self, display: str, resources: Located, resolver: Resolver) -> None:
        self.display, self.resources, self.resolver = display, resources, resolver

    def resource(self, logical_id: str | None, *types: str) -> Located | None:
        found = self.resources.get(logical_id) if logical_id else None
        if isinstance(found, Located) and (not types or found.get("Type") in types):
            return found
        return None

    def function_iam(self, name: str, resource: Located) -> FunctionIam:
        props = self.resolver.properties(resource)
        role = props.get("Role")
        iam = FunctionIam(resource=self.resource_policy(name))
        if role is not None:
            role_id = ref_target(role)
            found = self.resource(role_id, "AWS::IAM::Role")
            if found is None or role_id is None:
                return iam
            return self.role(role_id, found)._replace(resource=iam.resource)
        if resource.get("Type") != SAM_FUNCTION:
            return iam
        return self.sam_role(props)._replace(resource=iam.resource)

    def sam_role(self, props: Located) -> FunctionIam:
        """The role SAM creates: AWSLambdaBasicExecutionRole (for a durable function,
        AWSLambdaBasicDurableExecutionRolePolicy), the managed policy of each pull event source, and
        the function's ``Policies``."""
        from lpack.iam import managed
        from lpack.iam.policy import parse_policy

        # SAM gives a durable function the durable variant, which adds the checkpoint permissions
        managed_arns: list[str] = [DURABLE_POLICY_ARN if "DurableConfig" in props else BASIC_EXECUTION_ROLE]
        # and, for each SQS, Kinesis, DynamoDB or MSK event, the managed policy that lets Lambda read it
        managed_arns += _event_policies(props.get("Events"))
        inline: list[ParsedPolicy] = []
        opaque: list[str] = []
        templates: list[str] = []  # inline too; the role always has AWSLambdaBasicExecutionRole for logs
        policies = props.get("Policies")
        items = policies if isinstance(policies, LocatedList) else LocatedList(props.line_of("Policies"))
        if isinstance(policies, (str, Located)):
            items.append(policies)
            items.lines.append(props.line_of("Policies"))
        for i, item in enumerate(items):
            text = self.resolver.text(item) if not isinstance(item, Located) or is_intrinsic(item) else None
            if text is not None:
                managed_arns.append(text if text.startswith("arn:") else
                                    f"arn:aws:iam::aws:policy/{_MANAGED_PATHS.get(text, '')}{text}")
            elif isinstance(item, Located) and "Statement" in item:
                self.add_document(item, items.line_of(i), inline, templates, f"Policies[{i}]")
            elif isinstance(item, Located):
                templates.extend(str(k) for k in item)  # a SAM policy template: not expanded
        readable = []
        for arn in managed_arns:
            text = managed.document(arn)
            if text is None:
                opaque.append(arn)
            else:
                readable.append(parse_policy(text, arn, "identity"))
        return FunctionIam(managed=tuple(readable), inline=tuple(inline), opaque=tuple(opaque), role_known=True,
                           templates=tuple(templates))

    def role(self, role_id: str, role: Located) -> FunctionIam:
        from lpack.iam import managed
        from lpack.iam.policy import parse_policy

        props = role.get("Properties")
        props = props if isinstance(props, Located) else Located(role.line)
        inline: list[ParsedPolicy] = []
        opaque: list[str] = []
        unreadable: list[str] = []
        policies = props.get("Policies")
        for item in policies if isinstance(policies, LocatedList) else ():
            doc = item.get("PolicyDocument") if isinstance(item, Located) and not is_intrinsic(item) else item
            self.add_document(doc, item.line_of("PolicyDocument") if isinstance(item, Located) else props.line,
                              inline, unreadable, str(item.get("PolicyName", "?")) if isinstance(item, Located) else "?")
        readable: list[ParsedPolicy] = []
        arns = props.get("ManagedPolicyArns")
        for item in arns if isinstance(arns, list) else ():
            target = self.resource(ref_target(item), "AWS::IAM::ManagedPolicy")
            text = self.resolver.text(item)
            if target is not None:
                continue  # counted below, with the managed policies that name the role
            if text is not None and (document := managed.document(text)) is not None:
                readable.append(parse_policy(document, text, "identity"))
            else:
                opaque.append(text or "?")
        customer: list[ParsedPolicy] = []
        for other_id, other in self.resources.items():
            if not isinstance(other, Located) or other.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                continue
            other_props = other.get("Properties")
            if not isinstance(other_props, Located) or not self.attached(role_id, str(other_id), other_props, arns):
                continue
            is_managed = other.get("Type") == "AWS::IAM::ManagedPolicy"
            self.add_document(other_props.get("PolicyDocument"), other_props.line_of("PolicyDocument"),
                              customer if is_managed else inline, unreadable, str(other_id),
                              unknown=opaque if is_managed else None)
        trust_doc = props.get("AssumeRolePolicyDocument")
        trust = (self.document(trust_doc, props.line_of("AssumeRolePolicyDocument"), "trust")
                 if isinstance(trust_doc, Located) else None)
        return FunctionIam(tuple(readable), tuple(customer), tuple(inline), tuple(opaque), trust, None, True,
                           unreadable=tuple(unreadable))

    def attached(self, role_id: str, policy_id: str, props: Located, role_arns: object) -> bool:
        roles = props.get("Roles")
        if any(ref_target(r) == role_id for r in (roles if isinstance(roles, list) else ())):
            return True
        return any(ref_target(a) == policy_id for a in (role_arns if isinstance(role_arns, list) else ()))

    def resource_policy(self, function_id: str) -> ParsedPolicy | None:
        """The statements ``AWS::Lambda::Permission`` resources add to the function's policy, and
        those of the permissions SAM makes for its public function URL."""
        statements: list[tuple[str, Located, int]] = self.url_permissions(function_id)
        for permission_id, resource in self.resources.items():
            props = resource.get("Properties") if isinstance(resource, Located) else None
            if (isinstance(resource, Located) and resource.get("Type") == "AWS::Lambda::Permission"
                    and isinstance(props, Located)
                    and ref_target(props.get("FunctionName")) in (function_id, *_qualified_ids(function_id))):
                statements.append((str(permission_id), props, self.resources.line_of(permission_id)))
        if not statements:
            return None
        document = Located(statements[0][2])
        document.update({"Version": "2012-10-17", "Statement": LocatedList(document.line)})
        for permission_id, props, line in statements:
            document["Statement"].append(self.permission_statement(permission_id, function_id, props, line))
            document["Statement"].lines.append(line)
        return self.document(document, document.line, "resource")

    def url_permissions(self, function_id: str) -> list[tuple[str, Located, int]]:
        """The ``AWS::Lambda::Permission`` resources SAM adds for a ``FunctionUrlConfig`` with
        ``AuthType: NONE`` (``_construct_url_permission`` and, since October 2025, the
        ``InvokeFunction`` one ``_construct_invoke_permission`` makes), at the config's line."""
        resource = self.resource(function_id, SAM_FUNCTION)
        props = self.resolver.properties(resource) if resource is not None else None
        config = props.get("FunctionUrlConfig") if props is not None else None
        if props is None or not isinstance(config, Located) or is_intrinsic(config) \
                or self.resolver.text(config.get("AuthType")) != "NONE":
            return []
        line = config.line_of("AuthType")
        made = []
        for suffix, action, prop, value in (("UrlPublicPermissions", "lambda:InvokeFunctionUrl", "FunctionUrlAuthType", "NONE"),
                                            ("URLInvokeAllowPublicAccess", "lambda:InvokeFunction", "InvokedViaFunctionUrl", True)):
            permission = Located(line)
            for key, item in (("Action", action), ("Principal", "*"), (prop, value)):
                permission[key], permission.lines[key] = item, line
            made.append((f"{function_id}{suffix}", permission, line))
        return made

    def permission_statement(self, permission_id: str, function_id: str, props: Located, line: int) -> Located:
        """The statement ``AddPermission`` writes for a ``AWS::Lambda::Permission`` (at ``line``)."""
        out = Located(line)

        def put(key: str, value: object, prop: str) -> None:
            out[key] = value
            out.lines[key] = props.line_of(prop)

        out.update({"Sid": permission_id, "Effect": "Allow"})
        principal = self.resolver.text(props.get("Principal"))
        if principal is not None:
            kind = "Service" if principal.endswith((".amazonaws.com", ".amazon.com")) else "AWS"
            put("Principal", "*" if principal == "*" else {kind: principal}, "Principal")
        put("Action", props.get("Action"), "Action")
        put("Resource", f"arn:${{AWS.Partition}}:lambda:${{AWS.Region}}:${{AWS.AccountId}}:function:{function_id}",
            "FunctionName")
        condition = Located(out.line)
        for prop, operator, key in _CONDITIONS:
            if prop in props:
                block = condition.setdefault(operator, Located(props.line_of(prop)))
                value = props[prop]  # InvokedViaFunctionUrl: true, which the policy holds as "true"
                block[key] = str(value).lower() if isinstance(value, bool) else value
                block.lines[key] = props.line_of(prop)
                condition.lines.setdefault(operator, props.line_of(prop))
        if condition:
            put("Condition", condition, next(p for p, _o, _k in _CONDITIONS if p in props))
        return out

    def add_document(self, data: object, line: int, readable: list[ParsedPolicy], unreadable: list[str],
                     name: str, unknown: list[str] | None = None) -> None:
        """An identity policy document: parsed into ``readable``; named in ``unreadable`` too when
        lpack cannot read all of it (its statements are made at deployment), so role-wide rules,
        which need every grant, stay quiet. A managed policy lpack cannot parse at all still counts
        as attached: it goes to ``unknown``."""
        parsed = self.document(data, line, "identity") if isinstance(data, Located) else None
        if parsed is not None:
            readable.append(parsed)
        elif unknown is not None and data is not None:
            unknown.append(name)
        if data is not None and (parsed is None or _unreadable_statements(data)):
            unreadable.append(name)

    def document(self, data: Located, line: int, kind: str) -> ParsedPolicy | None:
        """A policy document from the template, as plain JSON, with each JSON path's template line;
        None when lpack cannot read it: made at deployment (``!Sub`` of JSON text, ``AWS::Include``,
        ``Statement: !If``), or every statement an intrinsic function."""
        from lpack.iam.policy import parse_document

        if is_intrinsic(data) or is_intrinsic(data.get("Statement")):
            return None
        lines: dict[str, int] = {"": line}
        document = self.plain(data, "", line, lines)
        statements = data.get("Statement")
        if (isinstance(document, dict) and isinstance(statements, list) and statements
                and not document.get("Statement")):
            return None
        # the text IAM will see: no ${Name} placeholders (CloudFormation substitutes them), so
        # that only real policy variables (${aws:username}) count as such
        text = _PLACEHOLDER.sub(r"\1", json.dumps(document, separators=(",", ":"), ensure_ascii=False))
        return parse_document(document, self.display, kind, lines, text)

    def plain(self, value: object, path: str, line: int, lines: dict[str, int]) -> object:
        """Template data as JSON: intrinsics as text (``${Name}`` for unknowns); statements, actions
        and principals that are intrinsics (``!If`` ...) left out, as lpack cannot know them."""
        if is_intrinsic(value):
            listed = self.resolver.items(value)
            return self.resolver.text(value) if listed is None else listed
        if isinstance(value, Located):
            out: dict[str, object] = {}
            found: dict[str, int] = {}
            for key, item in value.items():
                here = f"{path}.{key}" if path else str(key)
                if key in ("Action", "NotAction", "Effect") and has_intrinsic(item):
                    return None  # a statement lpack cannot read: skipped, never reported
                found[here] = value.line_of(key)
                out[str(key)] = self.plain(item, here, found[here], found)
            lines.update(found)
            return out
        if isinstance(value, LocatedList):
            items: list[object] = []
            for i, item in enumerate(value):
                here = f"{path}[{len(items)}]"
                converted = self.plain(item, here, value.line_of(i), lines)
                if path.endswith("Statement") and not isinstance(converted, dict):
                    continue
                lines[here] = value.line_of(i)
                items.append(converted)
            return items
        return value


def _event_policies(events: object) -> list[str]:
    """The managed policies SAM adds to the role it makes for the function's pull events, once each
    (``PullEventSource._link_policy``; lpack.core.facts.event_sources.SAM_EVENT_POLICY)."""
    arns: list[str] = []
    for event in events.values() if isinstance(events, Located) else ():
        kind = event.get("Type") if isinstance(event, Located) else None
        arn = SAM_EVENT_POLICY.get(kind) if isinstance(kind, str) else None
        if arn is not None and arn not in arns:
            arns.append(arn)
    return arns


def _qualified_ids(function_id: str) -> tuple[str, str]:
    """SAM's names for the alias and version of a function with ``AutoPublishAlias``."""
    return f"{function_id}.Alias", f"{function_id}.Version"


def _unreadable_statements(document: object) -> bool:
    """Whether a document, or some statement in it, is known only at deployment."""
    if not isinstance(document, dict) or is_intrinsic(document):
        return True
    statements = document.get("Statement")
    if is_intrinsic(statements):
        return True
    return any(is_intrinsic(item) or (isinstance(item, dict) and any(
        has_intrinsic(item.get(key)) for key in ("Action", "NotAction", "Effect")))
        for item in (statements if isinstance(statements, list) else [statements]))

"""Tenant isolation settings (LP355-LP359): TenancyConfig and what it cannot be combined with."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.facts import compute
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule


def _isolated(s: FunctionSubject) -> bool:
    return s.features.tenancy is not None


def _line(s: FunctionSubject, key: str) -> int | None:
    return s.features.lines.get(key) or s.features.lines.get("tenancy")


@rule("LP355", "tenancy-mode-invalid", Severity.ERROR, subject=FunctionSubject, source=compute.TENANCY_CONFIG_URL)
def tenancy_mode_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks `TenancyConfig.TenantIsolationMode`: `PER_TENANT` is the one value Lambda takes.

    ## Why is this bad?
    The deployment fails validation.

    ## How to fix
    Set `TenantIsolationMode: PER_TENANT`, or remove `TenancyConfig`. It can only be set when the
    function is created: changing it replaces the function.
    """
    if _isolated(s) and s.features.tenancy not in compute.TENANCY_MODES:
        yield r.finding(f"TenantIsolationMode = {json.dumps(s.features.tenancy, default=str)} is not a mode "
                        "Lambda knows: PER_TENANT is the only one", s.where, line=_line(s, "tenancy"),
                        function=s.name, fix="set TenantIsolationMode: PER_TENANT")


_WHY = ("tenant isolation mode starts a separate execution environment for each tenant ID, and Lambda "
        "does not allow it with {}")


@rule("LP356", "tenancy-with-snapstart", Severity.ERROR, subject=FunctionSubject, source=compute.TENANCY_CDK_URL)
def tenancy_with_snapstart(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a tenant-isolated function (`TenancyConfig`) with `SnapStart: ApplyOn: PublishedVersions`.

    ## Why is this bad?
    The two cannot be combined: the deployment fails. (`ApplyOn: None` is accepted.)

    ## How to fix
    Remove SnapStart from the function, or use a separate function per tenant.
    """
    if _isolated(s) and s.features.snap_start == "PublishedVersions":
        yield r.finding(_WHY.format("SnapStart"), s.where, line=_line(s, "snap-start"), function=s.name,
                        fix="remove SnapStart, or set ApplyOn: None")


@rule("LP357", "tenancy-with-provisioned", Severity.ERROR, subject=FunctionSubject,
      source=compute.TENANCY_CDK_URL)
def tenancy_with_provisioned_concurrency(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a tenant-isolated function with provisioned concurrency (on the function, an
    `AWS::Lambda::Version` or an `AWS::Lambda::Alias`).

    ## Why is this bad?
    Provisioned environments are started before any tenant is known, so Lambda refuses them on
    a tenant-isolated function.

    ## How to fix
    Remove `ProvisionedConcurrencyConfig`.
    """
    if _isolated(s) and s.features.provisioned_concurrency not in (None, 0):
        yield r.finding(_WHY.format("provisioned concurrency"), s.where, line=_line(s, "provisioned-concurrency"),
                        function=s.name, fix="remove ProvisionedConcurrencyConfig")


@rule("LP358", "tenancy-with-function-url", Severity.ERROR, subject=FunctionSubject, source=compute.TENANCY_CDK_URL)
def tenancy_with_function_url(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags a tenant-isolated function with a function URL (`FunctionUrlConfig`, or an
    `AWS::Lambda::Url` that targets it).

    ## Why is this bad?
    A function URL has no way to pass the tenant ID every invocation needs; Lambda does not allow
    the combination.

    ## How to fix
    Put an API Gateway REST API in front of the function and map the tenant ID to the
    `X-Amz-Tenant-Id` header.
    """
    if _isolated(s) and s.features.function_url:
        yield r.finding(_WHY.format("a function URL"), s.where, line=_line(s, "function-url"), function=s.name,
                        fix="remove the function URL; invoke through an API Gateway REST API that sets X-Amz-Tenant-Id")


@rule("LP359", "tenancy-event-source", Severity.ERROR, subject=FunctionSubject,
      source=compute.TENANCY_INVOKE_URL)
def tenancy_event_source_unsupported(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags what invokes a tenant-isolated function other than an API Gateway REST API (`Api`):
    event source mappings (SQS, Kinesis, DynamoDB ...), schedules, S3, SNS, EventBridge and HTTP
    APIs (`HttpApi`), which cannot set the `X-Amz-Tenant-Id` header.

    ## Why is this bad?
    Every invocation of a tenant-isolated function must carry a tenant ID; these sources send none,
    so the deployment is refused or every invocation fails.

    ## How to fix
    Invoke the function from a small router function that reads the tenant from the event and
    calls `Invoke` with `TenantId`, or through a REST API that maps the tenant to
    `X-Amz-Tenant-Id`.
    """
    if not _isolated(s):
        return
    for kind in dict.fromkeys(s.features.event_sources):
        if kind in compute.TENANCY_EVENT_SOURCES:
            continue
        why = ("an HTTP API cannot set the X-Amz-Tenant-Id header" if kind == "HttpApi"
               else f"the {kind} event source sends no tenant ID")
        yield r.finding(f"a tenant-isolated function cannot be invoked by {kind}: {why}; only API Gateway "
                        "REST APIs (Api) and direct invocations with a tenant ID are supported",
                        s.where, line=_line(s, kind), function=s.name,
                        fix="invoke it from a router function that passes TenantId, or through a REST API")

"""SnapStart settings (LP340-LP344): the combinations Lambda refuses or ignores.

The facts (runtimes, the 512 MB limit, the ApplyOn values) are in lpack/core/facts/snapstart.py with
their sources. Tenant isolation with SnapStart is the tenancy rules' to report (LP355-LP359), not
repeated here; Managed Instances with SnapStart is not flagged, as the SnapStart pages read on
2026-12-05 do not list it among the limitations.
"""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import FunctionSubject
from lpack.core.facts import snapstart as facts
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule


def _line(s: FunctionSubject) -> int | None:
    return s.features.lines.get("snap-start") or s.line_of("snap-start") or s.line_of("function")


def _on(s: FunctionSubject) -> bool:
    return s.features.snap_start == facts.ON


@rule("LP340", "snapstart-runtime-unsupported", Severity.ERROR, subject=FunctionSubject, source=facts.SNAPSTART_URL)
def snapstart_runtime_unsupported(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags `SnapStart: {ApplyOn: PublishedVersions}` on a Python runtime older than python3.12.

    ## Why is this bad?
    SnapStart is available for the Python 3.12 and later managed runtimes only. Lambda refuses
    to create or update a function that asks for it on an older runtime, so the deployment
    fails.

    ## How to fix
    Move the function to python3.12 or newer (check its dependencies' wheels for that Python),
    or remove the `SnapStart` setting.
    """
    runtime = s.target.runtime
    if _on(s) and runtime.python < facts.MIN_PYTHON:
        low = "python{}.{}".format(*facts.MIN_PYTHON)
        yield r.finding(f"SnapStart is on, but {runtime.name} does not support it: Python SnapStart needs {low} or newer",
                        s.where, line=_line(s), function=s.name,
                        fix=f"set the runtime to {low} or newer, or remove SnapStart")


@rule("LP341", "snapstart-apply-on-invalid", Severity.ERROR, subject=FunctionSubject, source=facts.API_URL)
def snapstart_apply_on_invalid(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Checks `SnapStart.ApplyOn` (or `snap-start` in `[tool.lpack]`) against the values Lambda's
    API takes: `PublishedVersions` or `None`, spelled exactly so.

    ## Why is this bad?
    Any other value (`publishedVersions`, `true`, `All`, a missing `ApplyOn`) makes the
    deployment fail validation; nothing is snapshotted.

    ## How to fix
    Write `ApplyOn: PublishedVersions` to turn SnapStart on, or remove the `SnapStart` block.
    A value an intrinsic function computes (`!If`, `!Ref`) is not checked.
    """
    value = s.features.snap_start
    missing = value is None and "snap-start" in s.features.lines  # a SnapStart block without ApplyOn
    if missing or (value is not None and value not in facts.APPLY_ON):
        shown = "missing" if value is None else repr(value)
        yield r.finding(f"SnapStart ApplyOn is {shown}; Lambda accepts only 'PublishedVersions' or 'None'",
                        s.where, line=_line(s), function=s.name, fix="write ApplyOn: PublishedVersions")


def _conflicts(s: FunctionSubject) -> Iterator[tuple[str, str, int | None]]:
    """(what, the fix, its line) for each setting SnapStart cannot be combined with."""
    f = s.features
    if f.provisioned_concurrency is not None and f.provisioned_concurrency != 0:
        fix = "remove ProvisionedConcurrencyConfig (SnapStart already shortens cold starts) or turn SnapStart off"
        yield "provisioned concurrency", fix, f.lines.get("provisioned-concurrency")
    if f.file_systems:
        yield ("an Amazon EFS file system (FileSystemConfigs)", "remove FileSystemConfigs or turn SnapStart off",
               f.lines.get("file-systems"))
    storage = s.ephemeral_storage
    if isinstance(storage, int) and not isinstance(storage, bool) and storage > facts.MAX_EPHEMERAL_STORAGE_MB:
        yield (f"ephemeral storage of {storage:,} MB (SnapStart allows at most {facts.MAX_EPHEMERAL_STORAGE_MB} MB)",
               f"set EphemeralStorage to {facts.MAX_EPHEMERAL_STORAGE_MB} MB or turn SnapStart off",
               s.line_of("ephemeral-storage"))


@rule("LP342", "snapstart-incompatible-setting", Severity.ERROR, subject=FunctionSubject, source=facts.SNAPSTART_URL)
def snapstart_incompatible_setting(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Flags SnapStart together with a setting Lambda does not support beside it: provisioned
    concurrency (on the function's alias or version), an Amazon EFS file system
    (`FileSystemConfigs`), or ephemeral storage (`/tmp`) over 512 MB.

    ## Why is this bad?
    Lambda refuses the combination: publishing the version or configuring its alias fails, and
    the stack rolls back.

    ## How to fix
    Choose one. SnapStart and provisioned concurrency both remove cold-start latency; keep the
    one that fits the traffic. Move data from EFS to S3, or keep `/tmp` at 512 MB.
    Tenant isolation with SnapStart is reported by the tenancy rules (LP355-LP359). Managed
    Instances are not flagged: the SnapStart limitations read on 2026-12-05 do not name them.
    """
    if not _on(s):
        return
    for what, fix, line in _conflicts(s):
        yield r.finding(f"SnapStart is on together with {what}, which Lambda does not support with SnapStart",
                        s.where, line=line or _line(s), function=s.name, fix=fix)


@rule("LP343", "snapstart-no-published-versions", Severity.WARNING, subject=FunctionSubject, source=facts.ACTIVATE_URL)
def snapstart_no_published_versions(r: Rule, s: FunctionSubject) -> Iterator[Finding]:
    """## What it does
    Warns when a template turns SnapStart on for a function that never publishes a version: a
    SAM function without `AutoPublishAlias`, a CloudFormation function without an
    `AWS::Lambda::Version` that points at it.

    ## Why is this bad?
    SnapStart applies to published versions (and the aliases that point at them) only. Calls to
    the unpublished `$LATEST` get ordinary cold starts, so the setting costs nothing and
    does nothing: the start-up gain it was added for never comes.

    ## How to fix
    Add `AutoPublishAlias: live` to the SAM function (or an `AWS::Lambda::Version`), and point
    the API or event source at the alias. A project that publishes versions outside the
    template (`aws lambda publish-version` in a pipeline) can silence this rule with
    `ignore = ["LP343"]` in `[tool.lpack]`. `snap-start` in `[tool.lpack]` counts as published.
    """
    if _on(s) and not s.features.published:
        yield r.finding(f"SnapStart is on, but {s.name} publishes no versions: $LATEST never gets a snapshot",
                        s.where, line=_line(s), function=s.name,
                        fix="add AutoPublishAlias: live (SAM) or an AWS::Lambda::Version, and invoke the alias")

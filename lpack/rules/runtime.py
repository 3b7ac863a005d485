"""Runtime rules: the runtime's lifecycle, from the dates in targets.py."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.subjects import RuntimeSubject
from lpack.core.findings import Finding, Severity
from lpack.core.targets import DEFAULT_RUNTIME, RUNTIMES_URL, lifecycle
from lpack.rules import Rule, rule


@rule("LP401", "runtime-deprecated", Severity.WARNING, subject=RuntimeSubject, source=RUNTIMES_URL)
def runtime_deprecated(r: Rule, s: RuntimeSubject) -> Iterator[Finding]:
    """## What it does
    Warns when the target runtime has passed its deprecation date but functions can still be
    created with it.

    ## Why is this bad?
    A deprecated runtime gets no security patches or AWS support, and on its block dates Lambda
    stops creating, then updating, functions that use it.

    ## How to fix
    Move to a supported runtime (for example `runtime = "python3.13"`), test, and redeploy.
    The functions of one project or template on one runtime share one finding that names them.
    """
    rt = s.target.runtime
    if lifecycle(rt, s.today) == "deprecated":
        yield r.finding(
            f"{rt.name} is deprecated since {rt.deprecated}; Lambda blocks creating functions with it "
            f"from {rt.block_create} and updating them from {rt.block_update}",
            s.where, fix=f"move to {DEFAULT_RUNTIME}",
        )


@rule("LP402", "runtime-blocked", Severity.ERROR, subject=RuntimeSubject, source=RUNTIMES_URL)
def runtime_blocked(r: Rule, s: RuntimeSubject) -> Iterator[Finding]:
    """## What it does
    Flags a target runtime that Lambda no longer accepts for new functions (its "block function
    create" date has passed).

    ## Why is this bad?
    `CreateFunction` fails, and after the "block function update" date code updates fail too.
    lpack does not build packages for it.

    ## How to fix
    Choose a supported runtime (for example `runtime = "python3.13"`).
    """
    rt = s.target.runtime
    if lifecycle(rt, s.today) == "blocked":
        yield r.finding(
            f"{rt.name} can no longer be used to create functions (blocked since {rt.block_create})",
            s.where, fix=f"move to {DEFAULT_RUNTIME}",
        )

"""LP601-LP619: known vulnerabilities of what a package ships (`lpack audit`)."""

from __future__ import annotations

from collections.abc import Iterator

from lpack.analysis.advisories import Advisory, Audited, AuditSubject
from lpack.analysis.shipped import pulled_in_by
from lpack.core.findings import Finding, Severity
from lpack.rules import Rule, rule

# AWS: Amazon Inspector scans a Lambda function's package dependencies for the same advisories,
# after deployment; lpack audit looks before. The databases themselves are in REFERENCES.
INSPECTOR_URL = "https://docs.aws.amazon.com/inspector/latest/user/scanning-lambda.html"
REFERENCES = """\
- [Amazon Inspector: scanning Lambda functions](https://docs.aws.amazon.com/inspector/latest/user/scanning-lambda.html)
- [OSV: the PyPI ecosystem](https://osv.dev/list?ecosystem=PyPI)
- [PyPA advisory database](https://github.com/pypa/advisory-database)
- [PyPI JSON API: vulnerabilities](https://docs.pypi.org/api/json/)"""


@rule("LP601", "known-vulnerability", Severity.ERROR, subject=AuditSubject, source=INSPECTOR_URL, references=REFERENCES)
def known_vulnerability(r: Rule, s: AuditSubject) -> Iterator[Finding]:
    """## What it does
    Looks up every distribution the package ships (each `*.dist-info` in the zip, at its exact
    version) in a vulnerability database (OSV, or PyPI's JSON API, which serves the same records)
    and reports each advisory that applies: its id and aliases (CVE, GHSA), the versions that fix
    it, and the requirement that pulled the package in (Requires-Dist walked back to a package
    nothing else in the zip requires: what your requirements name).

    Only what ships is audited: not the lock's packages for other platforms, not the runtime's
    boto3 (AWS updates it; see `lpack sbom`).

    ## Why is this bad?
    The deployed function runs the vulnerable code. Scanners that read lock files or installed
    environments do not see a zip's vendored tree; Amazon Inspector reports it only after
    deployment.

    ## How to fix
    Raise the requirement named in the message to a fixed version (for a package pulled in by
    another, raise that one, or add the fixed version to your requirements as a constraint),
    lock and rebuild. An advisory that does not apply to how the function uses the package can
    be silenced with `--ignore LP601` for that run, after review; the advisory id in the message
    is what to record in the review.
    """
    for audited in s.audited:
        for advisory in audited.advisories or ():
            yield r.finding(_message(s, audited, advisory), s.where(audited.dist), function=s.name,
                            fix=_fix(s, audited, advisory))


def _message(s: AuditSubject, audited: Audited, advisory: Advisory) -> str:
    dist = audited.dist
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    fixed = f"fixed in {', '.join(advisory.fixed)}" if advisory.fixed else "no fixed version is released"
    return (f"{dist.name} {dist.version}: {advisory.id}{aliases}: {advisory.summary or 'see the advisory'}; "
            f"{fixed}; {_pulled(s, audited)}; {advisory.url}")


def _pulled(s: AuditSubject, audited: Audited) -> str:
    chains = pulled_in_by(s.graph, audited.dist.key)
    if chains == [[audited.dist.key]]:
        return "required directly (nothing else in the package requires it)"
    shown = "; ".join(" -> ".join(chain) for chain in chains[:3])
    return f"pulled in by {shown}"


def _fix(s: AuditSubject, audited: Audited, advisory: Advisory) -> str:
    dist = audited.dist
    if not advisory.fixed:
        return f"remove {dist.name} or replace it: no release fixes {advisory.id} yet"
    newer = [v for v in advisory.fixed if _after(v, dist.version)] or list(advisory.fixed)
    tops = sorted({chain[0] for chain in pulled_in_by(s.graph, dist.key)} - {dist.key})
    via = f" (or raise {', '.join(tops)} to a release that requires it)" if tops else ""
    return f"require {dist.key}>={newer[0]}{via}, lock and rebuild"


def _after(fixed: str, version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(fixed) > Version(version)
    except InvalidVersion:
        return True


@rule("LP602", "not-audited", Severity.INFO, subject=AuditSubject, source=INSPECTOR_URL, references=REFERENCES)
def not_audited(r: Rule, s: AuditSubject) -> Iterator[Finding]:
    """## What it does
    Notes each distribution in the package that the vulnerability service does not know at that
    version (PyPI's JSON API answers 404 for it): the function's own wheel, a private package,
    a local build. It was not checked, so the audit does not count it as clean.

    ## Why is this bad?
    Nothing is known about it either way: a private package needs its own review, and a
    distribution named like a public project but not on PyPI at that version may be a copy
    built from changed sources.

    ## How to fix
    Nothing, when the package is yours and reviewed elsewhere (`--ignore LP602`). Otherwise
    check where it was built from.
    """
    for audited in s.audited:
        if audited.advisories is None:
            dist = audited.dist
            yield r.finding(f"{dist.name} {dist.version}: {s.service} does not know this release, so it was not "
                            "checked for vulnerabilities", s.where(dist), function=s.name)

"""`lpack audit`: known vulnerabilities of exactly what a package ships.

The packages are those `lpack sbom` describes (a .zip as it is, or a project's built zips); every
distribution in them is looked up at its exact version in one batch (OSV, else PyPI's JSON API:
`lpack.bundle.vulndb`), and the audit rules (LP601..) turn the answers into findings. A service
that cannot be reached raises (exit 2): never an empty, clean-looking report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from lpack.core.findings import Finding


class Audit(NamedTuple):
    findings: list[Finding]
    service: str  # the service that answered
    packages: int  # zips audited
    distributions: int  # distinct (name, version) pairs looked up


def audit(path: Path, functions: Sequence[str] = (), runtime: str | None = None, architecture: str | None = None,
          config: Path | None = None, service: str = "auto", select: Sequence[str] = (),
          ignore: Sequence[str] = ()) -> Audit:
    from lpack import rules
    from lpack.analysis.advisories import Audited, AuditSubject
    from lpack.analysis.package import PackageReader, display_path, read_package
    from lpack.analysis.shipped import dependency_graph, read_contents
    from lpack.bundle.vulndb import lookup
    from lpack.commands.sbom import packages
    from lpack.core.decide import filter_findings

    read = []
    for packaged in packages(path, functions, runtime, architecture, config):
        index = read_package(packaged.path)
        reader = PackageReader(index)
        try:
            contents = read_contents(index, reader)
        finally:
            reader.close()
        python, machine = (packaged.target.runtime.python, packaged.target.machine) if packaged.target else ((3, 12), "x86_64")
        read.append((packaged, contents, dependency_graph(contents.distributions, python, machine)))
    wanted = sorted({(d.key, d.version) for _p, c, _g in read for d in c.distributions})
    answered, found = lookup(wanted, service)
    findings: list[Finding] = []
    for packaged, contents, graph in read:
        audited = tuple(Audited(d, found.get(d.key)) for d in contents.distributions)
        findings += rules.run(AuditSubject(display_path(packaged.path), packaged.name, audited, graph, answered))
    return Audit(filter_findings(findings, list(select), list(ignore)), answered, len(read), len(wanted))

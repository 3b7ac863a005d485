"""Known vulnerabilities of what a package ships, as data: the advisories a vulnerability service
returned for each distribution, read from its answer (OSV records, or PyPI's JSON API), and the
subject the audit rules (LP601..) judge.

Both services serve the same database for PyPI packages: PyPI's ``vulnerabilities`` are OSV's
records of the PyPA advisory database (https://github.com/pypa/advisory-database) and the GitHub
advisories that alias them. An OSV record (https://ossf.github.io/osv-schema/): ``id``,
``aliases``, ``summary``/``details``, ``affected[].ranges[].events`` (``introduced`` /
``fixed``), ``withdrawn``. PyPI's form (https://docs.pypi.org/api/json/): ``id``, ``aliases``,
``summary``, ``details``, ``fixed_in``, ``link``, ``withdrawn``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from lpack.analysis.subjects import Subject
from lpack.core.findings import Location

if TYPE_CHECKING:
    from lpack.analysis.shipped import Distribution


class Advisory(NamedTuple):
    id: str  # "PYSEC-2018-28", "GHSA-x84v-xcm2-53pg"
    aliases: tuple[str, ...]  # "CVE-2018-18074", ...
    summary: str  # one line
    fixed: tuple[str, ...]  # the versions that fix it for this package; empty: no fix released
    url: str


class Audited(NamedTuple):
    dist: Distribution
    advisories: tuple[Advisory, ...] | None  # None: the service does not know the package (not checked)


def from_osv(record: Mapping[str, Any], package: str) -> Advisory | None:
    """An OSV record as the advisory it is for ``package`` (a normalised PyPI name); None when
    withdrawn."""
    if record.get("withdrawn"):
        return None
    fixed: list[str] = []
    for affected in record.get("affected") or []:
        pkg = affected.get("package") or {}
        if pkg.get("ecosystem") != "PyPI" or re.sub(r"[-_.]+", "-", str(pkg.get("name", ""))).lower() != package:
            continue
        for span in affected.get("ranges") or []:
            if span.get("type") == "ECOSYSTEM":
                fixed += [str(e["fixed"]) for e in span.get("events") or [] if "fixed" in e]
    ident = str(record.get("id", ""))
    return Advisory(ident, tuple(str(a) for a in record.get("aliases") or []),
                    _one_line(record.get("summary") or record.get("details") or ""), tuple(_unique(fixed)),
                    f"https://osv.dev/vulnerability/{ident}")


def from_pypi(entry: Mapping[str, Any]) -> Advisory | None:
    """One of ``vulnerabilities`` in PyPI's JSON for a release; None when withdrawn."""
    if entry.get("withdrawn"):
        return None
    ident = str(entry.get("id", ""))
    return Advisory(ident, tuple(str(a) for a in entry.get("aliases") or []),
                    _one_line(entry.get("summary") or entry.get("details") or ""),
                    tuple(_unique(str(v) for v in entry.get("fixed_in") or [])),
                    str(entry.get("link") or f"https://osv.dev/vulnerability/{ident}"))


def merged(advisories: Iterable[Advisory]) -> tuple[Advisory, ...]:
    """One advisory per vulnerability: records that alias each other (PYSEC-... and GHSA-...)
    are one, named by the first id, their aliases and fixed versions joined."""
    kept: list[Advisory] = []
    for advisory in sorted(advisories, key=lambda a: (not a.id.startswith("PYSEC"), a.id)):
        names = {advisory.id, *advisory.aliases}
        same = next((i for i, k in enumerate(kept) if names & {k.id, *k.aliases}), None)
        if same is None:
            kept.append(advisory)
            continue
        k = kept[same]
        aliases = tuple(sorted({*k.aliases, *advisory.aliases, advisory.id} - {k.id}))
        kept[same] = k._replace(aliases=aliases, fixed=tuple(_unique([*k.fixed, *advisory.fixed])),
                                summary=k.summary or advisory.summary)
    return tuple(kept)


def _one_line(text: str) -> str:
    line = " ".join(str(text).split()).rstrip(".")
    return line if len(line) <= 160 else line[:157].rstrip() + "..."


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value, None)
    return sorted(seen, key=_version_key)


def _version_key(version: str) -> tuple[int, Any]:
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


class _AuditFields(NamedTuple):
    package: str  # the zip, as findings name it
    name: str  # the function or layer
    audited: tuple[Audited, ...]
    graph: Mapping[str, Sequence[str]]  # distribution key -> the shipped ones it requires
    service: str  # "OSV" or "PyPI"


class AuditSubject(_AuditFields, Subject):
    """What the audit rules look at: each shipped distribution with the advisories a
    vulnerability service knows for its exact version."""

    __slots__ = ()
    tag: ClassVar[str] = "audit"

    @property
    def display(self) -> str:
        return self.package

    def where(self, dist: Distribution) -> Location:
        return Location(self.package, f"{dist.root}{dist.folder}/METADATA")
